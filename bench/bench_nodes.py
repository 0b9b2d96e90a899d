"""Several nodes on one PostgreSQL: feeds polled per second with 1, 2 and 3 nodes.

2,000 generated feeds (5 entries of ~600 bytes each) on 100 loopback hosts,
served by `tests/feedserver.py` in its own process. For each node count, N
`newswatch run` processes start on a fresh schema and poll every feed once;
then two timed passes, each started by making every feed due at once in the
database:

  cold   validators and documents deleted: every feed answers 200, every
         entry is parsed, matched and stored again
  304    every feed answers 304 Not Modified

A node polls the hosts of its share (host slot mod live nodes); the rate of
a pass is the sum over shares of feeds / (last poll - first poll) of that
share, read from `feeds.last_success`, so the up-to-5 s offset between the
nodes' feed ticks is not counted. Round trips per feed are counted in this
process with one node (SQLAlchemy cursor executes plus BEGIN/COMMIT).

    NEWSWATCH_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/bench_nodes.py [--feeds 2000] [--nodes 1 2 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import ProgrammingError

from newswatch.config import load_config
from newswatch.log import configure_logging
from newswatch.ops.node import Node
from newswatch.pipeline.app import open_app
from served import served_feeds

ROOT = Path(__file__).resolve().parent.parent
HOSTS = 100
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india"]


def write_feeds(folder: Path, count: int) -> None:
    for i in range(count):
        items = "".join(
            f"<item><guid>f{i}-e{e}</guid><title>Entry {e} of feed {i}</title>"
            f"<link>https://news.example/{i}/{e}</link><description>"
            + " ".join(WORDS[(i + e + k) % len(WORDS)] + str(k) for k in range(80))
            + "</description></item>"
            for e in range(5)
        )
        (folder / f"f{i:05d}.xml").write_text(
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {i}</title>'
            f"<link>https://news.example/{i}</link>{items}</channel></rss>"
        )


@contextmanager
def fresh_schema(base: str) -> Iterator[str]:
    schema = f"nw_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def write_config(folder: Path, url: str, feeds: list[str]) -> Path:
    path = folder / "newswatch.yaml"
    entries = "".join(f"    - url: {u}\n" for u in feeds)
    path.write_text(
        f"database: {url}\nsources:\n  feeds:\n{entries}schedule: {{interval: 1h}}\n"
        "watch:\n  topics:\n    - name: Nothing\n      any: [zzzyzx]\n"
    )
    return path


def wait_polled(engine, since_sql: str, count: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    done = 0
    while time.monotonic() < deadline:
        try:
            with engine.connect() as connection:
                done = connection.execute(
                    text(f"SELECT count(*) FROM feeds WHERE last_success > {since_sql}")
                ).scalar_one()
        except ProgrammingError:  # the nodes are still creating the schema
            done = 0
        if done >= count:
            return
        time.sleep(0.5)
    raise TimeoutError(f"only {done} of {count} feeds polled")


def timed_pass(engine, nodes: int, count: int, *, cold: bool) -> float:
    """Make every feed due now; feeds/s summed over the nodes' shares of the hosts."""
    with engine.begin() as connection:
        mark = connection.execute(text("SELECT now()")).scalar_one()
        if cold:
            connection.execute(text("DELETE FROM documents"))
            connection.execute(
                text("UPDATE feeds SET etag = NULL, last_modified = NULL, body_hash = NULL")
            )
        connection.execute(text("UPDATE feeds SET next_poll = now()"))
    wait_polled(engine, f"'{mark.isoformat()}'", count)
    query = text(
        "SELECT coalesce(host_slot, 0) % :n AS share, count(*), "
        "extract(epoch FROM max(last_success) - min(last_success)) FROM feeds "
        "WHERE last_success > :mark GROUP BY 1"
    )
    with engine.connect() as connection:
        rows = connection.execute(query, {"n": nodes, "mark": mark}).all()
    return sum(n / max(float(span), 0.001) for _share, n, span in rows)


def run_nodes(base: str, urls: list[str], nodes: int, work: Path) -> tuple[float, float]:
    with fresh_schema(base) as url:
        config = write_config(work, url, urls)
        command = [sys.executable, "-m", "newswatch", "--config", str(config), "run"]
        procs = [
            subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(nodes)
        ]
        engine = create_engine(url)
        try:
            time.sleep(3)
            wait_polled(engine, "'-infinity'", len(urls))  # the first, spread-out pass
            time.sleep(6)  # every node registered and ticking
            cold = timed_pass(engine, nodes, len(urls), cold=True)
            steady = timed_pass(engine, nodes, len(urls), cold=False)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(30)
            engine.dispose()
    return cold, steady


def round_trips(base: str, urls: list[str], work: Path) -> tuple[float, float]:
    """Round trips per feed of one node's cold pass and 304 pass, counted in-process."""
    with fresh_schema(base) as url:
        config = load_config(write_config(work, url, urls))
        app = open_app(config)
        node = Node(app.engine, None, "run", config.node.lease)
        node.start()
        app.pipeline.node = node
        counted = {"n": 0}

        def count(*_args: object) -> None:
            counted["n"] += 1

        results = []
        try:
            for _ in range(3):  # first (new feeds registered), cold, 304
                with app.engine.begin() as connection:
                    connection.execute(text("UPDATE feeds SET next_poll = now()"))
                counted["n"] = 0
                for name in ("before_cursor_execute", "begin", "commit"):
                    event.listen(app.engine, name, count)
                app.pipeline.refresh_feeds(config.sources.feeds)
                for name in ("before_cursor_execute", "begin", "commit"):
                    event.remove(app.engine, name, count)
                results.append(counted["n"] / len(urls))
        finally:
            node.stop()
            app.close()
    return results[1], results[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--nodes", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    base = os.environ["NEWSWATCH_TEST_DATABASE_URL"]
    configure_logging("console", "WARNING")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "feeds").mkdir()
        write_feeds(work / "feeds", args.feeds)
        with served_feeds(work / "feeds", HOSTS) as urls:
            cold_rt, steady_rt = round_trips(base, urls, work)
            print(f"round trips per feed (one node): cold {cold_rt:.1f}, 304 {steady_rt:.1f}")
            for nodes in args.nodes:
                cold, steady = run_nodes(base, urls, nodes, work)
                print(f"{nodes} node(s): cold {cold:,.0f} feeds/s, 304 {steady:,.0f} feeds/s")


if __name__ == "__main__":
    main()
