"""A real HTTP server on loopback for feed tests and benchmarks: canned replies and faults.

Plain functions and values: `start(hosts)` binds a threaded `http.server` on one
port of each loopback address given (127.0.0.2 and up all reach this machine
on Linux, so per-host limits can be exercised), `set_route(server, path, reply)`
says what a path answers, and the helpers below build replies: feeds with
ETag/Last-Modified and 304s, redirects, statuses with Retry-After, a server that
never answers, an endless body, a slow drip (of the body, or of the headers), a
gzip bomb, per-request latency.

Run as a script it serves a folder of feed files (for benchmarks, in its own
process): `python tests/feedserver.py DIR [--hosts N] [--latency S]`.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import http.server
import select
import socket
import socketserver
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Literal

Behaviour = Literal["normal", "hang", "endless", "drip", "drip-headers"]


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    delay: float = 0.0
    behaviour: Behaviour = "normal"


@dataclass(frozen=True)
class Seen:
    host: str
    path: str
    headers: dict[str, str]


Route = Reply | Callable[[Seen], Reply]


@dataclass
class FeedServer:
    port: int
    hosts: tuple[str, ...]
    routes: dict[str, Route] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    in_flight: Counter[str] = field(default_factory=Counter)
    peak_per_host: Counter[str] = field(default_factory=Counter)
    peak_overall: int = 0
    connections: int = 0  # TCP connections accepted, all hosts
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    servers: list[http.server.ThreadingHTTPServer] = field(default_factory=list)

    def url(self, path: str, host: str | None = None) -> str:
        return f"http://{host or self.hosts[0]}:{self.port}{path}"


def start(hosts: Sequence[str] = ("127.0.0.1",)) -> FeedServer:
    """Serve on one free port of every host given, each in its own thread."""
    for _ in range(20):
        port = _free_port(hosts[0])
        try:
            servers = [_bind(host, port) for host in hosts]
        except OSError:
            continue
        server = FeedServer(port=port, hosts=tuple(hosts), servers=servers)
        for bound in servers:
            bound.feed_server = server  # type: ignore[attr-defined]
            threading.Thread(target=bound.serve_forever, args=(0.05,), daemon=True).start()
        return server
    raise OSError(f"no port free on all of {list(hosts)}")


def stop(server: FeedServer) -> None:
    server.stopping.set()
    closing = [threading.Thread(target=bound.shutdown) for bound in server.servers]
    for thread in closing:
        thread.start()
    for thread in closing:
        thread.join()
    for bound in server.servers:
        bound.server_close()


def loopback_hosts(count: int) -> list[str]:
    """127.0.0.1, 127.0.0.2, ...: distinct hosts, all this machine."""
    return [f"127.0.{1 + i // 250}.{1 + i % 250}" if i else "127.0.0.1" for i in range(count)]


def set_route(server: FeedServer, path: str, reply: Route) -> str:
    server.routes[path] = reply
    return server.url(path)


def feed(
    body: bytes,
    *,
    etag: bool = True,
    last_modified: bool = True,
    content_type: str = "application/xml",
    delay: float = 0.0,
) -> Reply:
    """A feed body with validators, answered with 304 when the client sends them back."""
    tag = f'"{hashlib.sha1(body).hexdigest()[:16]}"' if etag else None
    modified = "Mon, 05 Jan 2026 10:00:00 GMT" if last_modified else None
    headers = {"Content-Type": content_type}
    return Reply(body=body, etag=tag, last_modified=modified, headers=headers, delay=delay)


def redirect(status: int, location: str) -> Reply:
    return Reply(status=status, headers={"Location": location})


def status(code: int, retry_after: str | None = None) -> Reply:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return Reply(status=code, body=f"status {code}\n".encode(), headers=headers)


def gzip_bomb(inflated: int = 1 << 30) -> Reply:
    """Content-Encoding gzip: about inflated/1000 bytes on the wire, `inflated` once inflated."""
    return Reply(body=_bomb(inflated), headers={"Content-Encoding": "gzip"})


@functools.lru_cache(maxsize=4)
def _bomb(inflated: int) -> bytes:
    member_size = min(inflated, 64 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1 << 20)
    parts = [compressor.compress(zeros) for _ in range(member_size >> 20)]
    member = b"".join([*parts, compressor.flush()])
    return member * max(1, inflated // member_size)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY, as nginx, Go's and Node's servers set it. With Nagle's algorithm
    # (http.server's default) a body's last segment waited for the client's delayed
    # ACK of the headers: ~19 ms a reply on a kept-alive connection, 1.86 s for the
    # corpus's 200 feeds on 2 connections against 0.09 s without.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        server: FeedServer = self.server.feed_server  # type: ignore[attr-defined]
        with server.lock:
            server.connections += 1

    def do_GET(self) -> None:
        server: FeedServer = self.server.feed_server  # type: ignore[attr-defined]
        host = self.server.server_address[0]
        seen = Seen(
            host=str(host), path=self.path, headers={k.lower(): v for k, v in self.headers.items()}
        )
        counted = _enter(server, seen)
        left = False

        def leave() -> None:
            """No longer in flight: called before the answer's last bytes go out, since the
            client may send its next request as soon as it has them (before this thread
            runs again: on a busy machine the count then overshot the client's limit)."""
            nonlocal left
            if not left and counted:
                left = True
                with server.lock:
                    server.in_flight[seen.host] -= 1

        try:
            self._answer(server, seen, leave)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            leave()

    def _answer(self, server: FeedServer, seen: Seen, leave: Callable[[], None]) -> None:
        route = server.routes.get(seen.path)
        reply = route(seen) if callable(route) else route or Reply(404, b"no such route\n")
        if reply.delay:
            time.sleep(reply.delay)
        if reply.behaviour == "hang":
            self._wait_for_hang_up(server)
            return
        if reply.behaviour in {"endless", "drip"}:
            self._stream(server, reply)
            return
        if reply.behaviour == "drip-headers":
            self._drip_headers(server)
            return
        status, body = (304, b"") if _not_modified(reply, seen) else (reply.status, reply.body)
        self.send_response(status)
        for name, value in _headers(reply).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        leave()
        self.end_headers()
        self.wfile.write(body)

    def _wait_for_hang_up(self, server: FeedServer) -> None:
        """Answer nothing until the client gives up (or the server stops)."""
        self.close_connection = True
        while not server.stopping.is_set():
            readable, _, _ = select.select([self.connection], [], [], 0.05)
            if readable and not self.connection.recv(1, socket.MSG_PEEK):
                return

    def _stream(self, server: FeedServer, reply: Reply) -> None:
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.end_headers()
        self.wfile.write(b"<?xml version='1.0'?><rss version='2.0'><channel>")
        chunk = b"<item><title>again</title></item>" * (2000 if reply.behaviour == "endless" else 1)
        while not server.stopping.is_set():
            self.wfile.write(chunk)
            self.wfile.flush()
            if reply.behaviour == "drip":
                server.stopping.wait(0.05)

    def _drip_headers(self, server: FeedServer) -> None:
        """A status line, then one header that never ends, a byte at a time."""
        self.close_connection = True
        self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        while not server.stopping.is_set():
            self.wfile.write(b"z")
            self.wfile.flush()
            server.stopping.wait(0.05)


def _enter(server: FeedServer, seen: Seen) -> bool:
    """Note the request; count it in flight (True) when it asks for one of this server's
    routes: a request for no route (a client of an earlier test that outlived its server
    and found this one on the freed port, as seen in the suite) is not part of a peak."""
    with server.lock:
        server.seen.append(seen)
        if seen.path not in server.routes:
            return False
        server.in_flight[seen.host] += 1
        server.peak_per_host[seen.host] = max(
            server.peak_per_host[seen.host], server.in_flight[seen.host]
        )
        server.peak_overall = max(server.peak_overall, sum(server.in_flight.values()))
    return True


def _not_modified(reply: Reply, seen: Seen) -> bool:
    if reply.status != 200:
        return False
    match = seen.headers.get("if-none-match")
    if reply.etag and match:
        return match.strip() in {reply.etag, "*"}
    since = seen.headers.get("if-modified-since")
    if reply.last_modified and since:
        try:
            return parsedate_to_datetime(since) >= parsedate_to_datetime(reply.last_modified)
        except (TypeError, ValueError):
            return False
    return False


def _headers(reply: Reply) -> dict[str, str]:
    headers = dict(reply.headers)
    if reply.etag:
        headers["ETag"] = reply.etag
    if reply.last_modified:
        headers["Last-Modified"] = reply.last_modified
    return headers


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # the default 5 drops SYNs when many clients connect at once

    def server_bind(self) -> None:
        """As http.server's, without the reverse DNS lookup of every address bound."""
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def handle_error(self, request: object, client_address: object) -> None:
        """A client hanging up mid-answer is what the fault tests do on purpose."""


def _bind(host: str, port: int) -> http.server.ThreadingHTTPServer:
    return _QuietServer((host, port), _Handler)


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def serve_folder(folder: Path, server: FeedServer, latency: float = 0.0) -> dict[str, str]:
    """Every file of a folder at /feeds/NAME, spread over the server's hosts; name -> URL."""
    urls = {}
    for index, path in enumerate(sorted(p for p in folder.iterdir() if p.is_file())):
        host = server.hosts[index % len(server.hosts)]
        server.routes[f"/feeds/{path.name}"] = feed(path.read_bytes(), delay=latency)
        urls[path.name] = server.url(f"/feeds/{path.name}", host)
    return urls


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--hosts", type=int, default=1)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args(argv)
    server = start(loopback_hosts(args.hosts))
    for name, url in serve_folder(args.folder, server, args.latency).items():
        print(f"{name}\t{url}", flush=True)
    print("ready", flush=True)
    try:
        sys.stdin.read()
    finally:
        stop(server)


if __name__ == "__main__":
    main(sys.argv[1:])
