"""Shared fixtures: databases (SQLite always, PostgreSQL when configured) and configs."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings
from sqlalchemy import create_engine, text

import feedserver
from helpers import REPO

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


@contextmanager
def _postgres_schema() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    base = _postgres_url()
    schema = f"nw_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    with _postgres_schema() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every storage test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state' / 'newswatch.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def another_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second empty database on `database_url`'s backend, for comparing two."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'other' / 'newswatch.db'}"
        return
    with _postgres_schema() as url:
        yield url


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
