"""Which fetch a free fetching thread takes next: the per-host limit, kept by scheduling.

A thread never waits for a busy host while another host's feed could go: it takes
the first request (in the order given) whose host has fewer than `per_host` under
way. A thread that finishes takes the next one itself, so nobody needs waking
then (a slot given back lets one more request go, and it takes it); the others
are woken only when a slot is given back otherwise (a redirect to another host)
or one is waited for by a redirect, when nothing is left to wait for, or when
the run is stopped.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Sequence


class Stopped(Exception):
    """The queue was closed (the run is stopping): take nothing more."""


class HostQueue:
    """Request indexes by host, handed out within the per-host limit (thread-safe)."""

    def __init__(self, hosts: Sequence[str], per_host: int) -> None:
        self.hosts = hosts  # the host of each request, by index
        self._limit = per_host
        self._waiting: dict[str, deque[int]] = {}  # in the order of each host's first request
        for index, host in enumerate(hosts):
            self._waiting.setdefault(host, deque()).append(index)
        self._busy: Counter[str] = Counter()
        self._changed = threading.Condition()
        self._closed = False
        self._hopping = 0  # threads waiting in hop() for a host's slot

    def next(self, done_host: str | None = None) -> int | None:
        """Give back the slot of the request just done (on `done_host`), then take the
        next request whose host has room, waiting for one; None once none is left."""
        with self._changed:
            if done_host is not None:
                self._busy[done_host] -= 1
                if self._hopping:
                    self._changed.notify_all()
            while self._waiting and not self._closed:
                for host, indexes in self._waiting.items():
                    if self._busy[host] < self._limit:
                        self._busy[host] += 1
                        index = indexes.popleft()
                        if not indexes:
                            del self._waiting[host]
                            if not self._waiting:
                                self._changed.notify_all()  # nothing left: the idle may go
                        return index
                self._changed.wait()
            return None

    def hop(self, from_host: str, to_host: str) -> None:
        """A redirect: give back `from_host`'s slot and wait for one of `to_host`."""
        if from_host == to_host:
            return
        with self._changed:
            self._busy[from_host] -= 1
            self._changed.notify_all()
            self._hopping += 1
            try:
                while self._busy[to_host] >= self._limit:
                    if self._closed:
                        raise Stopped
                    self._changed.wait()
            finally:
                self._hopping -= 1
            self._busy[to_host] += 1

    def close(self) -> None:
        """Hand out nothing more, and wake every thread that waits."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
