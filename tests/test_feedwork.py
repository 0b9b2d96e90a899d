"""Parse workers: real processes that start with a large body and stop when idle."""

from __future__ import annotations

from datetime import UTC, datetime

from newswatch.config import Person
from newswatch.feedwork import POOL_THRESHOLD_BYTES, FeedBody, FeedParsers
from newswatch.match import compile_watches


def big_feed() -> bytes:
    item = "<item><guid>{0}</guid><title>Story {0}</title><description>{1}</description></item>"
    filler = "Biden spoke at length. " * 20
    items = "".join(item.format(number, filler) for number in range(40))
    body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>{items}'
    return (body + "</channel></rss>").encode()


def test_workers_parse_and_match_then_stop_when_idle() -> None:
    body = big_feed()
    assert len(body) > POOL_THRESHOLD_BYTES
    parsers = FeedParsers(compile_watches([Person(name="Joe Biden", aliases=("Biden",))], []))
    try:
        work = FeedBody(body, "http://127.0.0.1/wire", {}, None, datetime.now(UTC))
        parsed = parsers.submit(work).result()
        assert parsed.title == "Wire" and len(parsed.documents) == 40
        assert all(
            [m.watch for m in parsed.matched[(d.source, d.key)]] == ["Joe Biden"]
            for d in parsed.documents
        )
        assert not parsers.close_if_idle(60), "used a moment ago"
        assert parsers.close_if_idle(0)
        assert not parsers.close_if_idle(0), "already stopped"
        again = parsers.submit(work).result()  # starts afresh
        assert len(again.documents) == 40
    finally:
        parsers.close()
