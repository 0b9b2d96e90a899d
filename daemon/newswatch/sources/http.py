"""Fetching feeds over HTTP: the I/O edge, polite and hard to hurt.

One `Fetcher` per event loop owns one httpx client. It follows redirects itself
(to tell permanent from temporary ones and to catch loops), sends conditional
requests, limits concurrency overall and per host, cuts every request at a
total deadline, and reads bodies through its own size-capped decompression
(`inflate`) so that neither an endless body nor a gzip bomb can take more than
`max_bytes`. Every I/O problem comes back as a `FetchResult` with one clear line
(`httperrors`), never as an exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal
from urllib.parse import urljoin

import httpx

from newswatch import PROJECT_URL, __version__
from newswatch.sources.httperrors import FetchError, describe_error, parse_retry_after
from newswatch.sources.inflate import read_capped

if TYPE_CHECKING:
    from newswatch.config import Fetch

Outcome = Literal["ok", "not_modified", "unchanged", "gone", "error"]
USER_AGENT = f"newswatch/{__version__} (+{PROJECT_URL})"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml,"
    " application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
PERMANENT_REDIRECTS = frozenset({301, 308})
TEMPORARY_REDIRECTS = frozenset({302, 303, 307})


@dataclass(frozen=True, slots=True)
class FetchRequest:
    url: str
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one fetch came to. `body` is set only when the outcome is "ok"."""

    url: str
    outcome: Outcome
    status: int | None
    body: bytes | None
    headers: Mapping[str, str]
    final_url: str
    permanent_url: str | None
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    retry_after: datetime | None
    error: str | None
    elapsed_ms: float


@dataclass
class _Attempt:
    request: FetchRequest
    url: str
    deadline: float | None = None
    started: float = field(default_factory=time.perf_counter)
    redirects: list[int] = field(default_factory=list)
    visited: list[str] = field(default_factory=list)

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000


@dataclass(frozen=True, slots=True)
class _Response:
    status: int
    reason: str
    headers: dict[str, str]
    body: bytes | None


class Fetcher:
    """Concurrent, polite HTTP GETs for feeds; use as `async with Fetcher(cfg) as f:`.

    One small httpx client per origin, all sharing one TLS context: httpx's
    single pool rescans every connection on every event, which costs more than
    the fetching once a few hundred hosts are in play.
    """

    def __init__(
        self,
        fetch: Fetch,
        user_agent: str | None = None,
        admit: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._config = fetch
        # awaited before each request goes out, its host's and the overall slot held:
        # the caller's backpressure (a fetch that waited for a slot would otherwise
        # bring its body however much the caller holds already)
        self._admit = admit
        self._timeout = fetch.timeout.total_seconds()
        self._headers = {
            "User-Agent": user_agent or USER_AGENT,
            "Accept": ACCEPT,
            "Accept-Encoding": "gzip, deflate",
        }
        self._tls: ssl.SSLContext | None = None  # made for the first https origin
        self._clients: dict[tuple[str, str, int | None], httpx.AsyncClient] = {}
        self._overall = asyncio.Semaphore(fetch.concurrency)
        self._per_host: dict[str, asyncio.Semaphore] = {}

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        await asyncio.gather(*(client.aclose() for client in clients))

    def _client(self, url: httpx.URL) -> httpx.AsyncClient:
        origin = (url.scheme, url.host, url.port)
        client = self._clients.get(origin)
        if client is None:
            client = self._clients[origin] = httpx.AsyncClient(
                follow_redirects=False,
                verify=self._tls_context() if url.scheme == "https" else False,
                headers=self._headers,
                timeout=httpx.Timeout(
                    self._timeout, connect=self._config.connect_timeout.total_seconds()
                ),
                limits=httpx.Limits(max_connections=self._config.per_host),
            )
        return client

    def _tls_context(self) -> ssl.SSLContext:
        """One TLS context for every origin, made when the first https one is met: loading
        the CA bundle costs tens of ms, for nothing when the feeds are plain http."""
        if self._tls is None:
            self._tls = httpx.create_ssl_context()
        return self._tls

    async def fetch_all(self, requests: Sequence[FetchRequest]) -> list[FetchResult]:
        """Every request, concurrently within the overall and per-host limits; results in order."""
        return list(await asyncio.gather(*(self.fetch(request) for request in requests)))

    async def fetch_as_completed(
        self, requests: Sequence[FetchRequest]
    ) -> AsyncIterator[FetchResult]:
        """The same fetches, each result as soon as it is in, so parsing can overlap fetching."""
        tasks = [asyncio.ensure_future(self.fetch(request)) for request in requests]
        try:
            for next_done in asyncio.as_completed(tasks):
                yield await next_done
        finally:
            for task in tasks:
                task.cancel()

    async def fetch(self, request: FetchRequest) -> FetchResult:
        """One feed URL, redirects followed; never raises for network or server trouble."""
        attempt = _Attempt(request=request, url=request.url)
        try:
            return await self._follow(attempt)
        except FetchError as exc:
            return _failure(attempt, str(exc), exc.status)
        except TimeoutError:
            message = f"no complete answer within the {self._timeout:g} s deadline"
            return _failure(attempt, f"{message} from {attempt.url}")
        except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError) as exc:
            return _failure(attempt, describe_error(exc, attempt.url, self._config))

    async def _follow(self, attempt: _Attempt) -> FetchResult:
        while True:
            attempt.visited.append(attempt.url)
            response = await self._get(attempt)
            if response.status not in PERMANENT_REDIRECTS | TEMPORARY_REDIRECTS:
                return _result(attempt, response)
            attempt.url = self._redirect_target(attempt, response)
            attempt.redirects.append(response.status)

    def _redirect_target(self, attempt: _Attempt, response: _Response) -> str:
        location = response.headers.get("location", "").strip()
        if not location:
            raise FetchError(f"HTTP {response.status} redirect without a Location header")
        target = urljoin(attempt.url, location)
        if target in attempt.visited:
            loop = " -> ".join([*attempt.visited[attempt.visited.index(target) :], target])
            raise FetchError(f"redirect loop: {loop}", response.status)
        if len(attempt.redirects) >= self._config.max_redirects:
            raise FetchError(
                f"more than {self._config.max_redirects} redirects (the last to {target})",
                response.status,
            )
        return target

    async def _get(self, attempt: _Attempt) -> _Response:
        url = httpx.URL(attempt.url)
        async with self._host_slot(url.host.lower()), self._overall:
            if attempt.deadline is None:  # the first request of this fetch
                if self._admit is not None:  # before its deadline starts
                    await self._admit()
                attempt.started = time.perf_counter()
                attempt.deadline = asyncio.get_running_loop().time() + self._timeout
            async with asyncio.timeout_at(attempt.deadline):
                return await self._exchange(self._client(url), url, attempt)

    @contextlib.asynccontextmanager
    async def _host_slot(self, host: str) -> AsyncIterator[None]:
        slot = self._per_host.get(host)
        if slot is None:
            slot = self._per_host[host] = asyncio.Semaphore(self._config.per_host)
        async with slot:
            yield

    async def _exchange(
        self, client: httpx.AsyncClient, url: httpx.URL, attempt: _Attempt
    ) -> _Response:
        """One GET of `url` (attempt.url parsed once: not again by httpx)."""
        headers = {}
        if attempt.request.etag:
            headers["If-None-Match"] = attempt.request.etag
        if attempt.request.last_modified:
            headers["If-Modified-Since"] = attempt.request.last_modified
        async with client.stream("GET", url, headers=headers) as response:
            lowered = {name.lower(): value for name, value in response.headers.items()}
            body = None
            if 200 <= response.status_code < 300:
                body = await read_capped(response, lowered, self._config.max_bytes)
            elif _short_answer(response.status_code, lowered):
                await response.aread()  # read to its end, the connection is kept for the next
            return _Response(response.status_code, response.reason_phrase, lowered, body)


