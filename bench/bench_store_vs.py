"""Storing the corpus's documents and alerts: two source trees in one process (issue 11).

The 200 corpus bodies are parsed, normalised and matched once (this tree);
then each rep stores them feed by feed, one transaction a feed as `ingest`
does, into a fresh SQLite (or PostgreSQL) database per tree: `save_documents`
and `save_alerts` of the other tree (copied as `newswatch_other`, as in
`bench_parse_vs.py`) and of this one, in turn, order alternating feed by feed
so the machine's load falls on both alike. CPU seconds of this process
(`time.process_time`) per tree; stories are left out (their own bench).

    git archive main daemon | tar -x -C /tmp/main_src
    .venv/bin/python bench/bench_store_vs.py --other /tmp/main_src/daemon [--reps 3]
        [--database postgresql+psycopg://...]   # one database, a schema per tree and rep
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml
from sqlalchemy import Engine, create_engine, text

from bench_parse_vs import CORPUS, HEADERS, other_feeds
from newswatch.alerts.outbox import build_alert
from newswatch.config.load import load_config
from newswatch.match.watchlist import compile_config
from newswatch.parsing.feedwork import FeedBody, ParsedBody, documents_of
from newswatch.store import alerts as this_alerts
from newswatch.store import documents as this_documents
from newswatch.store.db import open_database

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 2, 1, tzinfo=UTC)


def parsed_corpus(corpus: Path, scratch: Path) -> list[tuple[str, ParsedBody]]:
    watch = yaml.safe_load((ROOT / "config" / "newswatch.yaml").read_text())["watch"]
    path = scratch / "newswatch.yaml"
    path.write_text(yaml.safe_dump({"database": "sqlite://", "watch": watch}))
    matcher = compile_config(load_config(path))
    files = sorted(p for p in corpus.iterdir() if p.is_file() and not p.suffix)
    done = []
    for file in files:
        url = f"http://corpus.test/{file.name}"
        work = FeedBody(file.read_bytes(), url, HEADERS, None, NOW)
        done.append((url, documents_of(work, matcher)))
    return done


def store(engine: Engine, trees: tuple[ModuleType, ModuleType], url: str, body: Any) -> float:
    """CPU of one feed's documents and alerts, stored in one transaction."""
    documents, alerts = trees
    started = time.process_time()
    with engine.begin() as connection:
        saved = documents.save_documents(connection, body.documents, NOW, url, body.signatures)
        fresh = saved.new + saved.updated
        batch = [build_alert(d, m) for d in fresh for m in body.matched.get((d.source, d.key), ())]
        alerts.save_alerts(connection, batch, ["log"], NOW)
    return time.process_time() - started


def fresh_database(base: str | None, scratch: Path) -> tuple[Engine, Any]:
    if base is None:
        url = f"sqlite:///{scratch / f'{uuid.uuid4().hex}.db'}"
        return open_database(url), None
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    return open_database(f"{base}{separator}options=-csearch_path%3D{schema}"), (admin, schema)


def drop(engine: Engine, schema: Any) -> None:
    engine.dispose()
    if schema is not None:
        admin, name = schema
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--other", type=Path, required=True, help="the other tree's daemon/")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--database", help="a PostgreSQL URL (default: SQLite files)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        other_feeds(args.other, Path(scratch))
        import newswatch_other.store.alerts as other_alerts  # type: ignore[import-not-found]
        import newswatch_other.store.documents as other_documents  # type: ignore[import-not-found]

        trees = {
            "other": (other_documents, other_alerts),
            "this": (this_documents, this_alerts),
        }
        bodies = parsed_corpus(args.corpus, Path(scratch))
        print(f"load average at start: {os.getloadavg()}")
        totals: dict[str, list[float]] = {"other": [], "this": []}
        for rep in range(args.reps):
            engines = {k: fresh_database(args.database, Path(scratch)) for k in trees}
            spent = {"other": 0.0, "this": 0.0}
            for index, (url, body) in enumerate(bodies):
                order = ["other", "this"] if (index + rep) % 2 == 0 else ["this", "other"]
                for label in order:
                    spent[label] += store(engines[label][0], trees[label], url, body)
            counts = {k: _counts(e) for k, (e, _) in engines.items()}
            for label, (engine, schema) in engines.items():
                drop(engine, schema)
                totals[label].append(spent[label])
            print(
                f"rep {rep + 1}: other {spent['other']:.2f} s, this {spent['this']:.2f} s CPU;"
                f" documents, alerts, digest: {counts}"
            )
    before, after = (statistics.median(totals[k]) for k in ("other", "this"))
    print(
        f"documents and alerts of {len(bodies)} feeds: other {before:.2f} s, this {after:.2f} s"
        f" CPU (this / other {after / before:.2f}; medians of {args.reps})"
    )
    print(f"load average at end: {os.getloadavg()}")


def _counts(engine: Engine) -> tuple[int, int, str]:
    """Documents and alerts stored, and a digest of every stored value as the driver
    returns it (the same digest: the same rows, ids and all)."""
    digest = hashlib.sha256()
    counts = []
    with engine.connect() as connection:
        for table in ("documents", "alerts", "deliveries"):
            rows = connection.exec_driver_sql(f"SELECT * FROM {table} ORDER BY 1, 2").all()
            digest.update(repr([tuple(map(_plain, row)) for row in rows]).encode())
            counts.append(len(rows))
    return counts[0], counts[1], digest.hexdigest()[:12]


def _plain(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview) else value


if __name__ == "__main__":
    main(sys.argv[1:])
