"""CPU of normalising and matching the corpus entries, with a digest to compare builds.

Every feed of the 200-feed corpus is parsed once (`parse_feed`, as the daemon
does); then `normalize` runs over every item and `Matcher.match` (the example
config's watches) over every document, each timed as CPU seconds, best of
--repeat passes (the first, cold pass is shown too: lazy tables fill there).
A digest of every Document and every match is printed, so two builds run one
after the other (say main's venv and this one) can be compared for sameness.
With --whole, the whole parse path of a worker (`feedwork.documents_of`: parse,
normalise, match, signatures) is timed over every body as well.

    .venv/bin/python bench/bench_normmatch.py [--repeat 5]
    /work/main/.venv/bin/python bench/bench_normmatch.py       # main, same run
    .venv/bin/python bench/bench_normmatch.py --dump new.jsonl  # item by item
    .venv/bin/python bench/bench_normmatch.py --whole
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from corpus import CORPUS
from newswatch.config import load_config
from newswatch.match import Matcher, compile_watches
from newswatch.model import Document, RawItem
from newswatch.normalize import normalize
from newswatch.parsing.feedwork import FeedBody, documents_of
from newswatch.sources.feeds import FeedParseError, parse_feed

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config" / "newswatch.yaml"


FETCHED = datetime(2026, 11, 30, tzinfo=UTC)


def corpus_bodies() -> list[tuple[str, str, bytes]]:
    """(file name, URL, body) of every feed of the corpus."""
    rows = (line.split("\t") for line in (CORPUS / "MANIFEST.tsv").read_text().splitlines()[1:])
    return [(name, url, (CORPUS / name).read_bytes()) for name, _, _, url in rows]


def corpus_items() -> list[RawItem]:
    items: list[RawItem] = []
    for name, url, body in corpus_bodies():
        try:
            parsed = parse_feed(body, url=url, headers={}, source=name, fetched_at=FETCHED)
        except FeedParseError:
            continue
        items += parsed.items
    return items


def timed(work: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    """CPU seconds of the first pass, the best pass, and the last result."""
    passes = []
    result: object = None
    for _ in range(repeat):
        started = time.process_time()
        result = work()
        passes.append(time.process_time() - started)
    return passes[0], min(passes), result


def whole_parse_path(matcher: Matcher, repeat: int) -> tuple[float, float, object]:
    """CPU of a worker's work on every body: parse, normalise, match, signatures."""
    works = [FeedBody(body, url, {}, name, FETCHED) for name, url, body in corpus_bodies()]
    return timed(lambda: [documents_of(work, matcher) for work in works], repeat)


def record(doc: Document, matches: list[object]) -> str:
    return json.dumps([repr(doc), repr(matches)], ensure_ascii=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dump", type=Path, help="write one JSON line per document")
    parser.add_argument("--whole", action="store_true", help="time feedwork.documents_of too")
    args = parser.parse_args()
    watch = load_config(CONFIG).watch
    matcher = compile_watches(watch.people, watch.topics, watch.ambiguous)
    if args.whole:  # first: its cold pass is the first normalising and matching
        cold_w, best_w, _ = whole_parse_path(matcher, args.repeat)
    items = corpus_items()
    cold_n, best_n, docs = timed(lambda: [normalize(item) for item in items], args.repeat)
    documents: list[Document] = docs  # type: ignore[assignment]
    cold_m, best_m, found = timed(
        lambda: [matcher.match(d.title, d.body, d.source) for d in documents], args.repeat
    )
    matches: list[list[object]] = found  # type: ignore[assignment]
    digest = hashlib.sha256()
    lines = []
    for doc, match in zip(documents, matches, strict=True):
        line = record(doc, match)
        digest.update(line.encode("utf-8", "surrogatepass"))
        lines.append(line)
    if args.dump:
        args.dump.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
    total = sum(len(m) for m in matches)
    print(f"{len(documents)} documents, {total} matches, digest {digest.hexdigest()[:16]}")
    print(f"normalize: cold {cold_n:.3f} s CPU, best {best_n:.3f} s of {args.repeat}")
    print(f"match:     cold {cold_m:.3f} s CPU, best {best_m:.3f} s of {args.repeat}")
    if args.whole:
        print(f"whole:     cold {cold_w:.3f} s CPU, best {best_w:.3f} s of {args.repeat}")


if __name__ == "__main__":
    main()
