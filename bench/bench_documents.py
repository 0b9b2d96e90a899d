"""documents_of over the feed corpus: a digest of every output, and its CPU (issue 11).

One process, no network, no matching: every body of `../shared/corpus/feeds`
goes through `feedwork.documents_of` (parse_feed -> normalize ->
batch_signatures), as a parse worker runs it.

- `--digest FILE` writes one line per body: its file name, then a SHA-256 of
  everything `documents_of` returned for it (every field of every Document, in
  order, its signature, and the feed's title, bozo, error, truncated and
  unreadable), then the count of documents. Two builds whose digest files are
  identical made byte-identical output; `--compare A B` names the bodies whose
  lines differ. `--detail FILE` writes the fields themselves (repr, one per
  line), for diffing what changed.
- Otherwise it times the whole pass, `--reps` times, in CPU seconds
  (`time.process_time`), and prints the median with the load average.

Run it with another build's interpreter to compare builds (this file imports
only `newswatch` as that interpreter has it):

    .venv/bin/python bench/bench_documents.py --digest /tmp/after.txt
    ../before-X/.venv/bin/python bench/bench_documents.py --digest /tmp/before.txt
    .venv/bin/python bench/bench_documents.py --compare /tmp/before.txt /tmp/after.txt
    .venv/bin/python bench/bench_documents.py --reps 5
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from corpus import CORPUS

HEADERS = {"content-type": "application/xml"}
NOW = datetime(2026, 2, 1, tzinfo=UTC)


def corpus(directory: Path) -> list[tuple[str, bytes]]:
    files = sorted(p for p in directory.iterdir() if p.is_file() and not p.suffix)
    return [(p.name, p.read_bytes()) for p in files if p.name != "MANIFEST.tsv"]


def run(name: str, body: bytes) -> object:
    from newswatch.parsing.feedwork import FeedBody, documents_of

    work = FeedBody(
        body, url=f"http://corpus.test/{name}", headers=HEADERS, source=None, fetched_at=NOW
    )
    return documents_of(work)


def lines_of(parsed: object) -> Iterator[str]:
    """Every field of what documents_of returned, one repr per line."""
    for name in ("title", "bozo", "error", "truncated", "unreadable"):
        yield f"{name}={getattr(parsed, name)!r}"
    signatures = getattr(parsed, "signatures", None) or {}
    for doc in getattr(parsed, "documents", []):
        for name in doc.__slots__:
            yield f"  {name}={getattr(doc, name)!r}"
        signature = signatures.get((doc.source, doc.key))
        yield f"  signature={signature.hex() if signature else None}"


def digest(bodies: list[tuple[str, bytes]], out: Path, detail: Path | None) -> None:
    with out.open("w") as digests, (detail or Path(os.devnull)).open("w") as fields:
        for name, body in bodies:
            parsed = run(name, body)
            text = "\n".join(lines_of(parsed))
            count = len(getattr(parsed, "documents", []))
            digests.write(f"{name} {hashlib.sha256(text.encode()).hexdigest()} {count}\n")
            fields.write(f"== {name}\n{text}\n")


def compare(a: Path, b: Path) -> int:
    left = dict(line.split(" ", 1) for line in a.read_text().splitlines())
    right = dict(line.split(" ", 1) for line in b.read_text().splitlines())
    differing = sorted(k for k in left.keys() | right.keys() if left.get(k) != right.get(k))
    for name in differing:
        print(f"differs: {name}  {left.get(name)}  {right.get(name)}")
    print(f"{len(left)} vs {len(right)} bodies, {len(differing)} differ")
    return 1 if differing else 0


def timed(bodies: list[tuple[str, bytes]], reps: int) -> None:
    print(f"load average at start: {os.getloadavg()}")
    for name, body in bodies[:3]:  # imports and first-use tables out of the timing
        run(name, body)
    timings = []
    for _ in range(reps):
        started = time.process_time()
        for name, body in bodies:
            run(name, body)
        timings.append(time.process_time() - started)
    print(f"documents_of over {len(bodies)} bodies: median {statistics.median(timings):.3f} s CPU")
    print("reps: " + " ".join(f"{t:.3f}" for t in timings))
    print(f"load average at end: {os.getloadavg()}")


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--digest", type=Path)
    parser.add_argument("--detail", type=Path)
    parser.add_argument("--compare", type=Path, nargs=2)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)
    if args.compare:
        return compare(*args.compare)
    bodies = corpus(args.corpus)
    if args.digest:
        digest(bodies, args.digest, args.detail)
    else:
        timed(bodies, args.reps)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
