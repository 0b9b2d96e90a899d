"""The status endpoint: GET /healthz (JSON) and GET /metrics (Prometheus text).

A standard-library `ThreadingHTTPServer` in a daemon thread. It only reads:
the metrics registry, and the database for a `SELECT 1` and the number of
alerts still waiting for a sink. Any failure to start is one StatusServerError
line; the daemon logs it and runs on without the endpoint.
"""

from __future__ import annotations

import errno
import json
import socket
import socketserver
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from newswatch import __version__
from newswatch.alerts.status import FAILING_AFTER, SinkStatus, failing_sinks
from newswatch.config.schema import HttpServer
from newswatch.listen import StatusServerError, parse_listen
from newswatch.log import get_logger
from newswatch.ops.metrics import (
    REGISTRY,
    Backlog,
    DatabaseCollector,
    Registry,
    feed_statuses,
)
from newswatch.ops.status import FEED_WORDS
from newswatch.store import deliveries, leases
from newswatch.store import feeds as feed_store
from newswatch.store.db import database_error

REQUEST_TIMEOUT_S = 10.0
TEXT = "text/plain; charset=utf-8"
JSON = "application/json"

log = get_logger(__name__)


@dataclass(frozen=True)
class StatusServer:
    """A running endpoint; `stop()` closes it."""

    listen: str
    server: _Server
    thread: threading.Thread

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=2.0)


@dataclass
class HealthSettings:
    """What /healthz needs beyond the database: the configured sinks and when one is failing."""

    sinks: Callable[[], Sequence[str]] = tuple
    failing_after: timedelta = FAILING_AFTER
    lease: timedelta | None = None  # the nodes' lease: who is live; None shows no nodes


def start(
    listen: str,
    engine: Engine,
    registry: Registry = REGISTRY,
    settings: HealthSettings | None = None,
) -> StatusServer:
    """Serve /healthz and /metrics on `listen` from a daemon thread; raises StatusServerError."""
    host, port = parse_listen(listen)
    family, address = _resolve(listen, host, port)
    try:
        server = _Server(address, family, engine, registry, settings or HealthSettings())
    except OSError as exc:
        raise StatusServerError(
            f"cannot serve http on {listen} (http.listen): {_why(exc)}"
        ) from None
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True, name="http"
    )
    thread.start()
    return StatusServer(listen, server, thread)


def _resolve(listen: str, host: str, port: int) -> tuple[socket.AddressFamily, tuple[Any, ...]]:
    try:
        found = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        raise StatusServerError(
            f"http.listen {listen!r}: cannot resolve {host!r} ({exc.strerror}); "
            "use an IP address such as 127.0.0.1"
        ) from None
    family, _type, _proto, _name, address = found[0]
    return family, address


