"""Many feeds at once: 1,000 feeds on 100 loopback hosts, each answer 100 ms late.

One by one this would take ~100 s; with 100 requests in flight and 2 per host it
should take a few seconds. The test suite checks that both limits hold
(tests/test_fetch_faults.py); how long it takes is measured here, because a
deadline in an assert fails by chance on a busy machine.

    .venv/bin/python bench/bench_fetch_limits.py [--feeds 1000] [--hosts 100] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import feedserver  # the loopback server of the tests
from newswatch.config import Fetch
from newswatch.sources.http import Fetcher, FetchRequest, FetchResult


def fetch_all(requests: list[FetchRequest], config: Fetch) -> list[FetchResult]:
    with Fetcher(config) as fetcher:
        return fetcher.fetch_all(requests)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--feeds", type=int, default=1000)
    options.add_argument("--hosts", type=int, default=100)
    options.add_argument("--latency", type=float, default=0.1)
    options.add_argument("--repeat", type=int, default=3)
    args = options.parse_args()
    config = Fetch(concurrency=100, per_host=2, timeout=60, connect_timeout=10)
    hosts = feedserver.loopback_hosts(args.hosts)
    running = feedserver.start(hosts)
    try:
        feedserver.set_route(running, "/feed", feedserver.feed(b"<rss/>", delay=args.latency))
        urls = [running.url("/feed", hosts[i % len(hosts)]) for i in range(args.feeds)]
        for _ in range(args.repeat):
            started = time.perf_counter()
            results = fetch_all([FetchRequest(url) for url in urls], config)
            took = time.perf_counter() - started
            ok = sum(r.outcome == "ok" for r in results)
            serial = args.feeds * args.latency
            print(
                f"{args.feeds} feeds on {args.hosts} hosts, {args.latency * 1000:.0f} ms each: "
                f"{took:.2f} s ({serial / took:.0f}x faster than one by one), {ok} ok, "
                f"peak {running.peak_overall} in flight, "
                f"{max(running.peak_per_host.values())} per host"
            )
    finally:
        feedserver.stop(running)


if __name__ == "__main__":
    main()
