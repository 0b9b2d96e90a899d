"""This process as a node: its id, its heartbeat, and the leases it takes.

On PostgreSQL several nodes share the work: each claims due feeds of its
share of the hosts, and one node at a time delivers a sink. On SQLite there
is one daemon (it holds a lock on the file) and feeds are not claimed:
`claim` hands back every due feed; sinks are still leased, so `ingest`
beside the daemon never delivers a sink the daemon is delivering.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from newswatch.dedup.keys import sha256_hex
from newswatch.feedcycle import DueFeed
from newswatch.log import get_logger
from newswatch.ops.procs import pid_alive
from newswatch.store import leases
from newswatch.store.db import DatabaseError, database_error
from newswatch.store.feeds import FeedRecord

log = get_logger(__name__)

FORGET_AFTER = timedelta(days=1)  # a node silent this long is dropped from `newswatch nodes`


def default_node_id() -> str:
    """hostname-pid-random: unique even when a pid is reused after a restart."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


def _now() -> datetime:
    return datetime.now(UTC)


class Node:
    """Registers this process, beats every third of a lease, and claims work."""

    def __init__(self, engine: Engine, node_id: str | None, role: str, lease: timedelta) -> None:
        self.engine = engine
        self.id = node_id or default_node_id()
        self.role = role
        self.lease = lease
        self.shared = engine.dialect.name == "postgresql"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Register and start beating; raises DatabaseError if the database refuses."""
        try:
            with self.engine.begin() as connection:
                leases.forget_dead(connection, _now() - FORGET_AFTER)
                self._reap_neighbours(connection)
                leases.register(connection, self.identity(), _now())
        except SQLAlchemyError as exc:
            raise DatabaseError(
                f"cannot register this node: {database_error(self.engine, exc)}"
            ) from None
        self._thread = threading.Thread(target=self._beat, name="newswatch-heartbeat", daemon=True)
        self._thread.start()

    def identity(self) -> leases.Identity:
        return leases.Identity(self.id, self.role, socket.gethostname(), os.getpid(), _machine())

    def _reap_neighbours(self, connection: Connection) -> None:
        """Free at once the leases of a node of this machine whose process is gone (a daemon
        restarted after kill -9 need not wait a lease period for its own sinks)."""
        machine = _machine()
        if machine.endswith(":unknown"):
            return
        for node_id, pid in leases.neighbours(connection, machine, self.id):
            if pid == os.getpid() or not pid_alive(pid):  # our pid now: its owner is gone
                leases.deregister(connection, node_id)
                log.info("node_reaped", dead_node=node_id, pid=pid)

    def stop(self) -> None:
        """Give every lease back and leave the list of nodes (a clean stop)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        try:
            with self.engine.begin() as connection:
                leases.deregister(connection, self.id)
        except SQLAlchemyError as exc:
            log.warning("node_deregister_failed", error=database_error(self.engine, exc))

    def _beat(self) -> None:
        pause = self.lease.total_seconds() / 3
        while not self._stop.wait(pause):
            self.beat()

    def beat(self) -> None:
        now = _now()
        try:
            with self.engine.begin() as connection:
                known = leases.heartbeat(connection, self.id, now, now + self.lease)
                if not known:  # forgotten while cut off for a day: come back
                    leases.register(connection, self.identity(), now)
        except SQLAlchemyError as exc:
            log.warning(
                "node_heartbeat_failed",
                error=database_error(self.engine, exc),
                hint=f"other nodes take this node's work {self.lease.total_seconds():g}s "
                "after its last heartbeat",
            )

    def claim(self, due: Sequence[DueFeed], *, force: bool) -> list[DueFeed]:
        """The due feeds this node polls now, each with its state as stored at the claim."""
        if not self.shared or not due:
            return list(due)
        now = _now()
        by_hash = {sha256_hex(d.source.url): d for d in due}
        with self.engine.begin() as connection:
            share = None
            if self.role == leases.DAEMON:
                live = leases.live_daemons(connection, now - self.lease)
                if self.id not in live:  # silent too long: the others have taken our share
                    return []
                share = (live.index(self.id), len(live))
            claimed = leases.claim_feeds(
                connection, self.id, list(by_hash), now, now + self.lease, share=share, force=force
            )
        return [_with_record(by_hash[sha256_hex(r.state.url)], r) for r in claimed]

    def release(self, due: Sequence[DueFeed]) -> None:
        """Give back claimed feeds that were not polled (a stop mid-cycle)."""
        if not self.shared or not due:
            return
        hashes = [sha256_hex(d.source.url) for d in due]
        try:
            with self.engine.begin() as connection:
                leases.release_feeds(connection, self.id, hashes)
        except SQLAlchemyError as exc:
            log.warning(
                "feed_release_failed", feeds=len(hashes), error=database_error(self.engine, exc)
            )

    @contextlib.contextmanager
    def sink(self, key: str) -> Iterator[bool]:
        """Hold the sink's lease while delivering; yields False if another node holds it.

        On SQLite too: `ingest` beside the daemon then never sends what the daemon sends.
        """
        now = _now()
        with self.engine.begin() as connection:
            held = leases.acquire_sink(connection, self.id, key, now, now + self.lease)
        try:
            yield held
        finally:
            if held:
                with self.engine.begin() as connection:
                    leases.release_sink(connection, self.id, key)


def _machine() -> str:
    """This boot of this machine and this PID namespace: where a pid means the same process."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return f"{socket.gethostname()}:unknown"  # pids cannot be trusted: never reaped early
    return f"{socket.gethostname()}:{boot}:{namespace}"


def _with_record(due: DueFeed, record: FeedRecord) -> DueFeed:
    return DueFeed(due.source, record, due.interval)
