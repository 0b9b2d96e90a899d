"""Stopping on time: SIGTERM and SIGKILL of `run` and `ingest` in the middle of a large parse.

Real processes, a real loopback feed server and a real SQLite file. The feed is
~7 MB of 50,000 items: its parse takes seconds, so the signal lands mid-parse,
in a parse worker (`run`, `ingest --parse-workers 2`) or in the process itself
(`ingest`).
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import feedserver
from helpers import migrated_sqlite, write_config
from procs import descendants, survivors, workers_of

ITEMS = 50_000
STOP_LIMIT_S = 10


def big_feed() -> bytes:
    item = (
        "<item><guid>g{0}</guid><title>Story {0}</title><link>https://x.org/{0}</link>"
        "<description>Biden spoke {0} times in Ohio.</description></item>"
    )
    items = "".join(item.format(number) for number in range(ITEMS))
    head = '<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>'
    return f"{head}{items}</channel></rss>".encode()


@pytest.fixture(scope="module")
def server() -> Iterator[feedserver.FeedServer]:
    served = feedserver.start()
    feedserver.set_route(served, "/big.xml", feedserver.feed(big_feed()))
    yield served
    feedserver.stop(served)


# (command, whether it parses on workers)
RUN = ("run", True)
INGEST = ("ingest", False)
INGEST_ON_WORKERS = ("ingest --parse-workers 2", True)


class Started:
    def __init__(
        self, tmp_path: Path, server: feedserver.FeedServer, command: tuple[str, bool]
    ) -> None:
        (tmp_path / "seeds").mkdir()
        self.database = tmp_path / "nw.db"
        config = write_config(tmp_path, migrated_sqlite(self.database), tmp_path / "seeds")
        url = server.url("/big.xml")
        config.write_text(
            config.read_text().replace("sources:\n", f"sources:\n  feeds:\n    - url: {url}\n")
        )
        self.err = tmp_path / "stderr.log"
        self.served_before = len(server.seen)
        self.server = server
        self.on_workers = command[1]
        argv = [sys.executable, "-m", "newswatch", "--config", str(config)]
        self.process = subprocess.Popen(
            [*argv, "--log-format", "json", *command[0].split()],
            stdout=subprocess.DEVNULL,
            stderr=self.err.open("w"),
        )

    def wait_mid_parse(self, timeout: float = 60) -> list[int]:
        """Once the feed is served and parsing (on a worker, if the command has them):
        every process under the main one."""
        deadline = time.monotonic() + timeout
        while len(self.server.seen) == self.served_before or not self._parsing():
            assert self.process.poll() is None, self.err.read_text()
            assert time.monotonic() < deadline, "the feed was never fetched and parsed"
            time.sleep(0.2)
        time.sleep(1)  # the body is on its way to a worker, or parsing there
        assert self._parsing(), "the parse ended before the test could stop it"
        return descendants(self.process.pid)

    def _parsing(self) -> bool:
        if self.on_workers:
            return bool(workers_of(self.process.pid))
        return self.process.poll() is None and self._documents() == 0

    def _documents(self) -> int:
        with sqlite3.connect(self.database, timeout=30) as db:
            return int(db.execute("SELECT count(*) FROM documents").fetchone()[0])

    def signal(self, signum: int) -> tuple[int, float]:
        started = time.monotonic()
        self.process.send_signal(signum)
        try:
            code = self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        return code, time.monotonic() - started

    def feed_state(self) -> tuple[object, ...]:
        with sqlite3.connect(self.database) as db:
            documents = db.execute("SELECT count(*) FROM documents").fetchone()[0]
            row = db.execute("SELECT status, etag, last_success, documents FROM feeds").fetchone()
        return (documents, *row)


NOT_POLLED = (0, "new", None, None, 0)  # no documents; the feed still waits for its first poll


@pytest.mark.parametrize("command", [RUN, INGEST, INGEST_ON_WORKERS], ids=lambda c: c[0])
@pytest.mark.slow(seconds=8)
def test_sigterm_mid_parse_stops_within_10s_and_leaves_the_feed_to_the_next_poll(
    tmp_path: Path, server: feedserver.FeedServer, command: tuple[str, bool]
) -> None:
    started = Started(tmp_path, server, command)
    processes = started.wait_mid_parse()
    code, took = started.signal(signal.SIGTERM)
    log = started.err.read_text()
    assert took < STOP_LIMIT_S, f"stopped after {took:.1f}s"
    assert code == (0 if command == RUN else 1), log
    assert "Traceback" not in log
    assert survivors(processes) == []
    assert started.feed_state() == NOT_POLLED


@pytest.mark.parametrize("command", [RUN, INGEST_ON_WORKERS], ids=lambda c: c[0])
@pytest.mark.slow(seconds=8)
def test_sigkill_mid_parse_leaves_no_worker_or_tracker_behind(
    tmp_path: Path, server: feedserver.FeedServer, command: tuple[str, bool]
) -> None:
    started = Started(tmp_path, server, command)
    processes = started.wait_mid_parse()
    assert len(processes) >= 2, "resource tracker and at least one worker"
    started.signal(signal.SIGKILL)
    assert survivors(processes, within=30) == []
    assert started.feed_state() == NOT_POLLED
