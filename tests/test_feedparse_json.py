"""JSON Feed 1.0 and 1.1, read with the json module through the same parse_feed entry point."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from newswatch.model import RawItem
from newswatch.sources.feeds import FeedParseError, ParsedFeed, parse_feed

URL = "https://json.example.org/feed.json"
FETCHED = datetime(2026, 3, 1, tzinfo=UTC)


def parse(document: Any, content_type: str = "application/feed+json") -> ParsedFeed:
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    return parse_feed(
        body, url=URL, headers={"content-type": content_type}, source="J", fetched_at=FETCHED
    )


def test_json_feed_1_1() -> None:
    feed = parse(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "JSON News",
            "authors": [{"name": "Desk"}],
            "items": [
                {
                    "id": "2347259",
                    "url": "/2026/03/story",
                    "title": "  Summit\nends  ",
                    "content_html": "<p>Leaders met.</p><p>They agreed &amp; left.</p>",
                    "content_text": "ignored when HTML is there",
                    "date_published": "2026-02-28T10:00:00+01:00",
                    "tags": ["Politics", "Politics", "Europe"],
                    "authors": [{"name": "Reporter"}, {"url": "https://x.example/me"}],
                }
            ],
        }
    )
    assert (feed.title, feed.bozo) == ("JSON News", None)
    assert feed.items == [
        RawItem(
            source="J",
            key="2347259",
            title="Summit ends",
            body="Leaders met.\n\nThey agreed & left.",
            url="https://json.example.org/2026/03/story",
            published=datetime(2026, 2, 28, 9, tzinfo=UTC),
            authors=("Reporter", "https://x.example/me"),
            categories=("Politics", "Europe"),
        )
    ]


def test_json_feed_1_0_fallbacks() -> None:
    feed = parse(
        {
            "version": "https://jsonfeed.org/version/1",
            "title": "Old JSON",
            "author": {"name": "Feed Author"},
            "items": [
                {"id": 7, "content_text": "Plain\n\ntext", "date_modified": "2026-01-01T00:00:00Z"},
                {"external_url": "https://other.example/a", "summary": "Only a summary"},
                {"title": "No id, no url", "date_published": "not a date"},
                {"id": "far", "date_published": "9999-12-31T23:59:59-01:00"},
            ],
        },
        content_type="application/json",
    )
    first, second, third, far = feed.items
    assert (first.key, first.body, first.authors) == ("7", "Plain\n\ntext", ("Feed Author",))
    assert first.published == datetime(2026, 1, 1, tzinfo=UTC)
    assert (second.key, second.url, second.body) == (
        "https://other.example/a",
        "https://other.example/a",
        "Only a summary",
    )
    assert third.key.startswith("sha256:") and third.published == FETCHED
    assert far.published == FETCHED  # out of range once shifted to UTC


def test_json_feed_detected_by_body_even_when_served_as_xml() -> None:
    feed = parse({"version": "https://jsonfeed.org/version/1.1", "items": []}, "text/xml")
    assert (feed.title, feed.items, feed.bozo) == (None, [], None)


def test_odd_items_and_version_are_reported_not_fatal() -> None:
    feed = parse({"version": "2", "items": [{"id": "a"}, "junk", 3]})
    assert [item.key for item in feed.items] == ["a"]
    assert feed.bozo == (
        "`version` is '2', not https://jsonfeed.org/version/1 or 1.1; "
        "2 of 3 items are not JSON objects"
    )


def test_items_that_are_all_unreadable_are_said_so() -> None:
    feed = parse({"version": "https://jsonfeed.org/version/1.1", "items": ["junk", 3]})
    assert feed.items == []
    assert feed.unreadable == "2 items, none readable: none is a JSON object"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"title": "no items"}', "JSON, but not a JSON Feed: it has no `items` list"),
        (b"[1, 2]", "JSON, but not a JSON Feed: the top level is not an object"),
        (b'{"items": [', "the body looks like JSON but is not"),
        (b"[" * 100_000, "the body looks like JSON but is not"),
    ],
)
def test_bad_json_is_a_clear_error(body: bytes, message: str) -> None:
    with pytest.raises(FeedParseError, match=message):
        parse(body)
