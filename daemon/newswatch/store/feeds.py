"""Feed state between polls: validators, health, backoff, next poll, counters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, func, select, update

from newswatch.dedup.keys import sha256_hex
from newswatch.feedpolicy import FeedState
from newswatch.store.dialect import insert_ignoring_conflicts, upsert
from newswatch.store.tables import feeds

_STATE_COLUMNS = (
    "current_url",
    "etag",
    "last_modified",
    "body_hash",
    "status",
    "consecutive_failures",
    "next_poll",
    "last_success",
    "last_error",
    "last_error_at",
    "bozo",
    "retry_after",
    "failing_since",
)


@dataclass(frozen=True, slots=True)
class FeedRecord:
    """A feed's stored state plus what we learned of it (title, counters)."""

    state: FeedState
    config_hash: str
    title: str | None = None
    documents: int = 0
    entries_last: int = 0
    bozo_count: int = 0
    last_outcome: dict[str, Any] | None = None
    last_new_at: datetime | None = None  # last poll that stored a new entry (or the first)
    health_alert: str | None = None  # the feed-health notice out for it: failing, silent


def load_records(connection: Connection, urls: Sequence[str]) -> dict[str, FeedRecord]:
    hashes = [sha256_hex(url) for url in urls]
    rows = connection.execute(select(feeds).where(feeds.c.url_hash.in_(hashes)))
    return {row.url: _record(row) for row in rows}


_LEASE = ("lease_owner", "lease_until")


def save_records(
    connection: Connection, records: Sequence[FeedRecord], owner: str | None = None
) -> None:
    """Write these records whole but for their leases; `owner` (several nodes) gives back
    its lease on them, and only its own: a node whose lease ran out mid-poll must not
    clear the lease of the node that has taken the feed since."""
    if not records:
        return
    rows = [_row(r) for r in records]
    connection.execute(upsert(connection, feeds, ["url_hash"], keep=_LEASE), rows)
    if owner is not None:
        connection.execute(
            update(feeds)
            .where(
                feeds.c.lease_owner == owner, feeds.c.url_hash.in_([r["url_hash"] for r in rows])
            )
            .values(lease_owner=None, lease_until=None)
        )


def host_slot(url: str) -> int:
    """A stable number for the feed's host: live nodes split hosts by it (slot mod nodes)."""
    host = (urlsplit(url).hostname or url).lower()
    return int(sha256_hex(host)[:8], 16)


def record_from_row(row: Any) -> FeedRecord:
    return _record(row)


def _record(row: Any) -> FeedRecord:
    state = FeedState(url=row.url, **{name: getattr(row, name) for name in _STATE_COLUMNS})
    return FeedRecord(
        state=state,
        config_hash=row.config_hash,
        title=row.title,
        documents=row.documents,
        entries_last=row.entries_last,
        bozo_count=row.bozo_count,
        last_outcome=row.last_outcome,
        last_new_at=row.last_new_at,
        health_alert=row.health_alert,
    )


def _row(record: FeedRecord) -> dict[str, Any]:
    state = record.state
    return {
        "url_hash": sha256_hex(state.url),
        "url": state.url,
        "host_slot": host_slot(state.url),
        "config_hash": record.config_hash,
        "title": record.title,
        "documents": record.documents,
        "entries_last": record.entries_last,
        "bozo_count": record.bozo_count,
        "last_outcome": record.last_outcome,
        "last_new_at": record.last_new_at,
        "health_alert": record.health_alert,
        **{name: getattr(state, name) for name in _STATE_COLUMNS},
    }


def add_records(connection: Connection, records: Sequence[FeedRecord]) -> None:
    """Insert records of feeds not stored yet; one another node stored meanwhile is kept."""
    if records:
        statement = insert_ignoring_conflicts(connection, feeds)
        connection.execute(statement, [_row(r) for r in records])


def with_state(record: FeedRecord, state: FeedState, **changes: Any) -> FeedRecord:
    return replace(record, state=state, **changes)


def count_by_status(connection: Connection, urls: Sequence[str]) -> dict[str, int]:
    """How many of these feeds are in each status (a feed never polled is "new")."""
    hashes = [sha256_hex(url) for url in urls]
    query = (
        select(feeds.c.status, func.count())
        .where(feeds.c.url_hash.in_(hashes))
        .group_by(feeds.c.status)
    )
    counts = {status: int(n) for status, n in connection.execute(query)}
    unseen = len(set(urls)) - sum(counts.values())
    if unseen > 0:
        counts["new"] = counts.get("new", 0) + unseen
    return counts


def set_health_alert(connection: Connection, url: str, raised: str | None) -> None:
    """Remember which feed-health notice is out (after the sinks took it)."""
    connection.execute(
        update(feeds).where(feeds.c.url_hash == sha256_hex(url)).values(health_alert=raised)
    )
