"""One process or two parse workers for a cold pass over the corpus (issue 11).

`Pipeline.refresh_feeds(force=True)` on a fresh SQLite database, the corpus
served from loopback (`bench_feed_ingest.corpus_server`), with the parsers set
to 1 worker (every body parsed in the main process) and to 2 (the default on
two cores), interleaved rep by rep in alternating order. CPU counts the main
process and the parse workers (read from /proc before the pool closes; the
workers are the forkserver's children, not ours).

    cd bench && ../.venv/bin/python bench_parse_workers.py [--reps 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench_feed_ingest import corpus_server, new_pipeline, people
from newswatch.config import FeedSource
from newswatch.log import configure_logging
from newswatch.pipeline import Pipeline

TICKS = os.sysconf("SC_CLK_TCK")


def worker_cpu(pipeline: Pipeline) -> float:
    pool = pipeline.parsers._pool
    total = 0.0
    for pid in getattr(pool, "_processes", {}) or {}:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def cold_pass(workers: int, urls: list[str], scratch: Path) -> tuple[float, float]:
    pipeline = new_pipeline(scratch / f"cold-{workers}-{time.monotonic_ns()}.db", people(100))
    pipeline.parsers.workers = workers
    own = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    pipeline.refresh_feeds([FeedSource(url=url) for url in urls], force=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime - own.ru_utime + after.ru_stime - own.ru_stime + worker_cpu(pipeline)
    pipeline.close()
    return wall, cpu


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)
    configure_logging("json", "WARNING")
    print(f"load average at start: {os.getloadavg()}")
    runs: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as scratch, corpus_server() as urls:
        for rep in range(args.reps):
            for workers in (1, 2) if rep % 2 == 0 else (2, 1):
                wall, cpu = cold_pass(workers, urls, Path(scratch))
                runs[workers].append((wall, cpu))
                print(f"rep {rep + 1} workers {workers}: wall {wall:.2f} s, CPU {cpu:.2f} s")
    for workers, timings in runs.items():
        wall = statistics.median(t[0] for t in timings)
        cpu = statistics.median(t[1] for t in timings)
        print(f"workers {workers}: median wall {wall:.2f} s, CPU {cpu:.2f} s")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main(sys.argv[1:])
