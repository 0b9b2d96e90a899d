"""Ingest throughput: seed files -> normalise -> dedup -> store -> match -> alerts.

Generates N seed-format documents from the real feed corpus text (so word
statistics are real), then times one `refresh_seeds` pass with 10 and with
10,000 watched people, on SQLite (default) or on the URL given with --database.

    .venv/bin/python bench/bench_ingest.py [--documents 10000] [--database URL]
"""

from __future__ import annotations

import argparse
import random
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from corpus import CORPUS
from newswatch.alerts.log import LogSink
from newswatch.config import Person, SeedSource, Topic
from newswatch.log import configure_logging
from newswatch.match import compile_watches
from newswatch.pipeline import Pipeline
from newswatch.store.db import open_database

REAL_PEOPLE = ["Donald Trump", "Joe Biden", "Vladimir Putin", "Konstantin Kosachev", "Xi Jinping"]


def corpus_words(limit: int = 400_000) -> list[str]:
    words: list[str] = []
    for path in sorted(CORPUS.iterdir()):
        if path.name.endswith(".tsv"):
            continue
        raw = path.read_bytes()[:200_000].decode("utf-8", "ignore")
        words += re.findall(r"[A-Za-z][A-Za-z'’-]{1,20}", re.sub(r"<[^>]+>", " ", raw))
        if len(words) > limit:
            break
    return words


def write_documents(folder: Path, count: int, words: list[str], rng: random.Random) -> int:
    total = 0
    for index in range(count):
        body_words = [rng.choice(words) for _ in range(450)]  # ~3 KB
        for _ in range(3):
            body_words.insert(rng.randrange(len(body_words)), rng.choice(REAL_PEOPLE))
        body = " ".join(body_words)
        paragraphs = "\n\n".join(body[i : i + 700] for i in range(0, len(body), 700))
        title = " ".join(rng.choice(words) for _ in range(8))
        content = f" date 2024-11-14 https://bench.example/{index}\n\n{title}\n\n{paragraphs}\n"
        (folder / f"{index:06d}.txt").write_text(content, encoding="utf-8")
        total += len(content)
    return total


def watch_list(people: int, rng: random.Random, words: list[str]) -> list[Person]:
    watched = [Person(name=name, aliases=(name.split()[-1],)) for name in REAL_PEOPLE[:4]]
    capitalised = sorted({w.capitalize() for w in words if len(w) > 3})
    while len(watched) < people:
        first, last = rng.choice(capitalised), rng.choice(capitalised)
        watched.append(Person(name=f"{first} {last}x{len(watched)}"))
    return watched


def reset(url: str) -> None:
    if url.startswith("postgresql"):
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()


def run_once(folder: Path, url: str, people: list[Person]) -> tuple[float, int, int]:
    reset(url)
    engine = open_database(url)
    topics = [Topic(name="NATO", any=("NATO",)), Topic(name="China", any=("China", "Beijing"))]
    devnull = open("/dev/null", "w")  # noqa: SIM115 - alert records are not what we time
    pipeline = Pipeline(engine, compile_watches(people, topics), [LogSink(devnull)])
    started = time.perf_counter()
    report = pipeline.refresh_seeds(SeedSource(path=folder, name="bench"))
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed, report.new, report.alerts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    configure_logging("json", "WARNING")
    rng = random.Random(7)
    words = corpus_words()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "seeds"
        folder.mkdir()
        size = write_documents(folder, args.documents, words, rng)
        print(f"{args.documents} documents, {size / 1e6:.1f} MB")
        for count in (10, 100, 10_000):
            url = args.database or f"sqlite:///{scratch}/bench-{count}.db"
            people = watch_list(count, rng, words)
            elapsed, new, alerts = run_once(folder, url, people)
            rate = new / elapsed
            print(
                f"{count:>6} names: {elapsed:6.2f} s  {rate:7.0f} docs/s  new={new} alerts={alerts}"
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MB")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
