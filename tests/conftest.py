"""Shared fixtures: databases (SQLite always, PostgreSQL when configured) and configs."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url

import feedserver
from helpers import REPO, migrated_sqlite

if TYPE_CHECKING:
    from smtpserver import SmtpServer

# Property tests: `ci` replays the same examples every run (a red CI is then a real,
# reproducible failure, not a lucky draw) and never fails on timing under load;
# `thorough` is for hunting bugs locally: HYPOTHESIS_PROFILE=thorough make test.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("thorough", max_examples=2_000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _own_cache_folder(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each test's commands keep their cache (compiled watch lists) to themselves, never
    in the user's ~/.cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first, the slowest (`slow(seconds=N)`) first of all: a long test started
    last would leave the other workers of `make test` idle while it runs to its end
    (`--maxschedchunk 1` there hands out one test at a time, in this order)."""

    def order(item: pytest.Item) -> float:
        marker = item.get_closest_marker("slow")
        return 0.0 if marker is None else -1.0 - float(marker.kwargs.get("seconds", 0))

    items.sort(key=order)  # stable: the others keep their order


PG_ENV = "NEWSWATCH_TEST_DATABASE_URL"
SEED_FILE = REPO / "seeds" / "000_4aedde6dc7f46a07.txt"


def _postgres_url() -> str:
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(
            f"PostgreSQL tests need ${PG_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1/test)"
        )
    return base


def _new_schema_name() -> str:
    return f"nw_test_{uuid.uuid4().hex[:12]}"


def _schema_url(base: str, schema: str) -> str:
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{schema}"


@contextmanager
def _schema(base: str, create: Callable[[Connection, str], None]) -> Iterator[str]:
    """A fresh schema made by `create(connection, name)`, dropped afterwards."""
    schema = _new_schema_name()
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            create(connection, schema)
        yield schema
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _empty_schema(connection: Connection, schema: str) -> None:
    connection.execute(text(f'CREATE SCHEMA "{schema}"'))


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh, empty schema, dropped afterwards."""
    base = _postgres_url()
    with _schema(base, _empty_schema) as schema:
        yield _schema_url(base, schema)


# A database at the newest migration, made once per test process and copied for each
# test (helpers.migrated_sqlite for SQLite): running the 14 migrations costs ~0.15 s on
# SQLite and ~0.6 s on PostgreSQL, a copy a few milliseconds. Tests of migrating itself
# use the empty fixtures.
TEMPLATE_SCHEMA = f"nw_template_{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def _postgres_template() -> str | None:
    """The SQL that makes a schema at the head (pg_dump of one migrated once), with
    TEMPLATE_SCHEMA for the schema's name; None where pg_dump cannot make it (each test
    then migrates its own schema)."""
    from newswatch.store.db import open_database

    base = _postgres_url()
    pg_dump = shutil.which("pg_dump")
    with _schema(base, _empty_schema) as schema:
        open_database(_schema_url(base, schema)).dispose()
        if pg_dump is None:
            return None
        target = make_url(base).set(drivername="postgresql", query={})
        dumped = subprocess.run(
            [
                pg_dump,
                "--no-owner",
                "--no-privileges",
                "--inserts",
                "--schema",
                schema,
                "--dbname",
                target.render_as_string(hide_password=False),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    if dumped.returncode != 0:
        return None
    # psql's own commands (\restrict) and comments are not SQL the driver runs
    lines = (line for line in dumped.stdout.splitlines() if not line.startswith(("\\", "--")))
    return "\n".join(lines).replace(schema, TEMPLATE_SCHEMA)


@pytest.fixture
def migrated_postgres_url(_postgres_template: str | None) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema at the newest migration."""
    base = _postgres_url()
    script = _postgres_template

    def create(connection: Connection, schema: str) -> None:
        if script is None:
            _empty_schema(connection, schema)
        else:
            connection.exec_driver_sql(script.replace(TEMPLATE_SCHEMA, schema))

    with _schema(base, create) as schema:
        url = _schema_url(base, schema)
        if script is None:
            from newswatch.store.db import open_database

            open_database(url).dispose()
        yield url


def _sqlite_url(tmp_path: Path, *, migrated: bool) -> str:
    """tmp_path/state/newswatch.db: at the newest migration, or not there yet."""
    path = tmp_path / "state" / "newswatch.db"
    if not migrated:
        return f"sqlite:///{path}"
    path.parent.mkdir(mode=0o700)  # private, as the daemon makes it
    return migrated_sqlite(path)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every storage test runs on SQLite and on PostgreSQL; the database is at the newest
    migration."""
    if request.param == "sqlite":
        return _sqlite_url(tmp_path, migrated=True)
    url: str = request.getfixturevalue("migrated_postgres_url")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """As `database_url`, with nothing in it yet (for tests of migrating)."""
    if request.param == "sqlite":
        return _sqlite_url(tmp_path, migrated=False)
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def another_database_url(empty_database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second empty database on `empty_database_url`'s backend, for comparing two."""
    if empty_database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'other' / 'newswatch.db'}"
        return
    base = _postgres_url()
    with _schema(base, _empty_schema) as schema:
        yield _schema_url(base, schema)


@pytest.fixture
def server() -> Iterator[feedserver.FeedServer]:
    """A feed server on 127.0.0.1 for one test (set routes with feedserver.set_route)."""
    running = feedserver.start()
    yield running
    feedserver.stop(running)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 for one test; see tests/smtpserver.py."""
    from smtpserver import SmtpServer  # aiosmtpd only for the tests that use it

    running = SmtpServer().start()
    yield running
    running.stop()


@pytest.fixture
def json_logs() -> None:
    """Logs as JSON to this test's stderr (an earlier `main()` may have bound a closed one).
    A module uses it with `pytestmark = pytest.mark.usefixtures("json_logs")`."""
    from newswatch.log import configure_logging

    configure_logging("json", "INFO")
