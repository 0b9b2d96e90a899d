"""What an idle daemon keeps (issue 11): no helper process once its feeds are quiet,
and no Alembic after creating or migrating a database. RSS itself is measured in
bench/bench_idle_memory.py: it varies too much from run to run to assert."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

import feedserver
from helpers import WATCHES
from newswatch.config import load_config
from newswatch.pipeline.app import open_app
from newswatch.scheduler import rest_if_idle
from newswatch.store.db import head_revision, open_database, upgrade_schema
from procs import command_line, helpers_of
from test_daemon import Daemon


def wire(items: int, tag: str) -> bytes:
    """A feed large enough for the parse workers; `tag` makes its stories new."""
    entry = (
        "<item><guid>{0}{1}</guid><title>Story {0}{1}</title><description>{2}</description></item>"
    )
    text = "Biden on {0}{1}: " + "he spoke at length about the budget. " * 30
    body = "".join(entry.format(tag, n, text.format(tag, n)) for n in range(items))
    channel = f"<channel><title>Wire</title>{body}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'.encode()


@pytest.mark.slow(seconds=5)
def test_a_quiet_daemon_keeps_no_helper_process_and_works_after(tmp_path: Path, server) -> None:
    url = feedserver.set_route(server, "/wire.xml", feedserver.feed(wire(40, "a")))
    config_path = tmp_path / "newswatch.yaml"
    config_path.write_text(
        f"database: sqlite:///{tmp_path / 'nw.db'}\nsources:\n  feeds:\n    - url: {url}\n"
        + WATCHES
    )
    config = load_config(config_path)
    app = open_app(config)
    try:
        [report] = app.pipeline.refresh_feeds(config.sources.feeds, force=True)
        assert report.new == 40
        assert helpers(), "the large body went to a worker"
        assert not rest_if_idle(app.pipeline, 60), "parsed a moment ago: nothing stops"
        assert helpers()

        assert rest_if_idle(app.pipeline, 0)
        assert helpers() == [], "no worker or resource tracker is left"
        assert not rest_if_idle(app.pipeline, 0), "nothing left to stop"

        # the pooled connections were closed: the next cycle opens one and stores
        feedserver.set_route(server, "/wire.xml", feedserver.feed(wire(41, "b")))
        [again] = app.pipeline.refresh_feeds(config.sources.feeds, force=True)
        assert again.new == 41 and again.error is None
        assert rest_if_idle(app.pipeline, 0) and helpers() == []
    finally:
        app.close()


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc arenas")
@pytest.mark.slow(seconds=6)
def test_a_daemons_threads_share_one_heap(tmp_path: Path, server) -> None:
    """Threads that pass bodies to each other must not each keep an arena of freed
    blocks: a cold pass peaked 4-8 MB higher with one more (ops/memory.py)."""
    url = feedserver.set_route(server, "/wire.xml", feedserver.feed(wire(40, "a")))
    config = tmp_path / "newswatch.yaml"
    feeds = f"sources:\n  feeds:\n    - url: {url}\n      interval: 1s\n"  # polled in 5 s
    config.write_text(f"database: sqlite:///{tmp_path / 'nw.db'}\n{feeds}{WATCHES}")
    daemon = Daemon(config)
    try:
        line = daemon.wait_for(daemon.err, '"source_refreshed"')
        assert '"new": 40' in line
        assert arenas(daemon.process.pid) == 0, "each thread's blocks go to the one heap"
    finally:
        daemon.stop()


def arenas(pid: int) -> int:
    """glibc's heaps besides the main one: each reserves 64 MB, its unused part mapped
    without access (a thread's stack has one such page only, as a guard)."""
    count = 0
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        fields = line.split()
        start, end = (int(x, 16) for x in fields[0].split("-"))
        if fields[1] == "---p" and len(fields) == 5 and end - start >= 2**20:
            count += 1
    return count


def helpers() -> list[str]:
    return [command_line(pid) for pid in helpers_of(os.getpid())]


UPGRADE_PROBE = (
    "import sys; from newswatch.ops.schema import upgrade_aside\n"
    "from newswatch.store.db import open_database, schema_revision\n"
    "url = input()\n"
    "migrated = upgrade_aside(url)\n"
    "engine = open_database(url)\n"
    "print(migrated, schema_revision(engine), 'alembic' in sys.modules)"
)


def upgrade_as_the_daemon(database_url: str) -> list[str]:
    """What the daemon's start does to the schema: whether a child process migrated, the
    revision then, and whether the daemon itself loaded Alembic."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    return subprocess.run(
        [sys.executable, "-c", UPGRADE_PROBE],
        input=database_url,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout.split()


@pytest.mark.slow(seconds=5)
def test_the_daemon_migrates_an_old_database_without_loading_alembic(
    empty_database_url: str,
) -> None:
    """A child process migrates; the daemon's own open finds the head and imports no
    Alembic, whose modules it would otherwise keep for life (~15 MB)."""
    old = open_database(empty_database_url, upgrade=False)
    upgrade_schema(old, "0013")
    old.dispose()
    assert upgrade_as_the_daemon(empty_database_url) == ["True", head_revision(), "False"]


def test_the_daemon_creates_a_new_database_without_alembic_nor_a_child(
    empty_database_url: str,
) -> None:
    """A new database gets the newest schema at once, in the daemon's own process."""
    assert upgrade_as_the_daemon(empty_database_url) == ["False", head_revision(), "False"]
