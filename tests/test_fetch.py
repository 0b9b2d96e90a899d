"""Fetcher against a real loopback HTTP server: statuses, redirects, conditional GET."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

import feedserver
from feedserver import FeedServer, Reply
from newswatch import PROJECT_URL, __version__
from newswatch.config import Fetch
from newswatch.sources.http import Fetcher, FetchRequest, FetchResult
from newswatch.sources.httperrors import parse_retry_after

BODY = b"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title></channel></rss>"


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    running = feedserver.start()
    yield running
    feedserver.stop(running)


def fetch(request: FetchRequest, **config: object) -> FetchResult:
    with Fetcher(Fetch.model_validate(config)) as fetcher:
        return fetcher.fetch(request)


def route(server: FeedServer, path: str, reply: Reply) -> str:
    return feedserver.set_route(server, path, reply)


def test_many_feeds_on_one_host_reuse_their_connections() -> None:
    """Keep-alive: a cycle of 304s and short error pages on one host costs a TCP set-up
    per connection allowed (2 per host), not one per feed."""
    running = feedserver.start()
    try:
        fresh = [route(running, f"/f{i}", feedserver.feed(BODY)) for i in range(40)]
        errors = [route(running, f"/e{i}", feedserver.status(500)) for i in range(10)]
        first = _fetch_all([FetchRequest(url) for url in fresh])
        again = [FetchRequest(r.url, etag=r.etag) for r in first]
        before = running.connections
        results = _fetch_all(again + [FetchRequest(url) for url in errors])
        assert [r.outcome for r in results] == ["not_modified"] * 40 + ["error"] * 10
        assert running.connections - before <= 2
    finally:
        feedserver.stop(running)


def _fetch_all(requests: list[FetchRequest]) -> list[FetchResult]:
    with Fetcher(Fetch(per_host=2)) as fetcher:
        return fetcher.fetch_all(requests)


def test_ok_body_with_validators_and_hash(server: FeedServer) -> None:
    url = route(server, "/ok", feedserver.feed(BODY))
    result = fetch(FetchRequest(url))
    assert (result.outcome, result.status, result.body) == ("ok", 200, BODY)
    assert result.etag and result.last_modified == "Mon, 05 Jan 2026 10:00:00 GMT"
    assert result.body_hash == hashlib.sha256(BODY).hexdigest()
    assert result.headers["content-type"] == "application/xml"
    assert result.final_url == url and result.permanent_url is None and result.error is None


def test_user_agent_names_newswatch_version_and_project(server: FeedServer) -> None:
    url = route(server, "/ua", feedserver.feed(BODY))
    fetch(FetchRequest(url))
    agent = next(s.headers["user-agent"] for s in reversed(server.seen) if s.path == "/ua")
    assert agent == f"newswatch/{__version__} (+{PROJECT_URL})"


def test_304_by_etag(server: FeedServer) -> None:
    url = route(server, "/etag", feedserver.feed(BODY, last_modified=False))
    first = fetch(FetchRequest(url))
    second = fetch(FetchRequest(url, etag=first.etag, body_hash=first.body_hash))
    assert (second.outcome, second.status, second.body) == ("not_modified", 304, None)
    assert second.etag == first.etag and second.body_hash == first.body_hash
    sent = [s.headers.get("if-none-match") for s in server.seen if s.path == "/etag"]
    assert sent == [None, first.etag]


def test_304_by_last_modified(server: FeedServer) -> None:
    url = route(server, "/lm", feedserver.feed(BODY, etag=False))
    first = fetch(FetchRequest(url))
    second = fetch(FetchRequest(url, last_modified=first.last_modified))
    assert second.outcome == "not_modified"
    assert second.last_modified == first.last_modified


def test_identical_body_is_unchanged_and_not_returned(server: FeedServer) -> None:
    url = route(server, "/same", feedserver.feed(BODY, etag=False, last_modified=False))
    first = fetch(FetchRequest(url))
    second = fetch(FetchRequest(url, body_hash=first.body_hash))
    assert (second.outcome, second.body, second.status) == ("unchanged", None, 200)
    changed = fetch(FetchRequest(url, body_hash="0" * 64))
    assert changed.outcome == "ok" and changed.body == BODY


@pytest.mark.parametrize("code", [301, 308])
def test_permanent_redirect_is_remembered(server: FeedServer, code: int) -> None:
    target = route(server, f"/moved-{code}", feedserver.feed(BODY))
    url = route(server, f"/old-{code}", feedserver.redirect(code, f"/moved-{code}"))
    result = fetch(FetchRequest(url))
    assert result.outcome == "ok" and result.body == BODY
    assert result.url == url
    assert result.final_url == target and result.permanent_url == target


@pytest.mark.parametrize("code", [302, 303, 307])
def test_temporary_redirect_is_followed_not_remembered(server: FeedServer, code: int) -> None:
    target = route(server, f"/there-{code}", feedserver.feed(BODY))
    url = route(server, f"/here-{code}", feedserver.redirect(code, target))
    result = fetch(FetchRequest(url))
    assert result.outcome == "ok" and result.final_url == target
    assert result.permanent_url is None


def test_permanent_then_temporary_is_not_remembered(server: FeedServer) -> None:
    route(server, "/mix-end", feedserver.feed(BODY))
    route(server, "/mix-2", feedserver.redirect(302, "/mix-end"))
    url = route(server, "/mix-1", feedserver.redirect(301, "/mix-2"))
    result = fetch(FetchRequest(url))
    assert result.outcome == "ok" and result.permanent_url is None


def test_permanent_redirect_to_an_unfetchable_url_is_not_remembered(server: FeedServer) -> None:
    url = route(server, "/to-ftp", feedserver.redirect(301, "ftp://files.example/feed"))
    result = fetch(FetchRequest(url))
    assert result.outcome == "error" and result.permanent_url is None
    assert (result.error or "").startswith("not a fetchable http(s) URL: ftp://files.example/feed")


def test_redirect_loop_is_an_error(server: FeedServer) -> None:
    route(server, "/loop-b", feedserver.redirect(302, "/loop-a"))
    url = route(server, "/loop-a", feedserver.redirect(302, "/loop-b"))
    result = fetch(FetchRequest(url))
    assert result.outcome == "error"
    assert result.error and result.error.startswith("redirect loop:")
    assert "/loop-a -> " in result.error and result.error.endswith("/loop-a")


def test_too_many_redirects(server: FeedServer) -> None:
    for hop in range(7):
        route(server, f"/hop-{hop}", feedserver.redirect(302, f"/hop-{hop + 1}"))
    route(server, "/hop-7", feedserver.feed(BODY))
    assert fetch(FetchRequest(server.url("/hop-2"))).outcome == "ok"  # 5 redirects: fine
    result = fetch(FetchRequest(server.url("/hop-1")))
    assert result.outcome == "error" and result.error
    assert "more than 5 redirects" in result.error


def test_redirect_without_location(server: FeedServer) -> None:
    url = route(server, "/nowhere", Reply(status=301))
    result = fetch(FetchRequest(url))
    assert result.outcome == "error" and "without a Location" in (result.error or "")


def test_404_and_500_are_errors_with_the_status(server: FeedServer) -> None:
    missing = fetch(FetchRequest(server.url("/no-such-feed")))
    assert (missing.outcome, missing.status) == ("error", 404)
    assert missing.error == f"HTTP 404 Not Found from {server.url('/no-such-feed')}"
    url = route(server, "/boom", feedserver.status(500))
    broken = fetch(FetchRequest(url))
    assert (broken.outcome, broken.status, broken.body) == ("error", 500, None)
    assert broken.error and "500 Internal Server Error" in broken.error


def test_410_is_gone(server: FeedServer) -> None:
    url = route(server, "/gone", feedserver.status(410))
    result = fetch(FetchRequest(url))
    assert (result.outcome, result.status) == ("gone", 410)
    assert result.error and "removed for good" in result.error


def test_429_retry_after_seconds(server: FeedServer) -> None:
    url = route(server, "/slow-down", feedserver.status(429, retry_after="120"))
    before = datetime.now(UTC)
    result = fetch(FetchRequest(url))
    assert (result.outcome, result.status) == ("error", 429)
    assert result.retry_after is not None
    assert before + timedelta(seconds=119) <= result.retry_after
    assert result.retry_after <= datetime.now(UTC) + timedelta(seconds=121)
    assert "wait until" in (result.error or "")


def test_503_retry_after_http_date(server: FeedServer) -> None:
    moment = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    url = route(server, "/maintenance", feedserver.status(503, format_datetime(moment, True)))
    result = fetch(FetchRequest(url))
    assert (result.outcome, result.status, result.retry_after) == ("error", 503, moment)


def test_retry_after_forms() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("0", now) == now
    assert parse_retry_after(" 3600 ", now) == now + timedelta(hours=1)
    assert parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT", now) == datetime(
        2026, 10, 21, 7, 28, tzinfo=UTC
    )
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after("", now) is None
    assert parse_retry_after("9" * 40, now) == now + timedelta(days=365)


def test_gzip_and_deflate_bodies_are_decoded(server: FeedServer) -> None:
    gz = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    gzipped = gz.compress(BODY) + gz.flush()
    url = route(server, "/gz", Reply(body=gzipped, headers={"Content-Encoding": "gzip"}))
    assert fetch(FetchRequest(url)).body == BODY
    url = route(
        server, "/zl", Reply(body=zlib.compress(BODY), headers={"Content-Encoding": "deflate"})
    )
    assert fetch(FetchRequest(url)).body == BODY
    raw = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    url = route(
        server,
        "/raw",
        Reply(body=raw.compress(BODY) + raw.flush(), headers={"Content-Encoding": "deflate"}),
    )
    assert fetch(FetchRequest(url)).body == BODY


def test_unsupported_content_encoding(server: FeedServer) -> None:
    url = route(server, "/br", Reply(body=b"xx", headers={"Content-Encoding": "br"}))
    result = fetch(FetchRequest(url))
    assert result.outcome == "error" and "unsupported Content-Encoding: br" in (result.error or "")


def test_results_as_they_complete(server: FeedServer) -> None:
    slow = route(server, "/slow", feedserver.feed(BODY, delay=3))  # far behind, even when busy
    quick = route(server, "/quick", feedserver.feed(BODY))

    with Fetcher(Fetch()) as fetcher:
        requests = [FetchRequest(slow), FetchRequest(quick)]
        assert [r.url for r in fetcher.fetch_as_completed(requests)] == [quick, slow]


def test_corrupt_or_truncated_gzip_is_an_error(server: FeedServer) -> None:
    gz = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    gzipped = gz.compress(BODY * 50) + gz.flush()
    gzip = {"Content-Encoding": "gzip"}
    url = route(server, "/not-gzip", Reply(body=b"plain text, not gzip", headers=gzip))
    result = fetch(FetchRequest(url))
    assert result.outcome == "error"
    assert (result.error or "").startswith("the body is not valid gzip data")
    url = route(server, "/cut-gzip", Reply(body=gzipped[: len(gzipped) // 2], headers=gzip))
    assert fetch(FetchRequest(url)).error == "the gzip body was cut short"
