"""Total deadlines for blocking HTTP exchanges: a watcher cuts the socket of a late one.

A blocking read with a timeout is bounded per read, not in total: a server that
drips a byte now and then keeps it going for ever. So every fetch runs under a
`Deadline`, the connection it is using is known to it (urllib3 connections of the
classes below claim the deadline of the thread that sends a request on them), and
the thread that runs the fetching calls `Deadlines.cut_expired` now and then: a
late fetch's socket is shut down, its blocked read returns at once, and the fetch
sees `deadline.cut`. Stopping cuts every fetch under way the same way.

A connection is cut only while it still serves the deadline that expired; one cut
after its answer was read (back in its pool, or taken by another fetch that has
not yet sent on it) is closed and opened anew by its next request, never used as is.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

from urllib3 import HTTPConnectionPool, HTTPResponse, HTTPSConnectionPool, PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection

_LOCK = threading.Lock()  # which deadline a connection serves, and cutting it
_current = threading.local()  # the deadline of the fetch this thread is running


class Deadline:
    """One fetch's total deadline (time.monotonic), and the connection it is using."""

    __slots__ = ("at", "connection", "cut", "sock")

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self.cut = False  # set (before its socket is shut) once it expired or was stopped
        self.connection: HTTPConnection | None = None
        # the socket its answer comes on: an answer that ends with the connection (no
        # length given, or "Connection: close") takes the socket from the connection
        self.sock: socket.socket | None = None

    def left(self) -> float:
        return self.at - time.monotonic()


class Deadlines:
    """The deadlines of the fetches under way in one run of the fetching."""

    def __init__(self) -> None:
        self._watched: set[Deadline] = set()

    @contextlib.contextmanager
    def watching(self, deadline: Deadline) -> Iterator[None]:
        """Run a fetch (in this thread) under `deadline`."""
        _current.deadline = deadline
        with _LOCK:
            self._watched.add(deadline)
        try:
            yield
        finally:
            with _LOCK:
                self._watched.discard(deadline)
            _current.deadline = None

    def cut_expired(self) -> float | None:
        """Cut every fetch past its deadline (again: one that was still connecting has a
        socket now); the earliest deadline not yet passed, if any."""
        now, earliest = time.monotonic(), None
        with _LOCK:
            for deadline in self._watched:
                if deadline.at <= now:
                    _cut(deadline)
                elif earliest is None or deadline.at < earliest:
                    earliest = deadline.at
        return earliest

    def cut_all(self) -> None:
        with _LOCK:
            for deadline in self._watched:
                _cut(deadline)


def _cut(deadline: Deadline) -> None:
    """Shut the socket of the connection `deadline` uses (with _LOCK held)."""
    deadline.cut = True
    connection = deadline.connection
    if connection is None or getattr(connection, "serves", None) is not deadline:
        return
    sock = connection.sock or deadline.sock
    # through an https proxy (TLS in TLS) urllib3's SSLTransport, which has no shutdown():
    # the proxy's socket under it is shut
    sock = getattr(sock, "socket", sock)
    if sock is not None:
        connection.was_cut = True  # type: ignore[attr-defined]
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _claim(connection: HTTPConnection) -> None:
    """`connection` is about to send a request of this thread's fetch."""
    deadline: Deadline | None = getattr(_current, "deadline", None)
    with _LOCK:
        if getattr(connection, "was_cut", False):  # cut for an earlier fetch: open anew
            _reopen(connection)
        connection.serves = deadline  # type: ignore[attr-defined]
        if deadline is not None:
            deadline.connection, deadline.sock = connection, None
            if deadline.cut:
                raise TimeoutError("the fetch's deadline passed")


def _reopen(connection: HTTPConnection) -> None:
    """Close `connection` so that its request connects anew, through the same tunnel if
    it had one: urllib3's close() forgets the tunnel (it is set up again only for a
    connection found closed before the request), so a connection to an https origin
    through a proxy would reconnect to the proxy itself and speak TLS to it."""
    tunnel = connection._tunnel_host, connection._tunnel_port, connection._tunnel_scheme
    connection.close()
    connection._tunnel_host, connection._tunnel_port, connection._tunnel_scheme = tunnel


def _closed(connection: HTTPConnection) -> None:
    """`connection` was closed (by its response, its pool, or urllib3 finding it dropped):
    its next request opens it anew anyway, and any tunnel is set up again by urllib3."""
    connection.was_cut = False  # type: ignore[attr-defined]


def _answering(connection: HTTPConnection) -> None:
    """`connection` is about to read its answer, on the socket it has now."""
    deadline: Deadline | None = getattr(_current, "deadline", None)
    if deadline is not None:
        with _LOCK:
            deadline.sock = connection.sock


class _WatchedHTTPConnection(HTTPConnection):
    was_cut = False

    def close(self) -> None:
        super().close()
        _closed(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _claim(self)
        super().request(*args, **kwargs)

    def getresponse(self) -> HTTPResponse:  # type: ignore[override]
        _answering(self)
        return super().getresponse()


class _WatchedHTTPSConnection(_WatchedHTTPConnection, HTTPSConnection):
    """The same watch over TLS (its methods come first in the order: HTTPS's follow)."""


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


def watched(manager: PoolManager) -> PoolManager:
    """`manager` (or a ProxyManager), its pools made of connections that deadlines can cut."""
    manager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}
    return manager
