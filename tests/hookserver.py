"""A real HTTP receiver on 127.0.0.1 for webhook and Apprise tests and the benchmark.

It keeps every POST (path, headers, body) and answers with the statuses queued
in `answers` (200 once they run out; HANG: no answer until `released` is set).
HTTP/1.1 keep-alive, so a client reusing its connection is served on one.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

HANG = 0


@dataclass(frozen=True)
class Post:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HookServer:
    answers: deque[int] = field(default_factory=deque)
    posts: list[Post] = field(default_factory=list)
    connections: set[tuple[str, int]] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    released: threading.Event = field(default_factory=threading.Event)
    _http: http.server.ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self._http is not None
        return int(self._http.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> HookServer:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver.lock:
                    receiver.posts.append(Post(self.path, dict(self.headers.items()), body))
                    receiver.connections.add(self.client_address)
                    status = receiver.answers.popleft() if receiver.answers else 200
                if status == HANG:
                    receiver.released.wait(30)
                    status = 200
                reply = b"ok" if status < 300 else b"go away\r\nX-Forged: header"
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *_args: object) -> None:
                pass

        self._http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        threading.Thread(target=self._http.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.released.set()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
