"""Near-duplicate stories: clusters on the corpus's news feeds, cost with many stored signatures.

    cd bench && ../.venv/bin/python bench_stories.py corpus [--out clusters.txt]
    cd bench && ../.venv/bin/python bench_stories.py scale [--sizes 10000 100000 1000000]
    cd bench && ../.venv/bin/python bench_stories.py cost
    cd bench && ../.venv/bin/python bench_stories.py overhead

`cost` times, in CPU seconds of one process, what a cold pass over all 200
corpus feeds spends in parsing + normalising (where the workers also sign)
and in the store step (SQLite), with near-duplicate stories and without.

`overhead` parses the 200 feeds once, then times `--rounds` (3) rounds of signing, of
the store step without and of the store step with stories; the medians give
what stories add to the cold pass, free of the parse's own noise. The parse
signs as the workers do; the pass without stories is the parse less one
signing plus the store step without. The store step holds several feeds a
transaction, as the daemon's cold pass does (`--per-feed`: one each).

`corpus` stores the news feeds of ../shared/corpus (bench_match.news_feeds) as
`newswatch ingest` would, one feed after another, and lists every story that
more than one outlet carries. `scale` fills story_bands with N synthetic
signatures (SQLite) and times placing 500 new documents among them (25 at a
time, a feed's batch), and reports the band table's size per document. By
default all N were stored today, inside `dedup.window` (the worst case); with
`--per-day R` they were stored R a day up to now, and the band rows are those
the daemon's pruning leaves (the days of the window: the current period's, and
the earlier ones' in the archive). The filled database is fsynced before the
timed run, and its band rows were inserted in the order they were stored.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench_feeds import CORPUS
from bench_match import news_feeds
from newswatch.dedup.signature import (
    SIGNATURE_BYTES,
    band_keys_of,
    batch_signatures,
    signatures_of,
)
from newswatch.match import compile_watches
from newswatch.parsing.feedwork import FeedBody, documents_of
from newswatch.pipeline import Pipeline
from newswatch.pipeline.feeds import STORE_BATCH, STORE_BATCH_DOCUMENTS
from newswatch.store import stories as story_store
from newswatch.store.db import open_database
from newswatch.store.tables import documents

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
WINDOW = timedelta(days=7)
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
            path: batch_signatures(body.documents, feed=True) if stories else {}
            for path, body in parsed
        }
        parse_cpu = time.process_time() - started
        store_cpu = _store(parsed, signatures)
        label = "with stories   " if stories else "without stories"
        print(f"{label}: parse+normalise {parse_cpu:.2f} s CPU, store {store_cpu:.2f} s CPU")


def overhead(rounds: int = 3, per_feed: bool = False) -> None:
    paths = sorted(p for p in CORPUS.iterdir() if p.name != "MANIFEST.tsv")
    started = time.process_time()
    parsed = [(path, documents_of(_body(path))) for path in paths]
    parse = time.process_time() - started
    sign, without, with_stories = [], [], []
    for _ in range(rounds):
        started = time.process_time()
        signatures = {path: batch_signatures(body.documents, feed=True) for path, body in parsed}
        sign.append(time.process_time() - started)
        without.append(_store(parsed, {}, per_feed))
        with_stories.append(_store(parsed, signatures, per_feed))
    s, off, on = (statistics.median(times) for times in (sign, without, with_stories))
    # the parse signs too (as the workers do): the pass without stories does not
    print(
        f"parse {parse:.2f} s (signing included), sign {s:.2f} s, "
        f"store without stories {off:.2f} s, with {on:.2f} s CPU: stories add "
        f"{s + on - off:.2f} s, {100 * (s + on - off) / (parse - s + off):.1f}% of the pass "
        f"without them ({100 * (s + on - off) / (parse + off):.1f}% counting the parse's signing)"
    )


def _store(
    parsed: list[tuple[Path, Any]], signatures: dict[Path, Any], per_feed: bool = False
) -> float:
    """CPU seconds of storing the parsed feeds in a fresh SQLite database: several feeds
    a transaction as the daemon stores a cold pass (up to STORE_BATCH feeds or
    STORE_BATCH_DOCUMENTS documents), or a transaction a feed (`per_feed`, as it did
    before issue 11)."""
    with tempfile.TemporaryDirectory() as folder:
        engine = open_database(f"sqlite:///{Path(folder) / 'cost.db'}")
        pipeline = Pipeline(engine, compile_watches([], []), [])
        started = time.process_time()
        for group in _groups(parsed, per_feed):
            with engine.begin() as connection:
                for path, body in group:
                    matched = {(d.source, d.key): [] for d in body.documents}
                    signed = signatures.get(path, {})
                    pipeline.store_and_match(connection, body.documents, path.name, matched, signed)
        spent = time.process_time() - started
        engine.dispose()
    return spent


def _groups(parsed: list[tuple[Path, Any]], per_feed: bool) -> list[list[tuple[Path, Any]]]:
    groups: list[list[tuple[Path, Any]]] = [[]]
    documents = 0
    for feed in parsed:
        full = len(groups[-1]) >= STORE_BATCH or documents >= STORE_BATCH_DOCUMENTS
        if groups[-1] and (per_feed or full):
            groups.append([])
            documents = 0
        groups[-1].append(feed)
        documents += len(feed[1].documents)
    return groups


def _body(path: Path) -> FeedBody:
    return FeedBody(
        url=f"https://{path.name}.example/",
        body=path.read_bytes(),
        headers={},
        source=None,
        fetched_at=NOW,
    )


def scale(sizes: list[int], keep: Path | None, per_day: int | None) -> None:
    placed = _new_documents()
    for size in sizes:
        with tempfile.TemporaryDirectory() as folder:
            _scale(Path(folder) / "scale.db", size, placed, keep, per_day)


def _scale(
    path: Path,
    size: int,
    placed: list[tuple[int, str]],
    keep: Path | None,
    per_day: int | None,
) -> None:
    band_rows = _template(size, keep, per_day) if keep else _filled(path, size, per_day)
    for per_batch in (False, True):
        if keep:
            shutil.copyfile(keep / _template_name(size, per_day), path)
        elif per_batch:
            _filled(path, size, per_day)
        _settled(path)
        wall, cpu = _place(path, size, placed, per_batch)
        how = "a commit per batch, timed" if per_batch else "one transaction, commit not timed"
        print(
            f"{size:>9,} stored: {wall / len(placed) * 1000:.3f} ms wall, "
            f"{cpu / len(placed) * 1000:.3f} ms CPU per new document "
            f"(signature + lookup + insert; {how}), "
            f"band index {band_rows / size:.0f} bytes per document",
            flush=True,
        )
        path.unlink()


def _settled(path: Path) -> None:
    """Write the filled database's pages to disk before the timed run: else the first
    checkpoint's fsync wrote back the whole copy (600 MB at 1M), which a running
    daemon's database never holds, and the largest size paid it alone."""
    with path.open("rb+") as file:
        os.fsync(file.fileno())


