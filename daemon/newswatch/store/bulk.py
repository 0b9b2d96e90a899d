"""Many rows in one `INSERT ... ON CONFLICT DO NOTHING`, straight to the driver.

Through Core, an insert of a feed's documents spent about as much CPU building
and processing each row's parameters as SQLite spent inserting them (issue 11).
Here the statement is built once per table and columns, and each value still
goes through its column type's own bind processor (UtcDateTime, JSON,
LargeBinary), taken from SQLAlchemy, so what is stored is the same on both
backends. PostgreSQL gets one statement of a column array each (`unnest`) with
`RETURNING`. SQLite gets one prepared statement run for every row (the
driver's executemany), and the rows inserted are read back by rowid: SQLite
gives each new row the next rowid, and while the statement runs this
connection holds the database's one write lock, so the rows it inserted are
the last `rowcount` rowids (a multi-row `VALUES ... RETURNING` of a page of
rows cost a quarter more: a new statement to compile per feed, and RETURNING's
buffering).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, String, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Plan:
    """A table's insert for one dialect: the SQL and each column's bind processor."""

    sql: str
    processors: tuple[Processor, ...]
    read_back: str  # SQLite: the `returning` columns of the rows the insert just made


def insert_returning(
    connection: Connection,
    table: Table,
    columns: tuple[str, ...],
    rows: Sequence[Sequence[Any]],
    returning: tuple[str, ...],
) -> list[tuple[Any, ...]]:
    """Insert `rows` (values in `columns`' order), skipping any that conflict with a
    stored row; return the `returning` columns of those inserted, in no set order."""
    if not rows:
        return []
    plan = _plan(connection.dialect, table, columns, returning)
    values = _processed(plan.processors, rows)
    if connection.dialect.name == "postgresql":
        arrays = [list(column) for column in values]
        return [tuple(row) for row in connection.exec_driver_sql(plan.sql, tuple(arrays)).all()]
    inserted = connection.exec_driver_sql(plan.sql, list(zip(*values, strict=True))).rowcount
    if inserted <= 0:
        return []
    stored = [tuple(row) for row in connection.exec_driver_sql(plan.read_back, (inserted,))]
    if len(stored) != inserted:  # rowids not consecutive: only once 2**63 - 1 was used
        raise RuntimeError(f"{table.name}: {inserted} rows inserted, {len(stored)} read back")
    return stored


def _processed(
    processors: tuple[Processor, ...], rows: Sequence[Sequence[Any]]
) -> list[Sequence[Any]]:
    """The rows' values column by column, each through its column's processor.
    A value repeated in a column (the batch's `now`, a feed's one author) is
    processed once."""
    columns: list[Sequence[Any]] = []
    for processor, column in zip(processors, zip(*rows, strict=True), strict=True):
        columns.append(column if processor is None else _each(processor, column))
    return columns


def _each(processor: Callable[[Any], Any], column: Sequence[Any]) -> list[Any]:
    done: dict[Any, Any] = {}
    out: list[Any] = []
    append = out.append
    last: Any = _UNIQUE  # the value before, when it had a memo key: its processed form is `was`
    was: Any = None
    for value in column:
        if value is last:  # the batch's one `now`, a feed's shared authors
            append(was)
            continue
        kind = type(value)
        if kind is bytes or kind is str:  # a signature, a snippet: unique
            append(processor(value))
            continue
        key = _key(value)
        if key is _UNIQUE:
            append(processor(value))
            continue
        was = done.get(key, _UNIQUE)
        if was is _UNIQUE:
            was = done[key] = processor(value)
        last = value
        append(was)
    return out


_UNIQUE = object()  # `_key` of a value processed each time


def _key(value: Any) -> Any:
    """A memo key for values whose processed form depends on the value alone: None,
    datetimes (with their zone), tuples and lists of strings (JSON); else _UNIQUE."""
    kind = type(value)
    if value is None:
        return None
    if kind is tuple:  # a document's authors or categories: strings
        return value if all(type(item) is str for item in value) else _UNIQUE
    if isinstance(value, datetime):
        return (value, value.tzinfo)
    if kind is list and all(type(item) is str for item in value):
        return tuple(value)
    return _UNIQUE


@functools.lru_cache(maxsize=64)
def _plan(
    dialect: Dialect, table: Table, columns: tuple[str, ...], returning: tuple[str, ...]
) -> _Plan:
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    back = ", ".join(quote(c) for c in returning)
    types = [table.c[c].type.dialect_impl(dialect) for c in columns]
    processors = tuple(t.bind_processor(dialect) for t in types)
    into = f"INSERT INTO {quote(table.name)} ({names})"
    if dialect.name == "postgresql":
        arrays = ", ".join(f"%s::{_array_of(t, dialect)}[]" for t in types)
        sql = f"{into} SELECT * FROM unnest({arrays}) ON CONFLICT DO NOTHING RETURNING {back}"
        return _Plan(sql, processors, "")
    if table.dialect_options["sqlite"]["with_rowid"] is False:
        raise ValueError(f"{table.name} has no rowid to read the inserted rows back by")
    mark = placeholder(dialect)
    values = ", ".join([mark] * len(columns))
    read_back = (
        f"SELECT {back} FROM {quote(table.name)}"
        f" WHERE rowid > last_insert_rowid() - {mark} AND rowid <= last_insert_rowid()"
    )
    return _Plan(f"{into} VALUES ({values}) ON CONFLICT DO NOTHING", processors, read_back)


def select_in(connection: Connection, sql: str, *lists: Sequence[Any], kind: str = "text") -> Any:
    """Run `sql`, where `IN ({})`'s braces stand, in turn, for the members of each of
    `lists` (strings; or integers, `kind="bigint"`), by the driver: through Core,
    rendering an expanding bind parameter of a batch's keys cost more than the
    look-up."""
    dialect = connection.dialect
    members = [in_list(dialect, kind)] * len(lists)
    parameters = tuple(list_parameter(dialect, values) for values in lists)
    return connection.exec_driver_sql(sql.format(*members), parameters)


def in_list(dialect: Dialect, kind: str = "text") -> str:
    """What stands inside `IN (...)` for the members of one list parameter
    (`list_parameter`): PostgreSQL's array unnested, SQLite's JSON array read by
    json_each. The SQL is then the same whatever the list's length, compiled once and
    kept in the driver's statement cache (a placeholder per member made a new
    statement to compile for each feed)."""
    if dialect.name == "postgresql":
        return f"SELECT unnest(%s::{kind}[])"
    return f"SELECT value FROM json_each({placeholder(dialect)})"


def list_parameter(dialect: Dialect, values: Sequence[Any]) -> Any:
    """One parameter carrying `values`: an array for PostgreSQL, a JSON array for SQLite."""
    if dialect.name == "postgresql":
        return list(values)
    return json.dumps(list(values))


def placeholder(dialect: Dialect) -> str:
    """The driver's mark for one parameter: sqlite3's `?`, or psycopg's `%s`."""
    return "?" if dialect.paramstyle == "qmark" else "%s"


def _array_of(column_type: TypeEngine[Any], dialect: Dialect) -> str:
    """The element type of a column's array: text for strings, whose length the insert
    itself checks (a cast to `varchar(n)` would cut an over-long value silently)."""
    return "text" if isinstance(column_type, String) else column_type.compile(dialect=dialect)
