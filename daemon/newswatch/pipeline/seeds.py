"""Seed folders: list, read what changed, import, remember every file's stamp."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from newswatch.config import SeedSource
from newswatch.log import get_logger
from newswatch.model import RawItem
from newswatch.normalize import normalize
from newswatch.pipeline.core import PipelineCore, RefreshReport, database_error
from newswatch.sources import seeds
from newswatch.store import seedfiles

SEED_BATCH = 500

log = get_logger(__name__)


def refresh_seed_folder(
    pipeline: PipelineCore, source: SeedSource, *, quiet_if_idle: bool = False
) -> RefreshReport:
    """Import new and edited files of one seed folder; report broken ones and go on.

    `quiet_if_idle` logs a rescan that found nothing new, or failed exactly as
    the one before, at debug level: the daemon rescans every few seconds, and
    a line each time would bury the ones that say something.
    """
    report = RefreshReport(source=source.source_name)
    try:
        _refresh(pipeline, source, report)
    except seeds.SeedFolderError as exc:
        report.status, report.error = "error", str(exc)
    except SQLAlchemyError as exc:
        report.status, report.error = "error", database_error(pipeline.engine, exc)
    repeated = report.error is not None and pipeline.last_errors.get(report.source) == report.error
    pipeline.last_errors[report.source] = report.error
    report.log(quiet=quiet_if_idle and (report.idle or repeated))
    return report


def _refresh(pipeline: PipelineCore, source: SeedSource, report: RefreshReport) -> None:
    name = source.source_name
    files = seeds.list_seed_files(source.path)
    with pipeline.engine.connect() as connection:
        known = seedfiles.known_stamps(connection, name)
    changed = seeds.changed_files(files, known)
    for start in range(0, len(changed), SEED_BATCH):
        if pipeline.stop_requested.is_set():
            report.status = "interrupted"
            return
        _import_batch(pipeline, source, changed[start : start + SEED_BATCH], known, report)
    if len(known) > len(files) or set(known) - {f.key for f in files}:
        with pipeline.write_lock, pipeline.engine.begin() as connection:
            seedfiles.forget_missing(connection, name, {f.key for f in files})


def seed_origin(source: SeedSource) -> str:
    """A seed folder's stable key: its absolute path (its name may be shared)."""
    return f"seed:{os.path.abspath(source.path)}"


def _import_batch(
    pipeline: PipelineCore,
    source: SeedSource,
    batch: Sequence[seeds.SeedFile],
    known: dict[str, seeds.FileStamp],
    report: RefreshReport,
) -> None:
    name = source.source_name
    now = pipeline.clock()
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
    with pipeline.write_lock, pipeline.engine.begin() as connection:
        counts = pipeline.store_and_match(connection, documents, seed_origin(source))
        seedfiles.remember(connection, name, stamps, now)
    report.add(counts)
    pipeline.alerts_stored(counts.alerts)


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
