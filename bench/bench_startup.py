"""Start-up of `--version`, `--help`, `check` and `match TEXT` on the example config,
several source trees interleaved (order alternating each rep): median wall and CPU.

    git archive main daemon | tar -x -C /tmp/main
    .venv/bin/python bench/bench_startup.py --build main=/tmp/main/daemon --build branch=daemon

Each build runs as `python -m newswatch` with PYTHONPATH on its `daemon/` folder
(this venv's packages), byte code written (as installed packages have it), and
its own cache folder; one warm-up round first (byte code, `match`'s cache).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONFIG = ["--config", "config/newswatch.yaml"]
COMMANDS = {
    "--version": ["--version"],
    "--help": ["--help"],
    "check": [*CONFIG, "check"],
    "match": [*CONFIG, "match", "Kosachev spoke."],
}


def run(daemon: str, cache: str, args: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one `newswatch ARGS`."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env |= {"PYTHONPATH": daemon, "XDG_CACHE_HOME": cache}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = os.times().elapsed
    done = subprocess.run(
        [sys.executable, "-m", "newswatch", *args], env=env, cwd=REPO, capture_output=True
    )
    wall = os.times().elapsed - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{daemon}: newswatch {' '.join(args)} failed: {done.stderr!r}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", action="append", required=True, help="LABEL=DAEMON_DIR")
    parser.add_argument("--reps", type=int, default=10)
    args = parser.parse_args()
    builds = dict(b.split("=", 1) for b in args.build)
    caches = {label: tempfile.mkdtemp(prefix=f"startup-{label}-") for label in builds}
    print(f"load average {os.getloadavg()[0]:.1f}")
    for label, daemon in builds.items():
        for command in COMMANDS.values():
            run(daemon, caches[label], command)
    times: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for rep in range(args.reps):
        order = list(builds) if rep % 2 == 0 else list(builds)[::-1]
        for name, command in COMMANDS.items():
            for label in order:
                found = run(builds[label], caches[label], command)
                times.setdefault((label, name), []).append(found)
    for name in COMMANDS:
        cells = []
        for label in builds:
            wall = statistics.median(t[0] for t in times[label, name])
            cpu = statistics.median(t[1] for t in times[label, name])
            cells.append(f"{label} {wall:.3f} s wall / {cpu:.3f} s CPU")
        print(f"{name:10} " + " | ".join(cells))
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
