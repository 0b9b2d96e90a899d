"""The main process's storing path alone: the corpus stored through store_and_match, then delivered.

The 200 corpus bodies are parsed, normalised and matched once (cached in a
pickle beside the scratch files when `--cache` names one); then each rep
stores them feed by feed, one transaction a feed, through
`PipelineCore.store_and_match` (dedup, documents, stories, alerts, delivery
rows) on a fresh database, and delivers the alerts to the log sink
(/dev/null), one transaction per message. CPU of this process
(`time.process_time`) for each part, and a digest of every stored value of
`documents`, `alerts`, `deliveries` and `story_bands` (ids and times
included: the clock is fixed), which two builds must share.

    .venv/bin/python bench/bench_store_match.py [--reps 3] [--database postgresql+psycopg://...]
    OTHER/.venv/bin/python bench/bench_store_match.py ...   # another build, same corpus

Run the builds alternately (one rep each, several times) to compare them on a
busy machine.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pickle
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine

from bench_parse_vs import CORPUS
from bench_store_vs import drop, fresh_database, parsed_corpus
from newswatch.alerts.log import LogSink
from newswatch.config.load import load_config
from newswatch.match.watchlist import compile_config
from newswatch.pipeline import Pipeline

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 2, 1, tzinfo=UTC)
TABLES = ("documents", "alerts", "deliveries", "story_bands")


def one_rep(
    bodies: list[tuple[str, Any]], matcher: Any, base: str | None, scratch: Path
) -> dict[str, Any]:
    engine, schema = fresh_database(base, scratch)
    with open(os.devnull, "w") as devnull:
        pipeline = Pipeline(engine, matcher, [LogSink(devnull)], clock=lambda: NOW)
        started = time.process_time()
        for url, body in bodies:
            with engine.begin() as connection:
                if body.documents:
                    pipeline.store_and_match(
                        connection,
                        body.documents,
                        url,
                        body.matched,
                        body.signatures,
                        dict(body.salience),
                    )
        stored = time.process_time() - started
        started = time.process_time()
        pipeline.deliver(due_only=False)
        delivered = time.process_time() - started
        pipeline.close()
    counts, digest = _digest(engine)
    drop(engine, schema)
    return {"store": stored, "deliver": delivered, "counts": counts, "digest": digest}


def _digest(engine: Engine) -> tuple[list[int], str]:
    digest = hashlib.sha256()
    counts = []
    with engine.connect() as connection:
        for table in TABLES:
            rows = connection.exec_driver_sql(f"SELECT * FROM {table} ORDER BY 1, 2").all()
            plain = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in rows]
            digest.update(repr(plain).encode())
            counts.append(len(rows))
    return counts, digest.hexdigest()[:12]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--database", help="a PostgreSQL URL (default: SQLite files)")
    parser.add_argument("--cache", type=Path, help="a pickle of the parsed corpus (made if absent)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        watch = yaml.safe_load((ROOT / "config" / "newswatch.yaml").read_text())["watch"]
        config = scratch / "newswatch.yaml"
        config.write_text(yaml.safe_dump({"database": "sqlite://", "watch": watch}))
        matcher = compile_config(load_config(config))
        if args.cache is not None and args.cache.exists():
            bodies = pickle.loads(args.cache.read_bytes())
        else:
            bodies = parsed_corpus(args.corpus, scratch)
            if args.cache is not None:
                args.cache.write_bytes(pickle.dumps(bodies))
        print(f"load average at start: {os.getloadavg()}")
        runs = []
        for rep in range(args.reps):
            run = one_rep(bodies, matcher, args.database, scratch)
            runs.append(run)
            print(
                f"rep {rep + 1}: store {run['store']:.3f} s, deliver {run['deliver']:.3f} s CPU;"
                f" rows {run['counts']}, digest {run['digest']}",
                flush=True,
            )
    store = statistics.median(r["store"] for r in runs)
    deliver = statistics.median(r["deliver"] for r in runs)
    print(f"median store {store:.3f} s, deliver {deliver:.3f} s; load {os.getloadavg()}")


if __name__ == "__main__":
    main(sys.argv[1:])
