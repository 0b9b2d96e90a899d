"""The I/O edges of a feed cycle: which feeds are due, and fetching them.

The pipeline composes these with parsing, storing and matching; nothing
here touches documents.
"""

from __future__ import annotations

import queue
import random
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Generic, TypeVar

from newswatch.dedup.keys import sha256_hex
from newswatch.feedpolicy import FeedState, first_poll, is_due, may_poll_now
from newswatch.sources.http import Fetcher, FetchRequest, FetchResult
from newswatch.store.feeds import FeedRecord

if TYPE_CHECKING:
    from newswatch.config import FeedSource, Fetch

STOP_POLL_S = 0.2
# Backpressure (issue 11): a request goes out only while fewer than this many bytes
# of body per parser (a worker process, or the one parsing thread of a process with
# none) wait for the consumer (fetched; parsing or parsed; not yet taken). Without it
# the fetching ran far ahead of the store on a cold pass, and the bodies and their
# parse results piled up in the main process (~33 MB at its peak); this is enough to
# keep each parser busy. `ingest`, parsing in its own process, peaked 2.8 MB lower with
# 2 MB than with the 4 MB two workers have, and took as long (bench/README.md).
READY_BYTES_PER_PARSER = 2 * 2**20
READY_BYTES = 2 * READY_BYTES_PER_PARSER
# New feeds are first polled within this window (or their interval, if shorter):
# spread enough that hundreds never fire at once, soon enough that a user who
# adds a feed sees it working.
FIRST_POLL_SPREAD = timedelta(seconds=5)


def ready_bytes(parsers: int) -> int:
    """The backpressure bound for `parsers` worker processes (0: parsing in process)."""
    return READY_BYTES_PER_PARSER * max(1, parsers)


@dataclass(frozen=True, slots=True)
class DueFeed:
    source: FeedSource
    record: FeedRecord
    interval: timedelta


def config_hash(feed: FeedSource) -> str:
    """Fingerprint of a feed's config entry: a gone feed is retried when it changes."""
    interval = feed.interval.total_seconds() if feed.interval else None
    return sha256_hex(f"{feed.url}\0{feed.name}\0{interval}")


def current_record(
    feed: FeedSource,
    stored: FeedRecord | None,
    now: datetime,
    interval: timedelta,
    rng: random.Random,
) -> FeedRecord:
    """The stored record, a fresh one for a new feed, or a reset one if its entry changed."""
    fingerprint = config_hash(feed)
    if stored is None:
        spread = min(interval, FIRST_POLL_SPREAD)
        state = FeedState(url=feed.url, next_poll=first_poll(now, spread, rng))
        return FeedRecord(state=state, config_hash=fingerprint)
    if stored.config_hash != fingerprint:
        state = FeedState(url=feed.url, next_poll=now)
        return FeedRecord(
            state=state, config_hash=fingerprint, title=stored.title, documents=stored.documents
        )
    return stored


def select_due(
    feeds: Sequence[FeedSource],
    records: dict[str, FeedRecord],
    now: datetime,
    default_interval: timedelta,
    *,
    force: bool,
) -> list[DueFeed]:
    """Feeds to poll now; `force` polls all except those a server told us to leave alone."""
    due = []
    for feed in feeds:
        record = records[feed.url]
        ready = may_poll_now(record.state, now) if force else is_due(record.state, now)
        if ready:
            due.append(DueFeed(feed, record, feed.interval or default_interval))
    return due


T = TypeVar("T")
Fetched = tuple[int, FetchResult, T]


