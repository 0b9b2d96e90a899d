"""The schema, as SQLAlchemy Core tables: what the Alembic migrations make, column for
column in their order, defaults included (tests/test_schema_drift.py compares the two).
A new database is created from these tables at once (store/fresh.py).

Dedup's verdicts come from `newswatch.dedup`; the unique indexes on a
document's identity (origin + item key) and its content key are the referee
when two writers race. The URL key is only looked up (one origin may hold many
entries sharing a link). Long values are indexed through their SHA-256 so the
indexes stay small and PostgreSQL's btree size limit is never reached.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy.engine import Dialect

Id = BigInteger().with_variant(Integer, "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python on every backend (SQLite keeps naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = _as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Any:
        """SQLite: this type's conversion and the DATETIME text in one function (the
        chain of two costs 7 us a value against 4; a cold ingest binds ~10,000, issue 11),
        used only if it gives what the chain gives for a few awkward moments."""
        chain = super().bind_processor(dialect)
        if dialect.name != "sqlite" or chain is None:
            return chain
        fused = _sqlite_text
        if all(fused(moment) == chain(moment) for moment in _PROBES):
            return fused
        return chain

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store; use timezone-aware UTC")
    return value.astimezone(UTC)


def _sqlite_text(value: datetime | None) -> str | None:
    """A moment as UtcDateTime stores it on SQLite: naive UTC text, microseconds always."""
    if value is None:
        return None
    return _as_utc(value).replace(tzinfo=None).isoformat(" ", "microseconds")


_PROBES = (
    None,
    datetime(2026, 12, 1, 3, 4, 5, tzinfo=UTC),
    datetime(1, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
    datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2024, 2, 29, 23, 30, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

documents = Table(
    "documents",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source", String(300), nullable=False),
    Column("item_key", Text, nullable=False),
    Column("identity_hash", String(64), nullable=False),
    Column("url", Text),
    Column("content_hash", String(64), nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("published", UtcDateTime),
    Column("authors", JSON, nullable=False, default=list),
    Column("categories", JSON, nullable=False, default=list),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # the stable per-source key (feed URL, seed folder); NULL on rows stored before 0004
    Column("origin", Text),
    Column("url_key", String(64)),
    Column("content_key", String(64)),
    # the story: the id of its first document (0006); NULL for that first document
    Column("story_id", Id),
    # MinHash of the body (newswatch.dedup.signature); NULL for short texts
    Column("signature", LargeBinary),
    Index("uq_documents_identity_hash", "identity_hash", unique=True),
    Index("ix_documents_story_id", "story_id"),
    Index("ix_documents_url_key", "url_key"),
    Index("uq_documents_content_key", "content_key", unique=True),
    Index("ix_documents_published", "published"),
    Index("ix_documents_created_at", "created_at"),
    # a source's latest documents: where a batch's boilerplate is sought too (0016)
    Index("ix_documents_origin_id", "origin", "id"),
)

# LSH band keys of each document's signature: candidates for near-duplicates.
# WITHOUT ROWID on SQLite: the primary key is the table, ~20 bytes a row. No foreign
# key: without an index on document_id each deleted document read the whole table
# (migration 0014); retention deletes the rows itself, a lookup joins documents.
story_bands = Table(
    "story_bands",
    metadata,
    Column("band_key", BigInteger, primary_key=True),
    Column("document_id", Id, primary_key=True),
    sqlite_with_rowid=False,
)

# the periods story_bands has archived rows of, and how far a prune of those leaving
# the window has swept the archive's keys (newswatch.store.stories)
story_periods = Table(
    "story_periods",
    metadata,
    Column("period", BigInteger, primary_key=True, autoincrement=False),
    Column("swept", BigInteger, nullable=False),
)

# identities of documents purged by retention: not stored again while a feed carries them
purged_documents = Table(
    "purged_documents",
    metadata,
    Column("identity_hash", String(64), primary_key=True),
    Column("purged_at", UtcDateTime, nullable=False),
)

seed_files = Table(
    "seed_files",
    metadata,
    Column("source", String(300), primary_key=True),
    Column("item_key", Text, primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("mtime_ns", BigInteger, nullable=False),
    Column("sha256", String(64)),
    Column("document_id", Id, ForeignKey("documents.id", ondelete="SET NULL")),
    Column("error", Text),
    Column("seen_at", UtcDateTime, nullable=False),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("document_id", Id, ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("watch", String(500), nullable=False),
    Column("matched", JSON, nullable=False),
    Column("snippet", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("uq_alerts_document_id_kind_watch", "document_id", "kind", "watch", unique=True),
    Index("ix_alerts_created_at", "created_at"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("alert_id", Id, ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True),
    Column("sink", String(100), primary_key=True),
    Column("delivered_at", UtcDateTime),
    Column("attempts", Integer, nullable=False, default=0, server_default="0"),
    Column("last_error", Text),
    Column("next_attempt", UtcDateTime),
    Column("dead_at", UtcDateTime),  # refused for good (a 5xx): kept until retried by hand
    Index("ix_deliveries_pending", "sink", "delivered_at"),
    # Partial on both backends (migration 0003). Not declared here for PostgreSQL:
    # `postgresql_where` would import SQLAlchemy's PostgreSQL dialect, its largest
    # module, into every SQLite process (~4% of a steady ingest, issue 11);
    # store/fresh.py gives PostgreSQL the same clause when it creates a database.
    Index("ix_deliveries_undelivered", "alert_id", sqlite_where=text("delivered_at IS NULL")),
)

sink_state = Table(
    "sink_state",
    metadata,
    Column("sink", String(100), primary_key=True),
    Column("failing_since", UtcDateTime),  # the first failure since the last success
    # sink-wide failures in a row
    Column("failures", Integer, nullable=False, default=0, server_default="0"),
    Column("paused_until", UtcDateTime),
    Column("last_error", Text),
    Column("last_error_at", UtcDateTime),
    Column("last_success", UtcDateTime),
    Column("lease_owner", String(200)),  # the node delivering this sink now (0007)
    Column("lease_until", UtcDateTime),
    Column("window_start", UtcDateTime),  # the clock hour `window_sent` counts (0010)
    Column("window_sent", Integer, nullable=False, default=0, server_default="0"),
)

feeds = Table(
    "feeds",
    metadata,
    Column("url_hash", String(64), primary_key=True),
    Column("url", Text, nullable=False),
    Column("config_hash", String(64), nullable=False),
    Column("title", Text),
    Column("current_url", Text),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("body_hash", String(64)),
    Column("status", String(16), nullable=False),
    Column("consecutive_failures", Integer, nullable=False, default=0, server_default="0"),
    Column("next_poll", UtcDateTime),
    Column("retry_after", UtcDateTime),
    Column("last_success", UtcDateTime),
    Column("last_error", Text),
    Column("last_error_at", UtcDateTime),
    Column("bozo", Text),
    Column("bozo_count", Integer, nullable=False, default=0, server_default="0"),
    Column("documents", Integer, nullable=False, default=0, server_default="0"),
    Column("entries_last", Integer, nullable=False, default=0, server_default="0"),
    # what became of the last parsed body's entries: new, updated, unchanged, ...
    Column("last_outcome", JSON),
    # several nodes (0007): a hash of the host spreads hosts over nodes; a claimed
    # feed names its node until its lease ends
    Column("host_slot", BigInteger),
    Column("lease_owner", String(200)),
    Column("lease_until", UtcDateTime),
    Column("failing_since", UtcDateTime),
    Column("last_new_at", UtcDateTime),
    Column("health_alert", String(16)),
    Index("ix_feeds_next_poll", "next_poll"),
    Index("ix_feeds_lease_owner", "lease_owner"),
)

nodes = Table(
    "nodes",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("role", String(16), nullable=False),  # `run` (a daemon) or `ingest`
    Column("hostname", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    # boot id + PID namespace: a node with the same `machine` whose pid is gone is dead
    Column("machine", String(200), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("heartbeat", UtcDateTime, nullable=False),
)

# documents that named each watched person in full, per day (0010): which of the
# people sharing a surname a bare mention of it means (match/salience.py)
name_counts = Table(
    "name_counts",
    metadata,
    Column("watch", String(500), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("documents", Integer, nullable=False),
)
