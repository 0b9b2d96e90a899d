"""The shape of a cold pass (issue 11): what runs while what waits.

Once every feed is fetched, the feeds parsed already are stored while the last
bodies still parse, not in one batch after them.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

import feedserver
from helpers import feeds_config
from newswatch.config import FeedSource, Fetch, load_config
from newswatch.feedcycle import fetch_streamed
from newswatch.pipeline import feeds as feeds_module
from newswatch.pipeline.app import open_app
from newswatch.pipeline.feeds import WARM_UP_AT
from test_feedwork import single_item_feed
from test_fetch_backpressure import _due


def _small(i: int) -> bytes:
    items = "".join(
        f"<item><guid>s{i}-{j}</guid><title>Story {i}.{j} on NATO</title></item>" for j in range(3)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>F{i}</title>{items}'.encode()
        + (b"</channel></rss>")
    )


@pytest.mark.slow(seconds=5)
def test_the_feeds_parsed_are_stored_while_the_last_body_still_parses(
    tmp_path: Path, server: feedserver.FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: the small feeds waited (up to STORE_BATCH_S) and were stored with the big
    one, after its parse; now they are in the database while it still parses."""
    monkeypatch.setattr(feeds_module, "STORE_BATCH_S", 60.0)  # no batch is cut by its age
    small = WARM_UP_AT + 2
    urls = [
        feedserver.set_route(server, f"/s{i}", feedserver.feed(_small(i))) for i in range(small)
    ]
    # the last in order: fetched after the others, long to parse (its one item is cut at 1 MiB)
    big = single_item_feed(3 * 2**20)
    urls.append(feedserver.set_route(server, "/big", feedserver.feed(big, delay=0.3)))
    database = tmp_path / "nw.db"
    config = load_config(feeds_config(tmp_path, f"sqlite:///{database}", urls))
    app = open_app(config)
    counts: list[int] = []
    done = threading.Event()

    def watch() -> None:  # another reader of the database, as a user's `newswatch search`
        reader = sqlite3.connect(database)
        try:
            while not done.is_set():
                counts.append(reader.execute("SELECT count(*) FROM documents").fetchone()[0])
                time.sleep(0.005)
        finally:
            reader.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        feeds: list[FeedSource] = list(config.sources.feeds)
        reports = app.pipeline.refresh_feeds(feeds, force=True)
    finally:
        done.set()
        watcher.join()
        app.close()
    assert [r.status for r in reports].count("ok") == small + 1
    assert counts[-1] == 3 * small + 1
    assert 3 * small in counts, "the small feeds were stored on their own, before the big one"


def test_the_stream_says_once_every_feed_is_fetched(server: feedserver.FeedServer) -> None:
    fast = [feedserver.set_route(server, f"/a{i}", feedserver.feed(_small(i))) for i in range(3)]
    slow = feedserver.set_route(server, "/slow", feedserver.feed(_small(9), delay=0.5))
    fetched = threading.Event()
    settings = Fetch.model_validate({"per_host": 2})
    taken = []
    stream = fetch_streamed(
        _due([*fast, slow]), settings, threading.Event(), lambda i, r: None, fetched=fetched
    )
    for index, _, _ in stream:
        taken.append((index, fetched.is_set()))
    assert sorted(taken[:-1]) == [(0, False), (1, False), (2, False)], "the slow one still out"
    assert taken[-1] == (3, True), "set before the last one is taken"
