"""`parse_feed` CPU of two source trees in one process, body by body (issue 11).

On a shared, loaded machine two runs of `bench_parse.py` minutes apart differ
by more than a change saves; here the other tree's `newswatch` package is
copied under another name (`newswatch_other`) and both parse each corpus body
in turn, order alternating, so the load falls on both alike. CPU seconds
(`time.process_time`) summed per tree and rep; medians reported. With
`--documents`, each tree runs a parse worker's `feedwork.documents_of` (parse,
normalise, signatures: what `bench_documents.py` times) instead.

    git archive main daemon | tar -x -C /tmp/main_src
    .venv/bin/python bench/bench_parse_vs.py --other /tmp/main_src/daemon [--reps 3]
    .venv/bin/python bench/bench_parse_vs.py --other /tmp/main_src/daemon --documents
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

from corpus import CORPUS

HEADERS = {"content-type": "application/xml"}
NOW = datetime(2026, 2, 1, tzinfo=UTC)
_IMPORTS = re.compile(r"\bnewswatch(?=[.\s])")


def other_feeds(daemon: Path, into: Path) -> ModuleType:
    """`sources.feeds` of the tree at `daemon`, imported as `newswatch_other`
    (whose other modules, `feedwork` say, can be imported then)."""
    package = into / "newswatch_other"
    shutil.copytree(daemon / "newswatch", package)
    for path in package.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        path.write_text(_IMPORTS.sub("newswatch_other", source), encoding="utf-8")
    sys.path.insert(0, str(into))
    import feedparser.mixin

    from newswatch.sources import cp1252

    # Both trees swap feedparser's cp1252 table at import; the other reads the dict.
    feedparser.mixin._cp1252 = dict(cp1252.ORIGINAL)
    import newswatch_other.sources.feeds as feeds

    return feeds


def cpu(feeds: ModuleType, body: bytes, documents: ModuleType | None = None) -> float:
    """CPU seconds of `parse_feed` of `body`, or of `documents_of` given `feedwork`."""
    started = time.process_time()
    if documents is not None:
        work = documents.FeedBody(
            body, url="http://x/", headers=HEADERS, source=None, fetched_at=NOW
        )
        documents.documents_of(work)
    else:
        with contextlib.suppress(feeds.FeedParseError):
            feeds.parse_feed(body, url="http://x/", headers=HEADERS, source="s", fetched_at=NOW)
    return time.process_time() - started


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--other", type=Path, required=True, help="the other tree's daemon/")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--documents", action="store_true", help="time documents_of")
    args = parser.parse_args(argv)
    from newswatch.parsing import feedwork
    from newswatch.sources import feeds as this

    files = sorted(p for p in args.corpus.iterdir() if p.is_file() and not p.suffix)
    bodies = [p.read_bytes() for p in files if p.name != "MANIFEST.tsv"]
    with tempfile.TemporaryDirectory() as scratch:
        other = other_feeds(args.other, Path(scratch))
        try:  # the parse stage's runner moved into a package of its own (session 23)
            import newswatch_other.parsing.feedwork as other_work  # type: ignore[import-not-found]
        except ModuleNotFoundError:
            import newswatch_other.feedwork as other_work  # type: ignore[import-not-found,no-redef]

        works = {other: other_work, this: feedwork} if args.documents else {}
        for feeds in (other, this):  # first use imports the parsers
            cpu(feeds, bodies[0], works.get(feeds))
        print(f"load average at start: {os.getloadavg()}")
        totals: dict[str, list[float]] = {"other": [], "this": []}
        for rep in range(args.reps):
            spent = {"other": 0.0, "this": 0.0}
            for index, body in enumerate(bodies):
                pair = [("other", other), ("this", this)]
                for label, feeds in pair if (index + rep) % 2 == 0 else reversed(pair):
                    spent[label] += cpu(feeds, body, works.get(feeds))
            for label, seconds in spent.items():
                totals[label].append(seconds)
            print(f"rep {rep + 1}: other {spent['other']:.2f} s, this {spent['this']:.2f} s CPU")
    before, after = (statistics.median(totals[k]) for k in ("other", "this"))
    print(
        f"{'documents_of' if args.documents else 'parse_feed'} over {len(bodies)} bodies: "
        f"other {before:.2f} s, this {after:.2f} s CPU "
        f"(this / other {after / before:.2f}; medians of {args.reps})"
    )
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main(sys.argv[1:])
