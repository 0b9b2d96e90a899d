"""Shared by the delivery benchmarks (bench_email.py, bench_webhook.py): a free
loopback port, and N alerts stored pending for one sink in a fresh database."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

from newswatch.model import Alert, Document
from newswatch.store import alerts as alert_store
from newswatch.store import documents as document_store
from newswatch.store.db import open_database

HOST = "127.0.0.1"
BODY = "NATO allies met in Brussels and talked at length about the budget. " * 8


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def store_alerts(url: str, count: int, sink: str, watches: int = 1) -> None:
    """`count` documents, each with `watches` alerts (NATO, Watch 2...) pending for `sink`."""
    now = datetime.now(UTC)
    documents = [
        Document(
            source="bench",
            key=f"doc{n}",
            title=f"NATO story number {n}",
            body=BODY,
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
                watch="NATO" if w == 0 else f"Watch {w + 1}",
                kind="topic",
                title=d.title,
                url=d.url,
                source=d.source,
                published=now,
                matched=("NATO",),
                snippet=d.body[:240],
            )
            for d in saved
            for w in range(watches)
        ]
        alert_store.save_alerts(connection, alerts, [sink], now)
    engine.dispose()
