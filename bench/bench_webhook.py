"""Webhook delivery throughput: N pending alerts POSTed to a loopback receiver.

Stores N alerts in a fresh SQLite database (as bench_email.py does), then times
one `deliver_pending` pass of a signed webhook sink: build each alert's JSON
record, sign it (HMAC-SHA256), POST it over one reused connection, and record
it as delivered in its own transaction as soon as the receiver answered 2xx.
The receiver (stdlib http.server, HTTP/1.1 keep-alive, it only counts) runs in
a child process so the two ends do not share one GIL. Then the same number of
one fixed body is POSTed with a bare httpx client to the same receiver, as the
ceiling.

    .venv/bin/python bench/bench_webhook.py [--alerts 3000] [--database URL]
"""

from __future__ import annotations

import argparse
import http.server
import multiprocessing
import os
import socket
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from newswatch.alerts.outbox import deliver_pending
from newswatch.config import Config
from newswatch.log import configure_logging
from newswatch.model import Alert, Document
from newswatch.sinks import build_sinks
from newswatch.store import alerts as alert_store
from newswatch.store import documents as document_store
from newswatch.store.db import open_database

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def store_alerts(url: str, count: int, sink: str) -> None:
    """`count` documents, each with one NATO alert pending for `sink`."""
    now = datetime.now(UTC)
    body = "NATO allies met in Brussels and talked at length about the budget. " * 8
    documents = [
        Document(
            source="bench",
            key=f"doc{n}",
            title=f"NATO story number {n}",
            body=body,
            url=f"https://example.org/{n}",
            published=now,
            content_hash=f"{n:064x}",
        )
        for n in range(count)
    ]
    engine = open_database(url)
    with engine.begin() as connection:
        saved = document_store.save_documents(connection, documents, now, "bench").new
        alerts = [
            Alert(
                document_id=d.id or 0,
                watch="NATO",
                kind="topic",
                title=d.title,
                url=d.url,
                source=d.source,
                published=now,
                matched=("NATO",),
                snippet=body[:240],
            )
            for d in saved
        ]
        alert_store.save_alerts(connection, alerts, [sink], now)
    engine.dispose()


def serve(port: int, posts: Any, ready: Any) -> None:
    class Counting(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with posts.get_lock():
                posts.value += 1
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer((HOST, port), Counting)
    ready.set()
    server.serve_forever()


def bare_httpx(url: str, count: int) -> float:
    """The ceiling: one fixed body POSTed `count` times over one connection."""
    body = b'{"event": "alert", "title": "NATO story"}' + b" " * 900
    with httpx.Client() as client:
        started = time.perf_counter()
        for _ in range(count):
            client.post(url, content=body, headers={"Content-Type": "application/json"})
        return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=3000)
    parser.add_argument("--database", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    configure_logging("json", "WARNING")
    port, posts, ready = free_port(), multiprocessing.Value("i", 0), multiprocessing.Event()
    receiver = multiprocessing.Process(target=serve, args=(port, posts, ready), daemon=True)
    receiver.start()
    ready.wait(10)
    url = f"http://{HOST}:{port}/hook"
    os.environ["NEWSWATCH_BENCH_SECRET"] = "bench-secret"
    config = Config.model_validate(
        {"alerts": [{"type": "webhook", "url": url, "secret_env": "NEWSWATCH_BENCH_SECRET"}]}
    )
    sinks = build_sinks(config)
    with tempfile.TemporaryDirectory() as folder:
        database = args.database or f"sqlite:///{folder}/bench.db"
        store_alerts(database, args.alerts, sinks[0].key)
        engine = open_database(database)
        started = time.perf_counter()
        report = deliver_pending(engine, sinks, datetime.now(UTC))
        elapsed = time.perf_counter() - started
        engine.dispose()
    counted = posts.value
    ceiling = bare_httpx(url, args.alerts)
    receiver.terminate()
    receiver.join(10)
    rate = report.sent / elapsed
    print(
        f"{report.sent} alerts delivered in {elapsed:.2f} s: {rate:,.0f} posts/s; "
        f"receiver counted {counted}; bare httpx to the same receiver: {ceiling:,.0f} posts/s "
        f"(newswatch reaches {rate / ceiling:.0%} of it); "
        f"load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
