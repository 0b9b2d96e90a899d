"""newswatch and newsboat side by side on the feed corpus, as whole processes (issue 11).

The corpus is served by `tests/feedserver.py` in its own process, with ETag and
Last-Modified (a feed sent back its validators answers 304). Each rep runs, for
each program in turn (the order alternates from rep to rep):

- cold: `newswatch ingest` on a fresh SQLite database, `newsboat -x reload` on a
  fresh cache (its own HOME, a urls file, `reload-threads 8`);
- second and third pass on the same database / cache: newsboat sends validators
  back from its third run on, so the third pass is the *steady* one (all 304).

For each run: wall time, CPU of the whole process tree (user + system, from
`getrusage(RUSAGE_CHILDREN)` deltas: children are waited for, so their
workers and forkserver are counted) and peak RSS of the tree (RSS of every
descendant summed, sampled every 20 ms). Medians of the reps and the ratios
newswatch / newsboat are printed with the load average: absolute seconds on a
shared machine vary from day to day, only ratios measured in one run mean much.
Then the start-up of `--version`, `--help`, `check` and `match TEXT` (min of 5).

    .venv/bin/python bench/bench_vs_newsboat.py [--reps 3] [--hosts 1] [--corpus DIR]
        [--newswatch [NAME=]OTHER/.venv/bin/newswatch ...]  (several: compared in one run)
"""

from __future__ import annotations

import argparse
import ctypes
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from corpus import CORPUS
from served import served_feeds

ROOT = Path(__file__).resolve().parent.parent
NEWSWATCH = ROOT / ".venv" / "bin" / "newswatch"
PHASES = ("cold", "second", "steady")
SAMPLE_S = 0.02
FIELDS = ("wall", "cpu", "rss_mb")


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    rss_mb: float
    code: int


corpus_server = served_feeds  # (folder, hosts): bench_steady imports it from here


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            tree.setdefault(parent, []).append(int(entry))
    return tree


def tree_rss_mb(root: int, seen: set[int]) -> float:
    """RSS of `root` and every descendant, summed; their PIDs are added to `seen`."""
    tree, total, frontier = _children(), 0, [root]
    while frontier:
        pid = frontier.pop()
        seen.add(pid)
        frontier += tree.get(pid, [])
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def measure(command: Sequence[str], env: dict[str, str], log: Path) -> Run:
    """Run `command` to its end: wall, CPU of its process tree, peak summed RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with log.open("ab") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=sink)
        peak, seen = 0.0, set[int]()
        while process.poll() is None:
            peak = max(peak, tree_rss_mb(process.pid, seen))
            time.sleep(SAMPLE_S)
    wall = time.perf_counter() - started
    reap_orphans(seen - {process.pid})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(wall, cpu, peak, process.returncode)


PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> None:
    """Orphaned descendants (newswatch's forkserver, which reaps the parse workers,
    and its resource tracker) are re-parented to this process instead of init, so
    reaping them here counts their CPU in RUSAGE_CHILDREN. Without this the
    workers' CPU, most of a cold pass, was missing from the tree's CPU."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("prctl(PR_SET_CHILD_SUBREAPER) failed: the tree's CPU would be undercounted")


def reap_orphans(pids: set[int], timeout_s: float = 30.0) -> None:
    """Wait for the descendants re-parented to us (they exit once their parent has)."""
    deadline = time.monotonic() + timeout_s
    waiting = set(pids)
    while waiting and time.monotonic() < deadline:
        for pid in list(waiting):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:  # not ours: reaped by its own parent, whose CPU has it
                waiting.discard(pid)
                continue
            if done:
                waiting.discard(pid)
        time.sleep(0.05)


class Newswatch:
    name = "newswatch"
    program = NEWSWATCH

    def __init__(
        self, folder: Path, urls: list[str], build: tuple[str, Path] | None = None
    ) -> None:
        if build is not None:  # one of several builds compared in the same run
            self.name, self.program = build
        watch = yaml.safe_load((ROOT / "config" / "newswatch.yaml").read_text())["watch"]
        config = {
            "database": f"sqlite:///{folder / 'newswatch.db'}",
            "sources": {"feeds": [{"url": url} for url in urls]},
            "watch": watch,
        }
        self.config = folder / "newswatch.yaml"
        self.config.write_text(yaml.safe_dump(config, allow_unicode=True))
        # dated back: a config written within 2 s of a run is not kept validated by it
        # (config/cache.py), and which build ran first decided whose second pass
        # validated again (pydantic, +11 MB)
        written = time.time() - 60
        os.utime(self.config, (written, written))
        self.env = dict(os.environ)

    def command(self) -> list[str]:
        command = ["--config", str(self.config), "--log-format", "json", "ingest"]
        return [str(self.program), *command]


class Newsboat:
    name = "newsboat"

    def __init__(self, folder: Path, urls: list[str]) -> None:
        home = folder / "home"
        (home / ".newsboat").mkdir(parents=True)
        self.urls = folder / "urls"
        self.urls.write_text("".join(f"{url}\n" for url in urls))
        self.config = folder / "newsboat.conf"
        self.config.write_text("reload-threads 8\n")
        self.cache = folder / "cache.db"
        self.env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"))
        self.env["XDG_DATA_HOME"] = str(home / ".local" / "share")

    def command(self) -> list[str]:
        files = ["-u", str(self.urls), "-c", str(self.cache), "-C", str(self.config)]
        return ["newsboat", *files, "-x", "reload"]


