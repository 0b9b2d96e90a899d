"""Fetcher against servers that misbehave: it must answer in time, with a clear line, bounded.

Deadlines here are asserted as behaviour (the request is cut, with the deadline named)
with generous bounds, never sub-second ones: the suite must pass on a busy machine.
How fast many feeds are fetched is measured in bench/bench_fetch_limits.py."""

from __future__ import annotations

import resource
import threading
import time
from collections.abc import Iterator

import pytest

import feedserver
from feedserver import FeedServer, Reply
from newswatch.config import Fetch
from newswatch.feedcycle import fetch_streamed
from newswatch.sources.http import Fetcher, FetchRequest, FetchResult
from test_fetch_backpressure import _due

# only the tests of a server that hangs or drips wait for a deadline; a request that
# should succeed gets a patient one, so a busy machine cannot turn it into an error
PATIENT = {"timeout": "30s", "connect_timeout": "10s"}
DEADLINE = {"timeout": "1s"}


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    running = feedserver.start()
    yield running
    feedserver.stop(running)


def fetch_many(requests: list[FetchRequest], **config: object) -> list[FetchResult]:
    with Fetcher(Fetch.model_validate({**PATIENT, **config})) as fetcher:
        return fetcher.fetch_all(requests)


def fetch(url: str, **config: object) -> FetchResult:
    return fetch_many([FetchRequest(url)], **config)[0]


def timed(url: str, **config: object) -> tuple[FetchResult, float]:
    started = time.perf_counter()
    result = fetch(url, **config)
    return result, time.perf_counter() - started


def test_server_that_never_answers_is_cut_at_the_deadline(server: FeedServer) -> None:
    url = feedserver.set_route(server, "/hang", Reply(behaviour="hang"))
    result, took = timed(url, **DEADLINE)
    assert result.outcome == "error" and result.status is None
    assert result.error == f"no complete answer within the 1 s deadline from {url}"
    assert 0.9 < took < 15  # cut at the deadline: not before it, and not never


def test_dripping_body_is_cut_at_the_deadline(server: FeedServer) -> None:
    url = feedserver.set_route(server, "/drip", Reply(behaviour="drip"))
    result, took = timed(url, **DEADLINE)
    assert result.outcome == "error" and "within the 1 s deadline" in (result.error or "")
    assert took < 15  # a dripping server sends forever: the deadline is what ended it


def test_dripping_headers_are_cut_at_the_deadline(server: FeedServer) -> None:
    """Each byte comes well within a read timeout: only a total deadline ends it."""
    url = feedserver.set_route(server, "/drip-headers", Reply(behaviour="drip-headers"))
    result, took = timed(url, **DEADLINE)
    assert result.outcome == "error" and result.status is None
    assert result.error == f"no complete answer within the 1 s deadline from {url}"
    assert took < 15


def test_a_stop_cuts_the_fetches_under_way(server: FeedServer) -> None:
    """Stopping (the daemon's shutdown) ends a cycle promptly: the fetches under way are
    cut, none is reported (their feeds keep their state), none more is sent."""
    hang = feedserver.set_route(server, "/hang-stop", Reply(behaviour="hang"))
    fine = feedserver.set_route(server, "/fine-stop", feedserver.feed(b"<rss/>"))
    due = _due([hang, hang, fine])
    stop = threading.Event()
    settings = Fetch.model_validate({**PATIENT, "per_host": 2})
    threading.Timer(0.5, stop.set).start()
    started = time.perf_counter()
    taken = [index for index, _, _ in fetch_streamed(due, settings, stop, lambda i, r: None)]
    assert time.perf_counter() - started < 10  # not the 30 s deadline
    assert taken == []
    assert [s.path for s in server.seen].count("/fine-stop") == 0  # its host's 2 slots were held


def test_endless_body_is_cut_at_the_size_cap(server: FeedServer) -> None:
    url = feedserver.set_route(server, "/endless", Reply(behaviour="endless"))
    result = fetch(url, max_bytes="1MiB")
    assert result.outcome == "error" and result.body is None
    assert result.error == "the body goes on past the 1,048,576-byte limit"


