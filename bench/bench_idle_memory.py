"""Memory of an idle daemon after its cold cycle over the feed corpus (issue 11).

Serves the corpus with `tests/feedserver.py`, starts `newswatch run` on a fresh
SQLite database (the 200 feeds and the seed watch list), waits for its first
cycle (a `source_refreshed` line per feed), then for the idle stop of the
parse workers (no child process left; they stop after 2 minutes without a
parse, checked every minute: no parse worker left), and reads VmRSS of the main process and of the
whole tree. Each build given runs at the same time as the others (idle memory
does not depend on the machine's load; the cycle's peak, also printed, does).

    .venv/bin/python bench/bench_idle_memory.py [--reps 1] [--settle 10]
        [--newswatch [NAME=]OTHER/.venv/bin/newswatch ...]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench_vs_newsboat import (  # this folder is on sys.path: run as a script
    CORPUS,
    NEWSWATCH,
    Newswatch,
    _build,
    _children,
    corpus_server,
    tree_rss_mb,
)

TIMEOUT_S = 420.0


def pool_processes(root: int) -> list[int]:
    """The parse workers' processes among `root`'s descendants: their forkserver (which
    outlives them) in builds before `poolmem`, the spawned workers since."""
    tree, found, frontier = _children(), [], [root]
    while frontier:
        pid = frontier.pop()
        frontier += tree.get(pid, [])
        with contextlib.suppress(OSError):
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"multiprocessing.forkserver" in command or b"multiprocessing.spawn" in command:
                found.append(pid)
    return found


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Daemon:
    name: str
    program: Path
    folder: Path
    feeds: int
    process: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)
    peak_mb: float = 0.0
    cycle_s: float | None = None
    idle_s: float | None = None
    started: float = 0.0

    def __post_init__(self) -> None:
        self.log = self.folder / "daemon.log"

    def start(self, urls: list[str]) -> None:
        config = Newswatch(self.folder, urls, (self.name, self.program)).config
        command = [str(self.program), "--config", str(config), "--log-format", "json", "run"]
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(command, stdout=sink, stderr=sink)
        self.started = time.monotonic()

    def sample(self, settle_s: float) -> bool:
        """One look at the daemon; True once it has idled `settle_s` past its workers' stop."""
        assert self.process is not None
        if self.process.poll() is not None:
            raise SystemExit(f"{self.name} exited {self.process.returncode}; see {self.log}")
        now = time.monotonic() - self.started
        self.peak_mb = max(self.peak_mb, tree_rss_mb(self.process.pid, set()))
        children = pool_processes(self.process.pid)
        if self.cycle_s is None:
            if self.log.read_text(errors="replace").count('"source_refreshed"') >= self.feeds:
                self.cycle_s = now
            return False
        if children:
            return False
        if self.idle_s is None:
            self.idle_s = now
        return now - self.idle_s >= settle_s

    def report(self) -> str:
        assert self.process is not None
        pid = self.process.pid
        tree = tree_rss_mb(pid, set())
        return (
            f"{self.name:<12} idle main {rss_mb(pid):5.0f} MB, tree {tree:5.0f} MB "
            f"({len(_children().get(pid, []))} children); cycle peak {self.peak_mb:.0f} MB, "
            f"first cycle {self.cycle_s:.0f} s, workers gone at {self.idle_s:.0f} s"
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def one_rep(urls: list[str], builds: list[tuple[str, Path]], work: Path, settle: float) -> None:
    daemons = []
    for name, program in builds:
        folder = work / name
        folder.mkdir()
        daemons.append(Daemon(name, program, folder, len(urls)))
    try:
        for daemon in daemons:
            daemon.start(urls)
        deadline = time.monotonic() + TIMEOUT_S
        waiting = list(daemons)
        while waiting:
            if time.monotonic() > deadline:
                raise SystemExit(f"not idle within {TIMEOUT_S:.0f} s: {[d.name for d in waiting]}")
            for daemon in list(waiting):
                if daemon.sample(settle):
                    print(daemon.report(), flush=True)
                    waiting.remove(daemon)
            time.sleep(0.5)
    finally:
        for daemon in daemons:
            daemon.stop()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--settle", type=float, default=10.0, help="seconds idle before reading")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--newswatch", action="append", metavar="[NAME=]PATH")
    args = parser.parse_args(argv)
    builds = [_build(spec) for spec in args.newswatch or [f"newswatch={NEWSWATCH}"]]
    print(f"load average at start: {os.getloadavg()}")
    with corpus_server(args.corpus, 1) as urls:
        print(f"{len(urls)} feeds, {len(builds)} build(s) at once, {args.reps} rep(s)")
        for rep in range(args.reps):
            with tempfile.TemporaryDirectory(prefix="nw-idle-") as tmp:
                one_rep(urls, builds if rep % 2 == 0 else builds[::-1], Path(tmp), args.settle)
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main(sys.argv[1:])