def _place(
    path: Path, size: int, placed: list[tuple[int, str]], per_batch: bool
) -> tuple[float, float]:
    """Place the new documents, 25 at a time; return wall and CPU seconds."""
    engine = open_database(f"sqlite:///{path}")
    connection = engine.connect()
    started, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(placed), BATCH):
        batch = placed[start : start + BATCH]
        signatures = signatures_of([body for _, body in batch])  # as the parse workers do
        items = [
            story_store.Placed(size + document_id, signature, NOW)
            for (document_id, _), signature in zip(batch, signatures, strict=True)
        ]
        story_store.assign_stories(connection, items, 0.4, WINDOW, NOW)
        if per_batch:  # a feed's batch, one transaction, as the pipeline stores it
            connection.commit()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    connection.commit()
    connection.close()
    engine.dispose()
    return elapsed, cpu


def _template_name(size: int, per_day: int | None) -> str:
    keys = story_store.filed_keys(bytes(SIGNATURE_BYTES), 1)  # the layout: keys, which values
    spread = f"-{per_day}a-day" if per_day else ""
    spread += f"-{story_store.PERIOD // 3600}h-archived"
    return f"stories-{size}{spread}-{len(keys)}bands-{keys[0] & 0xFFFFFFFFFF:010x}.db"


def _template(size: int, keep: Path, per_day: int | None) -> int:
    """A filled database kept in `keep` for the next runs; returns the band table's bytes."""
    path = keep / _template_name(size, per_day)
    if not path.exists():
        _filled(path.with_suffix(".part"), size, per_day)
        path.with_suffix(".part").rename(path)
    return _band_bytes(path)


def _filled(path: Path, size: int, per_day: int | None) -> int:
    engine = open_database(f"sqlite:///{path}")
    engine.dispose()
    _fill(path, size, random.Random(1), per_day)
    return _band_bytes(path)


def _band_bytes(path: Path) -> int:
    """Pages of the story_bands table (its primary key is the table) times the page size."""
    connection = sqlite3.connect(path)
    try:
        (pages,) = connection.execute(
            "SELECT count(*) FROM dbstat WHERE name = 'story_bands'"
        ).fetchone()
        (page_size,) = connection.execute("PRAGMA page_size").fetchone()
    except sqlite3.OperationalError:  # no dbstat in this SQLite build
        connection.close()
        return 0
    connection.close()
    return int(pages) * int(page_size)


