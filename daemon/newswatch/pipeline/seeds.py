"""Seed folders: scan, read what changed, import, remember every file's stamp.

Each folder's state lives between rescans (`SeedFolderState`): the folder's
files as last listed, the stamps the database holds, and the keys still to
import. An idle rescan then costs a stat per directory and a share of files,
not a stat of every file and a query of every stamp.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.exc import OperationalError, SQLAlchemyError, StatementError

from newswatch.log import get_logger
from newswatch.model import SEED_ORIGIN, Document, RawItem
from newswatch.normalize import normalize
from newswatch.pipeline.core import PipelineCore, RefreshReport
from newswatch.sources import seeds
from newswatch.sources.seedfolder import SeedFolder
from newswatch.store import seedfiles
from newswatch.store.db import database_error

if TYPE_CHECKING:
    from newswatch.config import SeedSource

SEED_BATCH = 500

log = get_logger(__name__)

Stamps = list[tuple[str, seeds.FileStamp, str | None]]


@dataclass
class SeedFolderState:
    """What the daemon keeps of one seed folder between rescans."""

    folder: SeedFolder
    known: dict[str, seeds.FileStamp] | None = None  # the database's stamps; None: reload
    pending: set[str] = field(default_factory=set)  # keys to read (again)
    failing: dict[str, str] = field(default_factory=dict)  # key -> read error already logged


def refresh_seed_folder(
    pipeline: PipelineCore,
    source: SeedSource,
    state: SeedFolderState | None = None,
    *,
    quiet_if_idle: bool = False,
) -> RefreshReport:
    """Import new and edited files of one seed folder; report broken ones and go on.

    `quiet_if_idle` logs a rescan that found nothing new, or failed exactly as
    the one before, at debug level: the daemon rescans every few seconds, and
    a line each time would bury the ones that say something.
    """
    state = state or SeedFolderState(SeedFolder(source.path))
    report = RefreshReport(source=source.source_name, kind="seeds", label=seed_label(source))
    try:
        _refresh(pipeline, source.source_name, seed_origin(source), state, report)
    except seeds.SeedFolderError as exc:
        report.status, report.error = "error", str(exc)
    except SQLAlchemyError as exc:
        state.known = None  # read the stamps again: the database may hold more than we think
        report.status, report.error = "error", database_error(pipeline.engine, exc)
    repeated = report.error is not None and pipeline.last_errors.get(report.source) == report.error
    pipeline.last_errors[report.source] = report.error
    report.log(quiet=quiet_if_idle and (report.idle or repeated))
    return report


def _refresh(
    pipeline: PipelineCore,
    name: str,
    origin: str,
    state: SeedFolderState,
    report: RefreshReport,
) -> None:
    scan = state.folder.scan()
    for refused in scan.refused:
        report.skipped += 1
        log.warning("seed_file_refused", source=name, path=refused.path, reason=refused.reason)
    files = state.folder.files
    if state.known is None:
        with pipeline.engine.connect() as connection:
            state.known = seedfiles.known_stamps(connection, name)
        state.pending = {f.key for f in seeds.changed_files(list(files.values()), state.known)}
        gone = set(state.known) - files.keys()
    else:
        changed = [files[key] for key in scan.changed]
        state.pending |= {f.key for f in seeds.changed_files(changed, state.known)}
        gone = scan.gone & state.known.keys()
    state.pending &= files.keys()
    keys = sorted(state.pending)
    for start in range(0, len(keys), SEED_BATCH):
        if pipeline.stop_requested.is_set():
            report.status = "interrupted"
            return
        batch = [files[key] for key in keys[start : start + SEED_BATCH]]
        _import_batch(pipeline, name, origin, state, batch, report)
    if gone:
        with pipeline.write_lock, pipeline.engine.begin() as connection:
            seedfiles.forget(connection, name, gone)
        for key in gone:
            state.known.pop(key, None)
            state.failing.pop(key, None)


def seed_label(source: SeedSource) -> str:
    """What /metrics and /healthz call a seed folder: its name, else the folder's own
    name (never its path)."""
    return source.name or os.path.basename(os.path.normpath(source.path)) or "seeds"


def seed_origin(source: SeedSource) -> str:
    """A seed folder's stable key: its absolute path (its name may be shared)."""
    return SEED_ORIGIN + os.path.abspath(source.path)


