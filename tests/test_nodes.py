"""Nodes: SQLite refuses a second daemon; on PostgreSQL leases share feeds and sinks."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from helpers import migrated_sqlite, run_cli, seed_text, write_config
from newswatch.config import Config, FeedSource, load_config
from newswatch.feedcycle import DueFeed, current_record
from newswatch.httpapi import health
from newswatch.match.watchlist import compile_config
from newswatch.ops.metrics import Registry
from newswatch.ops.node import Node
from newswatch.pipeline import Pipeline
from newswatch.scheduler import new_scheduler, schedule_sources
from newswatch.sinks import build_sinks
from newswatch.store import feeds as feed_store
from newswatch.store.db import open_database
from smtpserver import SmtpServer
from test_daemon import Daemon

LEASE = timedelta(seconds=3)


def _sqlite_config(tmp_path: Path) -> tuple[Path, Path]:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    database = tmp_path / "state" / "newswatch.db"
    database.parent.mkdir(mode=0o700)
    return write_config(tmp_path, migrated_sqlite(database), seeds), seeds


@pytest.mark.slow(seconds=5)
def test_a_second_daemon_on_one_sqlite_file_is_refused_and_a_killed_one_never_blocks(
    tmp_path: Path,
) -> None:
    config, _ = _sqlite_config(tmp_path)
    first = Daemon(config)
    try:
        first.wait_for(first.err, '"daemon_started"', timeout=60)
        second = run_cli("--config", str(config), "run")
        assert second.returncode == 1
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1, second.stderr
        assert "already uses the SQLite database" in lines[0]
        assert f"pid {first.process.pid}" in lines[0] and "PostgreSQL" in lines[0]
    finally:
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=30)
    # the lock died with its process: a restart is never blocked by a stale lock file
    again = Daemon(config)
    try:
        again.wait_for(again.err, '"daemon_started"', timeout=60)
    finally:
        code, _ = again.stop()
    assert code == 0


@pytest.mark.slow(seconds=4)
def test_ingest_beside_a_sqlite_daemon_imports_and_each_alert_is_delivered_once(
    tmp_path: Path,
) -> None:
    config, seeds = _sqlite_config(tmp_path)
    daemon = Daemon(config)
    try:
        daemon.wait_for(daemon.err, '"daemon_started"', timeout=60)
        outside = tmp_path / "outside"
        outside.mkdir()
        (outside / "a.txt").write_text(
            seed_text("Kosachev speaks", "Konstantin Kosachev spoke.", "https://x.example/k")
        )
        # a second folder only `ingest` knows
        extra = tmp_path / "extra.yaml"
        text = config.read_text().replace(
            f"    - path: {seeds}\n      name: seeds\n",
            f"    - path: {seeds}\n      name: seeds\n    - path: {outside}\n      name: outside\n",
        )
        extra.write_text(text)
        result = run_cli("--config", str(extra), "ingest")
        assert result.returncode == 0, result.stderr
        by_ingest = [line for line in result.stdout.splitlines() if "Konstantin Kosachev" in line]
        if not by_ingest:  # the daemon held the sink's lease at that moment: it sends it
            assert "a running node is delivering log" in result.stderr
            daemon.wait_for(daemon.out, "Konstantin Kosachev", timeout=90)
        time.sleep(2)  # a daemon that wrongly sent it too would have done so by now
        by_daemon = [line for line in daemon.out if "Konstantin Kosachev" in line]
        assert len(by_ingest) + len(by_daemon) == 1
    finally:
        daemon.stop()


@pytest.fixture
def engine(migrated_postgres_url: str):
    engine = open_database(migrated_postgres_url)
    yield engine
    engine.dispose()


def _due_feeds(engine, count: int) -> list[DueFeed]:
    now = datetime.now(UTC) - timedelta(minutes=1)
    sources = [FeedSource(url=f"http://127.0.0.{1 + i % 3}:9/f{i}.xml") for i in range(count)]
    records = [
        current_record(s, None, now, timedelta(seconds=1), random.Random(1)) for s in sources
    ]
    with engine.begin() as connection:
        feed_store.add_records(connection, records)
    return [DueFeed(s, r, timedelta(minutes=15)) for s, r in zip(sources, records, strict=True)]


def test_two_nodes_claiming_at_once_never_share_a_feed_and_a_dead_ones_feeds_are_retaken(
    engine,
) -> None:
    due = _due_feeds(engine, 60)
    a, b = (Node(engine, name, "ingest", LEASE) for name in ("node-a", "node-b"))
    for node in (a, b):
        node.start()
    try:
        claimed: dict[str, list[DueFeed]] = {}
        start = threading.Barrier(2)

        def claim(node: Node) -> None:
            start.wait()
            claimed[node.id] = node.claim(due, force=False)

        threads = [threading.Thread(target=claim, args=(n,)) for n in (a, b)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        urls_a = {d.source.url for d in claimed["node-a"]}
        urls_b = {d.source.url for d in claimed["node-b"]}
        assert not urls_a & urls_b and len(urls_a | urls_b) == 60
        # while a lives (its heartbeat extends its leases), b cannot take a's feeds
        a.beat()
        assert {d.source.url for d in b.claim(due, force=True)} == urls_b
        # a dies without a word (as kill -9): a lease period later, b takes its feeds
        a._stop.set()
        time.sleep(LEASE.total_seconds() * 1.5)
        b.beat()
        retaken = {d.source.url for d in b.claim(due, force=True)}
        assert retaken == urls_a | urls_b
    finally:
        b.stop()


def test_a_node_whose_lease_ran_out_mid_poll_leaves_the_new_owners_lease(engine) -> None:
    """a claims a feed and stalls past its lease; b takes it; a's late save must not
    clear b's lease (else a third node could poll the feed while b does)."""
    due = _due_feeds(engine, 1)
    a, b = (Node(engine, name, "ingest", LEASE) for name in ("node-a", "node-b"))
    b.start()
    try:
        now = datetime.now(UTC)
        with engine.begin() as connection:  # a's lease, already run out
            feed_store.save_records(connection, [due[0].record])
            connection.execute(
                feed_store.feeds.update().values(lease_owner=a.id, lease_until=now - LEASE)
            )
        assert [d.source.url for d in b.claim(due, force=True)] == [due[0].source.url]
        with engine.begin() as connection:  # a finishes its poll late
            feed_store.save_records(connection, [due[0].record], owner=a.id)
        assert b.claim(due, force=True)  # still b's: b may poll it
        assert a.claim(due, force=True) == []  # and a cannot take it back
        with engine.begin() as connection:  # b's own save gives the lease back
            feed_store.save_records(connection, [due[0].record], owner=b.id)
        assert [d.source.url for d in a.claim(due, force=True)] == [due[0].source.url]
    finally:
        b.stop()


