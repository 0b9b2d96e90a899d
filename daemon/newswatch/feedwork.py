"""Feed bodies to documents, on both cores when there is enough to parse.

Parsing (feedparser, HTML to text) and normalising are pure and CPU-bound,
so a cold pass over hundreds of feeds fans them out to worker processes;
a handful of small bodies is parsed in-process, where IPC would cost more
than it saves. Workers start through the forkserver, never by forking a
process that runs scheduler threads.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from urllib.parse import urlsplit

from newswatch.model import Document
from newswatch.normalize import normalize
from newswatch.sources.feeds import FeedParseError, parse_feed

POOL_THRESHOLD_BYTES = 2 * 2**20


@dataclass(frozen=True, slots=True)
class FeedBody:
    body: bytes
    url: str
    headers: Mapping[str, str]
    source: str | None
    fetched_at: datetime


@dataclass(frozen=True, slots=True)
class ParsedBody:
    """Normalised documents of one body, or the reason it held no feed."""

    title: str | None = None
    documents: list[Document] = field(default_factory=list)
    bozo: str | None = None
    error: str | None = None


def documents_of(work: FeedBody) -> ParsedBody:
    """Parse and normalise one body; never raises for bad input."""
    placeholder = work.source or "feed"
    try:
        parsed = parse_feed(
            work.body,
            url=work.url,
            headers=work.headers,
            source=placeholder,
            fetched_at=work.fetched_at,
        )
    except FeedParseError as exc:
        return ParsedBody(error=str(exc))
    except Exception as exc:  # a parser bug must cost one feed, not the cycle
        return ParsedBody(error=f"{work.url}: the feed could not be parsed: {exc!r}")
    source = work.source or parsed.title or _host(work.url)
    docs = [normalize(item) for item in parsed.items]
    if source != placeholder:
        docs = [_with_source(doc, source) for doc in docs]
    return ParsedBody(title=parsed.title, documents=docs, bozo=parsed.bozo)


def _with_source(document: Document, source: str) -> Document:
    return replace(document, source=source)


def _host(url: str) -> str:
    return urlsplit(url).hostname or url


class FeedParsers:
    """Parses many bodies, in worker processes when worth it. Close it when done."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or min(2, os.cpu_count() or 1)
        self._pool: Executor | None = None

    def parse_all(self, work: Sequence[FeedBody]) -> list[ParsedBody]:
        total = sum(len(w.body) for w in work)
        if self.workers < 2 or len(work) < 2 or total < POOL_THRESHOLD_BYTES:
            return [documents_of(w) for w in work]
        pool = self._ensure_pool()
        # largest first, so one big feed does not finish last on its own
        order = sorted(range(len(work)), key=lambda i: -len(work[i].body))
        results = dict(zip(order, pool.map(documents_of, [work[i] for i in order]), strict=True))
        return [results[i] for i in range(len(work))]

    def _ensure_pool(self) -> Executor:
        if self._pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["newswatch.feedwork"])
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
