"""The alert outbox: an alert row is stored once per (document, watch), then delivered.

Each alert gets one delivery row per configured sink that routes its watch
(`alerts.routing`); a sink that fails
keeps its rows pending with a retry time, and never holds up the others.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Select, select

from newswatch.alerts.routing import Route
from newswatch.model import Alert
from newswatch.store import bulk
from newswatch.store.tables import alerts, documents

AlertPair = tuple[int, str, str]  # document_id, kind, watch


def save_alerts(
    connection: Connection, batch: Sequence[Alert], sinks: Sequence[Route | str], now: datetime
) -> list[Alert]:
    """Insert alerts never seen before; return those (with ids), each queued for every sink
    that routes its watch (a sink given by its key alone routes every watch)."""
    if not batch:
        return []
    rows = [(a.document_id, a.kind, a.watch, list(a.matched), a.snippet, now) for a in batch]
    inserted = bulk.insert_returning(connection, alerts, _COLUMNS, rows, _RETURNING)
    ids = {(document_id, kind, watch): alert_id for alert_id, document_id, kind, watch in inserted}
    new = [
        _with_id(alert, ids[pair], now)
        for alert in batch
        if (pair := (alert.document_id, alert.kind, alert.watch)) in ids
    ]
    routes = [Route(s) if isinstance(s, str) else s for s in sinks]
    queued = [(a.id, r.sink, 0) for a in new for r in routes if r.takes(a.watch)]
    if queued:  # by the driver: plain integers and strings, no value to convert
        mark = bulk.placeholder(connection.dialect)
        sql = f"INSERT INTO deliveries (alert_id, sink, attempts) VALUES ({mark}, {mark}, {mark})"
        connection.exec_driver_sql(sql, queued)
    return new


_COLUMNS = ("document_id", "kind", "watch", "matched", "snippet", "created_at")
_RETURNING = ("id", "document_id", "kind", "watch")


def _with_id(alert: Alert, alert_id: int, now: datetime) -> Alert:
    return replace(alert, id=alert_id, created_at=now)


def alerted_pairs(connection: Connection, document_ids: Iterable[int]) -> set[AlertPair]:
    ids = list(document_ids)
    if not ids:
        return set()
    query = select(alerts.c.document_id, alerts.c.kind, alerts.c.watch).where(
        alerts.c.document_id.in_(ids)
    )
    return {(row.document_id, row.kind, row.watch) for row in connection.execute(query)}


def alert_query() -> Select[Any]:
    return select(
        alerts,
        documents.c.title,
        documents.c.url,
        documents.c.source,
        documents.c.published,
        documents.c.origin,
    ).join(documents, documents.c.id == alerts.c.document_id)


def alert_from_row(row: Row[Any]) -> Alert:
    return Alert(
        id=row.id,
        document_id=row.document_id,
        watch=row.watch,
        kind=row.kind,
        title=row.title,
        url=row.url,
        source=row.source,
        published=row.published,
        matched=tuple(row.matched),
        snippet=row.snippet,
        created_at=row.created_at,
        origin=row.origin,
    )


def list_alerts(connection: Connection, since: datetime | None, limit: int | None) -> list[Alert]:
    """Stored alerts, newest first."""
    query = alert_query().order_by(alerts.c.created_at.desc(), alerts.c.id.desc())
    if since is not None:
        query = query.where(alerts.c.created_at >= since)
    if limit is not None:
        query = query.limit(limit)
    from newswatch.store.stories import with_stories  # loaded with the first alert listed

    return with_stories(connection, [alert_from_row(row) for row in connection.execute(query)])