def test_one_node_at_a_time_delivers_a_sink(engine) -> None:
    a, b = Node(engine, "node-a", "run", LEASE), Node(engine, "node-b", "run", LEASE)
    with a.sink("email:desk@example.org") as mine_a, b.sink("email:desk@example.org") as mine_b:
        assert mine_a and not mine_b
    with b.sink("email:desk@example.org") as mine_b:
        assert mine_b  # given back at the end of a's delivery


def test_healthz_lists_the_live_nodes_with_their_leases(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'nw.db'}")
    node = Node(engine, "web-1", "run", LEASE)
    node.start()
    try:
        with node.sink("log") as mine:
            assert mine
            _status, body = health(engine, Registry(), ("log",), lease=LEASE)
    finally:
        node.stop()
        engine.dispose()
    [listed] = body["nodes"]
    assert listed["id"] == "web-1" and listed["role"] == "run"
    assert listed["sinks_leased"] == ["log"] and listed["pid"] == os.getpid()


def test_a_seed_folder_marked_for_another_node_is_not_scanned_here(tmp_path: Path) -> None:
    config = Config.model_validate(
        {
            "sources": {
                "seeds": [
                    {"path": str(tmp_path / "mine"), "name": "mine", "node": "web-1"},
                    {"path": str(tmp_path / "theirs"), "name": "theirs", "node": "web-2"},
                    {"path": str(tmp_path / "any"), "name": "any"},
                ]
            }
        }
    )
    pipeline = SimpleNamespace(node=SimpleNamespace(id="web-1"), rescan_seeds=print)
    scheduler = new_scheduler()
    schedule_sources(scheduler, config, pipeline)  # type: ignore[arg-type]
    assert sorted(job.id for job in scheduler.get_jobs()) == [
        "source:seeds:any",
        "source:seeds:mine",
    ]


def test_two_nodes_delivering_at_once_send_one_digest(
    tmp_path: Path, migrated_postgres_url: str
) -> None:
    folder = tmp_path / "seeds"
    folder.mkdir()
    for name in ("a", "b", "c"):
        text = seed_text(f"Talks {name}", f"Biden met Kosachev ({name}).", f"https://x.org/{name}")
        (folder / f"{name}.txt").write_text(text)
    smtp = SmtpServer()
    smtp.handler.delay = 1.0  # a slow server: both nodes would be mid-send together
    smtp.start()
    extra = (
        "alerts:\n  - type: email\n    to: [desk@example.org]\n    from: nw@example.org\n"
        f"    smtp: {{host: 127.0.0.1, port: {smtp.port}}}\n    mode: digest\n    every: 1h\n"
    )
    config = load_config(write_config(tmp_path, migrated_postgres_url, folder, extra))
    created = datetime(2024, 11, 14, 6, 30, tzinfo=UTC)
    later = datetime(2024, 11, 14, 7, 0, 1, tzinfo=UTC)
    engines = [open_database(migrated_postgres_url) for _ in range(2)]
    pipelines = []
    for number, engine in enumerate(engines):
        clock = (lambda: created) if number == 0 else (lambda: later)
        pipeline = Pipeline(engine, compile_config(config), build_sinks(config), clock=clock)
        pipeline.node = Node(engine, f"node-{number}", "run", LEASE)
        pipeline.node.start()
        pipelines.append(pipeline)
    try:
        pipelines[0].wake_delivery = lambda: None
        assert pipelines[0].refresh_seeds(config.sources.seeds[0]).alerts == 6
        pipelines[0].clock = lambda: later
        start = threading.Barrier(2)
        reports = []

        def deliver(pipeline: Pipeline) -> None:
            start.wait()
            reports.append(pipeline.deliver())

        threads = [threading.Thread(target=deliver, args=(p,)) for p in pipelines]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        for pipeline in pipelines:
            assert pipeline.node is not None
            pipeline.node.stop()
            pipeline.close()
        for engine in engines:
            engine.dispose()
        smtp.stop()
    assert len(smtp.received) == 1, [m.subject for m in smtp.received]
    assert sorted(r.sent for r in reports) == [0, 6]