def test_declared_oversized_body_is_refused_before_reading(server: FeedServer) -> None:
    url = feedserver.set_route(server, "/big", Reply(body=b"x" * 200_000))
    result = fetch(url, max_bytes="100KB")
    assert result.outcome == "error"
    assert result.error == "the body is 200,000 bytes, over the 100,000-byte limit"


def test_gzip_bomb_is_never_inflated(server: FeedServer) -> None:
    url = feedserver.set_route(server, "/bomb", feedserver.gzip_bomb(1 << 30))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = fetch(url, max_bytes="10MiB")
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert result.outcome == "error"
    assert result.error == "the body inflates past the 10,485,760-byte limit (a compression bomb?)"
    assert grown_mb < 40


def test_dns_failure_is_named(server: FeedServer) -> None:
    result = fetch("http://no-such-host.invalid/feed.xml")
    assert result.outcome == "error" and result.status is None
    assert (result.error or "").startswith("DNS lookup failed for no-such-host.invalid")


def test_refused_connection_is_named() -> None:
    result = fetch("http://127.0.0.1:9/feed.xml")
    assert result.error == "connection refused by 127.0.0.1:9: nothing listens there"


def test_tls_failure_is_named(server: FeedServer) -> None:
    feedserver.set_route(server, "/plain", feedserver.feed(b"<rss/>"))
    result = fetch(server.url("/plain").replace("http://", "https://"))
    assert result.outcome == "error" and (result.error or "").startswith("TLS (https) failure")


def test_not_an_http_url() -> None:
    result = fetch("ftp://example.org/feed.xml")
    assert result.outcome == "error"
    assert (result.error or "").startswith(
        "not a fetchable http(s) URL: ftp://example.org/feed.xml"
    )


def test_one_bad_feed_does_not_disturb_the_others(server: FeedServer) -> None:
    good = feedserver.set_route(server, "/fine", feedserver.feed(b"<rss/>"))
    hang = feedserver.set_route(server, "/hang-too", Reply(behaviour="hang"))
    results = fetch_many(
        [FetchRequest(hang), FetchRequest(good), FetchRequest("http://x.invalid/")],
        timeout="5s",  # the good feed must be answered within it even on a busy machine
    )
    assert [r.outcome for r in results] == ["error", "ok", "error"]
    assert [r.url for r in results] == [hang, good, "http://x.invalid/"]


def test_thousand_feeds_on_a_hundred_hosts_keep_both_limits() -> None:
    """1,000 feeds on 100 hosts, 100 ms each: all fetched, never more than 100 at once
    overall nor 2 per host. (How long it takes: bench/bench_fetch_limits.py.)

    Each host's ten feeds are listed together, so the first 100 let in are two a host:
    interleaved (host i % 100), the second request to a host was let in only after
    its first, started earlier, had mostly ended, and on a busy machine the peak of 2
    a host was not always reached."""
    hosts = feedserver.loopback_hosts(100)
    running = feedserver.start(hosts)
    try:
        feedserver.set_route(running, "/feed", feedserver.feed(b"<rss/>", delay=0.1))
        requests = [FetchRequest(running.url("/feed", hosts[i // 10])) for i in range(1000)]
        results = fetch_many(requests, concurrency=100, per_host=2, timeout="60s")
    finally:
        feedserver.stop(running)
    assert [r.outcome for r in results] == ["ok"] * 1000
    assert running.peak_overall <= 100
    assert max(running.peak_per_host.values()) == 2


def test_per_host_limit_holds_on_one_host() -> None:
    """Its own server: on the module's, the dripping test's request stayed in flight until
    its handler thread met the closed connection, which on a busy machine came after this
    test had started, and the peak read 4 for a limit of 3 (its requests were listed)."""
    running = feedserver.start()
    try:
        feedserver.set_route(running, "/one-host", feedserver.feed(b"<rss/>", delay=0.05))
        requests = [FetchRequest(running.url("/one-host"))] * 12
        results = fetch_many(requests, concurrency=10, per_host=3)
    finally:
        feedserver.stop(running)
    assert {r.outcome for r in results} == {"ok"}
    assert running.peak_per_host["127.0.0.1"] == 3
