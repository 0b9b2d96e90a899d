"""Feed files served over loopback from `tests/feedserver.py` in its own process.

The benchmarks that run newswatch (or newsboat) against real HTTP share this, so
the server's CPU is never counted with the program measured.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SERVER = Path(__file__).resolve().parent.parent / "tests" / "feedserver.py"
_NOT_FEEDS = (".tsv", ".md")  # the corpus's manifest and README are served too


@contextmanager
def served_feeds(folder: Path, hosts: int, latency: float = 0.0) -> Iterator[list[str]]:
    """Serve every feed file of `folder` on `hosts` loopback addresses; yield their URLs."""
    command = [sys.executable, str(SERVER), str(folder), "--hosts", str(hosts)]
    command += ["--latency", str(latency)]
    server = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    urls = []
    for line in server.stdout:
        if line.strip() == "ready":
            break
        name, url = line.rstrip("\n").split("\t")
        if not name.endswith(_NOT_FEEDS):
            urls.append(url)
    try:
        yield urls
    finally:
        server.terminate()
        server.wait(10)
