"""What near-duplicate stories cost a whole cold `newswatch ingest` of the corpus (issue 9).

`bench_stories.py overhead` times signing and storing in one process, beside a
parse without matching or fetching; this runs the pass the issue names, as a user
runs it. Two copies of this checkout's `daemon/` are made: one as it is, one whose
`dedup.signature.batch_signatures` signs nothing (every document then takes the
exact keys alone: no signature, no band rows, no candidates, no story merges).
Each copy runs as `python -m newswatch` on this checkout's interpreter with
PYTHONPATH set (its parse workers inherit it), cold on a fresh SQLite database,
the corpus served over loopback as `bench_vs_newsboat.py` serves it; the two
alternate rep by rep. Printed: per rep, wall and the process tree's CPU and peak
RSS; then the medians and "stories add", with the load average.

    .venv/bin/python bench/bench_stories_pass.py [--reps 7]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench_vs_newsboat import Newswatch, Run, become_subreaper, compile_tree, measure
from corpus import CORPUS
from served import served_feeds

ROOT = Path(__file__).resolve().parent.parent
UNSIGNED = '''

def batch_signatures(documents, feed=False, context=()):  # noqa: F811 - stories off
    """This copy signs nothing: documents are deduplicated by their exact keys only."""
    return {}
'''


def _copy(work: Path, name: str, stories: bool) -> Path:
    """A copy of this checkout's daemon/ and a program that runs it."""
    folder = work / name
    shutil.copytree(ROOT / "daemon", folder / "daemon", ignore=shutil.ignore_patterns("*.pyc"))
    if not stories:
        module = folder / "daemon" / "newswatch" / "dedup" / "signature.py"
        module.write_text(module.read_text() + UNSIGNED)
    compile_tree(sys.executable, folder / "daemon")  # no run of the copy writes bytecode
    program = folder / "newswatch"
    program.write_text(
        f'#!/bin/sh\nPYTHONPATH={folder / "daemon"} exec {sys.executable} -m newswatch "$@"\n'
    )
    program.chmod(0o755)
    return program


def _band_rows(folder: Path) -> int:
    """The band rows the pass stored: none when the copy signs nothing."""
    with sqlite3.connect(folder / "newswatch.db") as database:
        return int(database.execute("SELECT count(*) FROM story_bands").fetchone()[0])


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument(
        "--parse-workers",
        type=int,
        default=0,
        help="passed to `ingest` (default 0, as a user runs it; the daemon parses on 1)",
    )
    args = parser.parse_args(argv)
    become_subreaper()
    print(f"load average at start: {os.getloadavg()}; parse workers: {args.parse_workers}")
    runs: dict[str, list[Run]] = {"with stories": [], "without": []}
    with (
        tempfile.TemporaryDirectory(prefix="nw-stories-") as tmp,
        served_feeds(args.corpus, 1) as urls,
    ):
        work = Path(tmp)
        programs = {
            "with stories": _copy(work, "with", True),
            "without": _copy(work, "without", False),
        }
        for rep in range(args.reps + 1):  # rep 0 warms the page cache: not counted
            order = list(programs) if rep % 2 else list(reversed(programs))
            for name in order:
                folder = work / f"{name.split()[0]}-{rep}"
                folder.mkdir()
                newswatch = Newswatch(folder, urls, (name, programs[name]))
                command = [*newswatch.command(), "--parse-workers", str(args.parse_workers)]
                run = measure(command, newswatch.env, work / f"{name}.log")
                if run.code:
                    sys.exit(f"{name} exited {run.code}; see {work / name}.log")
                if rep:
                    runs[name].append(run)
                    print(
                        f"rep {rep} {name:<12} wall {run.wall:5.2f} s  cpu {run.cpu:5.2f} s  "
                        f"rss {run.rss_mb:4.0f} MB  band rows {_band_rows(folder)}",
                        flush=True,
                    )
    on, off = (
        [statistics.median(getattr(r, f) for r in runs[name]) for f in ("wall", "cpu", "rss_mb")]
        for name in runs
    )
    print("| cold pass, medians | wall | tree CPU | tree RSS |\n|---|--:|--:|--:|")
    for name, values in (("with stories", on), ("without", off)):
        print(f"| {name} | {values[0]:.2f} s | {values[1]:.2f} s | {values[2]:.0f} MB |")
    print(
        "| stories add | "
        + " | ".join(f"{100 * (a - b) / b:+.1f}%" for a, b in zip(on, off, strict=True))
        + " |"
    )
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main(sys.argv[1:])
