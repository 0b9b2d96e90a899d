"""Timeline of a cold `newswatch ingest`: which process is busy when (issue 11).

Runs a cold ingest of the corpus (fresh SQLite database, the side-by-side bench's
config) for each build given, interleaved, and samples every 10 ms the CPU time
(utime + stime from /proc/PID/stat) of the main process, each of its threads, the
forkserver, the resource tracker and each parse worker; log lines are stamped as
they arrive. Prints, per run, the CPU share of each process per time bin with the
log events of that bin, then the shape in a few numbers:

- `workers at`: when the parse workers first parsed (before it, main runs alone);
- `tail`: from the workers' last parsing to the exit (main alone: the last store,
  the alerts' delivery, closing); the CPU each process spent before the workers and
  after them, which a loaded machine stretches but does not reorder;
- `idle core-s`: 2 x wall - CPU of the tree: what a quiet 2-core machine left
  unused (on a loaded one, other programs' time counts as idle here).

    .venv/bin/python bench/bench_cold_timeline.py [--reps 2] [--bin 0.1]
        [--newswatch [NAME=]OTHER/.venv/bin/newswatch ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench_vs_newsboat import CORPUS, NEWSWATCH, Newswatch, _build, served_feeds

TICK = os.sysconf("SC_CLK_TCK")
SAMPLE_S = 0.01


@dataclass
class Trace:
    wall: float = 0.0
    code: int = 0
    samples: list[tuple[float, dict[int, float], dict[str, float]]] = field(default_factory=list)
    roles: dict[int, str] = field(default_factory=dict)
    lines: list[tuple[float, str]] = field(default_factory=list)


def _stat(path: str) -> tuple[str, int, float]:
    """(name, parent pid, CPU seconds) of a process or thread."""
    text = Path(path).read_text()
    name = text.split("(", 1)[1].rsplit(")", 1)[0]
    fields = text.rsplit(")", 1)[1].split()
    return name, int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def _tree() -> dict[int, int]:
    """Every process's parent."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parents[int(entry)] = _stat(f"/proc/{entry}/stat")[1]
            except OSError:
                continue
    return parents


def _role(pid: int, root: int, parent: int) -> str:
    if pid == root:
        return "main"
    if parent != root:
        return "worker"  # the forkserver's children (builds before `poolmem`)
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    if b"resource_tracker" in command:
        return "tracker"
    return "forkserver" if b"forkserver" in command else "worker"  # spawned: main's children


def _sample(root: int, trace: Trace, started: float) -> None:
    now = time.perf_counter() - started
    parents = _tree()
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    frontier, cpu = [root], {}
    while frontier:
        pid = frontier.pop()
        frontier += children.get(pid, [])
        try:
            cpu[pid] = _stat(f"/proc/{pid}/stat")[2]
        except OSError:
            continue
        if pid not in trace.roles:
            trace.roles[pid] = _role(pid, root, parents.get(pid, 0))
    threads = {}
    try:
        for tid in os.listdir(f"/proc/{root}/task"):
            try:
                name, _, used = _stat(f"/proc/{root}/task/{tid}/stat")
            except OSError:
                continue
            threads[f"{'main thread' if int(tid) == root else name}/{tid}"] = used
    except OSError:
        pass
    trace.samples.append((now, cpu, threads))


