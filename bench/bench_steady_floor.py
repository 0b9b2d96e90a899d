"""What a steady pass costs beside what its libraries alone cost (issue 11).

A steady `newswatch ingest` (every feed of the corpus answers 304) is timed,
interleaved rep by rep, beside probes that do only the library part of it, each
a fresh interpreter: import SQLAlchemy (with its SQLite dialect), structlog and
the HTTP client, then send the same 200 conditional GETs (the validators read
from the database newswatch filled), 2 at a time to the one loopback host:

- `floor, httpx async`: httpx.AsyncClient on asyncio, as newswatch fetched until
  the syncfetch branch;
- `floor, httpx sync`: httpx.Client shared by 2 threads (no asyncio, no anyio);
- `floor, urllib3 threads`: a urllib3 PoolManager shared by 2 threads, raw streamed
  reads, as newswatch fetches since the syncfetch branch (2026-12-01).

newswatch's own cost is its time minus the probe of the client it uses. CPU is
user + system of the child (getrusage), medians of `--reps`, with the load average.

    .venv/bin/python bench/bench_steady_floor.py [--reps 9] [--build LABEL=PATH/TO/newswatch ...]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import yaml

from corpus import CORPUS
from served import served_feeds

ROOT = Path(__file__).resolve().parent.parent
NEWSWATCH = ROOT / ".venv" / "bin" / "newswatch"

PROBE = """
import sqlite3, sys, threading
import sqlalchemy, sqlalchemy.dialects.sqlite, structlog
rows = list(sqlite3.connect(sys.argv[2]).execute("SELECT url, etag, last_modified FROM feeds"))
HEADERS = {"User-Agent": "probe", "Accept": "*/*", "Accept-Encoding": "gzip, deflate"}
def conditional(etag, modified):
    return {k: v for k, v in (("If-None-Match", etag), ("If-Modified-Since", modified)) if v}
statuses = []
def in_threads(work):
    workers = [threading.Thread(target=work) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
todo, lock = iter(rows), threading.Lock()
def next_row():
    with lock:
        return next(todo, None)
if sys.argv[1] == "urllib3":
    import urllib3
    pool = urllib3.PoolManager(maxsize=2, block=False, retries=False)
    def work():
        while (row := next_row()) is not None:
            r = pool.urlopen("GET", row[0], headers={**HEADERS, **conditional(row[1], row[2])},
                             redirect=False, preload_content=False, decode_content=False)
            for chunk in r.stream(65536, decode_content=False):
                pass
            r.release_conn()
            statuses.append(r.status)
    in_threads(work)
elif sys.argv[1] == "async":
    import asyncio, httpx
    async def main():
        limits = httpx.Limits(max_connections=2)
        async with httpx.AsyncClient(headers=HEADERS, verify=False, limits=limits) as client:
            slots = asyncio.Semaphore(2)
            async def one(url, etag, modified):
                headers = conditional(etag, modified)
                async with slots, client.stream("GET", url, headers=headers) as r:
                    await r.aread()
                    statuses.append(r.status_code)
            await asyncio.gather(*(one(*row) for row in rows))
    asyncio.run(main())
else:
    import httpx
    client = httpx.Client(headers=HEADERS, verify=False, limits=httpx.Limits(max_connections=2))
    def work():
        while (row := next_row()) is not None:
            with client.stream("GET", row[0], headers=conditional(row[1], row[2])) as r:
                r.read()
                statuses.append(r.status_code)
    in_threads(work)
assert statuses == [304] * len(rows), set(statuses)
"""


def timed(command: Sequence[str]) -> tuple[float, float]:
    """(CPU, wall) of one run of `command` (user + system of the child)."""
    before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, wall


def prepare(work: Path, label: str, program: str, urls: list[str]) -> list[str]:
    """A config and a database of this build, two passes in (the second sends validators)."""
    folder = work / label
    folder.mkdir()
    watch = yaml.safe_load((ROOT / "config" / "newswatch.yaml").read_text())["watch"]
    config = folder / "newswatch.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "database": f"sqlite:///{folder / 'newswatch.db'}",
                "sources": {"feeds": [{"url": url} for url in urls]},
                "watch": watch,
            },
            allow_unicode=True,
        )
    )
    command = [program, "--config", str(config), "--log-format", "json", "ingest"]
    for _ in range(2):
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return command


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--build", action="append", default=[], metavar="LABEL=PROGRAM")
    args = parser.parse_args(argv)
    builds = [spec.split("=", 1) for spec in args.build] or [["newswatch", str(NEWSWATCH)]]
    print(f"load average at start: {os.getloadavg()}")
    with served_feeds(args.corpus, 1) as urls, tempfile.TemporaryDirectory() as tmp:
        commands = {label: prepare(Path(tmp), label, program, urls) for label, program in builds}
        database = str(Path(tmp) / builds[0][0] / "newswatch.db")
        for mode in ("async", "sync"):
            commands[f"floor, httpx {mode}"] = [sys.executable, "-c", PROBE, mode, database]
        commands["floor, urllib3 threads"] = [sys.executable, "-c", PROBE, "urllib3", database]
        runs: dict[str, list[tuple[float, float]]] = {label: [] for label in commands}
        for rep in range(args.reps):
            order = list(commands) if rep % 2 == 0 else list(reversed(commands))
            for label in order:
                runs[label].append(timed(commands[label]))
    print(f"200-feed corpus, all 304, {args.reps} reps; medians")
    print("| run | CPU | wall |\n|---|---|---|")
    for label, measured in runs.items():
        cpu = statistics.median(c for c, _ in measured)
        wall = statistics.median(w for _, w in measured)
        print(f"| {label} | {cpu:.3f} s | {wall:.3f} s |")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main(sys.argv[1:])
