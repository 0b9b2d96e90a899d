"""`newswatch check` on a generated config with many people: CPU and peak memory.

Each person has a name and two aliases; 200 topics. Runs check as its own
process and reads its user CPU and peak RSS from getrusage(RUSAGE_CHILDREN).

    .venv/bin/python bench/bench_check.py [--people 100000] [--python PATH]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def write_config(path: Path, people: int) -> None:
    lines = [f"database: sqlite:///{path.parent}/nw.db", "watch:", "  people:"]
    for n in range(people):
        lines.append(f"    - name: Person{n} Surname{n}")
        lines.append(f"      aliases: [Surname{n}, P{n} Surname{n}]")
    lines.append("  topics:")
    for n in range(200):
        lines += [f"    - name: Topic {n}", f"      any: [topic{n}word, other{n}]"]
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nw-check-") as tmp:
        config = Path(tmp) / "newswatch.yaml"
        write_config(config, args.people)
        started = time.monotonic()
        command = [args.python, "-m", "newswatch", "--config", str(config), "check"]
        subprocess.run(command, check=True, capture_output=True)
        wall = time.monotonic() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        f"check, {args.people:,} people: {wall:.1f} s wall, {usage.ru_utime:.1f} s user CPU, "
        f"peak RSS {usage.ru_maxrss / 1024:.0f} MB"
    )


if __name__ == "__main__":
    main()
