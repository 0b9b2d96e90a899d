"""The orchestrator: the only place that composes the stages.

source -> parse -> normalise -> dedup/store -> match -> alert rows -> delivery.
Stages never call each other; each refresh ends with one canonical log line.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from newswatch.alerts.outbox import build_alert, deliver_pending
from newswatch.alerts.sink import Sink
from newswatch.config import SeedSource
from newswatch.log import get_logger
from newswatch.match import Matcher
from newswatch.model import Alert, Document, RawItem
from newswatch.normalize import normalize
from newswatch.sources import seeds
from newswatch.store import alerts as alert_store
from newswatch.store import documents as document_store
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
        }
        if self.error:
            log.error("source_refreshed", **fields, error=self.error)
        else:
            log.info("source_refreshed", **fields)


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
    ) -> None:
        self.engine = engine
        self.matcher = matcher
        self.sinks = list(sinks)
        self.clock = clock
        # SQLite allows one writer; serialising our own writers avoids lock waits.
        self._write_lock = threading.Lock()
        self.stop_requested = threading.Event()

    def reconfigure(self, matcher: Matcher, sinks: Sequence[Sink]) -> None:
        """Swap in a new matcher and sinks (one attribute store each: atomic for readers)."""
        self.matcher = matcher
        self.sinks = list(sinks)

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
        return _SeedOutcome(stamp=_stamp_of(file, exc), error=str(exc))
    except seeds.SeedReadError as exc:
        return _SeedOutcome(stamp=seeds.FileStamp(file.size, file.mtime_ns, None), error=str(exc))
    if known is not None and known.sha256 == stamp.sha256:
        return _SeedOutcome(stamp=stamp)
    return _SeedOutcome(stamp=stamp, item=item)


def _stamp_of(file: seeds.SeedFile, exc: seeds.SeedFormatError) -> seeds.FileStamp:
    sha = getattr(exc, "sha256", None)
    return seeds.FileStamp(file.size, file.mtime_ns, sha if isinstance(sha, str) else None)


def _database_error(engine: Engine, exc: SQLAlchemyError) -> str:
    from sqlalchemy.exc import OperationalError

    if isinstance(exc, OperationalError):
        return describe_operational_error(engine.url.render_as_string(), exc)
    return f"database error: {str(exc).splitlines()[0]}"