def run(program: Newswatch) -> Trace:
    trace = Trace()
    started = time.perf_counter()
    process = subprocess.Popen(
        program.command(), env=program.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert process.stderr is not None
    stderr = process.stderr

    def read() -> None:
        for line in stderr:
            trace.lines.append((time.perf_counter() - started, line.decode(errors="replace")))

    reader = threading.Thread(target=read)
    reader.start()
    while process.poll() is None:
        _sample(process.pid, trace, started)
        time.sleep(SAMPLE_S)
    trace.wall = time.perf_counter() - started
    trace.code = process.returncode
    reader.join()
    return trace


def _bins(trace: Trace, width: float) -> tuple[list[str], dict[str, list[float]]]:
    """CPU seconds per bin of each process (and of each thread of main)."""
    count = int(trace.wall / width) + 1
    labels, workers = {}, 0
    for pid in sorted(trace.roles):
        role = trace.roles[pid]
        if role == "worker":
            workers += 1
            role = f"w{workers}"
        labels[pid] = role
    bins: dict[str, list[float]] = {}
    last: dict[object, float] = {}
    for at, cpu, threads in trace.samples:
        slot = min(int(at / width), count - 1)
        for key, used in [*cpu.items(), *threads.items()]:  # threads: "name/tid"
            label = labels[key] if isinstance(key, int) else "main/" + key.rsplit("/", 1)[0]
            bins.setdefault(label, [0.0] * count)[slot] += used - last.get(key, 0.0)
            last[key] = used
    return list(labels.values()), bins


def _event(line: str) -> str:
    try:
        return str(json.loads(line)["event"])
    except (ValueError, KeyError, TypeError):
        return line.strip()[:30]


def report(name: str, trace: Trace, width: float) -> None:
    processes, bins = _bins(trace, width)
    threads = sorted(k for k in bins if k.startswith("main/"))
    print(f"\n{name}: exit {trace.code}, load {os.getloadavg()[0]:.1f}")
    print("   t(s) " + " ".join(f"{p:>10}" for p in processes + threads) + "  events")
    events: dict[int, Counter[str]] = {}
    for at, line in trace.lines:
        events.setdefault(int(at / width), Counter())[_event(line)] += 1
    for slot in range(len(next(iter(bins.values())))):
        shares = " ".join(f"{bins[p][slot] / width:10.0%}" for p in processes + threads)
        said = ", ".join(f"{e} x{n}" for e, n in sorted(events.get(slot, Counter()).items()))
        print(f"{slot * width:7.2f} {shares}  {said[:70]}")
    cpu = {p: sum(bins[p]) for p in processes}
    workers = [p for p in processes if p.startswith("w")]
    # parsing: the workers' CPU together at least a tenth of a core (not their exit)
    busy = [
        i for i in range(len(bins[processes[0]])) if sum(bins[p][i] for p in workers) >= width / 10
    ]
    stored = [at for at, line in trace.lines if _event(line) == "source_refreshed"]
    print(f"  wall {trace.wall:.2f} s, CPU {sum(cpu.values()):.2f} s: ", end="")
    print(", ".join(f"{p} {c:.2f}" for p, c in cpu.items()))
    if busy:
        tail = trace.wall - (busy[-1] + 1) * width
        print(f"  workers at {busy[0] * width:.2f} s, tail {tail:.2f} s", end="")
        before = {p: sum(bins[p][: busy[0]]) for p in processes}
        after = {p: sum(bins[p][busy[-1] + 1 :]) for p in processes}
        print(
            f" (CPU before the workers: main {before['main']:.2f} s, forkserver "
            f"{before.get('forkserver', 0):.2f} s; after them: main {after['main']:.2f} s)",
            end="",
        )
    if stored:
        print(f", feeds stored {stored[0]:.2f}-{stored[-1]:.2f} s", end="")
    print(f", idle core-s {2 * trace.wall - sum(cpu.values()):.2f}")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--bin", type=float, default=0.1, help="seconds per line")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--newswatch", action="append", metavar="[NAME=]PATH")
    args = parser.parse_args(argv)
    builds = [_build(spec) for spec in args.newswatch or [f"newswatch={NEWSWATCH}"]]
    with (
        tempfile.TemporaryDirectory(prefix="nw-timeline-") as tmp,
        served_feeds(args.corpus, 1) as urls,
    ):
        for rep in range(args.reps):
            for name, path in builds:
                folder = Path(tmp) / f"{name}-{rep}"
                folder.mkdir()
                report(name, run(Newswatch(folder, urls, (name, path))), args.bin)


if __name__ == "__main__":
    main(sys.argv[1:])
