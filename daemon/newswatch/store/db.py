"""Opening the database: engine, SQLite pragmas, migrations, clear errors."""

from __future__ import annotations

import os
import re
import sqlite3
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import DatabaseError as DriverError

# re-exported: callers catch and show them from here
from newswatch.store.dbinfo import DatabaseError as DatabaseError
from newswatch.store.dbinfo import shown_url as shown_url

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).parent / "migrations"
_REVISION_LINE = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)
SQLITE_BUSY_TIMEOUT_S = 30
PG_CONNECT_TIMEOUT_S = 5
MIGRATION_LOCK = 0x6E657773  # "news": the advisory lock that serialises migrations


def open_database(url: str, *, upgrade: bool = True) -> Engine:
    """An engine for `url` with the schema at the newest migration."""
    engine = _create_engine(url)
    try:
        if upgrade:
            upgrade_schema(engine)
        else:
            with engine.connect():
                pass
    except DriverError as exc:  # unreachable, locked, read-only, not a database...
        engine.dispose()
        if not isinstance(exc, OperationalError) and "not a database" not in str(exc):
            raise
        raise DatabaseError(describe_operational_error(url, exc)) from None
    return engine


def _create_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(
            f"database URL {url!r} is not valid; write sqlite:///path/to/file.db "
            "or postgresql+psycopg://user@host/dbname"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    # a server that stops answering must fail a connection, not hang it (URL may override)
    waits = {} if "connect_timeout" in parsed.query else {"connect_timeout": PG_CONNECT_TIMEOUT_S}
    try:
        return create_engine(
            parsed, pool_pre_ping=True, pool_size=5, max_overflow=5, connect_args=waits
        )
    except (SQLAlchemyError, ImportError) as exc:
        raise DatabaseError(f"cannot use database {parsed!r}: {exc}") from None


def _sqlite_engine(parsed: Any) -> Engine:
    database = parsed.database
    if database and database != ":memory:" and not database.startswith("file:"):
        _private_file(Path(database).expanduser().resolve())
    # how long to wait for another writer; `?timeout=SECONDS` in the URL overrides it
    waits = {} if "timeout" in parsed.query else {"timeout": SQLITE_BUSY_TIMEOUT_S}
    engine = create_engine(parsed, connect_args=waits)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _private_file(path: Path) -> None:
    """Create the database folder (0700) and file (0600) whatever the umask.

    SQLite gives the -wal and -shm files the main file's mode, so they are
    private too. A file made readable to others by an older version is
    tightened: it holds everything the watch lists found.
    """
    try:
        if not path.parent.is_dir():
            path.parent.mkdir(mode=0o700, parents=True)
            path.parent.chmod(0o700)  # mkdir's mode is filtered by the umask
    except OSError as exc:
        raise DatabaseError(
            f"cannot create the database folder {path.parent}: {exc.strerror}; "
            "create it or point `database:` somewhere writable"
        ) from None
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
    except OSError as exc:
        raise DatabaseError(
            f"cannot open the database file {path}: {exc.strerror}; check its owner and permissions"
        ) from None


def _sqlite_pragmas(connection: sqlite3.Connection, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def upgrade_schema(engine: Engine, revision: str = "head") -> None:
    """Apply every pending Alembic migration up to `revision` (idempotent).

    Two cases never import Alembic (with its Mako and autogenerate parts, a third of
    `ingest`'s start-up and ~15 MB of a daemon): a database already at the head,
    whose head is read off the migration files' `revision` lines, and a database
    with no tables at all, which gets the head schema from the metadata at once
    (store/fresh.py)."""
    if revision == "head":
        newest = _newest_revision()
        if newest is not None and (schema_revision(engine) == newest or _create(engine, newest)):
            return
    from alembic import command

    config = _alembic_config()
    with engine.begin() as connection:
        _lock_migrations(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _create(engine: Engine, head: str) -> bool:
    """Create the schema at `head` if the database has no tables; True if it is then
    at `head` (made here, or by another process that held the lock first)."""
    from newswatch.store import fresh

    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            # the write lock first: a second process waits, then finds the tables made
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        _lock_migrations(connection)
        if fresh.is_empty(connection):
            fresh.create_schema(connection, head)
            return True
        return _revision(connection) == head


def _lock_migrations(connection: Connection) -> None:
    """Several nodes starting at once on PostgreSQL: one migrates, the others wait, then
    find it done."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})


def needs_migrations(engine: Engine) -> bool:
    """Whether opening the database would run Alembic: it has tables, not at the head."""
    from newswatch.store import fresh

    if is_at_head(engine):
        return False
    with engine.connect() as connection:
        return not fresh.is_empty(connection)


def head_revision() -> str:
    """The revision this version of newswatch brings its databases to."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS}")
    return head


def is_at_head(engine: Engine) -> bool:
    newest = _newest_revision()
    return newest is not None and schema_revision(engine) == newest


@cache
def _newest_revision() -> str | None:
    """The one revision no migration file names as its `down_revision`; None when the
    files do not tell plainly (then Alembic decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text("utf-8")
        found = {m.group(1): m.group(2) for m in _REVISION_LINE.finditer(source)}
        revision = found.get("revision", "").strip("\"'")
        if not revision:
            return None
        revisions.add(revision)
        parents.update(re.findall(r"[\"']([^\"']+)[\"']", found.get("down_revision", "")))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _alembic_config() -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def schema_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return _revision(connection)


def _revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    row = connection.exec_driver_sql("SELECT version_num FROM alembic_version").first()
    return str(row[0]) if row else None


def describe_operational_error(url: str, exc: DriverError) -> str:
    """One line for the user from a driver error (locked, unreachable, read-only...)."""
    shown = shown_url(url)
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    hint = "check the `database:` URL and that the server is running"
    if "locked" in reason:
        hint = "another process holds the SQLite file; stop it or wait and retry"
    elif "readonly" in reason or "read-only" in reason:
        hint = "the file or its folder is not writable by this user"
    elif "disk is full" in reason or "No space left" in reason:
        hint = "free space where the database lives; the batch was rolled back and is retried"
    elif "file is not a database" in reason:
        hint = "it is some other file, not a SQLite database: check the `database:` URL"
    elif "unable to open" in reason:
        hint = "the folder must exist and be writable by this user"
    return f"database {shown}: {reason}; {hint}"


def database_error(engine: Engine, exc: SQLAlchemyError) -> str:
    """One line for a database failure: what went wrong and, when known, how to mend it."""
    if isinstance(exc, OperationalError):
        return describe_operational_error(engine.url.render_as_string(), exc)
    return f"database error: {str(exc).splitlines()[0]}"
