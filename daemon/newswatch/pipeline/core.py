"""The pipeline's shared core: store, match and alert; delivery; replay.

source -> parse -> normalise -> dedup/store -> match -> alert rows -> delivery.
Stages never call each other; each refresh ends with one canonical log line.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from newswatch.alerts.routing import Route, every_watch
from newswatch.log import get_logger
from newswatch.match.salience import NO_SALIENCE, Salience
from newswatch.ops import metrics
from newswatch.parsing.feedwork import DAEMON_WORKERS, FeedParsers
from newswatch.store.db import database_error

# The stores of documents, stories and alerts, and the outbox, load when a refresh
# has documents or there is something to deliver (issue 11: a cycle of 304s has
# neither).
if TYPE_CHECKING:
    from newswatch.alerts.outbox import DeliveryReport, Ledger
    from newswatch.alerts.sink import Sink
    from newswatch.config import Dedup, Fetch
    from newswatch.match import Matcher
    from newswatch.model import Alert, Document, Match
    from newswatch.ops.node import Node
    from newswatch.store import documents as document_store
    from newswatch.store import retention

Clock = Callable[[], datetime]

log = get_logger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class RefreshReport:
    """The outcome of one source refresh, logged as one canonical line.

    `label` names the source in /metrics and /healthz: stable and configured
    (a feed's name or URL, a seed folder's name), unlike a feed's title.
    """

    source: str
    status: str = "ok"
    label: str = ""
    kind: str = "feed"
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    empty: int = 0
    alerts: int = 0
    skipped: int = 0
    duplicate_of: list[int] = field(default_factory=list)
    error: str | None = None
    started: float = field(default_factory=time.perf_counter)
    ended: float | None = None  # set when the line is logged later than the work ended
    details: dict[str, object] = field(default_factory=dict)

    def add(self, other: IngestCounts) -> None:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.duplicates += other.duplicates
        self.empty += other.empty
        self.alerts += other.alerts
        from newswatch.store.documents import DUPLICATE_SAMPLE

        room = DUPLICATE_SAMPLE - len(self.duplicate_of)
        self.duplicate_of += [i for i in other.duplicate_of if i not in self.duplicate_of][:room]

    @property
    def idle(self) -> bool:
        """Nothing changed and nothing went wrong (a rescan of an unchanged folder)."""
        changed = self.new or self.updated or self.duplicates or self.empty or self.skipped
        return self.status == "ok" and not changed and self.error is None

    def log(self, *, quiet: bool = False) -> None:
        """The canonical line; `quiet` logs it at debug level (nothing new to say)."""
        duration_s = (self.ended or time.perf_counter()) - self.started
        duration_ms = round(duration_s * 1000, 1)
        metrics.record_refresh(
            self.label or self.source,
            self.status,
            new=self.new,
            duplicates=self.duplicates,
            alerts=self.alerts,
            duration_s=duration_s,
            error=self.error,
            kind=self.kind,
        )
        fields = {
            "source": self.source,
            "status": self.status,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "duplicates": self.duplicates,
            "empty": self.empty,
            "alerts": self.alerts,
            "skipped": self.skipped,
            "duration_ms": duration_ms,
            **({"duplicate_of": self.duplicate_of} if self.duplicate_of else {}),
            **self.details,
        }
        if quiet:
            log.debug("source_refreshed", **fields, error=self.error)
        elif self.error:
            # an unreadable feed is the publisher's to mend, and is polled as usual
            emit = log.warning if self.status == "unreadable" else log.error
            emit("source_refreshed", **fields, error=self.error)
        else:
            log.info("source_refreshed", **fields)


def _schema_default(name: str) -> Any:
    """The schema's defaults, for a pipeline built without a config (tests, tools): the
    config's own values come from the commands (issue 11: no pydantic on that path)."""
    from newswatch.config import schema

    return getattr(schema, name)()


