"""Steady cycles (every feed answers 304) at 200 and 1,000 feeds, an idle daemon's
memory, and start-up; several newswatch builds side by side, interleaved (issue 11).

The steady cost does not depend on the bodies, so the feeds are small generated
RSS files (one item each) served by `tests/feedserver.py` in its own process on
one loopback host: the cold pass that fills the database is then cheap, and the
1,000-feed set is affordable. Per size and build: one cold `newswatch ingest`
and one more pass (not measured), then `--reps` steady passes, builds
alternating; newsboat (when installed) is run the same way (its third run is
its first steady one). Wall, CPU and peak RSS of the process tree, as in
`bench_vs_newsboat.py`; then each build's daemon (`newswatch run`) is left idle
after its first cycle over the 200 feeds and its tree's RSS read; then the
wall of `check` and `match TEXT` (median of 10) on the example config.

    .venv/bin/python bench/bench_steady.py [--reps 3] [--build LABEL=PATH/TO/newswatch ...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import yaml

from bench_vs_newsboat import Newsboat, Run, corpus_server, measure, tree_rss_mb

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config" / "newswatch.yaml"
SIZES = (200, 1000)
IDLE_WAIT_S = 25


def write_feeds(folder: Path, count: int) -> None:
    folder.mkdir(parents=True)
    for index in range(count):
        item = (
            f"<item><guid>g{index}</guid><title>Story {index}</title>"
            f"<link>https://news.example/{index}</link>"
            f"<description>Officials met on day {index} to discuss the treaty.</description></item>"
        )
        (folder / f"feed{index:04d}.xml").write_text(
            '<?xml version="1.0"?><rss version="2.0"><channel>'
            f"<title>Feed {index}</title><link>https://news.example/</link>{item}</channel></rss>"
        )


def write_config(folder: Path, urls: list[str]) -> Path:
    watch = yaml.safe_load(EXAMPLE.read_text())["watch"]
    config = {
        "database": f"sqlite:///{folder / 'newswatch.db'}",
        "sources": {"feeds": [{"url": url} for url in urls]},
        "watch": watch,
        "alerts": [{"type": "log"}],
    }
    path = folder / "newswatch.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True))
    return path


def ingest(program: str, config: Path) -> list[str]:
    return [program, "--config", str(config), "--log-format", "json", "ingest"]


def steady(builds: dict[str, str], urls: list[str], reps: int, work: Path) -> dict[str, list[Run]]:
    commands: dict[str, tuple[list[str], dict[str, str]]] = {}
    for label, program in builds.items():
        folder = work / label
        folder.mkdir(parents=True)
        commands[label] = (ingest(program, write_config(folder, urls)), dict(os.environ))
    if shutil.which("newsboat"):
        folder = work / "newsboat"
        folder.mkdir()
        boat = Newsboat(folder, urls)
        commands["newsboat"] = (boat.command(), boat.env)
    log = work / "runs.log"
    for command, env in commands.values():  # cold, second: not measured
        for _ in range(2):
            measure(command, env, log)
    runs: dict[str, list[Run]] = {label: [] for label in commands}
    order = list(commands)
    for rep in range(reps):
        for label in order if rep % 2 == 0 else order[::-1]:
            command, env = commands[label]
            runs[label].append(measure(command, env, log))
    return runs


def idle_rss(program: str, urls: list[str], work: Path) -> float:
    """RSS of a daemon's tree once its first cycle is over and it waits for the next."""
    folder = work / f"idle-{time.monotonic_ns()}"
    folder.mkdir()
    config = write_config(folder, urls)
    command = [program, "--config", str(config), "--log-format", "json", "run"]
    with (folder / "daemon.log").open("wb") as sink:
        daemon = subprocess.Popen(command, stdout=sink, stderr=sink)
        try:
            time.sleep(IDLE_WAIT_S)
            samples = []
            for _ in range(10):
                samples.append(tree_rss_mb(daemon.pid, set()))
                time.sleep(0.5)
        finally:
            daemon.terminate()
            daemon.wait(30)
    return statistics.median(samples)


