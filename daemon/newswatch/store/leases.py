"""Nodes and their leases on feeds and sinks (several nodes on one PostgreSQL).

A node is live while its heartbeat is younger than one lease period. Each
heartbeat also extends every lease the node holds, so a lease outlives a
slow fetch but ends within one lease period of the node's death. Claims use
`FOR UPDATE SKIP LOCKED`: two nodes claiming at once never wait for each
other nor take the same row, and a feed is claimed only while still due, so
one that another node has just polled is not polled again.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, delete, func, or_, select, update

from newswatch.model import iso_utc
from newswatch.store.dialect import insert_ignoring_conflicts, upsert
from newswatch.store.feeds import FeedRecord, record_from_row
from newswatch.store.tables import feeds, nodes, sink_state

DAEMON = "run"


@dataclass(frozen=True, slots=True)
class NodeRow:
    """A node as `newswatch nodes` and /healthz show it."""

    id: str
    role: str
    hostname: str
    pid: int
    started_at: datetime
    heartbeat: datetime
    feeds: int  # feeds it holds a lease on now
    sinks: tuple[str, ...]  # sinks it is delivering now

    def live(self, now: datetime, lease: timedelta) -> bool:
        return self.heartbeat > now - lease

    def record(self, now: datetime) -> dict[str, Any]:
        """As JSON: `newswatch nodes --json` and /healthz."""
        return {
            "id": self.id,
            "role": self.role,
            "hostname": self.hostname,
            "pid": self.pid,
            "started_at": iso_utc(self.started_at),
            "last_heartbeat": iso_utc(self.heartbeat),
            "heartbeat_age_s": round((now - self.heartbeat).total_seconds(), 1),
            "feeds_leased": self.feeds,
            "sinks_leased": list(self.sinks),
        }


@dataclass(frozen=True, slots=True)
class Identity:
    """Where a node runs: `machine` tells whether its pid can be checked from here."""

    id: str
    role: str
    hostname: str
    pid: int
    machine: str


def register(connection: Connection, node: Identity, now: datetime) -> None:
    row = {
        "id": node.id,
        "role": node.role,
        "hostname": node.hostname,
        "pid": node.pid,
        "machine": node.machine,
        "started_at": now,
        "heartbeat": now,
    }
    connection.execute(upsert(connection, nodes, ["id"]), [row])


def heartbeat(connection: Connection, node_id: str, now: datetime, until: datetime) -> bool:
    """Say this node lives and extend its leases; False if its row is gone (it was forgotten)."""
    beat = connection.execute(update(nodes).where(nodes.c.id == node_id).values(heartbeat=now))
    connection.execute(
        update(feeds).where(feeds.c.lease_owner == node_id).values(lease_until=until)
    )
    connection.execute(
        update(sink_state).where(sink_state.c.lease_owner == node_id).values(lease_until=until)
    )
    return bool(beat.rowcount)


def deregister(connection: Connection, node_id: str) -> None:
    """A clean stop: give every lease back at once and leave the list of nodes."""
    connection.execute(
        update(feeds)
        .where(feeds.c.lease_owner == node_id)
        .values(lease_owner=None, lease_until=None)
    )
    connection.execute(
        update(sink_state)
        .where(sink_state.c.lease_owner == node_id)
        .values(lease_owner=None, lease_until=None)
    )
    connection.execute(delete(nodes).where(nodes.c.id == node_id))


def neighbours(connection: Connection, machine: str, node_id: str) -> list[tuple[str, int]]:
    """(id, pid) of the other nodes registered from this machine (same boot, PID namespace)."""
    query = select(nodes.c.id, nodes.c.pid).where(nodes.c.machine == machine, nodes.c.id != node_id)
    return [(row.id, row.pid) for row in connection.execute(query)]


def forget_dead(connection: Connection, before: datetime) -> int:
    """Drop nodes silent since `before` (long dead): their leases have long expired."""
    return int(connection.execute(delete(nodes).where(nodes.c.heartbeat < before)).rowcount or 0)


def live_daemons(connection: Connection, since: datetime) -> list[str]:
    """Ids of the daemons that beat since `since`, sorted: who shares the hosts."""
    query = (
        select(nodes.c.id)
        .where(nodes.c.role == DAEMON, nodes.c.heartbeat > since)
        .order_by(nodes.c.id)
    )
    return list(connection.execute(query).scalars())


def claim_feeds(
    connection: Connection,
    node_id: str,
    url_hashes: Sequence[str],
    now: datetime,
    until: datetime,
    *,
    share: tuple[int, int] | None,
    force: bool = False,
) -> list[FeedRecord]:
    """Lease those of these feeds that are free (and still due unless `force`); PostgreSQL.

    `share` (my index, live daemons) keeps only the hosts this node polls.
    Returns the claimed feeds' records as stored now (another node may have
    polled them since the caller read them).
    """
    if not url_hashes:
        return []
    free = or_(
        feeds.c.lease_until.is_(None), feeds.c.lease_until < now, feeds.c.lease_owner == node_id
    )
    wanted = select(feeds.c.url_hash).where(feeds.c.url_hash.in_(list(url_hashes)), free)
    if not force:
        wanted = wanted.where(or_(feeds.c.next_poll.is_(None), feeds.c.next_poll <= now))
    if share is not None:
        index, count = share
        wanted = wanted.where(func.coalesce(feeds.c.host_slot, 0) % count == index)
    picked = wanted.with_for_update(skip_locked=True).cte("picked")
    claim = (
        update(feeds)
        .where(feeds.c.url_hash == picked.c.url_hash)
        .values(lease_owner=node_id, lease_until=until)
        .returning(*feeds.c)
    )
    return [record_from_row(row) for row in connection.execute(claim)]


def release_feeds(connection: Connection, node_id: str, url_hashes: Collection[str]) -> None:
    """Give back feeds claimed but not polled (a stop); their state is unchanged."""
    if url_hashes:
        connection.execute(
            update(feeds)
            .where(feeds.c.lease_owner == node_id, feeds.c.url_hash.in_(list(url_hashes)))
            .values(lease_owner=None, lease_until=None)
        )


def acquire_sink(
    connection: Connection, node_id: str, sink: str, now: datetime, until: datetime
) -> bool:
    """Become the one node delivering `sink`, unless another live node is at it."""
    connection.execute(
        insert_ignoring_conflicts(connection, sink_state), [{"sink": sink, "failures": 0}]
    )
    free = or_(
        sink_state.c.lease_until.is_(None),
        sink_state.c.lease_until < now,
        sink_state.c.lease_owner == node_id,
    )
    taken = connection.execute(
        update(sink_state)
        .where(and_(sink_state.c.sink == sink, free))
        .values(lease_owner=node_id, lease_until=until)
    )
    return bool(taken.rowcount)


def release_sink(connection: Connection, node_id: str, sink: str) -> None:
    connection.execute(
        update(sink_state)
        .where(sink_state.c.sink == sink, sink_state.c.lease_owner == node_id)
        .values(lease_owner=None, lease_until=None)
    )


def node_rows(connection: Connection, now: datetime) -> list[NodeRow]:
    """Every known node with the leases it holds now, oldest first."""
    counts: dict[str, int] = dict(
        connection.execute(
            select(feeds.c.lease_owner, func.count())
            .where(feeds.c.lease_owner.is_not(None), feeds.c.lease_until >= now)
            .group_by(feeds.c.lease_owner)
        ).all()
    )
    sinks: dict[str, list[str]] = {}
    held = select(sink_state.c.lease_owner, sink_state.c.sink).where(
        sink_state.c.lease_owner.is_not(None), sink_state.c.lease_until >= now
    )
    for owner, sink in connection.execute(held):
        sinks.setdefault(owner, []).append(sink)
    query = select(nodes).order_by(nodes.c.started_at, nodes.c.id)
    return [
        NodeRow(
            id=row.id,
            role=row.role,
            hostname=row.hostname,
            pid=row.pid,
            started_at=row.started_at,
            heartbeat=row.heartbeat,
            feeds=int(counts.get(row.id, 0)),
            sinks=tuple(sorted(sinks.get(row.id, []))),
        )
        for row in connection.execute(query)
    ]
