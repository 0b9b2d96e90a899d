"""What a reader of an alert sees of its story: the log record and the email text."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from newswatch.alerts.mailtext import article_plain
from newswatch.alerts.render import Article
from newswatch.model import Alert, Outlet, Story

ALERT = Alert(
    document_id=7,
    watch="Elena Varga",
    kind="person",
    title="Council approves rail yard plan",
    url="https://herald.example/c1",
    source="Herald",
    published=datetime(2026, 11, 24, tzinfo=UTC),
    matched=("Varga",),
    snippet="... Mayor Elena Varga's plan ...",
    id=1,
)
GAZETTE = Outlet("Gazette", "https://gazette.example/g1", "Varga wins rail yard vote")


def test_the_record_names_the_other_outlets_of_the_story() -> None:
    record = replace(ALERT, story=Story(7, (GAZETTE,))).record()
    assert record["story"] == {
        "id": 7,
        "also_reported_by": [
            {"source": "Gazette", "url": "https://gazette.example/g1", "title": GAZETTE.title}
        ],
    }
    assert ALERT.record()["story"] is None


def test_the_email_text_lists_the_other_outlets_only_when_there_are_some() -> None:
    shared = replace(ALERT, story=Story(7, (GAZETTE,)))
    assert "Also in:   Gazette <https://gazette.example/g1>" in article_plain(Article((shared,)))
    alone = replace(ALERT, story=Story(7, ()))
    assert "Also in" not in article_plain(Article((alone,)))
