"""Parse CPU over the feed corpus: feedparser alone vs the fast path (issue 11).

One process, no network: every body of `../shared/corpus/feeds` is parsed the
way a worker does, twice per rep (order alternating), and the CPU time
(`time.process_time`) summed per way:

- *parser*: the XML parser alone on the UTF-8 body — feedparser
  (`feedxml.run_feedparser`) vs the fast path (`fastxml.fast_parse`, its gate
  included, plus feedparser for the bodies it declines);
- *parse_feed*: the whole of `parse_feed` — charset, parser, entries to
  RawItems with HTML to text — with `fast=False` vs `fast=True`.

    .venv/bin/python bench/bench_parse.py [--reps 3] [--corpus DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from corpus import CORPUS
from newswatch.sources.charset import decode_body
from newswatch.sources.fastxml import fast_parse
from newswatch.sources.feeds import FeedParseError, parse_feed
from newswatch.sources.feedxml import run_feedparser

HEADERS = {"content-type": "application/xml"}
NOW = datetime(2026, 2, 1, tzinfo=UTC)


def parser_only(fast: bool) -> Callable[[bytes], object]:
    def run(data: bytes) -> object:
        if fast and fast_parse(data) is not None:
            return None
        return run_feedparser(data, None)

    return run


def whole(fast: bool) -> Callable[[bytes], object]:
    def run(body: bytes) -> object:
        try:
            return parse_feed(
                body, url="http://x/", headers=HEADERS, source="s", fetched_at=NOW, fast=fast
            )
        except FeedParseError:
            return None

    return run


def cpu(function: Callable[[bytes], object], bodies: list[bytes]) -> float:
    started = time.process_time()
    for body in bodies:
        function(body)
    return time.process_time() - started


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args(argv)
    files = sorted(p for p in args.corpus.iterdir() if p.is_file() and not p.suffix)
    bodies = [p.read_bytes() for p in files if p.name != "MANIFEST.tsv"]
    utf8 = [decode_body(b, HEADERS["content-type"])[0] for b in bodies if b.lstrip()[:1] == b"<"]
    fast_count = sum(fast_parse(data) is not None for data in utf8)
    print(f"load average at start: {os.getloadavg()}")
    print(f"{len(bodies)} bodies, {len(utf8)} XML; the fast path reads {fast_count}")
    ways = {
        "parser": (utf8, parser_only(False), parser_only(True)),
        "parse_feed": (bodies, whole(False), whole(True)),
    }
    for name, (inputs, reference, fast) in ways.items():
        timings: dict[str, list[float]] = {"feedparser": [], "fast": []}
        for rep in range(args.reps):
            order = [("feedparser", reference), ("fast", fast)]
            for label, function in order if rep % 2 == 0 else reversed(order):
                timings[label].append(cpu(function, inputs))
        slow, quick = (statistics.median(timings[k]) for k in ("feedparser", "fast"))
        print(
            f"{name:<10} feedparser {slow:6.2f} s  fast path {quick:6.2f} s  "
            f"({slow / quick:.1f}x less CPU; medians of {args.reps})"
        )
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main(sys.argv[1:])