def _import_batch(
    pipeline: PipelineCore,
    name: str,
    origin: str,
    state: SeedFolderState,
    batch: Sequence[seeds.SeedFile],
    report: RefreshReport,
) -> None:
    known = state.known or {}
    stamps: Stamps = []
    items: dict[str, RawItem] = {}
    retry: set[str] = set()
    for file in batch:
        outcome = _read_seed(file, name, known.get(file.key))
        stamps.append((file.key, outcome.stamp, outcome.error))
        if outcome.stamp.sha256 is None:  # not read: try again at the next scan
            retry.add(file.key)
        if outcome.error:
            _report_skipped(state, name, file.key, outcome.error, report)
            continue
        state.failing.pop(file.key, None)
        if outcome.item is not None:
            items[file.key] = outcome.item
    documents = [normalize(item) for item in items.values()]
    rejected = store_batch(pipeline, name, origin, documents, stamps, report)
    paths = {f.key: str(f.path) for f in batch}
    for key, reason in rejected.items():
        report.skipped += 1
        log.error("seed_file_rejected", source=name, path=paths[key], error=reason)
    known.update((key, stamp) for key, stamp, _ in stamps)
    state.pending -= {f.key for f in batch} - retry


def _report_skipped(
    state: SeedFolderState, name: str, key: str, error: str, report: RefreshReport
) -> None:
    """Log a skipped file once per distinct error (unreadable files are retried each scan)."""
    if state.failing.get(key) == error:
        log.debug("seed_file_skipped", source=name, error=error)
        return
    state.failing[key] = error
    report.skipped += 1
    log.warning("seed_file_skipped", source=name, error=error)


def store_batch(
    pipeline: PipelineCore,
    name: str,
    origin: str,
    documents: list[Document],
    stamps: Stamps,
    report: RefreshReport,
) -> dict[str, str]:
    """Store a batch in one transaction with its stamps; if the database refuses the
    batch, store its documents one by one so one bad document blocks no other.
    Returns the keys refused, with why (stamps are then left to the caller)."""
    try:
        with pipeline.write_lock, pipeline.engine.begin() as connection:
            counts = pipeline.store_and_match(connection, documents, origin)
            seedfiles.remember(connection, name, stamps, pipeline.clock())
    except OperationalError:
        raise  # the database is unreachable or full: the whole batch is retried later
    except StatementError:
        rejected = _store_each(pipeline, origin, documents, report)
        marked = [(key, stamp, rejected.get(key, error)) for key, stamp, error in stamps]
        with pipeline.write_lock, pipeline.engine.begin() as connection:
            seedfiles.remember(connection, name, marked, pipeline.clock())
        return rejected
    report.add(counts)
    pipeline.alerts_stored(counts.alerts)
    return {}


def _store_each(
    pipeline: PipelineCore, origin: str, documents: list[Document], report: RefreshReport
) -> dict[str, str]:
    rejected: dict[str, str] = {}
    for document in documents:
        try:
            with pipeline.write_lock, pipeline.engine.begin() as connection:
                counts = pipeline.store_and_match(connection, [document], origin)
        except OperationalError:
            raise
        except StatementError as exc:
            rejected[document.key] = _refusal(exc)
            continue
        report.add(counts)
        pipeline.alerts_stored(counts.alerts)
    return rejected


def _refusal(exc: StatementError) -> str:
    """Why the database refused a document, without the statement or its values."""
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
    return f"the database refused the document ({reason}); it is tried again when the file changes"


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
