"""Fetching feeds over HTTP: the I/O edge, polite and hard to hurt.

A `Fetcher` fetches on a small pool of threads with urllib3 (a connection pool
per origin, kept alive across the feeds of a host). It follows redirects itself
(to tell permanent from temporary ones and to catch loops), sends conditional
requests, limits concurrency overall (its threads) and per host (`hostqueue`),
cuts every request at a total deadline (`cutoff`: a read blocked past it has its
socket shut), and reads bodies raw through its own size-capped decompression
(`inflate`) so that neither an endless body nor a gzip bomb can take more than
`max_bytes`. Every I/O problem comes back as a `FetchResult` with one clear line
(`httperrors`), never as an exception.

No asyncio, anyio nor httpx (issue 11): on a steady pass of 304s they cost about
twice urllib3's CPU per request, and their imports a fifth of the pass.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import queue
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol
from urllib.parse import unquote, urljoin

from urllib3 import PoolManager, ProxyManager, Timeout
from urllib3.exceptions import HTTPError, LocationParseError
from urllib3.util import make_headers, parse_url

from newswatch import PROJECT_URL, __version__
from newswatch.sources.cutoff import Deadline, Deadlines, watched
from newswatch.sources.hostqueue import HostQueue, Stopped
from newswatch.sources.httperrors import (
    FetchError,
    UnfetchableURL,
    describe_error,
    is_timeout,
    parse_retry_after,
)
from newswatch.sources.inflate import read_capped
from newswatch.sources.proxyenv import environment_proxies, proxy_for

if TYPE_CHECKING:
    from newswatch.config import Fetch

_log = logging.getLogger(__name__)
Outcome = Literal["ok", "not_modified", "unchanged", "gone", "error"]
USER_AGENT = f"newswatch/{__version__} (+{PROJECT_URL})"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml,"
    " application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
PERMANENT_REDIRECTS = frozenset({301, 308})
TEMPORARY_REDIRECTS = frozenset({302, 303, 307})
# How often the thread that runs the fetching looks at the stop event (and, at the
# latest, at the deadlines): a stop cuts what is under way within this.
STOP_POLL_S = 0.2
READ_CHUNK = 64 * 1024
# A socket timeout fires at the deadline, give or take the clock's grain.
DEADLINE_SLACK_S = 0.05
# Origins whose connections are kept in one run (urllib3 drops the least recently
# used pool past this; a cycle has one pool per feed host).
MAX_POOLS = 4096
_NETWORK_ERRORS = (HTTPError, http.client.HTTPException, OSError, ValueError)


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
    host: str  # whose slot this fetch holds (the host of `url`)
    deadline: Deadline
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


Deliver = Callable[[int, FetchResult], None]


class StopFlag(Protocol):
    """What says a run must stop: a threading.Event, or anything as readable."""

    def is_set(self) -> bool: ...


class Fetcher:
    """Concurrent, polite HTTP GETs for feeds; use as `with Fetcher(cfg) as f:`.

    One urllib3 pool manager per route (scheme, and proxy if any), so a pool per
    origin; every https one shares one TLS context.
    """

    def __init__(
        self,
        fetch: Fetch,
        user_agent: str | None = None,
        admit: Callable[[], None] | None = None,
    ) -> None:
        self._config = fetch
        # called before each fetch's first request goes out, its host's slot held: the
        # caller's backpressure (it may wait there; a fetch that waited for a slot would
        # otherwise bring its body however much the caller holds already)
        self._admit = admit
        self._timeout = fetch.timeout.total_seconds()
        self._connect_timeout = fetch.connect_timeout.total_seconds()
        self._headers = {
            "User-Agent": user_agent or USER_AGENT,
            "Accept": ACCEPT,
            "Accept-Encoding": "gzip, deflate",
        }
        self._proxies = environment_proxies()
        self._tls: ssl.SSLContext | None = None  # made for the first https origin
        self._managers: dict[tuple[str, str | None], PoolManager] = {}
        self._managers_lock = threading.Lock()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the idle connections (one still in use is closed when its fetch ends)."""
        with self._managers_lock:
            managers, self._managers = list(self._managers.values()), {}
        for manager in managers:
            manager.clear()

    def fetch(self, request: FetchRequest) -> FetchResult:
        """One feed URL, redirects followed; never raises for network or server trouble."""
        return self.fetch_all([request])[0]

    def fetch_all(self, requests: Sequence[FetchRequest]) -> list[FetchResult]:
        """Every request, concurrently within the overall and per-host limits; results in order."""
        results: dict[int, FetchResult] = {}
        self.run(requests, results.__setitem__)
        return [results[index] for index in range(len(requests))]

    def fetch_as_completed(self, requests: Sequence[FetchRequest]) -> Iterator[FetchResult]:
        """The same fetches, each result as soon as it is in, so parsing can overlap fetching."""
        done: queue.SimpleQueue[FetchResult | None] = queue.SimpleQueue()
        stop = threading.Event()

        def run() -> None:
            try:
                self.run(requests, lambda _, result: done.put(result), stop)
            finally:
                done.put(None)

        thread = threading.Thread(target=run, name="newswatch-fetch", daemon=True)
        thread.start()
        try:
            while (result := done.get()) is not None:
                yield result
        finally:
            stop.set()
            thread.join()

    def run(
        self,
        requests: Sequence[FetchRequest],
        deliver: Deliver,
        stop: StopFlag | None = None,
        threads: int | None = None,
    ) -> None:
        """Fetch every request on up to `concurrency` threads (and `threads`, if given), at
        most `per_host` at once to a host, calling `deliver(index, result)` as each is in
        (on a fetching thread, one call at a time). This thread watches the deadlines. Once
        `stop` is set, what is under way is cut, nothing more is delivered, and this returns.

        `admit` is called with a host's slot held: a caller whose `admit` waits until some
        of the fetches it let go are taken must let go at least `threads` of them, or those
        redirected to that host wait in hop() for the slot of a thread that waits for them."""
        if not requests:
            return
        hosts = [_host_key(request.url) for request in requests]
        run = _Run(HostQueue(hosts, self._config.per_host), deliver, stop or threading.Event())
        # no more threads than could ever fetch at once (all 200 feeds on one host: 2)
        at_once = len(set(hosts)) * self._config.per_host
        workers = min(self._config.concurrency, len(requests), at_once, threads or len(requests))
        run.working = workers
        for number in range(workers):
            threading.Thread(
                target=self._work,
                args=(run, requests),
                name=f"newswatch-fetch-{number}",
                daemon=True,
            ).start()
        run.watch()

    def _work(self, run: _Run, requests: Sequence[FetchRequest]) -> None:
        """One fetching thread: the next request whose host has room, until none is left."""
        host = None
        try:
            while (index := run.queue.next(host)) is not None:
                request = requests[index]
                host = run.queue.hosts[index]
                if self._admit is not None:  # before its deadline starts
                    self._admit()
                if run.stop.is_set():
                    return
                attempt = _Attempt(request, request.url, host, Deadline(self._timeout))
                with run.deadlines.watching(attempt.deadline):
                    result = self._fetch(attempt, run.queue)
                host = attempt.host
                run.deliver(index, result)
        except Stopped:
            pass
        except BaseException:
            run.queue.close()  # a delivery failed: the others end too, none waits for ever
            raise
        finally:
            run.worker_done()

    def _fetch(self, attempt: _Attempt, hosts: HostQueue) -> FetchResult:
        try:
            return self._follow(attempt, hosts)
        except Stopped:  # a redirect waited for its host's slot: the run is stopping
            raise
        except (FetchError, *_NETWORK_ERRORS) as exc:
            status = exc.status if isinstance(exc, FetchError) else None
            return _failure(attempt, self._error_line(attempt, exc), status)
        except Exception as exc:  # a bug of ours or a library's: this feed fails, not the run
            _log.exception("fetch_failed_unexpectedly", extra={"url": attempt.url})
            return _failure(attempt, f"unexpected error fetching {attempt.url}: {exc!r}")

    def _error_line(self, attempt: _Attempt, exc: Exception) -> str:
        late = is_timeout(exc) and attempt.deadline.left() < DEADLINE_SLACK_S
        if attempt.deadline.cut or late:
            message = f"no complete answer within the {self._timeout:g} s deadline"
            return f"{message} from {attempt.url}"
        if isinstance(exc, FetchError):
            return str(exc)
        return describe_error(exc, attempt.url, self._config)

    def _follow(self, attempt: _Attempt, hosts: HostQueue) -> FetchResult:
        while True:
            attempt.visited.append(attempt.url)
            response = self._exchange(attempt)
            if response.status not in PERMANENT_REDIRECTS | TEMPORARY_REDIRECTS:
                return _result(attempt, response)
            target = self._redirect_target(attempt, response)
            target_host = _host_key(target)
            hosts.hop(attempt.host, target_host)
            attempt.url, attempt.host = target, target_host
            attempt.redirects.append(response.status)

    def _redirect_target(self, attempt: _Attempt, response: _Response) -> str:
        location = response.headers.get("location", "").strip()
        if not location:
            raise FetchError(f"HTTP {response.status} redirect without a Location header")
        try:
            target = urljoin(attempt.url, location)
        except ValueError as exc:
            raise FetchError(
                f"HTTP {response.status} redirect to a malformed URL {location!r}: {exc}",
                response.status,
            ) from None
        if target in attempt.visited:
            loop = " -> ".join([*attempt.visited[attempt.visited.index(target) :], target])
            raise FetchError(f"redirect loop: {loop}", response.status)
        if len(attempt.redirects) >= self._config.max_redirects:
            raise FetchError(
                f"more than {self._config.max_redirects} redirects (the last to {target})",
                response.status,
            )
        return target

    def _exchange(self, attempt: _Attempt) -> _Response:
        """One GET of attempt.url, its body read (or its connection closed) before this returns."""
        manager = self._manager(attempt.url)
        left = attempt.deadline.left()
        if left <= 0:
            raise TimeoutError("the deadline passed")
        response = manager.urlopen(
            "GET",
            attempt.url,
            headers=self._request_headers(attempt.request),
            redirect=False,
            retries=False,
            preload_content=False,
            decode_content=False,
            timeout=Timeout(connect=min(self._connect_timeout, left), read=left),
        )
        complete = False
        try:
            lowered = {name.lower(): value for name, value in response.headers.items()}
            body = None
            if response.status in BODILESS and "transfer-encoding" in lowered:
                # no body, whatever Transfer-Encoding says (RFC 9112 6.1); http.client would
                # wait for its chunks, or read them without bound: its connection is closed
                body = b"" if response.status == 204 else None
            elif 200 <= response.status < 300:
                raw = response.stream(READ_CHUNK, decode_content=False)
                body = read_capped(raw, lowered, self._config.max_bytes)
                complete = True
            elif _short_answer(response.status, lowered):
                response.drain_conn()  # read to its end: the connection is kept for the next
                complete = True
            if attempt.deadline.cut:  # its socket was shut: what came is not all of it
                raise TimeoutError("cut at the deadline")
            return _Response(response.status, response.reason or "", lowered, body)
        finally:
            if not complete:
                response.close()  # its connection too: not to be reused with a body unread
            response.release_conn()

    def _request_headers(self, request: FetchRequest) -> dict[str, str]:
        headers = dict(self._headers)
        if request.etag:
            headers["If-None-Match"] = request.etag
        if request.last_modified:
            headers["If-Modified-Since"] = request.last_modified
        return headers

    def _manager(self, url: str) -> PoolManager:
        """The pool manager for `url`'s route; UnfetchableURL if it is not http(s)."""
        parts = parse_url(url)
        scheme, host = parts.scheme or "", parts.host
        if scheme not in {"http", "https"}:
            raise UnfetchableURL(f"the scheme is {scheme!r}; only http and https are fetched")
        if not host:
            raise UnfetchableURL("it names no host")
        port = parts.port or (443 if scheme == "https" else 80)
        proxy = proxy_for(scheme, host, port, self._proxies) if self._proxies else None
        manager = self._managers.get((scheme, proxy))
        if manager is None:
            with self._managers_lock:
                manager = self._managers.get((scheme, proxy))
                if manager is None:
                    manager = self._managers[(scheme, proxy)] = self._new_manager(scheme, proxy)
        return manager

    def _new_manager(self, scheme: str, proxy: str | None) -> PoolManager:
        options: dict[str, Any] = {
            "num_pools": MAX_POOLS,
            "maxsize": self._config.per_host,  # the most a host has under way
            "block": False,
            "retries": False,  # a failed fetch is retried at the next poll, with backoff
        }
        if scheme == "https":
            options["ssl_context"] = self._tls_context()
        if proxy is None:
            return watched(PoolManager(**options))
        auth = parse_url(proxy).auth
        headers = make_headers(proxy_basic_auth=_unquoted(auth)) if auth else None
        return watched(ProxyManager(proxy, proxy_headers=headers, **options))

    def _tls_context(self) -> ssl.SSLContext:
        """One TLS context for every origin, made when the first https one is met: loading
        the CA bundle costs tens of ms, for nothing when the feeds are plain http."""
        if self._tls is None:
            self._tls = _verifying_context()
        return self._tls


