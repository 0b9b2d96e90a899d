"""Small builders shared by the end-to-end tests."""

from __future__ import annotations

import atexit
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from newswatch.model import Alert, Document, WatchKind

REPO = Path(__file__).resolve().parent.parent
# the shared feed corpus: the checkout's sibling shared/ (also from a worktree deeper
# down), else the workplace's copy; tests that need it skip without it
CORPUS = next(
    (p / "shared/corpus/feeds" for p in REPO.parents if (p / "shared/corpus/feeds").is_dir()),
    Path("/work/shared/corpus/feeds"),
)

WATCHES = """\
watch:
  people:
    - name: Donald Trump
      aliases: [Trump]
      exclude: [Trump Tower]
    - name: Konstantin Kosachev
      aliases: [Kosachev]
    - name: Joe Biden
      aliases: [Biden]
    - name: Vladimir Putin
      aliases: [Putin]
  topics:
    - name: NATO
      any: [NATO, North Atlantic Treaty Organization]
    - name: Arms control
      any: [arms control]
    - name: Ukraine ceasefire
      all: [Ukraine]
      any: [ceasefire, peace deal, peace plan]
    - name: China
      any: [China]
    - name: Iran
      any: [Iran]
      none: [Iran-Contra]
    - name: United States
      any: [US]
"""


def write_config(folder: Path, database_url: str, seeds: Path, extra: str = "") -> Path:
    config = folder / "newswatch.yaml"
    config.write_text(
        f"database: {database_url}\n"
        f"sources:\n  seeds:\n    - path: {seeds}\n      name: seeds\n"
        "schedule:\n  seed_scan: 1s\n" + WATCHES + textwrap.dedent(extra),
        encoding="utf-8",
    )
    return config


def feeds_config(
    folder: Path, database_url: str, urls: list[str], extra: str = "", watches: str = WATCHES
) -> Path:
    """A config in `folder` polling these feed URLs, with `extra` YAML and `watches`."""
    config = folder / "newswatch.yaml"
    entries = "".join(f"    - url: {url}\n" for url in urls)
    config.write_text(
        f"database: {database_url}\nsources:\n  feeds:\n{entries}{extra}{watches}",
        encoding="utf-8",
    )
    return config


@cache
def _migrated_template() -> Path:
    """A SQLite file at the newest migration, made once per test process."""
    from newswatch.store.db import open_database

    folder = Path(tempfile.mkdtemp(prefix="newswatch-template-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = folder / "newswatch.db"
    open_database(f"sqlite:///{path}").dispose()  # the last close empties the WAL into it
    return path


def migrated_sqlite(path: Path) -> str:
    """The URL of a SQLite file at `path`, made at the newest migration if not there yet
    (a copy: a few milliseconds where migrating takes ~0.15 s, and ~1 s more for a daemon,
    which migrates a new database in a child process). Not for tests of migrating."""
    if not path.exists():
        shutil.copyfile(_migrated_template(), path)
        path.chmod(0o600)
    return f"sqlite:///{path}"


def seed_text(title: str, body: str, url: str, day: str = "2024-11-14") -> str:
    return f" date {day} {url}\n\n{title}\n\n{body}\n"


def alert_records(stdout: str) -> list[dict[str, object]]:
    records = []
    for line in stdout.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if record.get("event") == "alert":
                records.append(record)
    return records


def run_cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """`newswatch ARGS...` as a separate process, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "newswatch", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )


@contextmanager
def small_tmpfs(folder: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` at `folder` (needs root, as in CI); the test is skipped elsewhere."""
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("mounting a small tmpfs needs root (CAP_SYS_ADMIN)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


def alert(number: int, watch: str = "NATO", kind: str = "topic", **fields: Any) -> Alert:
    """An alert about document `number` (its id too), any field overridden by `fields`."""
    values: dict[str, Any] = {
        "document_id": number,
        "watch": watch,
        "kind": kind,
        "title": f"Story {number}",
        "url": f"https://example.org/{number}",
        "source": "wire",
        "published": datetime(2024, 11, 14, 9, 30, tzinfo=UTC),
        "matched": (watch,),
        "snippet": f"… {watch} said something {number} …",
        "created_at": datetime(2024, 11, 14, 10, 0, tzinfo=UTC),
        "id": number,
    }
    return Alert(**{**values, **fields})


def alert_of(document: Document, watch: str, kind: WatchKind = "person") -> Alert:
    """The alert `watch` raises on a stored `document`."""
    assert document.id is not None
    return Alert(
        document_id=document.id,
        watch=watch,
        kind=kind,
        title=document.title,
        url=document.url,
        source=document.source,
        published=document.published,
        matched=(watch,),
        snippet="…",
    )


def wait_until(condition: Callable[[], bool], seconds: float = 60) -> None:
    """Poll `condition` until it holds; fail the test after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not so within {seconds:g} s"
        time.sleep(0.02)
