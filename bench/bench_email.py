"""E-mail delivery throughput: N pending alerts drained to a loopback aiosmtpd server.

Stores N alerts (one per document) in a fresh SQLite database, then times one
`deliver_pending` pass of an immediate-mode e-mail sink: compose, send over
one SMTP connection, and record each message as delivered in its own
transaction as soon as the server accepted it. The server is aiosmtpd in a
child process (it only counts), so the two ends do not share one GIL.

    .venv/bin/python bench/bench_email.py [--alerts 5000] [--database URL]
"""

from __future__ import annotations

import argparse
import multiprocessing
import smtplib
import socket
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

from aiosmtpd.controller import Controller

from newswatch.alerts.outbox import deliver_pending
from newswatch.config import Config
from newswatch.log import configure_logging
from newswatch.model import Alert, Document
from newswatch.sinks import build_sinks
from newswatch.store import alerts as alert_store
from newswatch.store import documents as document_store
from newswatch.store.db import open_database

HOST = "127.0.0.1"


class Counting:
    def __init__(self, messages: Any, sessions: Any) -> None:
        self.messages = messages
        self.sessions = sessions
        self.seen: set[str] = set()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.value += 1
        if str(session.peer) not in self.seen:
            self.seen.add(str(session.peer))
            self.sessions.value += 1
        return "250 OK"


def serve(port: int, messages: Any, sessions: Any, ready: Any, done: Any) -> None:
    controller = Controller(
        Counting(messages, sessions), hostname=HOST, port=port, ready_timeout=5.0
    )
    controller.start()
    ready.set()
    done.wait()
    controller.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def store_alerts(url: str, count: int, sink: str) -> None:
    now = datetime.now(UTC)
    engine = open_database(url)
    documents = [
        Document(
            source="bench",
            key=f"doc{n}",
            title=f"NATO story number {n}",
            body="NATO allies met in Brussels and talked at length about the budget. " * 8,
            url=f"https://example.org/{n}",
            published=now,
            content_hash=f"{n:064x}",
        )
        for n in range(count)
    ]
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
                snippet=d.body[:240],
            )
            for d in saved
        ]
        alert_store.save_alerts(connection, alerts, [sink], now)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=5000)
    parser.add_argument("--database", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    configure_logging("json", "WARNING")
    port = free_port()
    messages, sessions = multiprocessing.Value("i", 0), multiprocessing.Value("i", 0)
    ready, done = multiprocessing.Event(), multiprocessing.Event()
    server = multiprocessing.Process(
        target=serve, args=(port, messages, sessions, ready, done), daemon=True
    )
    server.start()
    ready.wait(10)
    config = Config.model_validate(
        {
            "alerts": [
                {
                    "type": "email",
                    "to": ["desk@example.org"],
                    "from": "newswatch@example.org",
                    "smtp": {"host": HOST, "port": port},
                }
            ]
        }
    )
    sinks = build_sinks(config)
    with tempfile.TemporaryDirectory() as folder:
        url = args.database or f"sqlite:///{folder}/bench.db"
        store_alerts(url, args.alerts, sinks[0].key)
        engine = open_database(url)
        started = time.perf_counter()
        report = deliver_pending(engine, sinks, datetime.now(UTC))
        elapsed = time.perf_counter() - started
        engine.dispose()
    counted, in_sessions = messages.value, sessions.value
    baseline = raw_smtplib(port, args.alerts)
    done.set()
    server.join(10)
    print(
        f"{report.sent} alerts delivered in {elapsed:.2f} s: {report.sent / elapsed:,.0f} "
        f"messages/s; server counted {counted} in {in_sessions} session(s); "
        f"bare smtplib to the same server: {baseline:,.0f} messages/s "
        f"(newswatch reaches {report.sent / elapsed / baseline:.0%} of it)"
    )


def raw_smtplib(port: int, count: int) -> float:
    """The ceiling: one fixed small message sent `count` times over one connection."""
    message = b"Subject: x\r\n\r\n" + b"NATO allies met in Brussels.\r\n" * 20
    client = smtplib.SMTP(HOST, port)
    started = time.perf_counter()
    for _ in range(count):
        client.sendmail("newswatch@example.org", ["desk@example.org"], message)
    elapsed = time.perf_counter() - started
    client.quit()
    return count / elapsed


if __name__ == "__main__":
    main()
