"""The whole feed pipeline on the 200-feed corpus: fetch -> parse -> normalise -> store -> match.

`Pipeline.refresh_feeds` as `newswatch ingest` runs it, against the corpus
served by `tests/feedserver.py` in another process (20 loopback hosts):

  cold      an empty SQLite database, every feed fetched, parsed, stored, matched
  steady    the same feeds again at once: every one answers 304
  latency   cold again (fresh database) when the server adds 100 ms to every answer

Reports entries/s, wall, CPU of the main process, and the peak RSS of the main
process and of each parse worker (the feed server's own process is not counted).

    .venv/bin/python bench/bench_feed_ingest.py [--people 100]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from bench_feeds import corpus_server
from newswatch.alerts.log import LogSink
from newswatch.config import FeedSource, Person, Topic
from newswatch.log import configure_logging
from newswatch.match import compile_watches
from newswatch.pipeline import Pipeline
from newswatch.store.db import open_database

TOPICS = [
    Topic(name="NATO", any=("NATO",)),
    Topic(name="Ukraine ceasefire", query='(ceasefire OR "peace deal") AND Ukraine'),
    Topic(name="China", any=("China", "Beijing")),
]


def people(count: int) -> list[Person]:
    named = [Person(name="Donald Trump", aliases=("Trump",)), Person(name="Joe Biden")]
    return named + [Person(name=f"Person{i} Surname{i}") for i in range(count - len(named))]


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_peaks_mb(pipeline: Pipeline) -> list[float]:
    """VmHWM (peak resident set) of each parse worker, read before the pool closes."""
    pool = pipeline.parsers._pool
    peaks = []
    for pid in getattr(pool, "_processes", {}) or {}:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return peaks


def new_pipeline(database: Path, watched: list[Person]) -> Pipeline:
    engine = open_database(f"sqlite:///{database}")
    devnull = open(os.devnull, "w")  # noqa: SIM115 - alert lines are not what we time
    return Pipeline(engine, compile_watches(watched, TOPICS), [LogSink(devnull)])


def timed_pass(pipeline: Pipeline, feeds: list[FeedSource]) -> tuple[int, float, float]:
    """One forced pass over every feed: (documents stored in all, wall s, CPU s)."""
    started, cpu = time.perf_counter(), cpu_seconds()
    pipeline.refresh_feeds(feeds, force=True)
    wall, used = time.perf_counter() - started, cpu_seconds() - cpu
    with pipeline.engine.connect() as connection:
        stored = connection.execute(text("SELECT count(*) FROM documents")).scalar_one()
    return int(stored), wall, used


def entries(pipeline: Pipeline) -> int:
    with pipeline.engine.connect() as connection:
        return int(connection.execute(text("SELECT sum(entries_last) FROM feeds")).scalar_one())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=100)
    args = parser.parse_args()
    configure_logging("json", "WARNING")
    watched = people(args.people)
    with tempfile.TemporaryDirectory() as scratch:
        with corpus_server() as urls:
            feeds = [FeedSource(url=url) for url in urls]
            pipeline = new_pipeline(Path(scratch) / "cold.db", watched)
            stored, wall, used = timed_pass(pipeline, feeds)
            parsed = entries(pipeline)
            print(
                f"cold     {parsed} entries, {stored} documents stored: {wall:.2f} s wall, "
                f"{used:.2f} s CPU, {parsed / wall:,.0f} entries/s"
            )
            _, wall, used = timed_pass(pipeline, feeds)
            print(f"steady   200 feeds, all 304: {wall:.2f} s wall, {used:.2f} s CPU")
            workers = worker_peaks_mb(pipeline)
            pipeline.close()
        with corpus_server(latency=0.1) as urls:
            feeds = [FeedSource(url=url) for url in urls]
            pipeline = new_pipeline(Path(scratch) / "latency.db", watched)
            _, wall, used = timed_pass(pipeline, feeds)
            print(
                f"latency  100 ms per answer: {parsed} entries, {wall:.2f} s wall, "
                f"{used:.2f} s CPU, {parsed / wall:,.0f} entries/s"
            )
            pipeline.close()
    print(
        f"peak RSS {peak_mb():.0f} MB (main process); parse workers "
        + ", ".join(f"{mb:.0f} MB" for mb in workers)
        + " (CPU of the workers is not in the CPU column)"
    )


if __name__ == "__main__":
    main()
