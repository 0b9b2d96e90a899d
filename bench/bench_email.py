"""E-mail delivery throughput: N pending alerts drained to a loopback SMTP server.

Stores N alerts (one per document) in a fresh SQLite database, then times one
`deliver_pending` pass of an immediate-mode e-mail sink: compose, send over
one SMTP connection, and record each message as delivered in its own
transaction as soon as the server accepted it. The server runs in a child
process (it only counts), so the two ends do not share one GIL: aiosmtpd (the
test suite's server), or `--server raw`, a minimal asyncio responder that
parses nothing, to tell newswatch's cost from the server's. Both ends' CPU
time per message is reported.

    .venv/bin/python bench/bench_email.py [--alerts 5000] [--watches 1] [--database URL]
        [--server raw]

`--watches 3`: each document matched three watches (`--alerts` in all).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import smtplib
import tempfile
import threading
import time
from datetime import UTC, datetime
from typing import Any

from aiosmtpd.controller import Controller

from newswatch.alerts.outbox import deliver_pending
from newswatch.config import Config
from newswatch.log import configure_logging
from newswatch.sinks import build_sinks
from newswatch.store.db import open_database
from pending import HOST, free_port, store_alerts


class Counting:
    """Counts messages and sessions, and the server process's CPU time since the first."""

    def __init__(self, counters: Any) -> None:
        self.messages, self.sessions, self.cpu = counters
        self.seen: set[str] = set()
        self.started: float | None = None

    def count(self, peer: str) -> None:
        now = time.process_time()
        self.started = now if self.started is None else self.started
        self.messages.value += 1
        self.cpu.value = now - self.started
        if peer not in self.seen:
            self.seen.add(peer)
            self.sessions.value += 1

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count(str(session.peer))
        return "250 OK"


def serve(kind: str, port: int, counters: Any, ready: Any, done: Any) -> None:
    counting = Counting(counters)
    if kind == "raw":
        threading.Thread(
            target=asyncio.run, args=(raw_server(port, counting),), daemon=True
        ).start()
    else:
        controller = Controller(counting, hostname=HOST, port=port, ready_timeout=5.0)
        controller.start()
    ready.set()
    done.wait()


async def raw_server(port: int, counting: Counting) -> None:
    """Just enough SMTP for smtplib: fixed replies, the data read up to its final dot."""
    replies = {b"EHLO": b"250-bench\r\n250 8BITMIME\r\n", b"DATA": b"354 go on\r\n"}

    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = str(writer.get_extra_info("peername"))
        writer.write(b"220 bench\r\n")
        while line := await reader.readline():
            verb = line[:4].upper()
            writer.write(replies.get(verb, b"221 bye\r\n" if verb == b"QUIT" else b"250 OK\r\n"))
            if verb == b"DATA":
                await reader.readuntil(b"\r\n.\r\n")
                counting.count(peer)
                writer.write(b"250 OK\r\n")
            await writer.drain()
            if verb == b"QUIT":
                break
        writer.close()

    server = await asyncio.start_server(session, HOST, port)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=5000)
    parser.add_argument("--database", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--watches", type=int, default=1, help="watches each document matched")
    parser.add_argument("--server", choices=["aiosmtpd", "raw"], default="aiosmtpd")
    args = parser.parse_args()
    configure_logging("json", "WARNING")
    port = free_port()
    counters = (multiprocessing.Value("i", 0), multiprocessing.Value("i", 0))
    counters += (multiprocessing.Value("d", 0.0),)
    ready, done = multiprocessing.Event(), multiprocessing.Event()
    server = multiprocessing.Process(
        target=serve, args=(args.server, port, counters, ready, done), daemon=True
    )
    server.start()
    ready.wait(10)
    time.sleep(0.2)  # the raw server's loop starts in its own thread
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
        store_alerts(url, args.alerts // args.watches, sinks[0].key, args.watches)
        engine = open_database(url)
        started, cpu = time.perf_counter(), time.process_time()
        report = deliver_pending(engine, sinks, datetime.now(UTC))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        engine.dispose()
    counted, in_sessions, server_cpu = (c.value for c in counters)
    baseline, baseline_cpu = raw_smtplib(port, args.alerts)
    done.set()
    server.join(10)
    per = max(counted, 1)  # messages
    print(
        f"{args.server}: {report.sent} alerts delivered in {elapsed:.2f} s: "
        f"{report.sent / elapsed:,.0f} alerts/s, {counted / elapsed:,.0f} messages/s; "
        f"newswatch CPU {cpu / per * 1000:.2f} ms a message, server CPU "
        f"{server_cpu / per * 1000:.2f} ms; server counted {counted} in {in_sessions} "
        f"session(s); bare smtplib to the same server: {baseline:,.0f} messages/s "
        f"({baseline_cpu * 1000:.2f} ms CPU each; newswatch reaches "
        f"{counted / elapsed / baseline:.0%} of it)"
    )


def raw_smtplib(port: int, count: int) -> tuple[float, float]:
    """The ceiling: one fixed small message sent `count` times over one connection
    (messages/s, and the client's CPU seconds per message)."""
    message = b"Subject: x\r\n\r\n" + b"NATO allies met in Brussels.\r\n" * 20
    client = smtplib.SMTP(HOST, port)
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        client.sendmail("newswatch@example.org", ["desk@example.org"], message)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    client.quit()
    return count / elapsed, cpu / count


if __name__ == "__main__":
    main()
