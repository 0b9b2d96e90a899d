"""The parse pool's processes (issue 11): two workers, and no forkserver beside them.

A forkserver (~30 MB with the parse path preloaded) stayed resident for as long
as the workers it had forked, counted in every sample of the tree's peak; the
workers are now spawned by the main process. A cold `newswatch ingest
--parse-workers 2` (the console script, which each worker re-runs as
__mp_main__) is watched through /proc, and a plain `ingest`, which parses in its
own process, and a worker killed mid-parse still leaves its body parsed and the next
bodies parsed by new workers. The watch list travels to the workers compiled,
without the config schema's pydantic models.
"""

from __future__ import annotations

import os
import pickle
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

import feedserver
from helpers import feeds_config, migrated_sqlite
from newswatch.config import Person, Topic
from newswatch.match import compile_watches
from newswatch.parsing.feedwork import POOL_THRESHOLD_BYTES, FeedBody, FeedParsers, documents_of
from newswatch.pipeline.feeds import WARM_UP_AT
from procs import forkservers_of, helpers_of, workers_of
from test_feedwork import big_feed, single_item_feed

FEEDS = WARM_UP_AT + 4
ITEMS = 40
WORDS = [f"{a}{b}" for a in ("ka", "lo", "mi", "nu", "pe", "ra", "so", "tu") for b in range(60)]


def wire(feed: int, tag: str) -> bytes:
    """~16 KB of feed (twice the in-process limit), long enough to parse that both workers
    are busy at once. Each story's words are drawn at random: alike, they would all be
    near-duplicates of one another, and filing each in its story would cost more than
    the whole pass."""
    entry = "<item><guid>{0}</guid><title>Story {0}</title><description>{1}</description></item>"
    names = [f"{tag}{feed}-{n}" for n in range(ITEMS)]
    texts = [" ".join(random.Random(name).choices(WORDS, k=60)) for name in names]
    items = "".join(
        entry.format(name, f"Biden on {name}: {text}.")
        for name, text in zip(names, texts, strict=True)
    )
    body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>W{feed}</title>{items}'
    return (body + "</channel></rss>").encode()


def newswatch_command() -> list[str]:
    """The console script, as a user runs it: spawned workers re-run it as __mp_main__."""
    script = Path(sys.executable).with_name("newswatch")
    return [str(script)] if script.exists() else [sys.executable, "-m", "newswatch"]


class Watched:
    """A command whose process tree is sampled every 20 ms until it exits."""

    def __init__(self, argv: list[str], err: Path) -> None:
        self.most_workers = 0
        self.most_helpers = 0
        self.forkservers: set[int] = set()
        self.workers: set[int] = set()
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err.open("w"))
        self._thread = threading.Thread(target=self._sample)
        self._thread.start()

    def _sample(self) -> None:
        while self.process.poll() is None:
            workers = workers_of(self.process.pid)
            self.workers.update(workers)
            self.most_workers = max(self.most_workers, len(workers))
            self.most_helpers = max(self.most_helpers, len(helpers_of(self.process.pid)))
            self.forkservers.update(forkservers_of(self.process.pid))
            time.sleep(0.02)

    def wait(self) -> int:
        try:
            return self.process.wait(timeout=120)
        finally:
            if self.process.poll() is None:
                self.process.kill()  # its workers follow it (feedwork._exit_with_parent)
                self.process.wait()
            self._thread.join()


@pytest.mark.slow(seconds=10)
def test_a_cold_ingest_parses_on_two_workers_with_no_forkserver_and_a_later_one_too(
    tmp_path: Path, server: feedserver.FeedServer
) -> None:
    assert all(len(wire(i, "a")) > POOL_THRESHOLD_BYTES for i in range(FEEDS))
    database, ingest = _wire_ingest(tmp_path, server, "a")
    argv = [*ingest, "--parse-workers", "2"]

    cold = Watched(argv, tmp_path / "cold.log")
    assert cold.wait() == 0, (tmp_path / "cold.log").read_text()
    assert cold.most_workers == 2, "both workers ran at once"
    assert cold.forkservers == set(), "no forkserver beside the workers"
    assert _documents(database) == FEEDS * ITEMS

    # a later pass, every feed with new stories: new workers, still no forkserver
    for i in range(FEEDS):
        feedserver.set_route(server, f"/a{i}.xml", feedserver.feed(wire(i, "b")))
    later = Watched(argv, tmp_path / "later.log")
    assert later.wait() == 0, (tmp_path / "later.log").read_text()
    assert later.most_workers == 2 and later.forkservers == set()
    assert later.workers.isdisjoint(cold.workers)
    assert _documents(database) == 2 * FEEDS * ITEMS


