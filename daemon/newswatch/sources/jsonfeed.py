"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org) -> raw items, with the json module.

The released feedparser 6 does not read JSON Feed. The mapping follows the same
rules as for XML feeds: identity from `id`, else `url`, else a hash of title and
date; HTML content preferred, then text, then the summary; `date_published`,
else `date_modified`, else the fetch time.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from newswatch.htmltext import html_to_text, plain_text
from newswatch.model import RawItem
from newswatch.sources.feeds import (
    MAX_MARKUP_CHARS,
    FeedParseError,
    ParsedFeed,
    as_utc,
    item_key,
    resolve_link,
)

VERSION_PREFIX = "https://jsonfeed.org/version/"


def parse_json_feed(body: bytes, *, url: str, source: str, fetched_at: datetime) -> ParsedFeed:
    """Parse a JSON Feed; raise FeedParseError if the body is not one."""
    data = _load(body, url)
    items = data.get("items")
    if not isinstance(items, list):
        raise FeedParseError(
            f"{url}: JSON, but not a JSON Feed: it has no `items` list (see {VERSION_PREFIX}1.1)"
        )
    problems = []
    version = data.get("version")
    if not (isinstance(version, str) and version.startswith(VERSION_PREFIX)):
        problems.append(f"`version` is {version!r}, not {VERSION_PREFIX}1 or 1.1")
    feed_authors = _authors(data)
    mapped = [
        _item(entry, url=url, source=source, fetched_at=fetched_at, feed_authors=feed_authors)
        for entry in items
        if isinstance(entry, dict)
    ]
    unreadable = None
    if not mapped and items:
        unreadable = f"{len(items)} items, none readable: none is a JSON object"
    elif len(mapped) < len(items):
        problems.append(f"{len(items) - len(mapped)} of {len(items)} items are not JSON objects")
    title = _string(data.get("title"))
    bozo = "; ".join(problems) or None
    return ParsedFeed(title=title or None, items=mapped, bozo=bozo, unreadable=unreadable)


def _load(body: bytes, url: str) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise FeedParseError(f"{url}: the body looks like JSON but is not: {exc}") from None
    if not isinstance(data, dict):
        raise FeedParseError(f"{url}: JSON, but not a JSON Feed: the top level is not an object")
    return data


def _item(
    entry: dict[str, Any],
    *,
    url: str,
    source: str,
    fetched_at: datetime,
    feed_authors: tuple[str, ...],
) -> RawItem:
    title = " ".join(_string(entry.get("title"))[:MAX_MARKUP_CHARS].split())
    body = _body(entry)
    link = resolve_link(url, entry.get("url")) or resolve_link(url, entry.get("external_url"))
    published = _date(entry.get("date_published")) or _date(entry.get("date_modified"))
    date_text = _string(entry.get("date_published")) or _string(entry.get("date_modified"))
    guid = entry.get("id") if not isinstance(entry.get("id"), bool) else None
    return RawItem(
        source=source,
        key=item_key(guid, link, title, date_text, body),
        title=title,
        body=body,
        url=link,
        published=published or fetched_at,
        authors=_authors(entry) or feed_authors,
        categories=tuple(dict.fromkeys(t.strip() for t in _strings(entry.get("tags")))),
    )


def _body(entry: dict[str, Any]) -> str:
    html = _string(entry.get("content_html"))[:MAX_MARKUP_CHARS]
    if html.strip():
        return html_to_text(html)
    text = _string(entry.get("content_text")) or _string(entry.get("summary"))
    return plain_text(text[:MAX_MARKUP_CHARS])


def _date(value: Any) -> datetime | None:
    """RFC 3339 as JSON Feed requires; anything else is treated as absent."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return as_utc(datetime.fromisoformat(value.strip()))
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 shifted to UTC
        return None


def _authors(node: dict[str, Any]) -> tuple[str, ...]:
    """`authors` (1.1) or `author` (1.0): the names, or the URLs of those without one."""
    found = node.get("authors")
    people = found if isinstance(found, list) else [node.get("author")]
    names = [
        _string(person.get("name")) or _string(person.get("url"))
        for person in people
        if isinstance(person, dict)
    ]
    return tuple(dict.fromkeys(name.strip() for name in names if name.strip()))


def _string(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _strings(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, str) and v.strip()]
