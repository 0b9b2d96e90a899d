"""Backpressure: the fetching never runs far ahead of a slow consumer (issue 11).

A cold pass stores more slowly than it fetches and parses; without a bound the
bodies, and their parse results, piled up in the main process. Here a real
loopback server serves many feeds on several hosts to `fetch_streamed`, whose
consumer takes its time, and the server's own count of requests says how far
the fetching ran ahead of it.
"""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime, timedelta

import feedserver
from newswatch.config import FeedSource, Fetch
from newswatch.feedcycle import (
    READY_BYTES,
    READY_BYTES_PER_PARSER,
    DueFeed,
    current_record,
    fetch_streamed,
    ready_bytes,
)

BODY_BYTES = 40 * 1024
BUDGET = 3 * BODY_BYTES  # bytes of body allowed to wait for the consumer
CONCURRENCY = 4


def _body(i: int, size: int) -> bytes:
    item = f"<item><title>Item {i}</title><link>https://example.org/{i}</link></item>"
    head = f"<?xml version='1.0'?><rss version='2.0'><channel><title>Feed {i}</title>{item}"
    padding = "<!-- " + "x" * max(0, size - len(head) - 30) + " -->"
    return f"{head}{padding}</channel></rss>".encode()


def _due(urls: list[str]) -> list[DueFeed]:
    now, rng = datetime.now(UTC), random.Random(1)
    interval = timedelta(minutes=15)
    return [
        DueFeed(
            FeedSource(url=url),
            current_record(FeedSource(url=url), None, now, interval, rng),
            interval,
        )
        for url in urls
    ]


def test_fetching_waits_for_a_slow_consumer_and_loses_nothing() -> None:
    running = feedserver.start(feedserver.loopback_hosts(4))
    try:
        bodies = {}
        urls = []
        for i in range(60):
            host = running.hosts[i % len(running.hosts)]
            size = 3 * BUDGET if i == 7 else BODY_BYTES  # one body larger than the whole budget
            bodies[i] = _body(i, size)
            feedserver.set_route(running, f"/feed/{i}", feedserver.feed(bodies[i]))
            urls.append(running.url(f"/feed/{i}", host))
        settings = Fetch.model_validate({"concurrency": CONCURRENCY, "per_host": 2})
        stream = fetch_streamed(
            _due(urls), settings, threading.Event(), lambda i, r: None, max_ready_bytes=BUDGET
        )
        ahead, taken = [], {}
        for index, result, _ in stream:
            # requests answered (or under way) beyond those the consumer has taken
            ahead.append(len(running.seen) - len(taken))
            taken[index] = result.body
            time.sleep(0.01)  # a consumer slower than the loopback fetching
    finally:
        feedserver.stop(running)
    assert taken == bodies  # every feed, with its whole body, once
    # at most the budget's worth waits, plus the requests under way when it filled
    assert max(ahead) <= BUDGET // BODY_BYTES + CONCURRENCY + 1


def test_the_bound_is_one_parsers_worth_each_and_one_for_a_process_parsing_itself() -> None:
    """Two workers keep the bound they had (both busy); `ingest`, parsing in its own
    process, waits on half of it: its peak is lower, its time the same (bench/README.md)."""
    assert ready_bytes(0) == ready_bytes(1) == READY_BYTES_PER_PARSER
    assert ready_bytes(2) == READY_BYTES == 2 * ready_bytes(1)
    assert ready_bytes(4) == 2 * READY_BYTES
