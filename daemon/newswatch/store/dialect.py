"""The one place that knows SQLite and PostgreSQL spell upserts differently."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_ignoring_conflicts(connection: Connection, table: Table) -> Any:
    """`INSERT ... ON CONFLICT DO NOTHING` for the connection's backend."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if connection.dialect.name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    raise NotImplementedError(
        f"newswatch supports SQLite and PostgreSQL, not {connection.dialect.name}"
    )


def upsert(
    connection: Connection, table: Table, keys: list[str], keep: tuple[str, ...] = ()
) -> Any:
    """`INSERT ... ON CONFLICT (keys) DO UPDATE` of every other column but those in
    `keep` (a stored row keeps its own values there); run it with rows."""
    return _upsert(connection.dialect.name, table, tuple(keys), keep)


@functools.cache
def _upsert(dialect: str, table: Table, keys: tuple[str, ...], keep: tuple[str, ...]) -> Any:
    """Built once per table: constructing it costs more than running it for a few rows."""
    module: Any = postgresql if dialect == "postgresql" else sqlite if dialect == "sqlite" else None
    if module is None:
        raise NotImplementedError(f"newswatch supports SQLite and PostgreSQL, not {dialect}")
    statement = module.insert(table)
    changes = {
        c.name: statement.excluded[c.name]
        for c in table.columns
        if c.name not in keys and c.name not in keep
    }
    return statement.on_conflict_do_update(index_elements=list(keys), set_=changes)


def upsert_adding(connection: Connection, table: Table, keys: list[str], column: str) -> Any:
    """`INSERT ... ON CONFLICT (keys) DO UPDATE SET column = column + the new row's`."""
    name = connection.dialect.name
    module: Any = postgresql if name == "postgresql" else sqlite if name == "sqlite" else None
    if module is None:
        raise NotImplementedError(f"newswatch supports SQLite and PostgreSQL, not {name}")
    statement = module.insert(table)
    total = table.c[column] + statement.excluded[column]
    return statement.on_conflict_do_update(index_elements=keys, set_={column: total})