def side_by_side(
    urls: list[str], reps: int, work: Path, builds: list[tuple[str, Path]]
) -> dict[str, dict[str, list[Run]]]:
    results: dict[str, dict[str, list[Run]]] = {}
    for rep in range(reps):
        programs: list[Newswatch | Newsboat] = []
        for name, path in builds:
            folder = work / f"{name}-{rep}"
            folder.mkdir()
            programs.append(Newswatch(folder, urls, (name, path)))
        folder = work / f"newsboat-{rep}"
        folder.mkdir()
        programs.append(Newsboat(folder, urls))
        if rep % 2:
            programs.reverse()
        for phase in PHASES:
            for program in programs:
                run = measure(program.command(), program.env, work / f"{program.name}.log")
                results.setdefault(program.name, {}).setdefault(phase, []).append(run)
                print(
                    f"rep {rep + 1} {phase:<6} {program.name:<12} wall {run.wall:6.2f} s  "
                    f"cpu {run.cpu:6.2f} s  rss {run.rss_mb:6.0f} MB  exit {run.code}",
                    flush=True,
                )
    return results


def startup(config: Path) -> list[tuple[str, float]]:
    """Wall time of the quick commands, min of 5 runs each."""
    commands = {
        "--version": ["--version"],
        "--help": ["--help"],
        "check": ["--config", str(config), "check"],
        "match TEXT": ["--config", str(config), "match", "Kosachev met NATO envoys."],
    }
    timings = []
    for label, args in commands.items():
        best = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            subprocess.run([str(Newswatch.program), *args], capture_output=True, check=True)
            best = min(best, time.perf_counter() - started)
        timings.append((label, best))
    return timings


def report(results: dict[str, dict[str, list[Run]]], names: list[str]) -> None:
    for name in names:
        print(f"\nmedians; ratio = {name} / newsboat")
        print(f"| phase | {name} wall / CPU / RSS | newsboat wall / CPU / RSS | wall | CPU | RSS |")
        print("|---|---|---|---|---|---|")
        for phase in PHASES:
            nw, nb = (
                [statistics.median(getattr(r, f) for r in results[who][phase]) for f in FIELDS]
                for who in (name, "newsboat")
            )
            ratios = " | ".join(f"{a / b:.2f}x" if b else "-" for a, b in zip(nw, nb, strict=True))
            print(
                f"| {phase} | {nw[0]:.2f} s / {nw[1]:.2f} s / {nw[2]:.0f} MB "
                f"| {nb[0]:.2f} s / {nb[1]:.2f} s / {nb[2]:.0f} MB | {ratios} |"
            )


def compile_tree(python: Path | str, folder: Path | str) -> None:
    """Write the bytecode of the modules under `folder`, with the interpreter that runs
    them: an editable install or a copied tree has none, and with
    PYTHONDONTWRITEBYTECODE set (as on these machines) each run would compile every
    module first (~0.35 s of the cold pass)."""
    subprocess.run([python, "-m", "compileall", "-q", str(folder)], check=True)


def compile_build(program: Path) -> None:
    """compile_tree for the build's `newswatch` package, with the interpreter beside
    its program. A program with none (a wrapper script) is left as it is."""
    python = program.parent / "python"
    if not python.exists():
        print(f"{program}: no interpreter beside it, its bytecode is left as it is")
        return
    where = "import newswatch, pathlib; print(pathlib.Path(newswatch.__file__).parent)"
    found = subprocess.run([python, "-c", where], capture_output=True, text=True, check=True)
    compile_tree(python, found.stdout.strip())


def _build(spec: str) -> tuple[str, Path]:
    name, _, path = spec.rpartition("=")
    return (name or f"newswatch:{Path(path).parent.parent.parent.name}", Path(path))


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--hosts", type=int, default=1, help="loopback addresses served")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--no-startup", action="store_true")
    parser.add_argument(
        "--newswatch",
        action="append",
        metavar="[NAME=]PATH",
        help="a newswatch build to run (another checkout); repeat to compare builds in one run",
    )
    args = parser.parse_args(argv)
    builds = [_build(spec) for spec in args.newswatch or [f"newswatch={NEWSWATCH}"]]
    Newswatch.program = builds[0][1]
    for _, program in builds:
        compile_build(program)
    if shutil.which("newsboat") is None:
        sys.exit("newsboat is not installed: apt-get install -y newsboat")
    become_subreaper()
    print(f"load average at start: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="nw-vs-nb-") as tmp:
        work = Path(tmp)
        with corpus_server(args.corpus, args.hosts) as urls:
            print(f"{len(urls)} feeds on {args.hosts} loopback host(s), {args.reps} reps")
            results = side_by_side(urls, args.reps, work, builds)
        report(results, [name for name, _ in builds])
        for name, _ in builds:
            failed = [r for runs in results[name].values() for r in runs if r.code]
            if failed:
                print(f"{name} exited non-zero {len(failed)} time(s); see {work}/{name}.log")
        if not args.no_startup:
            print("\nstart-up, min of 5:")
            for label, wall in startup(work / f"{builds[0][0]}-0" / "newswatch.yaml"):
                print(f"  {builds[0][0]} {label:<11} {wall:.3f} s")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main(sys.argv[1:])
