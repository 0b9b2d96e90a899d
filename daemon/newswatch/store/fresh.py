"""A database with no tables gets the newest schema at once, without Alembic (issue 11).

Running every migration from the first means importing Alembic (with Mako and
Pygments) and the migration modules: ~0.17 s of CPU and ~14 MB more than opening
a database at its head (bench/bench_new_database.py); this path costs ~0.02 s.
Alembic's own advice for a new database is `create_all`, then `stamp head`;
here the version row is written directly, as Alembic would, so Alembic is not
imported. A database with any table or view is left to the migrations, as
before: nothing is created over another program's data.

The tables come from `newswatch.store.tables`, so they must stay exactly what
the migrations make: tests/test_schema_drift.py builds one database each way and
compares them.
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, MetaData, PrimaryKeyConstraint, String, Table, inspect

from newswatch.store.tables import metadata

# Alembic's own version table, named and typed as Alembic makes it
VERSION_TABLE = Table(
    "alembic_version",
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


def is_empty(connection: Connection) -> bool:
    """No table and no view in the connection's (default) schema."""
    found = inspect(connection)
    return not found.get_table_names() and not found.get_view_names()


def create_schema(connection: Connection, revision: str) -> None:
    """Create every table, index and constraint of the metadata, then record `revision`,
    in the caller's transaction."""
    if connection.dialect.name == "postgresql":
        _partial_on_postgresql()
    metadata.create_all(connection, checkfirst=False)
    VERSION_TABLE.create(connection, checkfirst=False)
    connection.execute(VERSION_TABLE.insert(), {"version_num": revision})


def _partial_on_postgresql() -> None:
    """Give PostgreSQL the WHERE clause each partial index has on SQLite.

    tables.py declares it for SQLite only: `postgresql_where` there would import
    SQLAlchemy's PostgreSQL dialect, its largest module, into every SQLite
    process. Here the connection is PostgreSQL's, so its dialect is loaded anyway.
    """
    for table in metadata.tables.values():
        for index in table.indexes:
            where = index.dialect_kwargs.get("sqlite_where")
            if where is not None:
                index.dialect_kwargs["postgresql_where"] = where
