"""One cold `newswatch ingest` of the corpus, sampled per process (issue 11).

Where the tree's memory and CPU go: every 20 ms, the RSS and CPU time of each
process of the tree (main, parse workers, forkserver, resource tracker),
named by its command line; printed at the end as each one's peak RSS, CPU,
and the main process's RSS over time. The corpus is served from its own
process (bench/served.py), each run on a fresh SQLite database.

    .venv/bin/python bench/bench_proctree.py [--newswatch [NAME=]PATH ...] [--reps 1]
        [--hosts 1] [--quiet]   (several builds: interleaved, medians at the end)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench_vs_newsboat import (
    CORPUS,
    NEWSWATCH,
    SAMPLE_S,
    Newswatch,
    _build,
    _children,
    become_subreaper,
    reap_orphans,
)
from served import served_feeds

TICK = os.sysconf("SC_CLK_TCK")


def _role(pid: int, root: int, parents: dict[int, int]) -> str:
    if pid == root:
        return "main"
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "?"
    if "resource_tracker" in cmdline:
        return "tracker"
    if "forkserver" in cmdline and parents.get(pid) == root:
        return "forkserver"
    return "worker"


def _sample(pid: int) -> tuple[float, float] | None:
    """(RSS MB, CPU s) of one process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    lines = status.splitlines()
    rss = next((int(line.split()[1]) for line in lines if line.startswith("VmRSS:")), 0)
    return rss / 1024, (int(stat[11]) + int(stat[12])) / TICK


FIELDS = ("wall", "tree_mb", "main_mb", "main_cpu", "tree_cpu")


def run(command: Sequence[str], env: dict[str, str], log: Path, quiet: bool) -> dict[str, float]:
    started = time.perf_counter()
    peaks: dict[int, list[float | str]] = {}  # pid -> [role, peak rss, cpu]
    main_rss: list[tuple[float, float]] = []
    tree_peak = 0.0
    with log.open("ab") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=sink)
        while process.poll() is None:
            tree, frontier, total = _children(), [process.pid], 0.0
            parents = {child: parent for parent, kids in tree.items() for child in kids}
            while frontier:
                pid = frontier.pop()
                frontier += tree.get(pid, [])
                sample = _sample(pid)
                if sample is None:
                    continue
                rss, cpu = sample
                total += rss
                entry = peaks.setdefault(pid, [_role(pid, process.pid, parents), 0.0, 0.0])
                entry[1] = max(float(entry[1]), rss)
                entry[2] = cpu
                if pid == process.pid:
                    main_rss.append((time.perf_counter() - started, rss))
            tree_peak = max(tree_peak, total)
            time.sleep(SAMPLE_S)
    wall = time.perf_counter() - started
    reap_orphans(set(peaks) - {process.pid})
    main = next(v for v in peaks.values() if v[0] == "main")
    outcome = {
        "wall": wall,
        "tree_mb": tree_peak,
        "main_mb": float(main[1]),
        "main_cpu": float(main[2]),
        "tree_cpu": sum(float(v[2]) for v in peaks.values()),
    }
    print(
        f"wall {wall:.2f} s  tree peak {tree_peak:.0f} MB  tree cpu {outcome['tree_cpu']:.2f} s"
        f"  exit {process.returncode}"
    )
    if quiet:
        return outcome
    for pid, (role, rss, cpu) in sorted(peaks.items(), key=lambda kv: str(kv[1][0])):
        print(f"  {role:<10} pid {pid:<7} peak {rss:6.1f} MB  cpu {cpu:5.2f} s (last sample)")
    step = max(1, len(main_rss) // 12)
    print("  main rss: " + " ".join(f"{t:.1f}s:{r:.0f}" for t, r in main_rss[::step]))
    return outcome


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--newswatch", action="append", default=[])
    parser.add_argument("--quiet", action="store_true", help="one line a run")
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--hosts", type=int, default=1)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args(argv)
    builds = [_build(spec) for spec in args.newswatch] or [("newswatch", NEWSWATCH)]
    become_subreaper()
    results: dict[str, list[dict[str, float]]] = {}
    with served_feeds(args.corpus, args.hosts) as urls, tempfile.TemporaryDirectory() as work:
        for rep in range(args.reps):
            for name, path in builds if rep % 2 == 0 else builds[::-1]:
                folder = Path(work) / f"{name}-{rep}"
                folder.mkdir()
                program = Newswatch(folder, urls, (name, path))
                print(f"rep {rep + 1} {name}: ", end="")
                outcome = run(program.command(), program.env, folder / "log", args.quiet)
                results.setdefault(name, []).append(outcome)
    print(f"medians of {args.reps}, load {os.getloadavg()[0]:.1f}:")
    for name, runs in results.items():
        line = "  ".join(f"{f} {statistics.median(r[f] for r in runs):.2f}" for f in FIELDS)
        print(f"  {name:<10} {line}")


if __name__ == "__main__":
    main(sys.argv[1:])