def _verifying_context() -> ssl.SSLContext:
    """The CA bundle httpx used for the feeds: SSL_CERT_FILE or SSL_CERT_DIR if set,
    else certifi's (the same everywhere, whatever the system's store holds)."""
    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


class _Run:
    """One run of the fetching: its queue, its deadlines, its deliveries, its stop."""

    def __init__(self, hosts: HostQueue, deliver: Deliver, stop: StopFlag) -> None:
        self.queue = hosts
        self.deadlines = Deadlines()
        self.stop = stop
        self.working = 0  # fetching threads not yet finished
        self._deliver = deliver
        self._lock = threading.Lock()
        self._over = threading.Event()

    def deliver(self, index: int, result: FetchResult) -> None:
        with self._lock:  # one at a time, and none once stopped
            if not self.stop.is_set():
                self._deliver(index, result)

    def worker_done(self) -> None:
        with self._lock:
            self.working -= 1
            if self.working == 0:
                self._over.set()

    def watch(self) -> None:
        """Until every thread is done: cut the fetches past their deadline; on a stop, cut
        them all and return (a thread still connecting ends on its own, delivering nothing)."""
        while not self._over.wait(self._pause()):
            if self.stop.is_set():
                self.queue.close()
                self.deadlines.cut_all()
                with self._lock:  # a delivery under way is over before this returns
                    return

    def _pause(self) -> float:
        earliest = self.deadlines.cut_expired()
        if earliest is None:
            return STOP_POLL_S
        return min(STOP_POLL_S, max(0.0, earliest - time.monotonic()) + 0.001)


def _unquoted(auth: str) -> str:
    """user:password of a proxy URL as sent: a URL percent-encodes an '@', ':' or '%' in
    them, and urllib3 sends the URL's text as it is (httpx decoded it)."""
    user, colon, password = auth.partition(":")
    return f"{unquote(user)}{colon}{unquote(password)}"


def _host_key(url: str) -> str:
    """Whose per-host limit a request counts against ("" for a URL with no host)."""
    try:
        return (parse_url(url).host or "").lower()
    except LocationParseError:
        return ""


# An answer without a body we keep (304, redirect, error page) read to its end if it
# is this short, so its connection is reused (one with an answer unread is closed): a
# cycle of 304s on one host would otherwise open a TCP (and TLS) connection per feed.
SHORT_ANSWER_BYTES = 64 * 1024
# Answers that never have a body, whatever their headers say.
BODILESS = frozenset({204, 304})


def _short_answer(status: int, headers: Mapping[str, str]) -> bool:
    if "transfer-encoding" in headers:  # chunked: http.client reads it whatever the length
        return False
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
