"""The one place that knows SQLite and PostgreSQL spell upserts differently."""

from __future__ import annotations

import functools
from importlib import import_module
from typing import Any

from sqlalchemy import Connection, Table

SUPPORTED = frozenset({"postgresql", "sqlite"})


def _dialect(name: str) -> Any:
    """The dialect module of `name`, imported when first used: a SQLite database never
    needs SQLAlchemy's PostgreSQL dialect, its largest module (issue 11)."""
    if name not in SUPPORTED:
        raise NotImplementedError(f"newswatch supports SQLite and PostgreSQL, not {name}")
    return import_module(f"sqlalchemy.dialects.{name}")


def insert_ignoring_conflicts(connection: Connection, table: Table) -> Any:
    """`INSERT ... ON CONFLICT DO NOTHING` for the connection's backend."""
    return _dialect(connection.dialect.name).insert(table).on_conflict_do_nothing()


def upsert(
    connection: Connection, table: Table, keys: list[str], keep: tuple[str, ...] = ()
) -> Any:
    """`INSERT ... ON CONFLICT (keys) DO UPDATE` of every other column but those in
    `keep` (a stored row keeps its own values there); run it with rows."""
    return _upsert(connection.dialect.name, table, tuple(keys), keep)


@functools.cache
def _upsert(dialect: str, table: Table, keys: tuple[str, ...], keep: tuple[str, ...]) -> Any:
    """Built once per table: constructing it costs more than running it for a few rows."""
    statement = _dialect(dialect).insert(table)
    changes = {
        c.name: statement.excluded[c.name]
        for c in table.columns
        if c.name not in keys and c.name not in keep
    }
    return statement.on_conflict_do_update(index_elements=list(keys), set_=changes)


def upsert_adding(connection: Connection, table: Table, keys: list[str], column: str) -> Any:
    """`INSERT ... ON CONFLICT (keys) DO UPDATE SET column = column + the new row's`."""
    statement = _dialect(connection.dialect.name).insert(table)
    total = table.c[column] + statement.excluded[column]
    return statement.on_conflict_do_update(index_elements=keys, set_={column: total})
