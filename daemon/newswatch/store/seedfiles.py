"""What we know of each seed file (size, mtime, hash), so unchanged files cost a stat."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import Connection, delete, select

from newswatch.sources.seeds import FileStamp
from newswatch.store.dialect import upsert
from newswatch.store.tables import seed_files

_CHUNK = 500


def known_stamps(connection: Connection, source: str) -> dict[str, FileStamp]:
    query = select(
        seed_files.c.item_key, seed_files.c.size, seed_files.c.mtime_ns, seed_files.c.sha256
    ).where(seed_files.c.source == source)
    return {
        row.item_key: FileStamp(size=row.size, mtime_ns=row.mtime_ns, sha256=row.sha256)
        for row in connection.execute(query)
    }


def remember(
    connection: Connection,
    source: str,
    seen: Sequence[tuple[str, FileStamp, str | None]],
    now: datetime,
) -> None:
    """Record files as seen: (key, stamp, the error that made it skipped or None)."""
    if not seen:
        return
    rows = [
        {
            "source": source,
            "item_key": key,
            "size": stamp.size,
            "mtime_ns": stamp.mtime_ns,
            "sha256": stamp.sha256,
            "document_id": None,
            "error": error,
            "seen_at": now,
        }
        for key, stamp, error in seen
    ]
    connection.execute(upsert(connection, seed_files, ["source", "item_key"]), rows)


def forget(connection: Connection, source: str, keys: Collection[str]) -> None:
    """Drop the stamps of files no longer in the folder (their documents stay stored)."""
    ordered = sorted(keys)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        where = (seed_files.c.source == source, seed_files.c.item_key.in_(chunk))
        connection.execute(delete(seed_files).where(*where))
