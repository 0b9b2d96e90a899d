"""The main process's share of a cold `newswatch ingest` over the corpus, parsing taken out.

Every body is parsed once, in-process, before anything is timed; the timed
passes then run `Pipeline.refresh_feeds(force=True)` on a fresh SQLite
database, as `ingest` does (delivery to the log sink at the end, to
/dev/null), with each parse answered from those results. What is left is
the main process's own work: fetching, storing (dedup, stories, alerts, feed
state), logging (at warning level) and delivery. Reports CPU of this process, wall, and the
commits counted on the engine, for the refresh and for the delivery.

    .venv/bin/python bench/bench_store.py [--reps 3]

To compare builds, run this file with each build's Python, e.g.
`/work/main/.venv/bin/python bench/bench_store.py` (the corpus, the watch list
and the parse results are the same for both).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import yaml
from sqlalchemy import Engine, event, text

from bench_feeds import corpus_server
from newswatch.alerts.log import LogSink
from newswatch.config import Config
from newswatch.config.load import load_config
from newswatch.log import configure_logging
from newswatch.match.watchlist import compile_config
from newswatch.parsing import feedwork
from newswatch.parsing.feedwork import FeedBody, FeedParsers, ParsedBody
from newswatch.pipeline import Pipeline
from newswatch.store.db import open_database

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class _Ready:
    parsed: ParsedBody

    def result(self) -> ParsedBody:
        return self.parsed

    def wait(self, timeout: float | None) -> bool:
        return True


class Preparsed(FeedParsers):
    """Parses each body once, in this process, and answers every later pass from memory."""

    bodies: ClassVar[dict[bytes, ParsedBody]] = {}

    def warm_up(self) -> None:
        pass

    def submit(self, work: FeedBody) -> feedwork.Parsing:
        if work.body not in self.bodies:
            self.bodies[work.body] = feedwork.documents_of(work, self.matcher)
        return _Ready(self.bodies[work.body])


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def commits_of(engine: Engine) -> list[int]:
    counted = [0]

    def count(_connection: object) -> None:
        counted[0] += 1

    event.listen(engine, "commit", count)
    return counted


def load(folder: Path, urls: list[str]) -> Config:
    """The corpus's feeds with the shipped watch list, as `bench_vs_newsboat` runs them."""
    watch = yaml.safe_load((ROOT / "config" / "newswatch.yaml").read_text())["watch"]
    config = {
        "database": f"sqlite:///{folder / 'unused.db'}",
        "sources": {"feeds": [{"url": url} for url in urls]},
        "watch": watch,
    }
    path = folder / "newswatch.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True))
    return load_config(path)


def one_pass(folder: Path, config: Config) -> dict[str, float]:
    engine = open_database(f"sqlite:///{folder / f'{time.monotonic_ns()}.db'}")
    devnull = open(os.devnull, "w")  # noqa: SIM115 - the alert lines are not what we time
    pipeline = Pipeline(engine, compile_config(config), [LogSink(devnull)])
    pipeline.parsers = Preparsed(pipeline.matcher)
    pipeline.wake_delivery = lambda: None  # as `ingest`: delivered once, at the end
    commits = commits_of(engine)
    cpu, started = cpu_seconds(), time.perf_counter()
    pipeline.refresh_feeds(config.sources.feeds, force=True)
    refresh = {"cpu": cpu_seconds() - cpu, "wall": time.perf_counter() - started}
    refresh["commits"] = commits[0]
    cpu = cpu_seconds()
    pipeline.deliver(due_only=False)
    refresh["deliver_cpu"] = cpu_seconds() - cpu
    refresh["deliver_commits"] = commits[0] - refresh["commits"]
    with engine.connect() as connection:
        refresh["documents"] = connection.execute(text("SELECT count(*) FROM documents")).scalar()
        refresh["alerts"] = connection.execute(text("SELECT count(*) FROM alerts")).scalar()
    pipeline.close()
    engine.dispose()
    devnull.close()
    return refresh


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)
    configure_logging("json", "WARNING")
    print(f"load average at start: {os.getloadavg()}")
    runs = []
    with tempfile.TemporaryDirectory() as scratch, corpus_server(hosts=1) as urls:
        config = load(Path(scratch), urls)
        one_pass(Path(scratch), config)  # parses every body; not timed
        for rep in range(args.reps):
            run = one_pass(Path(scratch), config)
            runs.append(run)
            print(f"rep {rep + 1}: " + ", ".join(f"{k} {v:.2f}" for k, v in run.items()))
    for key in runs[0]:
        print(f"median {key}: {statistics.median(r[key] for r in runs):.2f}")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main(sys.argv[1:])
