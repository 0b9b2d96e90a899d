"""Retention: purge documents older than `retention.documents`, keep what matters.

Kept whatever their age: documents that alerted (the alert history points at
them) and documents other documents' stories hang on (a story's first
document). Purged: the rest, with their band keys. Each purged document leaves
a tombstone (its identity hash) so a feed that still carries the entry does
not store it again as new; tombstones go after `TOMBSTONE_LIFE`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, exists, func, select

from newswatch.store.dialect import insert_ignoring_conflicts
from newswatch.store.tables import alerts, documents, purged_documents, story_bands

BATCH = 1000
TOMBSTONE_LIFE = timedelta(days=365)


@dataclass
class Purged:
    documents: int = 0
    bands: int = 0
    tombstones_expired: int = 0


def _purgeable(before: datetime) -> object:
    member = documents.alias("member")
    return (
        (documents.c.created_at < before)
        & ~exists().where(alerts.c.document_id == documents.c.id)
        & ~exists().where(member.c.story_id == documents.c.id)
    )


def count_purgeable(connection: Connection, before: datetime) -> Purged:
    """What `purge` would remove now (for `purge --dry-run`)."""
    ids = select(documents.c.id).where(_purgeable(before))  # type: ignore[arg-type]
    count = connection.execute(select(func.count()).select_from(ids.subquery())).scalar_one()
    bands = connection.execute(
        select(func.count()).where(story_bands.c.document_id.in_(ids))
    ).scalar_one()
    return Purged(documents=int(count), bands=int(bands))


def purge(connection: Connection, before: datetime, now: datetime) -> Purged:
    """Remove purgeable documents older than `before`, in batches; leave tombstones."""
    done = Purged()
    while True:
        rows = connection.execute(
            select(documents.c.id, documents.c.identity_hash)
            .where(_purgeable(before))  # type: ignore[arg-type]
            .limit(BATCH)
        ).all()
        if not rows:
            break
        ids = [row.id for row in rows]
        tombstones = [{"identity_hash": row.identity_hash, "purged_at": now} for row in rows]
        connection.execute(insert_ignoring_conflicts(connection, purged_documents), tombstones)
        done.bands += connection.execute(
            delete(story_bands).where(story_bands.c.document_id.in_(ids))
        ).rowcount
        done.documents += connection.execute(
            delete(documents).where(documents.c.id.in_(ids))
        ).rowcount
    done.tombstones_expired = connection.execute(
        delete(purged_documents).where(purged_documents.c.purged_at < now - TOMBSTONE_LIFE)
    ).rowcount
    return done