@pytest.mark.slow(seconds=5)
def test_a_plain_ingest_parses_in_its_own_process(
    tmp_path: Path, server: feedserver.FeedServer
) -> None:
    """One process parses with less CPU and half the memory of three (bench/README.md)."""
    database, argv = _wire_ingest(tmp_path, server, "p")
    alone = Watched(argv, tmp_path / "alone.log")
    assert alone.wait() == 0, (tmp_path / "alone.log").read_text()
    assert alone.most_helpers == 0, "no worker, no resource tracker"
    assert _documents(database) == FEEDS * ITEMS


def _wire_ingest(tmp_path: Path, server: feedserver.FeedServer, tag: str) -> tuple[Path, list[str]]:
    """FEEDS wire feeds served at /{tag}N.xml: the database and the `ingest` command."""
    urls = [
        feedserver.set_route(server, f"/{tag}{i}.xml", feedserver.feed(wire(i, tag), delay=0.05))
        for i in range(FEEDS)
    ]
    database = tmp_path / "nw.db"
    config = feeds_config(tmp_path, migrated_sqlite(database), urls)
    command = [*newswatch_command(), "--config", str(config), "--log-format", "json", "ingest"]
    return database, command


def _documents(database: Path) -> int:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT count(*) FROM documents").fetchone()[0]


@pytest.mark.slow(seconds=5)
def test_workers_killed_mid_parse_cost_no_body_and_new_ones_take_over() -> None:
    matcher = compile_watches([Person(name="Joe Biden", aliases=("Biden",))], [])
    parsers = FeedParsers(matcher, workers=2)
    try:
        parsers.warm_up()
        deadline = time.monotonic() + 30
        while len(killed := workers_of(os.getpid())) < 2:
            assert time.monotonic() < deadline, "the two workers never started"
            time.sleep(0.1)
        work = FeedBody(
            single_item_feed(4 * 2**20), "http://127.0.0.1/one", {}, None, datetime.now(UTC)
        )
        parsing = parsers.submit(work)
        for pid in killed:
            os.kill(pid, signal.SIGKILL)
        # the body whose worker died is parsed in this process instead
        assert parsing.result() == documents_of(work, matcher)

        wire = FeedBody(big_feed(), "http://127.0.0.1/wire", {}, None, datetime.now(UTC))
        expected = documents_of(wire, matcher)
        assert parsers.submit(wire).result() == expected  # in-process: the pool was broken
        assert parsers.submit(wire).result() == expected  # a new pool
        new = workers_of(os.getpid())
        assert new and set(new).isdisjoint(killed)
        assert forkservers_of(os.getpid()) == []
    finally:
        parsers.close()


def test_a_matcher_travels_as_its_rules_without_the_config_schema() -> None:
    """It pickled as its watch list: the Person and Topic models, whose unpickling
    imported pydantic and the config schema in every parse worker (~10 MB, ~0.1 s)."""
    people = [Person(name="Joe Biden", aliases=("Biden",)), Person(name="Ann Lee")]
    matcher = compile_watches(people, [Topic(name="Budget", query='"budget"')])
    data = pickle.dumps(matcher)
    assert b"pydantic" not in data and b"newswatch.config" not in data
    again = pickle.loads(data)
    text = "Biden and Ann Lee on the budget. Biden again."
    assert again.match("Budget", text) == matcher.match("Budget", text)
    assert again.shared_names() == matcher.shared_names() and len(again) == len(matcher)
    assert pickle.loads(pickle.dumps(again)).match("", text) == matcher.match("", text)

    code = "import pickle, sys; pickle.loads(sys.stdin.buffer.read()); print(sorted(sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], input=data, capture_output=True, check=True
    ).stdout.decode()
    assert "pydantic" not in loaded and "newswatch.config" not in loaded


@pytest.mark.slow(seconds=3)
def test_a_parse_worker_never_imports_pydantic() -> None:
    matcher = compile_watches([Person(name="Joe Biden", aliases=("Biden",))], [])
    parsers = FeedParsers(matcher)
    try:
        work = FeedBody(big_feed(), "http://127.0.0.1/wire", {}, None, datetime.now(UTC))
        parsed = parsers.submit(work).result()
        assert parsed == documents_of(work, matcher) and parsed.matched
        pool = parsers._ensure_pool()
        modules = pool.submit(eval, "sorted(__import__('sys').modules)").result()
    finally:
        parsers.close()
    assert "newswatch.sources.feeds" in modules, "the parse path, imported as it started"
    assert not [m for m in modules if m.startswith(("pydantic", "newswatch.config"))]
