"""The shape of a cold pass (issue 11): what runs while what waits.

- A first `ingest` (a new SQLite database) starts the parse workers' forkserver
  before it loads the store, so the parse path loads on the other core.
"""

from __future__ import annotations

import os
from pathlib import Path

from helpers import WATCHES
from newswatch import feedwork
from newswatch.app import open_app
from newswatch.cli import _start_parsers_early
from newswatch.config import load_config
from newswatch.feedwork import WARM_UP_AT
from newswatch.store.dbinfo import new_sqlite_file
from procs import command_line, descendants


def test_a_new_sqlite_database_is_told_apart_without_sqlalchemy(tmp_path: Path) -> None:
    missing = tmp_path / "nw.db"
    assert new_sqlite_file(f"sqlite:///{missing}")
    assert new_sqlite_file("sqlite://") and new_sqlite_file("sqlite:///:memory:")
    missing.touch()
    assert new_sqlite_file(f"sqlite+pysqlite:///{missing}"), "an empty file holds nothing yet"
    missing.write_bytes(b"SQLite format 3\0")
    assert not new_sqlite_file(f"sqlite:///{missing}")
    assert not new_sqlite_file(f"sqlite:///{tmp_path / 'x.db'}?mode=ro"), "not guessed at"
    assert not new_sqlite_file("postgresql+psycopg://postgres@127.0.0.1/test")


def _forkservers() -> list[int]:
    return [p for p in descendants(os.getpid()) if "forkserver" in command_line(p)]


def _config(tmp_path: Path, database: Path, feeds: int):  # type: ignore[no-untyped-def]
    path = tmp_path / "newswatch.yaml"
    urls = "".join(f"    - url: http://127.0.0.1:9/f{i}\n" for i in range(feeds))
    path.write_text(f"database: sqlite:///{database}\nsources:\n  feeds:\n{urls}" + WATCHES)
    return load_config(path)


def test_a_first_ingest_starts_the_forkserver_before_opening_the_database(
    tmp_path: Path,
) -> None:
    feedwork._stop_helpers()  # one left by another test's pool in this process
    assert _forkservers() == []
    database = tmp_path / "nw.db"
    few = _config(tmp_path, database, WARM_UP_AT - 1)
    _start_parsers_early(few, few.sources.feeds)
    assert _forkservers() == [], "too few feeds to start workers for"
    config = _config(tmp_path, database, WARM_UP_AT)
    try:
        _start_parsers_early(config, config.sources.feeds)
        assert len(_forkservers()) == 1, "a new database: every feed sends a body"
    finally:
        feedwork._stop_helpers()
    assert _forkservers() == []
    open_app(config).close()  # the database now exists: the next run may be all 304s
    _start_parsers_early(config, config.sources.feeds)
    assert _forkservers() == []
