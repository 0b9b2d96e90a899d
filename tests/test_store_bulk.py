"""Rows inserted straight through the driver are stored exactly as Core stored them,
on SQLite and PostgreSQL: dates, JSON lists, bytes, NULLs and text alike."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DataError

from newswatch.store import bulk
from newswatch.store.db import open_database
from newswatch.store.dialect import insert_ignoring_conflicts
from newswatch.store.tables import alerts, documents

NOW = datetime(2026, 11, 30, 21, 45, 7, 123456, tzinfo=UTC)
PARIS = timezone(timedelta(hours=1))
COLUMNS = (
    *("source", "origin", "item_key", "identity_hash", "url", "url_key", "content_hash"),
    *("content_key", "title", "body", "published", "authors", "categories", "created_at"),
    *("updated_at", "signature"),
)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = open_database(database_url)
    yield engine
    engine.dispose()


def _document(n: int, prefix: str) -> tuple[Any, ...]:
    """A row of awkward values: zones, NULLs, quotes, unicode, empty and full lists."""
    published = [None, datetime(2024, 2, 29, 23, 59, 59, tzinfo=PARIS), NOW][n % 3]
    return (
        *("feed 'one'", f"https://x.test/{prefix}", f"key\n{n}", f"{prefix}-id-{n}"),
        *(None if n % 2 else f'https://x.test/a?b={n}&c="d"', None, f"c{n}"),
        *(f"{prefix}-ck-{n}" if n % 4 else None, f"Titre é {n} 🙂", f"body\t{n}\\ '%s' ?"),
        *(published, [] if n % 2 else ["Zoë", "A. O'Brien"], ["x"] * (n % 3), NOW, NOW),
        None if n % 5 == 0 else bytes([n % 256, 0, 255]) * 4,
    )


def _stored(engine: Engine, table: str, prefix: str) -> list[tuple[Any, ...]]:
    """The rows as the driver returns them (SQLite: the stored text), by key, id left out."""
    columns = "source, item_key, url, content_key, title, body, published"
    columns += (
        ", CAST(authors AS TEXT), CAST(categories AS TEXT), created_at, updated_at, signature"
    )
    order = "item_key" if table == "documents" else "watch"
    if table == "alerts":
        columns = "document_id, kind, watch, CAST(matched AS TEXT), snippet, created_at"
    with engine.connect() as connection:
        key = "identity_hash" if table == "documents" else "watch"
        sql = f"SELECT {columns} FROM {table} WHERE {key} LIKE :prefix ORDER BY {order}"
        rows = connection.execute(text(sql), {"prefix": f"{prefix}-%"}).all()
    return [tuple(_plain(v) for v in row) for row in rows]


def _plain(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview) else value


def test_documents_inserted_by_the_driver_equal_those_inserted_by_core(engine: Engine) -> None:
    core_rows = [_document(n, "core") for n in range(1200)]
    fast_rows = [_document(n, "fast") for n in range(1200)]  # more than one SQLite page
    with engine.begin() as connection:
        statement = insert_ignoring_conflicts(connection, documents)
        connection.execute(statement, [dict(zip(COLUMNS, row, strict=True)) for row in core_rows])
        back = bulk.insert_returning(
            connection, documents, COLUMNS, fast_rows, ("id", "identity_hash")
        )
    assert sorted(h for _, h in back) == sorted(row[3] for row in fast_rows)
    assert len({i for i, _ in back}) == 1200
    core, fast = _stored(engine, "documents", "core"), _stored(engine, "documents", "fast")
    assert [_unprefixed(r) for r in fast] == [_unprefixed(r) for r in core]


def _unprefixed(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(v.replace("fast", "core") if isinstance(v, str) else v for v in row)


def test_rows_that_conflict_are_skipped_and_not_returned(engine: Engine) -> None:
    rows = [_document(n, "dup") for n in range(4)]
    with engine.begin() as connection:
        bulk.insert_returning(connection, documents, COLUMNS, rows[:2], ("identity_hash",))
        again = [rows[1], rows[2], (*rows[3][:3], rows[0][3], *rows[3][4:])]
        back = bulk.insert_returning(connection, documents, COLUMNS, again, ("identity_hash",))
    assert back == [("dup-id-2",)]
    assert len(_stored(engine, "documents", "dup")) == 3


def test_each_id_returned_is_the_one_its_row_was_stored_under(engine: Engine) -> None:
    """Conflicting rows between inserted ones, after the newest row was deleted (SQLite
    then gives its rowid again): every (id, identity) returned is as stored."""
    rows = [_document(n, "ids") for n in range(9)]
    with engine.begin() as connection:
        bulk.insert_returning(connection, documents, COLUMNS, rows[:4], ("identity_hash",))
        connection.execute(text("DELETE FROM documents WHERE identity_hash = 'ids-id-3'"))
        # 1 and 2 are stored already; 5 repeats the content key of 1
        clash = (*rows[5][:7], rows[1][7], *rows[5][8:])
        again = [rows[1], rows[3], rows[2], rows[4], clash, rows[6], rows[7], rows[8]]
        back = bulk.insert_returning(connection, documents, COLUMNS, again, ("id", "identity_hash"))
        stored = connection.execute(
            text("SELECT id, identity_hash FROM documents WHERE identity_hash LIKE 'ids-%'")
        ).all()
    assert sorted(h for _, h in back) == [f"ids-id-{n}" for n in (3, 4, 6, 7, 8)]
    assert set(back) <= {tuple(row) for row in stored}
    assert len(stored) == 8


def test_alerts_inserted_by_the_driver_equal_those_inserted_by_core(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert_ignoring_conflicts(connection, documents),
            [dict(zip(COLUMNS, _document(1, "a"), strict=True))],
        )
        document_id = connection.exec_driver_sql("SELECT id FROM documents").scalar_one()
        columns = ("document_id", "kind", "watch", "matched", "snippet", "created_at")

        def alert(prefix: str, n: int) -> tuple[Any, ...]:
            return (document_id, "person", f"{prefix}-{n}", ["Zoë", f"t{n}"], f"« {n} »", NOW)

        core = [dict(zip(columns, alert("core", n), strict=True)) for n in range(3)]
        connection.execute(insert_ignoring_conflicts(connection, alerts), core)
        fast = [alert("fast", n) for n in range(3)]
        bulk.insert_returning(connection, alerts, columns, fast, ("id",))
    core_rows, fast_rows = _stored(engine, "alerts", "core"), _stored(engine, "alerts", "fast")
    assert [_unprefixed(r) for r in fast_rows] == [_unprefixed(r) for r in core_rows]


def test_a_naive_date_is_refused_as_through_core(engine: Engine) -> None:
    row = (*_document(3, "naive")[:10], datetime(2024, 1, 1), *_document(3, "naive")[11:])
    with pytest.raises(ValueError, match="naive datetime"), engine.begin() as connection:
        bulk.insert_returning(connection, documents, COLUMNS, [row], ("id",))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM documents")).scalar_one() == 0


def test_a_value_longer_than_its_column_is_refused_on_postgresql(
    migrated_postgres_url: str,
) -> None:
    """As through Core: PostgreSQL refuses it (the arrays are not cast to the column's
    length, which would cut the value short without a word)."""
    engine = open_database(migrated_postgres_url)
    row = ("s" * 301, *_document(1, "long")[1:])
    with pytest.raises(DataError, match="too long"), engine.begin() as connection:
        bulk.insert_returning(connection, documents, COLUMNS, [row], ("id",))
    engine.dispose()


def test_a_date_is_bound_on_sqlite_as_sqlalchemy_binds_it() -> None:
    """UtcDateTime's one-step SQLite text equals SQLAlchemy's chain (the type's own
    conversion, then DATETIME's storage format) for moments in many zones."""
    from sqlalchemy import TypeDecorator
    from sqlalchemy.dialects import sqlite

    from newswatch.store.tables import UtcDateTime

    dialect = sqlite.dialect()
    impl = UtcDateTime().dialect_impl(dialect)
    fused, chain = impl.bind_processor(dialect), TypeDecorator.bind_processor(impl, dialect)
    assert fused is not None and chain is not None and fused is not chain
    zones = [UTC, PARIS, timezone(timedelta(hours=-9, minutes=-30)), timezone(timedelta(hours=14))]
    moments = [None, NOW, datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 9, tzinfo=UTC)]
    moments += [
        datetime(2000 + n % 40, 1 + n % 12, 1 + n % 28, n % 24, n % 60, n % 59, n * 7919 % 10**6, z)
        for n in range(400)
        for z in zones
    ]
    assert [fused(m) for m in moments] == [chain(m) for m in moments]
    with pytest.raises(ValueError, match="naive"):
        fused(datetime(2026, 1, 1))