@dataclass(frozen=True)
class FeedSettings:
    """How feeds are fetched and how often, and who hears of their health, from the config."""

    fetch: Fetch = field(default_factory=lambda: _schema_default("Fetch"))
    interval: timedelta = timedelta(minutes=15)
    failing_after: timedelta = timedelta(hours=24)
    sink_names: tuple[str, ...] = ()  # the name of each sink, in the pipeline's order
    health_sinks: tuple[str, ...] = ("log",)  # the names feed-health notices go to


@dataclass
class IngestCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    empty: int = 0
    alerts: int = 0
    duplicate_of: list[int] = field(default_factory=list)


class PipelineCore:
    """Runs refreshes against one database with the current matcher and sinks."""

    def __init__(
        self,
        engine: Engine,
        matcher: Matcher,
        sinks: Sequence[Sink],
        clock: Clock = utc_now,
        feed_settings: FeedSettings | None = None,
        dedup: Dedup | None = None,
        routes: Sequence[Route] | None = None,
        parse_workers: int | None = None,
    ) -> None:
        self.engine = engine
        self.matcher = matcher
        self.sinks = list(sinks)
        # which sinks an alert is queued for (default: every sink hears of every watch)
        self.routes = list(routes) if routes is not None else every_watch(s.key for s in sinks)
        self.clock = clock
        self.feed_settings = feed_settings or FeedSettings()
        self.dedup = dedup or _schema_default("Dedup")
        self.parsers = FeedParsers(
            matcher, DAEMON_WORKERS if parse_workers is None else parse_workers
        )
        self.rng = random.Random()
        # SQLite allows one writer; serialising our own writers avoids lock waits.
        self.write_lock = threading.Lock()
        self.stop_requested = threading.Event()
        self._sink_locks_guard = threading.Lock()
        self._sink_locks: dict[str, threading.Lock] = {}
        self.last_errors: dict[str, str | None] = {}
        self._ledger: Ledger | None = None  # outcomes the database could not record yet
        # The daemon sets this to wake its outbox job, so a sink that hangs (an SMTP
        # server that never answers) holds up deliveries, never the importing.
        self.wake_delivery: Callable[[], None] | None = None
        # Several nodes on one PostgreSQL: feeds and sinks are claimed through this node.
        self.node: Node | None = None
        # recent documents naming each sharer of an alias in full, as of the last batch
        self.salience: Salience = NO_SALIENCE

    @property
    def ledger(self) -> Ledger:
        """Outcomes the database could not record yet (made at the first delivery; the
        daemon's deliveries run in several threads, all must share one)."""
        with self._sink_locks_guard:
            if self._ledger is None:
                from newswatch.alerts.outbox import Ledger

                self._ledger = Ledger()
            return self._ledger

    def reconfigure(
        self,
        matcher: Matcher,
        sinks: Sequence[Sink],
        feed_settings: FeedSettings,
        dedup: Dedup | None = None,
        routes: Sequence[Route] | None = None,
    ) -> None:
        """Swap in a new matcher, sinks and settings (each one atomic attribute store).

        New routes apply to alerts raised from now on; queued ones keep their sinks.
        """
        self.dedup = dedup or self.dedup
        self.matcher = matcher
        self.parsers.use(matcher)
        self.routes = list(routes) if routes is not None else every_watch(s.key for s in sinks)
        self.sinks = list(sinks)
        self.feed_settings = feed_settings

    def close(self) -> None:
        self.parsers.close()

    def stop(self) -> None:
        """Stop now: abandon the parses under way and store nothing more from feeds."""
        self.stop_requested.set()
        self.parsers.abandon()

    def store_and_match(
        self,
        connection: Connection,
        documents: list[Document],
        origin: str,
        matched: Mapping[tuple[str, str], Sequence[Match]] | None = None,
        signatures: Mapping[tuple[str, str], bytes | None] | None = None,
        matched_with: Salience = NO_SALIENCE,
    ) -> IngestCounts:
        """Store one source's documents; raise alerts for those that were new or edited.

        `origin` is the source's stable key (feed URL, seed folder); `matched`
        and `signatures` hold matches and near-duplicate signatures already
        computed elsewhere (by a parse worker, with the salience `matched_with`),
        by (source, key); when `signatures` is None they are computed here. New
        documents join the story of a near-duplicate, and a watch alerts once
        per story.
        """
        from newswatch.store import alerts as alert_store
        from newswatch.store import documents as document_store
        from newswatch.store import stories as story_store

        now = self.clock()
        if signatures is None:
            from newswatch.dedup.signature import batch_signatures  # not for 304 cycles

            context = document_store.signing_context(connection, origin)
            signatures = batch_signatures(documents, context=context)
        saved = document_store.save_documents(connection, documents, now, origin, signatures)
        self.place_in_stories(connection, saved, signatures, now, origin)
        fresh = saved.new + saved.updated
        found = self.salient_matches(connection, fresh, saved.new, matched, matched_with, now)
        alerts = self.alerts_for(fresh, found)
        alerts = story_store.first_per_story(connection, alerts)
        stored = alert_store.save_alerts(connection, alerts, self.routes, now)
        return IngestCounts(
            new=len(saved.new),
            updated=len(saved.updated),
            unchanged=saved.unchanged,
            duplicates=saved.duplicates,
            empty=saved.empty,
            alerts=len(stored),
            duplicate_of=saved.duplicate_of,
        )

    def place_in_stories(
        self,
        connection: Connection,
        saved: document_store.SaveResult,
        signatures: Mapping[tuple[str, str], bytes | None],
        now: datetime,
        origin: str,
    ) -> None:
        from newswatch.store import stories as story_store

        placed = [
            story_store.Placed(
                d.id,
                signatures.get((d.source, d.key)),
                d.published or now,
                story_store.Listing(origin, d.title, d.url),
            )
            for d in saved.new
            if d.id is not None
        ]
        settings = self.dedup
        story_store.assign_stories(connection, placed, settings.threshold, settings.window, now)
        edited = [
            (d.id, signatures.get((d.source, d.key))) for d in saved.updated if d.id is not None
        ]
        story_store.replace_bands(connection, edited, now)

    def alerts_for(
        self,
        documents: Iterable[Document],
        matched: Mapping[tuple[str, str], Sequence[Match]] | None = None,
        salience: Salience = NO_SALIENCE,
    ) -> list[Alert]:
        from newswatch.alerts.outbox import build_alert

        matcher, known = self.matcher, matched or {}
        alerts = []
        for document in documents:
            matches = known.get((document.source, document.key))
            if matches is None:
                matches = matcher.match(document.title, document.body, document.source, salience)
            alerts += [build_alert(document, match) for match in matches]
        return alerts

    def salient_matches(
        self,
        connection: Connection,
        documents: list[Document],
        new: list[Document],
        matched: Mapping[tuple[str, str], Sequence[Match]] | None,
        matched_with: Salience,
        now: datetime,
    ) -> Mapping[tuple[str, str], Sequence[Match]] | None:
        """The documents' matches, with the batch's own full names counted in the salience.

        Only when the watch list has a shared alias: the stored counts are read,
        this batch's new documents naming a sharer in full are added to them, and
        documents matched with counts that decide a shared alias otherwise (a
        parse worker's older copy, or the counts before this batch) are matched
        again; so a first batch on an empty database decides like any later one.
        """
        groups = self.matcher.shared_names()
        if not groups or not documents:
            return matched
        from newswatch.match.salience import changed_groups, may_change
        from newswatch.store import salience as salience_store

        sharers = {name for group in groups for name in group}
        prior = salience_store.recent_counts(connection, now.date())
        known = dict(matched or {})
        with_prior = set()
        for d in documents:
            if (d.source, d.key) not in known:
                known[(d.source, d.key)] = self.matcher.match(d.title, d.body, d.source, prior)
                with_prior.add((d.source, d.key))
        counts = Counter(
            m.watch for d in new for m in known[(d.source, d.key)] if m.named and m.watch in sharers
        )
        after = dict(Counter(prior) + counts)
        changed = {
            "prior": changed_groups(groups, prior, after),
            "worker": changed_groups(groups, matched_with, after),
        }
        for d in documents:
            key = (d.source, d.key)
            stale = changed["prior" if key in with_prior else "worker"]
            if stale and may_change(stale, known[key]):
                known[key] = self.matcher.match(d.title, d.body, d.source, after)
        salience_store.add_counts(connection, counts, now.date())
        self.salience = after
        return known

    def alerts_stored(self, count: int) -> None:
        """New alerts are in the outbox: deliver them now, or wake whoever delivers."""
        if count == 0:
            return
        if self.wake_delivery is not None:
            self.wake_delivery()
        else:
            self.deliver()

    def deliver(self, sink_key: str | None = None, *, due_only: bool = True) -> DeliveryReport:
        """Drain pending alerts to every sink (or the one named); never raises.

        One delivery per sink at a time: two threads reading the same pending
        rows would send them twice (an SMTP session can take seconds). Sinks do
        not wait for each other's locks, so the daemon can run one per job.
        `due_only=False` does not wait for retry times (`ingest`, `deliver`).
        """
        from newswatch.alerts.outbox import DeliveryReport, deliver_pending

        report = DeliveryReport()
        for sink in [s for s in self.sinks if sink_key in (None, s.key)]:
            try:
                with self._delivery_lock(sink.key), self._sink_lease(sink.key) as mine:
                    if not mine:  # another node is delivering this sink now
                        report.busy.add(sink.key)
                        continue
                    report.add(
                        deliver_pending(
                            self.engine,
                            [sink],
                            self.clock(),
                            due_only=due_only,
                            stop=self.stop_requested,
                            ledger=self.ledger,
                        )
                    )
            except SQLAlchemyError as exc:
                error = database_error(self.engine, exc)
                log.error("alert_delivery_failed", sink=sink.key, error=error)
                report.failures[sink.key] = error
        return report

    def _sink_lease(self, sink_key: str) -> AbstractContextManager[bool]:
        """One node at a time delivers a sink (so a digest goes out once per period)."""
        return self.node.sink(sink_key) if self.node is not None else nullcontext(True)

    def _delivery_lock(self, sink_key: str) -> threading.Lock:
        with self._sink_locks_guard:
            return self._sink_locks.setdefault(sink_key, threading.Lock())

    def purge(self, older_than: timedelta, *, dry_run: bool = False) -> retention.Purged:
        """Remove documents stored more than `older_than` ago that never alerted and
        start no story (see store.retention); `dry_run` only counts them."""
        from newswatch.store import retention

        now = self.clock()
        before = now - older_than
        if dry_run:
            with self.engine.connect() as connection:
                return retention.count_purgeable(connection, before)
        with self.write_lock, self.engine.begin() as connection:
            purged = retention.purge(connection, before, now)
        log.info(
            "documents_purged",
            older_than_days=round(older_than.total_seconds() / 86400, 2),
            documents=purged.documents,
            band_keys=purged.bands,
            tombstones_expired=purged.tombstones_expired,
        )
        return purged

    def replay(self, since: datetime, *, dry_run: bool) -> list[Alert]:
        """Run the current watches over stored documents; alert pairs never alerted before.

        With `dry_run`, nothing is stored or sent: the alerts that would be raised are returned.
        """
        from newswatch.store import alerts as alert_store
        from newswatch.store import documents as document_store
        from newswatch.store import salience as salience_store
        from newswatch.store import stories as story_store

        raised: list[Alert] = []
        with self.engine.connect() as reader:
            if self.matcher.shared_names():
                self.salience = salience_store.recent_counts(reader, self.clock().date())
            for batch in document_store.iter_documents_since(reader, since):
                candidates = self.alerts_for(batch, salience=self.salience)
                if dry_run:
                    done = alert_store.alerted_pairs(reader, [d.id for d in batch if d.id])
                    fresh = [a for a in candidates if (a.document_id, a.kind, a.watch) not in done]
                    fresh = story_store.first_per_story(reader, fresh)
                    raised += story_store.with_stories(reader, fresh)
                    continue
                with self.write_lock, self.engine.begin() as writer:
                    candidates = story_store.first_per_story(writer, candidates)
                    saved = alert_store.save_alerts(writer, candidates, self.routes, self.clock())
                    raised += story_store.with_stories(writer, saved)
        if not dry_run:
            self.alerts_stored(len(raised))
        return raised
