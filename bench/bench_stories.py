"""Near-duplicate stories: clusters on the corpus's news feeds, cost with many stored signatures.

    cd bench && ../.venv/bin/python bench_stories.py corpus [--out clusters.txt]
    cd bench && ../.venv/bin/python bench_stories.py scale [--sizes 10000 100000 1000000]
    cd bench && ../.venv/bin/python bench_stories.py cost

`cost` times, in CPU seconds of one process, what a cold pass over all 200
corpus feeds spends in parsing + normalising (where the workers also sign)
and in the store step (SQLite), with near-duplicate stories and without.

`corpus` stores the news feeds of ../shared/corpus (bench_match.news_feeds) as
`newswatch ingest` would, one feed after another, and lists every story that
more than one outlet carries. `scale` fills story_bands with N synthetic
signatures (SQLite) and times placing 500 new documents among them (25 at a
time, a feed's batch), and reports the band table's size per document.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bench_feeds import CORPUS
from bench_match import news_feeds
from newswatch.dedup.signature import NUM_PERM, band_keys, batch_signatures, signature_of
from newswatch.feedwork import FeedBody, documents_of
from newswatch.match import compile_watches
from newswatch.pipeline import Pipeline
from newswatch.store import stories as story_store
from newswatch.store.db import open_database
from newswatch.store.tables import documents

NOW = datetime(2026, 11, 30, tzinfo=UTC)
NEW = 500  # documents placed among the stored ones ...
BATCH = 25  # ... a feed's batch at a time, as the pipeline does


def corpus(out: Path) -> None:
    with tempfile.TemporaryDirectory() as folder:
        _corpus(Path(folder) / "stories.db", out)


def _corpus(database: Path, out: Path) -> None:
    engine = open_database(f"sqlite:///{database}")
    pipeline = Pipeline(engine, compile_watches([], []), [])
    stored = 0
    for path in news_feeds():
        parsed = documents_of(_body(path))
        with engine.begin() as connection:
            counts = pipeline.store_and_match(
                connection, parsed.documents, path.name, None, parsed.signatures
            )
        stored += counts.new
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                documents.c.id,
                documents.c.story_id,
                documents.c.source,
                documents.c.title,
                documents.c.url,
            )
        ).all()
    stories: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    for row in rows:  # story_id is NULL on the document that started its story
        stories[row.story_id or row.id].append((row.source, row.title, row.url or ""))
    shared = {s: m for s, m in stories.items() if len(m) > 1}
    cross = {s: m for s, m in shared.items() if len({source for source, _, _ in m}) > 1}
    lines = []
    for number, (story, members) in enumerate(sorted(cross.items()), 1):
        lines.append(f"{number}. story {story}")
        lines += [f"   - {source}: {title}  <{url}>" for source, title, url in members]
    out.write_text("\n".join(lines) + "\n")
    print(f"{len(news_feeds())} feeds, {stored} documents, {len(stories)} stories")
    print(f"{len(shared)} with several documents, {len(cross)} across outlets -> {out}")


def cost() -> None:
    paths = sorted(p for p in CORPUS.iterdir() if p.name != "MANIFEST.tsv")
    for stories in (False, True, False, True):
        started = time.process_time()
        parsed = [(path, documents_of(_body(path))) for path in paths]
        signatures = {
            path: batch_signatures(body.documents) if stories else {} for path, body in parsed
        }
        parse_cpu = time.process_time() - started
        with tempfile.TemporaryDirectory() as folder:
            engine = open_database(f"sqlite:///{Path(folder) / 'cost.db'}")
            pipeline = Pipeline(engine, compile_watches([], []), [])
            started = time.process_time()
            for path, body in parsed:
                matched = {(d.source, d.key): [] for d in body.documents}
                with engine.begin() as connection:
                    pipeline.store_and_match(
                        connection, body.documents, path.name, matched, signatures[path]
                    )
            store_cpu = time.process_time() - started
            engine.dispose()
        label = "with stories   " if stories else "without stories"
        print(f"{label}: parse+normalise {parse_cpu:.2f} s CPU, store {store_cpu:.2f} s CPU")


def _body(path: Path) -> FeedBody:
    return FeedBody(
        url=f"https://{path.name}.example/",
        body=path.read_bytes(),
        headers={},
        source=None,
        fetched_at=NOW,
    )


def scale(sizes: list[int]) -> None:
    rng = random.Random(1)
    placed = _new_documents()
    for size in sizes:
        with tempfile.TemporaryDirectory() as folder:
            _scale(Path(folder) / "scale.db", size, placed, rng)


def _scale(path: Path, size: int, placed: list[tuple[int, str]], rng: random.Random) -> None:
    engine = open_database(f"sqlite:///{path}")
    engine.dispose()
    before = _fill(path, size, rng)
    after = os.path.getsize(path)
    engine = open_database(f"sqlite:///{path}")
    with engine.begin() as connection:
        started, cpu = time.perf_counter(), time.process_time()
        for start in range(0, len(placed), BATCH):
            items = [
                story_store.Placed(size + document_id, signature_of(body), NOW)
                for document_id, body in placed[start : start + BATCH]
            ]
            story_store.assign_stories(connection, items, 0.4, timedelta(days=7))
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
    engine.dispose()
    per_doc = (after - before) / size
    print(
        f"{size:>9,} stored: {elapsed / len(placed) * 1000:.3f} ms wall, "
        f"{cpu / len(placed) * 1000:.3f} ms CPU per new document "
        f"(signature + lookup + insert), band index {per_doc:.0f} bytes per document"
    )


def _new_documents() -> list[tuple[int, str]]:
    passages = []
    for path in news_feeds():
        for document in documents_of(_body(path)).documents:
            if len(document.body.split()) >= 20:
                passages.append(document.body)
    return list(enumerate(passages[:NEW], 1))


def _fill(path: Path, size: int, rng: random.Random) -> int:
    """`size` documents with random signatures; returns the file size before the band rows."""
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA cache_size = -400000")  # 400 MB: filling is not what is timed
    now = NOW.replace(tzinfo=None).isoformat(sep=" ")
    connection.executemany(
        "INSERT INTO documents (id, source, origin, item_key, identity_hash, content_hash,"
        " title, body, authors, categories, created_at, updated_at, story_id, signature)"
        " VALUES (?, 's', 'o', ?, ?, 'h', 't', 'b', '[]', '[]', ?, ?, ?, ?)",
        (
            (n, str(n), f"{n:064d}", now, now, n, _random_signature(rng))
            for n in range(1, size + NEW + 1)
        ),
    )
    connection.commit()
    connection.execute("VACUUM")
    before = os.path.getsize(path)
    for start in range(1, size + 1, 50_000):
        rows = []
        for n in range(start, min(start + 50_000, size + 1)):
            rows += [(key, n) for key in band_keys(_random_signature(rng))]
        connection.executemany(
            "INSERT OR IGNORE INTO story_bands (band_key, document_id) VALUES (?, ?)", rows
        )
    connection.commit()
    connection.execute("VACUUM")
    connection.close()
    return before


def _random_signature(rng: random.Random) -> bytes:
    return rng.randbytes(NUM_PERM * 4)


def main() -> None:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    run_corpus = commands.add_parser("corpus")
    run_corpus.add_argument("--out", type=Path, default=Path("clusters.txt"))
    run_scale = commands.add_parser("scale")
    run_scale.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    commands.add_parser("cost")
    args = parser.parse_args()
    if args.command == "corpus":
        corpus(args.out)
    elif args.command == "cost":
        cost()
    else:
        scale(args.sizes)


if __name__ == "__main__":
    main()