def _why(exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return "the address is already in use; stop the program using it or pick another port"
    if exc.errno == errno.EADDRNOTAVAIL:
        return "no interface of this machine has that address; use 127.0.0.1 or one of its own"
    if exc.errno == errno.EACCES:
        return "permission denied; ports below 1024 need privileges, pick a port above 1024"
    return f"{exc.strerror or exc}; check the address"


class StatusEndpoint:
    """The daemon's endpoint across reloads: follows `http.listen`, never raises."""

    def __init__(
        self,
        engine: Engine,
        registry: Registry = REGISTRY,
        sinks: Callable[[], Sequence[str]] = tuple,
        lease: timedelta | None = None,
    ) -> None:
        self.engine = engine
        self.registry = registry
        self.settings = HealthSettings(sinks, lease=lease)
        self.running: StatusServer | None = None

    def apply(self, http: HttpServer | None) -> None:
        """Start, move or stop the server for this config; unchanged `listen` keeps it as is."""
        listen = http.listen if http is not None else None
        if http is not None:
            self.settings.failing_after = http.sink_failing_after
        if self.running is not None and self.running.listen == listen:
            return
        if listen is None:
            self.stop()
            return
        server = self._start(listen, quiet=self.running is not None)
        if server is None and self.running is not None:
            # the old server may hold the port the new address wants: free it, try again,
            # and if the new address still cannot be served, bring the old one back
            previous = self.running.listen
            self.stop()
            server = self._start(listen) or self._start(previous)
        if server is not None:
            self.stop()
            self.running = server
            log.info("http_server_started", url=server.url)

    def _start(self, listen: str, *, quiet: bool = False) -> StatusServer | None:
        try:
            return start(listen, self.engine, self.registry, self.settings)
        except StatusServerError as exc:
            if not quiet:
                log.error(
                    "http_server_failed", error=str(exc), running_without="/healthz, /metrics"
                )
            return None

    def stop(self) -> None:
        if self.running is not None:
            self.running.stop()
            log.info("http_server_stopped", url=self.running.url)
            self.running = None


def read_backlog(engine: Engine, registry: Registry) -> Backlog:
    """The outbox backlog per sink and the configured feeds by status, for /metrics."""
    labels, now = registry.labels, datetime.now(UTC)
    with engine.connect() as connection:
        pending = deliveries.backlog(connection)
        feeds = feed_store.count_by_status(connection, labels.feed_urls)
    by_sink = {
        labels.sink(key): (count, (now - oldest).total_seconds() if oldest else None)
        for key, (count, oldest) in pending.items()
    }
    for label in labels.sinks.values():
        by_sink.setdefault(label, (0, None))
    return Backlog(pending=by_sink, feeds=feed_statuses(feeds, list(FEED_WORDS)))


def health(
    engine: Engine,
    registry: Registry,
    sinks: Sequence[str] = (),
    failing_after: timedelta = FAILING_AFTER,
    lease: timedelta | None = None,
) -> tuple[int, dict[str, Any]]:
    """The /healthz answer: (HTTP status, JSON body).

    A sink failing as a whole (every delivery attempt) for longer than
    `failing_after` makes the status `degraded`, as a failing source does.
    """
    database, pending, statuses = _check_database(engine, sinks)
    sources = {
        name: {
            "last_refresh": _iso(state.last_refresh),
            "status": state.status,
            "last_error": state.last_error,
        }
        for name, state in sorted(registry.sources().items())
    }
    now = datetime.now(UTC)
    failing = any(state["status"] == "error" for state in sources.values())
    failing = failing or bool(failing_sinks(statuses, now, failing_after))
    body: dict[str, Any] = {
        "status": "ok" if database == "ok" and not failing else "degraded",
        "version": __version__,
        "uptime_s": round(registry.uptime_s, 1),
        "database": database,
        "sources": sources,
        "pending_alerts": pending,
        "sinks": {status.sink: status.record(now) for status in statuses},
    }
    if lease is not None and database == "ok":
        body["nodes"] = _nodes(engine, now, lease)
    return (200 if database == "ok" else 503), body


def _check_database(
    engine: Engine, sinks: Sequence[str]
) -> tuple[str, int | None, list[SinkStatus]]:
    """`ok`, the number of alerts some sink still waits for and each sink's outbox;
    or the error line, None and nothing."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            pending = deliveries.count_undelivered(connection)
            return "ok", pending, deliveries.sink_statuses(connection, sinks, datetime.now(UTC))
    except SQLAlchemyError as exc:
        return database_error(engine, exc), None, []


def _nodes(engine: Engine, now: datetime, lease: timedelta) -> list[dict[str, Any]] | None:
    """Live nodes with their leases (several nodes on one PostgreSQL)."""
    try:
        with engine.connect() as connection:
            rows = leases.node_rows(connection, now)
    except SQLAlchemyError:
        return None
    return [row.record(now) for row in rows if row.live(now, lease)]


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(
        self,
        address: tuple[Any, ...],
        family: socket.AddressFamily,
        engine: Engine,
        registry: Registry,
        settings: HealthSettings,
    ) -> None:
        self.address_family = family
        self.engine = engine
        self.registry = registry
        self.settings = settings
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        """As HTTPServer's, without its reverse DNS lookup of the address (slow offline)."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = f"newswatch/{__version__}"
    sys_version = ""
    timeout = REQUEST_TIMEOUT_S

    def do_GET(self) -> None:
        self._answer(*self._route(), body=True)

    def do_HEAD(self) -> None:
        self._answer(*self._route(), body=False)

    def _not_allowed(self) -> None:
        self._answer(HTTPStatus.METHOD_NOT_ALLOWED, TEXT, b"only GET and HEAD\n", body=True)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_allowed

    def _route(self) -> tuple[int, str, bytes]:
        path = urlsplit(self.path).path
        try:
            if path == "/healthz":
                server = self.server
                settings = server.settings
                status, report = health(
                    server.engine,
                    server.registry,
                    settings.sinks(),
                    settings.failing_after,
                    settings.lease,
                )
                return status, JSON, json.dumps(report, ensure_ascii=False).encode() + b"\n"
            if path == "/metrics":
                server = self.server
                from_database = DatabaseCollector(
                    partial(read_backlog, server.engine, server.registry)
                )
                accept = self.headers.get("Accept")
                content_type, body = server.registry.exposition(accept, from_database)
                return HTTPStatus.OK, content_type, body
            return HTTPStatus.NOT_FOUND, TEXT, b"not found; try /healthz or /metrics\n"
        except Exception as exc:  # a broken page must not take the server down
            log.error("http_request_failed", path=path, error=repr(exc))
            return HTTPStatus.INTERNAL_SERVER_ERROR, TEXT, b"internal error; see the daemon log\n"

    def _answer(self, status: int, content_type: str, payload: bytes, *, body: bool) -> None:
        try:
            self.send_response(status)
            if status == HTTPStatus.METHOD_NOT_ALLOWED:
                self.send_header("Allow", "GET, HEAD")
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if body:
                self.wfile.write(payload)
        except ConnectionError:
            pass  # the client went away; nothing to tell it

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http_request", client=self.client_address[0], line=format % args)
