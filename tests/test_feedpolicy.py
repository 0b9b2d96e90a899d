"""After-fetch decisions: schedule, backoff, Retry-After, gone, permanent redirects."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from newswatch.feedpolicy import (
    FeedState,
    after_fetch,
    backoff,
    first_poll,
    is_due,
    may_poll_now,
)
from newswatch.sources.http import FetchRequest, FetchResult

NOW = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
INTERVAL = timedelta(minutes=15)
CAP = timedelta(hours=6)
URL = "https://example.org/feed.xml"


def result(outcome: str = "ok", **changes: object) -> FetchResult:
    base = FetchResult(
        url=URL,
        outcome="ok",
        status=200,
        body=b"<rss/>",
        headers={},
        final_url=URL,
        permanent_url=None,
        etag='"e1"',
        last_modified="Mon, 05 Jan 2026 10:00:00 GMT",
        body_hash="h1",
        retry_after=None,
        error=None,
        elapsed_ms=12.0,
    )
    return replace(base, outcome=outcome, **changes)  # type: ignore[arg-type]


def step(state: FeedState, fetched: FetchResult, seed: int = 1, **kw: object) -> FeedState:
    return after_fetch(
        state,
        fetched,
        now=kw.pop("now", NOW),  # type: ignore[arg-type]
        interval=INTERVAL,
        max_backoff=CAP,
        rng=random.Random(seed),
        **kw,  # type: ignore[arg-type]
    )


def failing(times: int) -> FeedState:
    state = FeedState(url=URL)
    for _ in range(times):
        state = step(state, result("error", status=500, error="HTTP 500"))
    return state


def test_success_records_validators_and_schedules_within_jitter() -> None:
    state = step(FeedState(url=URL), result(), bozo="malformed XML at line 3")
    assert state.status == "ok" and state.consecutive_failures == 0
    assert (state.etag, state.last_modified, state.body_hash) == (
        '"e1"',
        result().last_modified,
        "h1",
    )
    assert state.last_success == NOW and state.bozo == "malformed XML at line 3"
    assert state.next_poll is not None
    assert NOW + INTERVAL * 0.9 <= state.next_poll <= NOW + INTERVAL * 1.1
    assert state.request() == FetchRequest(URL, '"e1"', result().last_modified, "h1")


def test_polls_spread_out_with_jitter() -> None:
    polls = {step(FeedState(url=URL), result(), seed=seed).next_poll for seed in range(50)}
    assert len(polls) == 50
    firsts = [first_poll(NOW, INTERVAL, random.Random(seed)) for seed in range(200)]
    assert all(NOW <= moment < NOW + INTERVAL for moment in firsts)
    assert max(firsts) - min(firsts) > INTERVAL * 0.8


def test_not_modified_and_unchanged_are_successes_that_keep_the_last_warning() -> None:
    warned = step(FeedState(url=URL), result(), bozo="bad entity")
    for outcome in ("not_modified", "unchanged"):
        state = step(
            warned, result(outcome, status=304 if outcome == "not_modified" else 200, body=None)
        )
        assert state.status == "ok" and state.bozo == "bad entity" and state.last_success == NOW


def test_errors_back_off_exponentially_capped_and_reset_by_success() -> None:
    assert [backoff(n, INTERVAL, CAP) for n in (1, 2, 3, 4)] == [
        INTERVAL,
        INTERVAL * 2,
        INTERVAL * 4,
        INTERVAL * 8,
    ]
    assert backoff(10, INTERVAL, CAP) == CAP and backoff(10_000, INTERVAL, CAP) == CAP
    once, twice, many = failing(1), failing(3), failing(12)
    assert (once.status, once.consecutive_failures, once.last_error) == ("failing", 1, "HTTP 500")
    assert (twice.status, twice.consecutive_failures) == ("backing_off", 3)
    assert twice.next_poll is not None
    assert NOW + INTERVAL * 4 * 0.9 <= twice.next_poll <= NOW + INTERVAL * 4 * 1.1
    assert many.next_poll is not None and many.next_poll <= NOW + CAP
    recovered = step(many, result())
    assert (recovered.status, recovered.consecutive_failures) == ("ok", 0)
    assert recovered.last_error == "HTTP 500" and recovered.last_error_at == NOW


def test_error_keeps_the_validators() -> None:
    good = step(FeedState(url=URL), result())
    bad = step(good, result("error", status=None, etag=None, error="DNS lookup failed"))
    assert (bad.etag, bad.body_hash) == ('"e1"', "h1")


def test_retry_after_is_honoured_and_blocks_forced_polls() -> None:
    later = NOW + timedelta(hours=3)
    state = step(FeedState(url=URL), result("error", status=429, retry_after=later, error="429"))
    assert state.next_poll == later and state.retry_after == later
    assert state.status == "backing_off"
    assert not is_due(state, NOW + timedelta(hours=2)) and is_due(state, later)
    assert not may_poll_now(state, NOW + timedelta(hours=2)) and may_poll_now(state, later)
    short = step(FeedState(url=URL), result("error", status=503, retry_after=NOW, error="503"))
    assert short.next_poll is not None and short.next_poll >= NOW + INTERVAL * 0.9


def test_absurd_retry_after_is_bounded() -> None:
    far = NOW + timedelta(days=300)
    state = step(FeedState(url=URL), result("error", status=503, retry_after=far, error="503"))
    assert state.next_poll == NOW + timedelta(days=7)


def test_gone_is_never_polled_again() -> None:
    state = step(FeedState(url=URL), result("gone", status=410, body=None, error="HTTP 410 Gone"))
    assert (state.status, state.next_poll, state.last_error) == ("gone", None, "HTTP 410 Gone")
    assert not is_due(state, NOW + timedelta(days=365))
    assert not may_poll_now(state, NOW + timedelta(days=365))


def test_permanent_redirect_is_used_from_then_on() -> None:
    moved = "https://new.example.org/feed.xml"
    state = step(FeedState(url=URL), result(permanent_url=moved, final_url=moved))
    assert state.current_url == moved and state.url == URL
    assert state.fetch_url == moved and state.request().url == moved
    temporary = step(FeedState(url=URL), result(final_url="https://elsewhere.example/f"))
    assert temporary.current_url is None and temporary.fetch_url == URL


def test_parse_error_is_a_failure_that_forgets_the_validators() -> None:
    good = step(FeedState(url=URL), result())
    state = step(good, result(), parse_error="https://example.org/feed.xml: this is an HTML page")
    assert state.status == "failing" and state.consecutive_failures == 1
    assert state.last_error == "https://example.org/feed.xml: this is an HTML page"
    assert (state.etag, state.last_modified, state.body_hash) == (None, None, None)
    assert state.request() == FetchRequest(URL)


def test_new_feed_is_due() -> None:
    assert is_due(FeedState(url=URL), NOW) and may_poll_now(FeedState(url=URL), NOW)


def test_empty_and_unreadable_feeds_are_told_apart_and_polled_as_usual() -> None:
    reason = "35 <rss:item> elements, none readable: undeclared namespace prefix 'rss'"
    read = step(FeedState(url=URL), result(), entries=3)
    empty = step(read, result(), entries=0, now=NOW + INTERVAL)
    broken = step(read, result(), entries=0, unreadable=reason, now=NOW + INTERVAL)
    assert (read.status, empty.status, broken.status) == ("ok", "empty", "unreadable")
    for state in (empty, broken):
        assert state.consecutive_failures == 0 and state.etag == '"e1"', "polled as usual"
        assert state.next_poll is not None
        assert NOW + INTERVAL * 1.9 <= state.next_poll <= NOW + INTERVAL * 2.1
    assert empty.last_success == NOW + INTERVAL
    assert (broken.last_error, broken.last_error_at, broken.last_success) == (
        reason,
        NOW + INTERVAL,
        NOW,
    )
    later = NOW + 2 * INTERVAL
    unchanged = step(broken, result("not_modified", status=304, body=None), now=later)
    assert (unchanged.status, unchanged.last_error, unchanged.last_success) == (
        "unreadable",
        reason,
        NOW,
    )
    assert step(empty, result("unchanged", body=None), now=later).status == "empty"
    assert step(broken, result(), entries=2, now=later).status == "ok", "the publisher fixed it"
