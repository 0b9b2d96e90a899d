"""`open_database` on a new database, build beside build, each in a fresh interpreter.

Each rep runs, for every build in turn (the order rotates from rep to rep), a new
Python process that imports newswatch's store and opens a database:

- new: a SQLite file that does not exist yet (or, with --postgres, an empty schema);
- at head: the same database opened again (what every later command pays).

The child reports its own CPU (user + system, imports included) and peak RSS;
medians of the reps are printed with new - at head, which is what creating the
schema costs, and the load average.

    .venv/bin/python bench/bench_new_database.py [--reps 15] [--postgres URL]
        [--build NAME=OTHER/.venv/bin/python ...]  (several: compared in one run)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import resource, sys
from newswatch.store.db import open_database
open_database(sys.stdin.read()).dispose()
usage = resource.getrusage(resource.RUSAGE_SELF)
print(usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, "alembic" in sys.modules)
"""


def opened(python: Path, url: str) -> tuple[float, float, bool]:
    """CPU seconds, peak RSS (MB) and whether Alembic was loaded, of one open in a child."""
    out = subprocess.run(
        [str(python), "-c", PROBE], input=url, capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[0]), float(out[1]), out[2] == "True"


@contextmanager
def new_database(folder: Path, postgres: str | None) -> Iterator[str]:
    if postgres is None:
        yield f"sqlite:///{folder / uuid.uuid4().hex / 'newswatch.db'}"
        return
    from sqlalchemy import create_engine, text

    schema = f"nw_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        separator = "&" if "?" in postgres else "?"
        yield f"{postgres}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--postgres", help="a PostgreSQL URL (an empty schema per rep)")
    parser.add_argument(
        "--build",
        action="append",
        metavar="NAME=PYTHON",
        help="a build's interpreter (another checkout's .venv/bin/python); repeat to compare",
    )
    args = parser.parse_args(argv)
    specs = args.build or [f"this={ROOT / '.venv' / 'bin' / 'python'}"]
    builds = [(spec.partition("=")[0], Path(spec.partition("=")[2])) for spec in specs]
    runs: dict[tuple[str, str], list[tuple[float, float, bool]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for rep in range(args.reps):
            turn = rep % len(builds)
            for name, python in builds[turn:] + builds[:turn]:
                with new_database(Path(folder), args.postgres) as url:
                    runs.setdefault((name, "new"), []).append(opened(python, url))
                    runs.setdefault((name, "at head"), []).append(opened(python, url))
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"{backend}, medians of {args.reps}, load average {os.getloadavg()[0]:.1f}")
    print(f"{'build':<12} {'case':<8} {'CPU s':>7} {'RSS MB':>7}  alembic loaded")
    for name, _ in builds:
        medians = {}
        for case in ("new", "at head"):
            found = runs[(name, case)]
            cpu = statistics.median(r[0] for r in found)
            rss = statistics.median(r[1] for r in found)
            medians[case] = (cpu, rss)
            loaded = sum(r[2] for r in found)
            print(f"{name:<12} {case:<8} {cpu:7.3f} {rss:7.1f}  {loaded}/{len(found)}")
        cpu = medians["new"][0] - medians["at head"][0]
        rss = medians["new"][1] - medians["at head"][1]
        print(f"{name:<12} {'creating':<8} {cpu:+7.3f} {rss:+7.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