# An answer without a body we keep (304, redirect, error page) read to its end if it
# is this short: httpx reuses a connection only after its answer was read whole, so a
# cycle of 304s on one host would otherwise open a TCP (and TLS) connection per feed.
SHORT_ANSWER_BYTES = 64 * 1024


def _short_answer(status: int, headers: Mapping[str, str]) -> bool:
    if status == 304:
        return True
    length = headers.get("content-length", "")
    return length.isdigit() and int(length) <= SHORT_ANSWER_BYTES


def _result(attempt: _Attempt, response: _Response) -> FetchResult:
    request, status, headers = attempt.request, response.status, response.headers
    outcome: Outcome = "error"
    error: str | None = f"HTTP {status} {response.reason}".rstrip() + f" from {attempt.url}"
    body, body_hash = None, request.body_hash
    if 200 <= status < 300:
        body_hash = hashlib.sha256(response.body or b"").hexdigest()
        unchanged = body_hash == request.body_hash
        outcome, error = ("unchanged", None) if unchanged else ("ok", None)
        body = None if unchanged else response.body or b""
    elif status == 304:
        outcome, error = "not_modified", None
    elif status == 410:
        outcome = "gone"
        error = f"HTTP 410 Gone: the server says the feed at {attempt.url} was removed for good"
    retry_after = None
    if status in {429, 503}:
        retry_after = parse_retry_after(headers.get("retry-after"), datetime.now(UTC))
        if retry_after is not None and error:
            error += f"; it asks us to wait until {retry_after:%Y-%m-%d %H:%M:%S} UTC"
    return FetchResult(
        url=request.url,
        outcome=outcome,
        status=status,
        body=body,
        headers=headers,
        final_url=attempt.url,
        permanent_url=_permanent_url(attempt),
        etag=headers.get("etag") or request.etag,
        last_modified=headers.get("last-modified") or request.last_modified,
        body_hash=body_hash,
        retry_after=retry_after,
        error=error,
        elapsed_ms=attempt.elapsed_ms(),
    )


def _permanent_url(attempt: _Attempt) -> str | None:
    """The URL to use from now on, if every redirect was permanent and the target answered."""
    if attempt.redirects and all(code in PERMANENT_REDIRECTS for code in attempt.redirects):
        return attempt.url
    return None


def _failure(attempt: _Attempt, message: str, status: int | None = None) -> FetchResult:
    request = attempt.request
    return FetchResult(
        url=request.url,
        outcome="error",
        status=status,
        body=None,
        headers={},
        final_url=attempt.url,
        permanent_url=None,  # a target that cannot be fetched is not worth remembering
        etag=request.etag,
        last_modified=request.last_modified,
        body_hash=request.body_hash,
        retry_after=None,
        error=message,
        elapsed_ms=attempt.elapsed_ms(),
    )