def startup(builds: dict[str, str], runs: int = 10) -> dict[str, dict[str, float]]:
    commands = {
        "check": ["--config", str(EXAMPLE), "check"],
        "match TEXT": ["--config", str(EXAMPLE), "match", "Kosachev met NATO envoys."],
    }
    walls: dict[str, dict[str, list[float]]] = {}
    # each build its own cache folder: they share the config, and a build that keeps its
    # compiled watch list in another format would overwrite the other's at every run
    with tempfile.TemporaryDirectory(prefix="nw-steady-cache-") as caches:
        envs = {label: dict(os.environ, XDG_CACHE_HOME=f"{caches}/{label}") for label in builds}
        for _ in range(runs):
            for label, program in builds.items():
                for name, args in commands.items():
                    started = time.perf_counter()
                    subprocess.run(
                        [program, *args], capture_output=True, check=True, cwd=ROOT, env=envs[label]
                    )
                    walls.setdefault(label, {}).setdefault(name, []).append(
                        time.perf_counter() - started
                    )
    return {
        label: {name: statistics.median(times) for name, times in by_name.items()}
        for label, by_name in walls.items()
    }


def _median(runs: list[Run], field: str) -> float:
    return statistics.median(getattr(run, field) for run in runs)


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument(
        "--build",
        action="append",
        default=[],
        metavar="LABEL=PROGRAM",
        help="a newswatch to run (repeat; default: this checkout's)",
    )
    args = parser.parse_args(argv)
    builds = dict(b.split("=", 1) for b in args.build) or {
        "newswatch": str(ROOT / ".venv" / "bin" / "newswatch")
    }
    print(f"load average at start: {os.getloadavg()}", flush=True)
    results: dict[int, dict[str, list[Run]]] = {}
    idle: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="nw-steady-") as tmp:
        work = Path(tmp)
        for size in SIZES:
            feeds = work / f"feeds-{size}"
            write_feeds(feeds, size)
            with corpus_server(feeds, 1) as urls:
                results[size] = steady(builds, urls, args.reps, work / f"run-{size}")
                if size == SIZES[0]:
                    for label, program in builds.items():
                        idle[label] = idle_rss(program, urls, work)
            print(f"{size} feeds done; load {os.getloadavg()}", flush=True)
    times = startup(builds)
    print("\nsteady pass (all 304), medians: wall / CPU of the tree / peak RSS of the tree")
    print("| program | 200 feeds | 1,000 feeds | 1,000 / 200 wall | vs newsboat (200, wall) |")
    print("|---|---|---|---|---|")
    boat = results[SIZES[0]].get("newsboat")
    for label in results[SIZES[0]]:
        cells = []
        for size in SIZES:
            runs = results[size][label]
            cells.append(
                f"{_median(runs, 'wall'):.2f} s / {_median(runs, 'cpu'):.2f} s / "
                f"{_median(runs, 'rss_mb'):.0f} MB"
            )
        growth = _median(results[SIZES[1]][label], "wall") / _median(
            results[SIZES[0]][label], "wall"
        )
        versus = (
            f"{_median(results[SIZES[0]][label], 'wall') / _median(boat, 'wall'):.2f}x"
            if boat
            else "-"
        )
        print(f"| {label} | {cells[0]} | {cells[1]} | {growth:.2f}x | {versus} |")
    print("\nidle daemon after its first cycle (200 feeds), RSS of the tree:")
    for label, mb in idle.items():
        print(f"  {label:<12} {mb:.0f} MB")
    print("\nstart-up, median wall of 10:")
    for label, by_name in times.items():
        print("  " + label + ": " + ", ".join(f"{n} {t:.3f} s" for n, t in by_name.items()))
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main(sys.argv[1:])
