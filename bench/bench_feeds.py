"""Feed ingest edge: fetch + parse + HTML-to-text of the 200-feed corpus from loopback.

The corpus is served by `tests/feedserver.py` in its own process (20 loopback
hosts), so the server does not share this process's CPU. Phases:

  cold        a fresh Fetcher fetches all 200 feeds; parse_feed (with html_to_text)
              on each, in this process
  pipelined   the same, each body parsed on a pool of two processes as it arrives
  steady      a fresh Fetcher sends the validators of the cold pass: every feed 304
  latency     cold fetch + parse when the server adds 100 ms to every answer

and on the same bytes, in the same run: bare `feedparser.parse` (defaults, and
with the sanitizer and URI rewriting off), and `html_to_text` against a
stdlib `html.parser` version on every entry's HTML.

    .venv/bin/python bench/bench_feeds.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import html.parser
import io
import resource
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import feedparser

from corpus import CORPUS
from newswatch.config import Fetch
from newswatch.htmltext import html_to_text
from newswatch.model import RawItem
from newswatch.sources.feeds import FeedParseError, parse_feed
from newswatch.sources.http import Fetcher, FetchRequest, FetchResult
from served import served_feeds

ROOT = Path(__file__).resolve().parent.parent
CONFIG = Fetch(concurrency=16, per_host=2)


@contextmanager
def corpus_server(latency: float = 0.0, hosts: int = 20) -> Iterator[list[str]]:
    """The corpus served from another process; yields the feed URLs."""
    with served_feeds(CORPUS, hosts, latency) as urls:
        yield urls


def fetch_all(requests: list[FetchRequest]) -> list[FetchResult]:
    with Fetcher(CONFIG) as fetcher:
        return fetcher.fetch_all(requests)


def parse_one(result: FetchResult) -> int:
    return len(parse_items(result))


def parse_items(result: FetchResult) -> list[RawItem]:
    try:
        parsed = parse_feed(
            result.body or b"",
            url=result.final_url,
            headers=result.headers,
            source=result.url,
            fetched_at=datetime.now(UTC),
        )
    except FeedParseError:
        return []
    return parsed.items


def cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(run: Callable[[], int]) -> tuple[int, float, float]:
    wall, used = time.perf_counter(), cpu()
    entries = run()
    return entries, time.perf_counter() - wall, cpu() - used


def cold(urls: list[str]) -> Callable[[], int]:
    def run() -> int:
        results = fetch_all([FetchRequest(url) for url in urls])
        assert all(r.outcome == "ok" for r in results), [r.error for r in results if r.error]
        return sum(map(parse_one, results))

    return run


def cold_pipelined(urls: list[str], workers: int = 2) -> Callable[[], int]:
    """Parse each body on a process pool as soon as it arrives, items sent back."""

    def run() -> int:
        with ProcessPoolExecutor(max_workers=workers) as pool, Fetcher(CONFIG) as fetcher:
            requests = [FetchRequest(url) for url in urls]
            parsing = [pool.submit(parse_items, r) for r in fetcher.fetch_as_completed(requests)]
            return sum(len(items.result()) for items in parsing)

    return run


def fetch_only(urls: list[str]) -> Callable[[], int]:
    def run() -> int:
        fetch_all([FetchRequest(url) for url in urls])
        return 0

    return run


def steady(urls: list[str], validators: list[FetchResult]) -> Callable[[], int]:
    requests = [
        FetchRequest(url, r.etag, r.last_modified, r.body_hash)
        for url, r in zip(urls, validators, strict=True)
    ]

    def run() -> int:
        results = fetch_all(requests)
        assert all(r.outcome == "not_modified" for r in results)
        return 0

    return run


def bare_feedparser(bodies: list[bytes], **options: bool) -> Callable[[], int]:
    def run() -> int:
        headers = {"content-type": "application/xml"}
        return sum(
            len(feedparser.parse(io.BytesIO(b), response_headers=headers, **options).entries)
            for b in bodies
        )

    return run


class StdlibText(html.parser.HTMLParser):
    """The obvious alternative to htmltext: html.parser callbacks collecting text."""

    BLOCKS = frozenset({"p", "div", "li", "ul", "ol", "tr", "table", "blockquote", "pre", "hr"})
    BLOCKS |= {"h1", "h2", "h3", "h4", "h5", "h6"}
    SKIP = frozenset({"script", "style"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.skipping += tag in self.SKIP
        self.parts.append("\n\n" if tag in self.BLOCKS else "\n" if tag == "br" else "")

    def handle_endtag(self, tag: str) -> None:
        self.skipping -= tag in self.SKIP and self.skipping > 0
        self.parts.append("\n\n" if tag in self.BLOCKS else "")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)

    def text(self) -> str:
        blocks = "".join(self.parts).split("\n\n")
        return "\n\n".join(b for b in (" ".join(x.split()) for x in blocks) if b)


def stdlib_text(markup: str) -> str:
    parser = StdlibText()
    parser.feed(markup)
    parser.close()
    return parser.text()


def fragments(bodies: list[bytes]) -> list[str]:
    found = []
    for body in bodies:
        parsed = feedparser.parse(
            io.BytesIO(body), sanitize_html=False, resolve_relative_uris=False
        )
        for entry in parsed.entries:
            content = entry.get("content")
            found.append(content[0]["value"] if content else entry.get("summary", ""))
    return found


def text_pass(convert: Callable[[str], str], markup: list[str]) -> Callable[[], int]:
    def run() -> int:
        for fragment in markup:
            convert(fragment)
        return len(markup)

    return run


def best(run: Callable[[], int], repeat: int) -> tuple[int, float, float]:
    return min((timed(run) for _ in range(repeat)), key=lambda r: r[1])


def row(name: str, entries: int, wall: float, used: float, note: str = "") -> str:
    rate = f"{entries / wall:,.0f}" if entries else "–"
    return f"| {name} | {entries:,} | {wall:.2f} s | {used:.2f} s | {rate} | {note} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    lines = ["| phase | entries | wall | CPU | entries/s | note |", "|---|--:|--:|--:|--:|---|"]
    with corpus_server() as urls:
        entries, wall, used = timed(cold(urls))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        lines.append(
            row("cold, 1 process (first run)", entries, wall, used, f"peak RSS {peak:.0f} MB")
        )
        lines.append(row("cold, 1 process (best)", *best(cold(urls), args.repeat)))
        lines.append(row("fetch only, 200 feeds", *best(fetch_only(urls), args.repeat)))
        pipelined = best(cold_pipelined(urls), args.repeat)
        lines.append(row("cold, parsing on 2 processes as bodies arrive", *pipelined))
        validators = fetch_all([FetchRequest(url) for url in urls])
        lines.append(row("steady, all 304", *best(steady(urls, validators), args.repeat)))
    with corpus_server(latency=0.1) as urls:
        lines.append(row("cold, 100 ms latency, 1 process", *best(cold(urls), 1)))
        lines.append(row("cold, 100 ms latency, 2 processes", *best(cold_pipelined(urls), 1)))
    bodies = [r.body or b"" for r in validators]
    plain = bare_feedparser(bodies)
    fast = bare_feedparser(bodies, sanitize_html=False, resolve_relative_uris=False)
    lines.append(row("bare feedparser.parse, defaults", *best(plain, 1)))
    lines.append(row("bare feedparser.parse, sanitizer off", *best(fast, args.repeat)))
    markup = fragments(bodies)
    size = sum(map(len, markup)) / 1e6
    for name, convert in (("html_to_text", html_to_text), ("html.parser version", stdlib_text)):
        n, wall, used = best(text_pass(convert, markup), args.repeat)
        lines.append(row(f"{name}, {size:.0f} MB HTML", n, wall, used, f"{size / wall:.0f} MB/s"))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