def _new_documents() -> list[tuple[int, str]]:
    passages = []
    for path in news_feeds():
        for document in documents_of(_body(path)).documents:
            if len(document.body.split()) >= 20:
                passages.append(document.body)
    return list(enumerate(passages[:NEW], 1))


def _fill(path: Path, size: int, rng: random.Random, per_day: int | None) -> None:
    """`size` documents with random signatures and the band rows of those stored
    inside the window, inserted in the order they were stored (a document's rows in
    key order) as the daemon would have, so the index's pages are as full as its
    inserts leave them (in key order, then VACUUMed, every page was full and the
    timed inserts split pages the daemon's would not). Stored all at NOW, or
    `per_day` a day up to NOW."""
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA cache_size = -400000")
    connection.execute("CREATE TEMP TABLE scratch (band_key INTEGER, document_id INTEGER)")
    first_day = int((NOW - WINDOW).timestamp()) // story_store.PERIOD
    days: set[int] = set()
    today = _period(_stored_at(size, size, per_day))
    for start in range(1, size + NEW + 1, 50_000):
        numbers = range(start, min(start + 50_000, size + NEW + 1))
        signatures = [_random_signature(rng) for _ in numbers]
        stored = [_stored_at(n, size, per_day) for n in numbers]
        connection.executemany(
            "INSERT INTO documents (id, source, origin, item_key, identity_hash, content_hash,"
            " title, body, authors, categories, created_at, updated_at, story_id, signature)"
            " VALUES (?, 's', 'o', ?, ?, 'h', 't', 'b', '[]', '[]', ?, ?, ?, ?)",
            (
                (n, str(n), f"{n:064d}", at, at, n, sig)
                for n, sig, at in zip(numbers, signatures, stored, strict=True)
            ),
        )
        filed = [
            (n, sig, _period(at))
            for n, sig, at in zip(numbers, signatures, stored, strict=True)
            if n <= size
        ]
        filed = [(n, sig, day) for n, sig, day in filed if day >= first_day]
        keys = band_keys_of([sig for _, sig, _ in filed])
        connection.executemany(
            "INSERT INTO scratch VALUES (?, ?)",
            (
                (story_store.filed_key(key, day, today), n)
                for (n, _, day), row in zip(filed, keys, strict=True)
                for key in set(row)
            ),
        )
        days.update(day for _, _, day in filed)
    connection.execute(
        "INSERT INTO story_bands (band_key, document_id)"
        " SELECT band_key, document_id FROM scratch ORDER BY document_id, band_key"
    )
    connection.executemany(  # the archived periods
        "INSERT INTO story_periods (period, swept) VALUES (?, ?)",
        [(day, 1 << 62) for day in sorted(days) if day < today],
    )
    connection.commit()
    connection.execute("DROP TABLE scratch")
    connection.close()


def _period(stored_at: str) -> int:
    moment = datetime.fromisoformat(stored_at).replace(tzinfo=UTC)
    return int(moment.timestamp()) // story_store.PERIOD


def _stored_at(number: int, size: int, per_day: int | None) -> str:
    """When document `number` of `size` was stored (naive UTC text, as SQLite keeps it)."""
    age = timedelta(days=(size - number) / per_day) if per_day and number <= size else timedelta()
    return (NOW - age).replace(tzinfo=None).isoformat(sep=" ")


def _random_signature(rng: random.Random) -> bytes:
    return rng.randbytes(SIGNATURE_BYTES)


def main() -> None:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    run_corpus = commands.add_parser("corpus")
    run_corpus.add_argument("--out", type=Path, default=Path("clusters.txt"))
    run_scale = commands.add_parser("scale")
    run_scale.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    run_scale.add_argument("--keep", type=Path, help="keep the filled databases here for reuse")
    run_scale.add_argument(
        "--per-day", type=int, help="stored this many a day up to now (default: all today)"
    )
    commands.add_parser("cost")
    run_overhead = commands.add_parser("overhead")
    run_overhead.add_argument("--rounds", type=int, default=3)
    run_overhead.add_argument("--per-feed", action="store_true", help="a transaction a feed")
    args = parser.parse_args()
    if args.command == "corpus":
        corpus(args.out)
    elif args.command == "cost":
        cost()
    elif args.command == "overhead":
        overhead(args.rounds, args.per_feed)
    else:
        scale(args.sizes, args.keep, args.per_day)


if __name__ == "__main__":
    main()
