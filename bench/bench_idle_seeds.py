"""Idle cost of watching a large seed folder: CPU of `newswatch run` when nothing changes.

Writes N small seed files into one folder of a temp dir, imports them once with
`newswatch ingest`, starts `newswatch run` (rescans every 5 s, the default),
lets its first scan finish, then reads the process's utime+stime from
/proc/PID/stat over --seconds. Then drops a new file and appends to an old one
in place, and reports how long the daemon took to import each.

    .venv/bin/python bench/bench_idle_seeds.py [--files 100000] [--seconds 60]
        [--python /path/to/other/venv/bin/python]   # e.g. main's code, for before/after
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def write_seeds(folder: Path, count: int) -> None:
    folder.mkdir()
    for n in range(count):
        (folder / f"{n:06d}.txt").write_text(
            f"date 2024-11-14 https://example.org/{n}\n\nStory {n}\n\nBody of story {n}.\n"
        )


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def wait_for(log: Path, needle: str, timeout: float, start_at: int = 0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if needle in log.read_text()[start_at:]:
            return time.monotonic() - started
        time.sleep(0.2)
    raise SystemExit(f"{needle!r} not seen in {timeout:.0f} s; see {log}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=20)
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nw-idle-") as tmp:
        root = Path(tmp)
        seeds = root / "seeds"
        write_seeds(seeds, args.files)
        config = root / "newswatch.yaml"
        config.write_text(
            f"database: sqlite:///{root}/nw.db\n"
            f"sources:\n  seeds:\n    - path: {seeds}\n      name: seeds\n"
            "schedule:\n  seed_scan: 5s\n"
        )
        command = [args.python, "-m", "newswatch", "--config", str(config), "--log-format", "json"]
        started = time.monotonic()
        subprocess.run([*command, "ingest"], check=True, capture_output=True)
        print(f"ingest of {args.files:,} files: {time.monotonic() - started:.1f} s")
        log = root / "daemon.log"
        with log.open("w") as sink:
            daemon = subprocess.Popen([*command, "run"], stdout=sink, stderr=sink)
        try:
            wait_for(log, "daemon_started", 60)
            time.sleep(args.warmup)  # the first scan lists and compares every file
            before = cpu_seconds(daemon.pid)
            time.sleep(args.seconds)
            used = cpu_seconds(daemon.pid) - before
            share = 100 * used / args.seconds
            print(f"idle CPU over {args.seconds:.0f} s: {used:.2f} s = {share:.1f}% of a core")
            mark = len(log.read_text())
            new = "date 2024-11-14 https://example.org/new\n\nNew\n\nNew.\n"
            (seeds / "new.txt").write_text(new)
            took = wait_for(log, '"new": 1', 120, mark)
            print(f"new file imported after {took:.1f} s")
            mark = len(log.read_text())
            with (seeds / "000007.txt").open("a") as handle:
                handle.write("An added paragraph.\n")
            took = wait_for(log, '"updated": 1', 180, mark)
            print(f"in-place edit imported after {took:.1f} s")
        finally:
            daemon.terminate()
            daemon.wait(timeout=30)


if __name__ == "__main__":
    main()
