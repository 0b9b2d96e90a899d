"""Building alerts from matches (pure) and delivering the outbox (I/O).

Delivery drains a sink's pending alerts batch after batch. Each message's
outcome is recorded as soon as the sink reports it, before the next message
is sent, so a crash repeats at most the message in flight and a stop repeats
nothing. When the database cannot record an outcome (locked, briefly down),
the recording is retried, never the sending; past a few minutes the outcome
waits in memory (a `Ledger`) and is recorded before anything else is sent.

A rate-limited sink (`max_per_hour`) is sent at most that many messages per
clock hour (UTC), counted in the database with each outcome. The rest waits;
once an hour that reached the limit is over, every alert still waiting from
before the current hour goes out as one digest, then the new hour's count
starts (the digest is its first message).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

from newswatch.alerts.sink import Outcome, RateLimited, Sink, SinkError, hourly_limit, is_ready
from newswatch.log import get_logger
from newswatch.model import Alert, Document, Match
from newswatch.ops import metrics
from newswatch.store import deliveries as store

RETRY_AFTER = timedelta(minutes=1)  # doubled after each failure in a row ...
MAX_RETRY_AFTER = timedelta(hours=1)  # ... up to this
BATCH = 500
DIGEST_MAX = 5000  # alerts in one overflow digest (a bigger backlog takes several)
RECORD_PATIENCE_S = 300.0  # how long to retry recording an outcome before keeping it in memory
DEFERRED_MAX = 500  # messages deferred (4xx) in one drain before it gives up

log = get_logger(__name__)


def _snippet(document: Document, match: Match) -> str:
    from newswatch.alerts.render import snippet_for  # only when a document matched

    return snippet_for(document.title, document.body, match.hits)


def build_alert(document: Document, match: Match) -> Alert:
    """The alert a match of a stored document raises."""
    if document.id is None:
        raise ValueError("alerts are built for stored documents only")
    return Alert(
        document_id=document.id,
        watch=match.watch,
        kind=match.kind,
        title=document.title,
        url=document.url,
        source=document.source,
        published=document.published,
        matched=tuple(match.matched),
        snippet=_snippet(document, match),
    )


@dataclass
class DeliveryReport:
    """What one delivery round did: messages' outcomes, and the sinks that failed as a whole."""

    sent: int = 0  # alerts delivered
    dead: int = 0  # alerts refused for good
    later: int = 0  # alerts refused for now
    failures: dict[str, str] = field(default_factory=dict)
    busy: set[str] = field(default_factory=set)  # sinks another process was delivering
    held: set[str] = field(default_factory=set)  # sinks at their max_per_hour (not a failure)

    def add(self, other: DeliveryReport) -> None:
        self.sent += other.sent
        self.dead += other.dead
        self.later += other.later
        self.failures.update(other.failures)
        self.busy.update(other.busy)
        self.held.update(other.held)

    @property
    def failed(self) -> bool:
        return bool(self.failures or self.dead or self.later)


