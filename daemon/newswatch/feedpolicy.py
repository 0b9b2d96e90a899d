"""What to do with a feed after a fetch: pure decisions, no I/O, no clock.

The store keeps one `FeedState` per configured feed; the pipeline fetches,
parses, then asks `after_fetch` for the next state. Politeness lives here:
jittered polls so hundreds of feeds never fire together, exponential backoff
with jitter on failure (reset by a success), Retry-After honoured, a 301/308
target remembered, and a 410 Gone feed left alone until its config changes.

A feed that answers but gives no documents is "empty" (no items at all) or
"unreadable" (items the parser could not read; the reason goes to
`last_error`). Both are polled as usual, with their validators kept: the
publisher may add items or fix the feed, and an unchanged body (304) keeps
the status it had.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from newswatch.sources.http import FetchRequest, FetchResult

FeedStatus = Literal["new", "ok", "empty", "unreadable", "failing", "backing_off", "gone"]
JITTER = 0.1
MAX_RETRY_AFTER = timedelta(days=7)
_MAX_DOUBLINGS = 30


@dataclass(frozen=True, slots=True)
class FeedState:
    """A feed's health and HTTP validators, as stored between polls.

    `url` is the configured URL; `current_url` the target of a permanent
    redirect, used from then on. `retry_after` is the moment a server asked us
    to wait for (429/503), so a forced pass can still leave the feed alone.
    """

    url: str
    current_url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    status: FeedStatus = "new"
    consecutive_failures: int = 0
    next_poll: datetime | None = None
    last_success: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    bozo: str | None = None
    retry_after: datetime | None = None
    # the first failure of the current run of failures (None while it works)
    failing_since: datetime | None = None

    @property
    def fetch_url(self) -> str:
        return self.current_url or self.url

    def request(self) -> FetchRequest:
        """The conditional request to send for this feed now."""
        return FetchRequest(
            url=self.fetch_url,
            etag=self.etag,
            last_modified=self.last_modified,
            body_hash=self.body_hash,
        )


def first_poll(now: datetime, interval: timedelta, rng: random.Random) -> datetime:
    """A new feed's first poll, anywhere in the first interval, so new feeds spread out."""
    return now + interval * rng.random()


def is_due(state: FeedState, now: datetime) -> bool:
    """Whether the scheduler should poll this feed now."""
    if state.status == "gone":
        return False
    return state.next_poll is None or state.next_poll <= now


def may_poll_now(state: FeedState, now: datetime) -> bool:
    """Whether a forced pass (`newswatch ingest`) may poll it: not gone nor told to wait."""
    if state.status == "gone":
        return False
    return state.retry_after is None or state.retry_after <= now


def after_fetch(
    state: FeedState,
    result: FetchResult,
    *,
    now: datetime,
    interval: timedelta,
    max_backoff: timedelta,
    rng: random.Random,
    bozo: str | None = None,
    parse_error: str | None = None,
    entries: int | None = None,
    unreadable: str | None = None,
) -> FeedState:
    """The feed's next state after `result` (and, for an "ok" body, after parsing it).

    `bozo` is the parser's warning for a malformed feed it still read;
    `parse_error` says the body was no feed at all, which counts as a failure
    and drops the validators so the next poll fetches and parses it afresh.
    `entries` is how many entries the body gave, and `unreadable` why it gave
    none although it has items.
    """
    if result.permanent_url and result.permanent_url != state.fetch_url:
        state = replace(state, current_url=result.permanent_url)
    if result.outcome == "gone":
        return replace(
            state,
            status="gone",
            next_poll=None,
            consecutive_failures=state.consecutive_failures + 1,
            last_error=result.error or "HTTP 410 Gone",
            last_error_at=now,
            retry_after=None,
            failing_since=state.failing_since or now,
        )
    if result.outcome == "error":
        error = result.error or f"HTTP {result.status}"
        return _failed(state, error, result.retry_after, now, interval, max_backoff, rng)
    if parse_error is not None:
        cleared = replace(state, etag=None, last_modified=None, body_hash=None, bozo=None)
        return _failed(cleared, parse_error, None, now, interval, max_backoff, rng)
    read = replace(
        state,
        status=_read_status(state, result, entries, unreadable),
        consecutive_failures=0,
        etag=result.etag,
        last_modified=result.last_modified,
        body_hash=result.body_hash,
        next_poll=now + _jittered(interval, rng),
        last_success=now,
        bozo=bozo if result.outcome == "ok" else state.bozo,
        retry_after=None,
        failing_since=None,
    )
    if read.status != "unreadable":
        return read
    if unreadable is None:  # unchanged since it was found unreadable: as it was then
        return replace(read, last_success=state.last_success)
    return replace(read, last_success=state.last_success, last_error=unreadable, last_error_at=now)


def _read_status(
    state: FeedState, result: FetchResult, entries: int | None, unreadable: str | None
) -> FeedStatus:
    """ok, empty or unreadable; an unchanged body keeps what it was found to be."""
    if result.outcome != "ok":
        return state.status if state.status in ("empty", "unreadable") else "ok"
    if unreadable is not None:
        return "unreadable"
    return "empty" if entries == 0 else "ok"


def backoff(failures: int, interval: timedelta, max_backoff: timedelta) -> timedelta:
    """The wait after `failures` failures in a row: the interval, doubled each time, capped."""
    cap = max(max_backoff, interval)
    doublings = min(max(failures - 1, 0), _MAX_DOUBLINGS)
    return min(interval * (1 << doublings), cap)


def _failed(
    state: FeedState,
    error: str,
    retry_after: datetime | None,
    now: datetime,
    interval: timedelta,
    max_backoff: timedelta,
    rng: random.Random,
) -> FeedState:
    failures = state.consecutive_failures + 1
    wait = backoff(failures, interval, max_backoff)
    next_poll = now + min(_jittered(wait, rng), max(max_backoff, interval))
    if retry_after is not None:
        retry_after = min(retry_after, now + MAX_RETRY_AFTER)
        next_poll = max(next_poll, retry_after)
    delayed = failures > 1 or (retry_after is not None and retry_after > now + interval)
    return replace(
        state,
        failing_since=state.failing_since or now,
        status="backing_off" if delayed else "failing",
        consecutive_failures=failures,
        next_poll=next_poll,
        last_error=error,
        last_error_at=now,
        retry_after=retry_after,
    )


def _jittered(delay: timedelta, rng: random.Random) -> timedelta:
    return delay * rng.uniform(1 - JITTER, 1 + JITTER)