def fetch_streamed(
    due: Sequence[DueFeed],
    settings: Fetch,
    stop: threading.Event,
    on_fetched: Callable[[int, FetchResult], T],
    max_unfinished: int = 32,
    idle: Callable[[], float | None] | None = None,
    max_ready_bytes: int = READY_BYTES,
    fetched: threading.Event | None = None,
) -> Iterator[Fetched[T]]:
    """Fetch every due feed concurrently; yield each one as it finishes.

    The fetching runs in its own threads (a Fetcher's), and calls `on_fetched`
    there as each answer arrives (to start parsing it at once),
    so one slow server never holds back the feeds that already answered. At
    most `max_unfinished` feeds are fetched ahead of the consumer, and a request
    goes out only while fewer than `max_ready_bytes` bytes of body wait for it
    (fetched, not yet taken): memory stays bounded however many feeds are due
    and however slowly they are stored, to that plus the bodies of the requests
    under way when it was reached (at most the fetch's concurrency). A stop
    request cancels what is still in flight; those feeds keep their state and
    are polled later.

    `idle` is called (on the consumer's thread) whenever no feed is ready: it
    returns how long to wait for one before calling it again (None: as long
    as it takes), so the consumer can store what it holds while it waits.
    `fetched`, if given, is set once every fetch has finished: what is left to
    take is what was fetched already (and is perhaps still parsing).
    """
    stream = _Stream(on_fetched, max_unfinished, max_ready_bytes, fetched)
    requests = [d.record.state.request() for d in due]
    worker = threading.Thread(
        target=stream.run, args=(requests, settings, stop), name="newswatch-fetch", daemon=True
    )
    worker.start()
    try:
        while (item := _next(stream.finished, idle)) is not None:
            yield item
            stream.release(_size(item[1]))
            del item  # not kept while waiting for the next one
    finally:
        # a consumer that left early (it raised: the daemon logs it and runs the next
        # cycle) takes nothing more: the fetching must not wait for it for ever
        stream.abandon()
        worker.join()


def _size(result: FetchResult) -> int:
    return len(result.body) if result.body is not None else 0


def _next(
    finished: queue.Queue[Fetched[T] | None], idle: Callable[[], float | None] | None
) -> Fetched[T] | None:
    while True:
        try:
            return finished.get_nowait()
        except queue.Empty:
            pass
        try:
            return finished.get(timeout=idle() if idle is not None else None)
        except queue.Empty:
            continue


class _Stream(Generic[T]):
    """The fetching side: a Fetcher's threads, throttled by the consumer."""

    def __init__(
        self,
        on_fetched: Callable[[int, FetchResult], T],
        limit: int,
        ready_bytes_limit: int,
        fetched: threading.Event | None = None,
    ) -> None:
        self.on_fetched = on_fetched
        self.fetched = fetched
        self.limit = limit
        self.ready_bytes_limit = ready_bytes_limit
        self.finished: queue.Queue[Fetched[T] | None] = queue.Queue()
        self._changed = threading.Condition()  # the consumer took a feed
        self._stop = threading.Event()
        self._abandoned = threading.Event()  # the consumer left early
        self.ready_bytes = 0  # the bodies fetched and not yet taken by the consumer
        self._let_go = 0  # fetches let go (by _room)
        self._taken = 0  # feeds taken by the consumer
        self._unfetched = 0

    def release(self, size: int) -> None:
        """The consumer is done with one feed of `size` bytes of body: let another fetch
        start (thread-safe)."""
        with self._changed:
            self.ready_bytes -= size
            self._taken += 1
            self._changed.notify_all()

    def _full(self) -> bool:
        """Enough body waits for the consumer already. Only bodies fetched count, so
        one larger than the budget still goes through (alone): the consumer, taking
        what waits, always makes room again."""
        return self.ready_bytes >= self.ready_bytes_limit

    def _room(self) -> None:
        """Wait until a fetch may go (the fetcher calls this as a request goes out): fewer
        than `limit` fetched ahead of the consumer, and room for a body; or a stop."""
        with self._changed:
            while self._let_go - self._taken >= self.limit or self._full():
                if self.is_set():
                    return
                self._changed.wait(STOP_POLL_S)
            self._let_go += 1

    def abandon(self) -> None:
        """The consumer takes nothing more: the fetching stops as on a stop."""
        with self._changed:
            self._abandoned.set()
            self._changed.notify_all()

    def is_set(self) -> bool:
        """The fetcher's stop: the daemon's, or the consumer gone."""
        return self._stop.is_set() or self._abandoned.is_set()

    def run(self, requests: list[FetchRequest], settings: Fetch, stop: threading.Event) -> None:
        self._stop = stop
        self._unfetched = len(requests)
        try:
            with Fetcher(settings, admit=self._room) as fetcher:
                # no more threads than fetches let go ahead of the consumer: one waiting in
                # _room holds its host's slot, which a fetch let go may need after a redirect
                fetcher.run(requests, self._done, self, threads=self.limit)
        finally:
            if self.fetched is not None:
                self.fetched.set()
            self.finished.put(None)

    def _done(self, index: int, result: FetchResult) -> None:
        """One fetch is in (called by one fetching thread at a time): start its parse."""
        with self._changed:
            self.ready_bytes += _size(result)
        parsing = self.on_fetched(index, result)
        self._unfetched -= 1
        if self._unfetched == 0 and self.fetched is not None:
            self.fetched.set()  # before the consumer can take the last one
        self.finished.put((index, result, parsing))