class Ledger:
    """Outcomes the database could not record yet, by sink; recorded before the next send."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[str, list[Outcome]] = {}

    def keep(self, sink: str, outcome: Outcome) -> None:
        with self._lock:
            self._waiting.setdefault(sink, []).append(outcome)

    def take(self, sink: str) -> list[Outcome]:
        with self._lock:
            return self._waiting.pop(sink, [])

    def alert_ids(self, sink: str) -> set[int]:
        with self._lock:
            return {i for outcome in self._waiting.get(sink, []) for i in outcome.alert_ids}


class _Unrecorded(Exception):
    """The database would not record an outcome; it waits in the ledger."""


def deliver_pending(
    engine: Engine,
    sinks: Sequence[Sink],
    now: datetime,
    *,
    due_only: bool = True,
    stop: threading.Event | None = None,
    ledger: Ledger | None = None,
) -> DeliveryReport:
    """Drain every sink's pending alerts; a failing sink backs off and never holds up the others.

    `due_only=False` also tries alerts (and sinks) waiting for their retry
    time; dead letters are never tried here. A deferring sink (a digest) is
    asked first whether it is ready, given its oldest pending alert.
    """
    report = DeliveryReport()
    for sink in sinks:
        if stop is not None and stop.is_set():
            break
        _Drain(engine, sink, now, stop or threading.Event(), ledger or Ledger(), report).run(
            due_only
        )
    return report


@dataclass
class _Drain:
    engine: Engine
    sink: Sink
    now: datetime
    stop: threading.Event
    ledger: Ledger
    report: DeliveryReport
    deferred: set[int] = field(default_factory=set)
    limit: int | None = field(init=False)  # the sink's max_per_hour (asked once: not free)
    # the connection a batch's outcomes are recorded through, each in its own transaction
    held: Connection | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.limit = hourly_limit(self.sink)

    def run(self, due_only: bool) -> None:
        if not self._catch_up():
            return
        if due_only and self._paused():
            return
        if not self._overflow(due_only):
            return
        while not self.stop.is_set() and len(self.deferred) <= DEFERRED_MAX:
            room = self._room()
            if room is not None and room <= 0:
                self.report.held.add(self.sink.key)  # the rest waits for the digest after this hour
                return
            exclude = self.deferred | self.ledger.alert_ids(self.sink.key)
            with self.engine.connect() as connection:
                batch = store.pending_deliveries(
                    connection, self.sink.key, self.now, BATCH, due_only=due_only, exclude=exclude
                )
            if not batch or not is_ready(self.sink, _oldest(batch, self.now), self.now):
                return
            if not self._deliver(batch, most=room):
                return

    @property
    def hour(self) -> datetime:
        return hour_of(self.now)

    def _room(self) -> int | None:
        """How many more messages the hourly limit allows now (None: no limit)."""
        if self.limit is None:
            return None
        with self.engine.connect() as connection:
            window, sent = store.sent_in_window(connection, self.sink.key)
        return self.limit - (sent if window == self.hour else 0)

    def _overflow(self, due_only: bool) -> bool:
        """After an hour that reached the limit: what waits from before this hour, as digests.

        False if delivery cannot go on this round (the sink failed, a stop).
        """
        if self.limit is None or not isinstance(self.sink, RateLimited):
            return True
        with self.engine.connect() as connection:
            window, sent = store.sent_in_window(connection, self.sink.key)
        if window is None or window >= self.hour or sent < self.limit:
            return True
        while not self.stop.is_set():
            exclude = self.deferred | self.ledger.alert_ids(self.sink.key)
            with self.engine.connect() as connection:
                batch = store.pending_deliveries(
                    connection,
                    self.sink.key,
                    self.now,
                    DIGEST_MAX,
                    due_only=due_only,
                    exclude=exclude,
                    created_before=self.hour,
                )
            if not batch:
                return True
            if not self._deliver(batch, self.sink.deliver_digest(batch)):
                return False
        return False

    def _paused(self) -> bool:
        with self.engine.connect() as connection:
            until = store.paused_until(connection, self.sink.key)
        return until is not None and until > self.now

    def _catch_up(self) -> bool:
        """Record what an earlier round could not; False if the database still refuses."""
        waiting = self.ledger.take(self.sink.key)
        for number, outcome in enumerate(waiting):
            if not _patiently(self.engine, partial(self._record, outcome=outcome), self.sink.key):
                for later in waiting[number:]:
                    self.ledger.keep(self.sink.key, later)
                self.report.failures[self.sink.key] = "the database cannot record deliveries"
                return False
        return True

    def _deliver(
        self,
        batch: Sequence[Alert],
        outcomes: Generator[Outcome, None, None] | None = None,
        most: int | None = None,
    ) -> bool:
        """One batch (as the sink sends it, or as `outcomes` given), stopping once `most`
        messages were sent; True if it made progress (something delivered or refused
        for good). What was not sent stays pending."""
        reported: set[int] = set()
        progress = False
        sent = 0
        outcomes = self.sink.deliver(batch) if outcomes is None else outcomes
        # One connection for the batch, a transaction per message on it: checking a
        # connection out of the pool and back for each cost as much as the update.
        with self.engine.connect() as self.held:
            try:
                began = time.perf_counter()
                for outcome in outcomes:
                    took, began = time.perf_counter() - began, time.perf_counter()
                    self._keep(outcome, took)
                    reported.update(outcome.alert_ids)
                    progress = progress or outcome.result != "later"
                    sent += outcome.result == "sent"
                    if self.stop.is_set() or (most is not None and sent >= most):
                        break
            except SinkError as exc:
                self._failed(batch, reported, str(exc))
                return False
            except _Unrecorded:
                return False
            finally:
                outcomes.close()  # ends the SMTP session politely when stopping early
                self.held = None
        if sent:
            _patiently(self.engine, self._succeeded, self.sink.key)
        return progress

    def _keep(self, outcome: Outcome, took_s: float | None = None) -> None:
        record = partial(self._record, outcome=outcome)
        if not _patiently(self.engine, record, self.sink.key, self.held):
            self.ledger.keep(self.sink.key, outcome)
            self.report.failures[self.sink.key] = "the database cannot record deliveries"
            raise _Unrecorded
        ids, key = list(outcome.alert_ids), self.sink.key
        if outcome.result == "sent":
            self.report.sent += len(ids)
            metrics.record_delivery(key, "ok", len(ids), took_s)
            return
        if outcome.result == "dead":
            self.report.dead += len(ids)
            log.error("alert_dead_lettered", sink=key, alert_ids=ids, error=outcome.error)
            metrics.record_delivery(key, "dead", len(ids))
            return
        self.report.later += len(ids)
        self.deferred.update(ids)
        log.warning("alert_delivery_deferred", sink=key, alert_ids=ids, error=outcome.error)
        metrics.record_delivery(key, "failed", len(ids))

    def _record(self, connection: Connection, outcome: Outcome) -> None:
        ids, key, error = list(outcome.alert_ids), self.sink.key, outcome.error or ""
        store.without_waiting_for_disk(connection)
        if outcome.result == "sent":
            store.mark_delivered(connection, ids, key, self.now)
            if self.limit is not None:
                store.count_sent(connection, key, self.hour)
        elif outcome.result == "dead":
            store.mark_dead(connection, ids, key, error, self.now)
        else:
            failures = store.failed_attempts(connection, ids, key)
            store.mark_failed(connection, ids, key, error, self.now + retry_delay(failures))

    def _succeeded(self, connection: Connection) -> None:
        store.sink_succeeded(connection, self.sink.key, self.now)

    def _failed(self, batch: Sequence[Alert], reported: set[int], error: str) -> None:
        """The sink failed as a whole: what it did not report on waits, and so does the sink."""
        rest = [a.id for a in batch if a.id is not None and a.id not in reported]
        key = self.sink.key
        log.error("alert_delivery_failed", sink=key, alerts=len(rest), error=error)
        metrics.record_delivery(key, "failed", len(rest))
        self.report.failures[key] = error

        def back_off(connection: Connection) -> None:
            until = self.now + retry_delay(store.sink_failures(connection, key))
            store.sink_failed(connection, key, error, self.now, until)
            store.mark_failed(connection, rest, key, error, until)

        _patiently(self.engine, back_off, key)


def _patiently(
    engine: Engine,
    work: Callable[[Connection], None],
    sink: str,
    connection: Connection | None = None,
) -> bool:
    """Run `work` in a transaction (on `connection` if given, else on one from the
    pool), retrying while the database is locked or unreachable."""
    deadline = time.monotonic() + RECORD_PATIENCE_S
    pause = 0.05
    while True:
        try:
            if connection is None:
                with engine.begin() as pooled:
                    work(pooled)
            else:
                with connection.begin():
                    work(connection)
            return True
        except OperationalError as exc:
            if time.monotonic() >= deadline:
                log.error("delivery_not_recorded", sink=sink, error=str(exc).splitlines()[0])
                return False
            log.warning("delivery_record_retrying", sink=sink, error=str(exc).splitlines()[0])
            time.sleep(pause)
            pause = min(pause * 2, 2.0)


def held_until(connection: Connection, sink: Sink, now: datetime) -> datetime | None:
    """When a sink at its `max_per_hour` may send again (its digest), or None if it may now."""
    limit = hourly_limit(sink)
    if limit is None:
        return None
    window, sent = store.sent_in_window(connection, sink.key)
    if window != hour_of(now) or sent < limit:
        return None
    return window + timedelta(hours=1)


def hour_of(moment: datetime) -> datetime:
    """The clock hour (UTC) a moment falls in: what `max_per_hour` counts by."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def retry_delay(failures_before: int) -> timedelta:
    """1 min after the first failure, then 2, 4, 8... capped at an hour: a sink that is
    down for long (a mail server refusing us) is not hammered every minute."""
    doubled: timedelta = RETRY_AFTER * (1 << min(failures_before, 16))
    return min(doubled, MAX_RETRY_AFTER)


def _oldest(batch: Sequence[Alert], now: datetime) -> datetime:
    return min((alert.created_at for alert in batch if alert.created_at), default=now)
