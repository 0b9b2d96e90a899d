"""The orchestrator: the only place that composes the stages.

source -> parse -> normalise -> dedup/store -> match -> alert rows -> delivery.
Stages never call each other; each refresh ends with one canonical log line.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from newswatch import feedcycle
from newswatch.alerts.outbox import build_alert, deliver_pending
from newswatch.alerts.sink import Sink
from newswatch.config import FeedSource, Fetch, SeedSource
from newswatch.feedpolicy import FeedState, after_fetch
from newswatch.feedwork import FeedBody, FeedParsers, ParsedBody
from newswatch.log import get_logger
from newswatch.match import Matcher
from newswatch.model import Alert, Document, RawItem
from newswatch.normalize import normalize
from newswatch.sources import seeds
from newswatch.sources.http import FetchResult
from newswatch.store import alerts as alert_store
from newswatch.store import documents as document_store
from newswatch.store import feeds as feed_store
from newswatch.store import seedfiles
from newswatch.store.db import describe_operational_error

SEED_BATCH = 500
Clock = Callable[[], datetime]

log = get_logger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class RefreshReport:
    """The outcome of one source refresh, logged as one canonical line."""

    source: str
    status: str = "ok"
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    alerts: int = 0
    skipped: int = 0
    error: str | None = None
    started: float = field(default_factory=time.perf_counter)
    details: dict[str, object] = field(default_factory=dict)

    def add(self, other: IngestCounts) -> None:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.duplicates += other.duplicates
        self.alerts += other.alerts

    def log(self) -> None:
        duration_ms = round((time.perf_counter() - self.started) * 1000, 1)
        fields = {
            "source": self.source,
            "status": self.status,
            "new": self.new,
            "updated": self.updated,
            "duplicates": self.duplicates,
            "alerts": self.alerts,
            "skipped": self.skipped,
            "duration_ms": duration_ms,
            **self.details,
        }
        if self.error:
            log.error("source_refreshed", **fields, error=self.error)
        else:
            log.info("source_refreshed", **fields)


@dataclass(frozen=True)
class FeedSettings:
    """How feeds are fetched and how often, from the config."""

    fetch: Fetch = field(default_factory=Fetch)
    interval: timedelta = timedelta(minutes=15)


@dataclass
class IngestCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    alerts: int = 0


class Pipeline:
    """Runs refreshes against one database with the current matcher and sinks."""

    def __init__(
        self,
        engine: Engine,
        matcher: Matcher,
        sinks: Sequence[Sink],
        clock: Clock = utc_now,
        feed_settings: FeedSettings | None = None,
    ) -> None:
        self.engine = engine
        self.matcher = matcher
        self.sinks = list(sinks)
        self.clock = clock
        self.feed_settings = feed_settings or FeedSettings()
        self.parsers = FeedParsers()
        self.rng = random.Random()
        # SQLite allows one writer; serialising our own writers avoids lock waits.
        self._write_lock = threading.Lock()
        self.stop_requested = threading.Event()

    def reconfigure(
        self, matcher: Matcher, sinks: Sequence[Sink], feed_settings: FeedSettings
    ) -> None:
        """Swap in a new matcher, sinks and feed settings (each one atomic attribute store)."""
        self.matcher = matcher
        self.sinks = list(sinks)
        self.feed_settings = feed_settings

    def close(self) -> None:
        self.parsers.close()

    def ingest(self, items: Iterable[RawItem]) -> IngestCounts:
        """Normalise, store and match items in one transaction, then deliver alerts."""
        documents = [normalize(item) for item in items]
        with self._write_lock, self.engine.begin() as connection:
            counts = self._store_and_match(connection, documents)
        self.deliver()
        return counts

    def _store_and_match(self, connection: Connection, documents: list[Document]) -> IngestCounts:
        now = self.clock()
        saved = document_store.save_documents(connection, documents, now)
        alerts = self._alerts_for(saved.new + saved.updated)
        stored = alert_store.save_alerts(connection, alerts, [s.key for s in self.sinks], now)
        return IngestCounts(
            new=len(saved.new),
            updated=len(saved.updated),
            unchanged=saved.unchanged,
            duplicates=saved.duplicates,
            alerts=len(stored),
        )

    def _alerts_for(self, documents: Iterable[Document]) -> list[Alert]:
        matcher = self.matcher
        return [
            build_alert(document, match)
            for document in documents
            for match in matcher.match(document.title, document.body, document.source)
        ]

    def deliver(self) -> int:
        """Deliver pending alerts; never raises for a sink or database failure."""
        try:
            return deliver_pending(self.engine, self.sinks, self.clock())
        except SQLAlchemyError as exc:
            log.error("alert_delivery_failed", error=_database_error(self.engine, exc))
            return 0

    def replay(self, since: datetime, *, dry_run: bool) -> list[Alert]:
        """Run the current watches over stored documents; alert pairs never alerted before.

        With `dry_run`, nothing is stored or sent: the alerts that would be raised are returned.
        """
        raised: list[Alert] = []
        with self.engine.connect() as reader:
            for batch in document_store.iter_documents_since(reader, since):
                candidates = self._alerts_for(batch)
                if dry_run:
                    done = alert_store.alerted_pairs(reader, [d.id for d in batch if d.id])
                    raised += [
                        a for a in candidates if (a.document_id, a.kind, a.watch) not in done
                    ]
                    continue
                with self._write_lock, self.engine.begin() as writer:
                    sinks = [s.key for s in self.sinks]
                    raised += alert_store.save_alerts(writer, candidates, sinks, self.clock())
        if not dry_run:
            self.deliver()
        return raised

    def refresh_feeds(
        self, feeds: Sequence[FeedSource], *, force: bool = False
    ) -> list[RefreshReport]:
        """Poll the due feeds (all but those told to wait, with `force`) and import them."""
        try:
            return _FeedRefresh(self, force).run(feeds)
        except SQLAlchemyError as exc:
            log.error("feed_cycle_failed", error=_database_error(self.engine, exc))
            return []

    def refresh_seeds(self, source: SeedSource) -> RefreshReport:
        """Import new and edited files of one seed folder; report broken ones and go on."""
        report = RefreshReport(source=source.source_name)
        try:
            self._refresh_seed_folder(source, report)
        except seeds.SeedFolderError as exc:
            report.status, report.error = "error", str(exc)
        except SQLAlchemyError as exc:
            report.status, report.error = "error", _database_error(self.engine, exc)
        report.log()
        return report

    def _refresh_seed_folder(self, source: SeedSource, report: RefreshReport) -> None:
        name = source.source_name
        files = seeds.list_seed_files(source.path)
        with self.engine.connect() as connection:
            known = seedfiles.known_stamps(connection, name)
        changed = seeds.changed_files(files, known)
        for start in range(0, len(changed), SEED_BATCH):
            if self.stop_requested.is_set():
                report.status = "interrupted"
                return
            self._import_seed_batch(name, changed[start : start + SEED_BATCH], known, report)
        if len(known) > len(files) or set(known) - {f.key for f in files}:
            with self._write_lock, self.engine.begin() as connection:
                seedfiles.forget_missing(connection, name, {f.key for f in files})

    def _import_seed_batch(
        self,
        name: str,
        batch: Sequence[seeds.SeedFile],
        known: dict[str, seeds.FileStamp],
        report: RefreshReport,
    ) -> None:
        now = self.clock()
        stamps: list[tuple[str, seeds.FileStamp, str | None]] = []
        items: list[RawItem] = []
        for file in batch:
            outcome = _read_seed(file, name, known.get(file.key))
            stamps.append((file.key, outcome.stamp, outcome.error))
            if outcome.error:
                report.skipped += 1
                log.warning("seed_file_skipped", source=name, error=outcome.error)
            elif outcome.item is not None:
                items.append(outcome.item)
        documents = [normalize(item) for item in items]
        with self._write_lock, self.engine.begin() as connection:
            report.add(self._store_and_match(connection, documents))
            seedfiles.remember(connection, name, stamps, now)
        self.deliver()


@dataclass(frozen=True)
class _SeedOutcome:
    stamp: seeds.FileStamp
    item: RawItem | None = None
    error: str | None = None


def _read_seed(file: seeds.SeedFile, source: str, known: seeds.FileStamp | None) -> _SeedOutcome:
    """Read and parse one changed file; unchanged bytes (same hash) give no item."""
    try:
        stamp, item = seeds.read_seed(file, source=source)
    except seeds.SeedFormatError as exc:
        stamp = exc.stamp or seeds.FileStamp(file.size, file.mtime_ns, None)
        return _SeedOutcome(stamp=stamp, error=str(exc))
    except seeds.SeedReadError as exc:
        return _SeedOutcome(stamp=seeds.FileStamp(file.size, file.mtime_ns, None), error=str(exc))
    if known is not None and known.sha256 == stamp.sha256:
        return _SeedOutcome(stamp=stamp)
    return _SeedOutcome(stamp=stamp, item=item)


def _database_error(engine: Engine, exc: SQLAlchemyError) -> str:
    from sqlalchemy.exc import OperationalError

    if isinstance(exc, OperationalError):
        return describe_operational_error(engine.url.render_as_string(), exc)
    return f"database error: {str(exc).splitlines()[0]}"


class _FeedRefresh:
    """One feed cycle: due feeds -> fetch -> parse -> store and match -> next state."""

    def __init__(self, pipeline: Pipeline, force: bool) -> None:
        self.pipeline = pipeline
        self.force = force
        self.settings = pipeline.feed_settings

    def run(self, feeds: Sequence[FeedSource]) -> list[RefreshReport]:
        due = self._due(feeds, self.pipeline.clock())
        if not due or self.pipeline.stop_requested.is_set():
            return []
        reports = []
        stop = self.pipeline.stop_requested
        for batch in feedcycle.fetch_in_batches(due, self.settings.fetch, stop):
            parsed = self._parse([(due[i], result) for i, result in batch])
            for (index, result), body in zip(batch, parsed, strict=True):
                reports.append(self._finish(due[index], result, body))
            self.pipeline.deliver()
        return reports

    def _due(self, feeds: Sequence[FeedSource], now: datetime) -> list[feedcycle.DueFeed]:
        pipeline = self.pipeline
        with pipeline.engine.connect() as connection:
            stored = feed_store.load_records(connection, [f.url for f in feeds])
        interval = self.settings.interval
        records = {
            f.url: feedcycle.current_record(
                f, stored.get(f.url), now, f.interval or interval, pipeline.rng
            )
            for f in feeds
        }
        changed = [r for url, r in records.items() if stored.get(url) is not r]
        if changed:
            with pipeline._write_lock, pipeline.engine.begin() as connection:
                feed_store.save_records(connection, changed)
        return feedcycle.select_due(feeds, records, now, interval, force=self.force)

    def _parse(
        self, fetched: Sequence[tuple[feedcycle.DueFeed, FetchResult]]
    ) -> list[ParsedBody | None]:
        """Parse the bodies that came back (in worker processes when there are many)."""
        fetched_at = self.pipeline.clock()
        work = {
            index: FeedBody(
                body=result.body,
                url=result.final_url,
                headers=result.headers,
                source=due.source.name or due.record.title,
                fetched_at=fetched_at,
            )
            for index, (due, result) in enumerate(fetched)
            if result.outcome == "ok" and result.body is not None
        }
        parsed = dict(zip(work, self.pipeline.parsers.parse_all(list(work.values())), strict=True))
        return [parsed.get(index) for index in range(len(fetched))]

    def _finish(
        self, due: feedcycle.DueFeed, result: FetchResult, parsed: ParsedBody | None
    ) -> RefreshReport:
        pipeline = self.pipeline
        record = due.record
        name = due.source.name or (parsed and parsed.title) or record.title or due.source.url
        report = RefreshReport(source=name, status=_feed_status(result, parsed))
        report.details = {
            "url": record.state.fetch_url,
            "http_status": result.status,
            "fetch_ms": round(result.elapsed_ms, 1),
        }
        state = after_fetch(
            record.state,
            result,
            now=pipeline.clock(),
            interval=due.interval,
            max_backoff=self.settings.fetch.max_backoff,
            rng=pipeline.rng,
            bozo=parsed.bozo if parsed else None,
            parse_error=parsed.error if parsed else None,
        )
        try:
            with pipeline._write_lock, pipeline.engine.begin() as connection:
                if parsed and parsed.documents:
                    report.add(pipeline._store_and_match(connection, parsed.documents))
                feed_store.save_records(connection, [_next_record(record, state, parsed, report)])
        except SQLAlchemyError as exc:
            report.status, report.error = "error", _database_error(pipeline.engine, exc)
        _log_feed_events(record.state, state, parsed, name)
        if report.status in ("error", "gone"):
            report.error = report.error or state.last_error
        report.log()
        return report


def _feed_status(result: FetchResult, parsed: ParsedBody | None) -> str:
    if parsed is not None and parsed.error:
        return "error"
    return result.outcome


def _next_record(
    record: feed_store.FeedRecord,
    state: FeedState,
    parsed: ParsedBody | None,
    report: RefreshReport,
) -> feed_store.FeedRecord:
    if parsed is None or parsed.error:
        return feed_store.with_state(record, state)
    return feed_store.with_state(
        record,
        state,
        title=parsed.title or record.title,
        documents=record.documents + report.new,
        entries_last=len(parsed.documents),
        bozo_count=record.bozo_count + (1 if parsed.bozo else 0),
    )


def _log_feed_events(
    before: FeedState, after: FeedState, parsed: ParsedBody | None, name: str
) -> None:
    if after.current_url and after.current_url != before.current_url:
        log.info(
            "feed_moved",
            source=name,
            url=before.url,
            new_url=after.current_url,
            hint="update the feed's url in the config to stop this redirect",
        )
    if after.status == "gone" and before.status != "gone":
        log.warning(
            "feed_gone",
            source=name,
            url=before.url,
            hint="the server says the feed is gone; edit or remove its config entry",
        )
    if parsed is not None and parsed.bozo:
        log.warning("feed_malformed", source=name, url=after.fetch_url, reason=parsed.bozo)
