"""Feed bodies to documents: in this process, or on worker processes beside it.

Parsing (feedparser, HTML to text), normalising and matching are pure and
CPU-bound. The daemon hands bodies to a worker process as they arrive, while the
main thread stores what is already parsed, so that its own resident set never
holds the parse path; small bodies are parsed in-process when no worker is
running, where starting one would cost more than it saves. One worker, not
two: on the corpus's cold pass (bench/README.md) two made it 12% shorter but
cost 6% more CPU and 62 MB more at the peak, and a service's cycle is not in a
hurry. A one-shot `ingest` parses every body in this process (`workers=0`):
4% less CPU again, 50 MB less than main and worker, and a process that exits
has no resident set to protect.
Workers are spawned (each a fresh interpreter, started by fork and exec), never
forked from a process that runs scheduler threads; and no forkserver stays
resident beside them (see `FeedParsers._ensure_pool`).

Stopping: `abandon` kills the workers mid-parse (a feed whose parse is
abandoned keeps its state and is polled again next time), and every worker
exits by itself as soon as the daemon's main process is gone, however it died
(see `_exit_with_parent`): the resource tracker then sees its last client go
and exits too.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import select
import threading
import time
from collections.abc import Mapping
from concurrent.futures import BrokenExecutor, CancelledError, Future, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from newswatch.model import Document, Match
from newswatch.ops.memory import trim_heap
from newswatch.ops.procs import pid_alive

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from newswatch.match import Matcher

# The daemon's parse workers (see the module docstring).
DAEMON_WORKERS = 1
# Bodies below this parse in-process while no worker is running: starting the workers
# for them would cost more than it saves. Once they run (a large body, or a cycle's
# warm-up), every body goes to them, so the main process never loads the parse path
# (feedparser, fastfeedparser, lxml, selectolax: ~12 MB it would keep for life, issue 11).
POOL_THRESHOLD_BYTES = 8 * 2**10
# A worker trims its heap after parsing a body this large (see _documents_in_worker).
TRIM_AFTER_BYTES = 256 * 2**10
# What a worker imports as it starts, while the first bodies are still being fetched.
_PARSE_PATH = [
    *("newswatch.parsing.feedwork", "newswatch.sources.feeds", "newswatch.normalize"),
    *("newswatch.match", "newswatch.dedup.signature"),
]
# Without pidfd (Linux < 5.3), how often a worker checks that the main process lives.
PARENT_POLL_S = 1.0
# How often a caller waiting for an in-process parse checks that the parsers were not
# abandoned.
ABANDON_POLL_S = 0.1


class ParseAbandoned(Exception):
    """The parsers were abandoned (the daemon is stopping): this body was not parsed."""


class _ParseEnded(BaseException):
    """Raised in an abandoned in-process parse (`_end_parse`); a BaseException, so that
    no handler of a parse's own errors (`except Exception`) takes it for one."""


@dataclass(frozen=True, slots=True)
class FeedBody:
    body: bytes
    url: str
    headers: Mapping[str, str]
    source: str | None
    fetched_at: datetime
    # recent documents naming each sharer of an alias in full (match/salience.py)
    salience: tuple[tuple[str, int], ...] = ()
    # the feed's latest stored bodies, where its batch's boilerplate is sought too
    context: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ParsedBody:
    """Normalised documents of one body, or the reason it held no feed.

    `unreadable` is why a feed with item elements gave no documents at all.
    """

    title: str | None = None
    documents: list[Document] = field(default_factory=list)
    bozo: str | None = None
    error: str | None = None
    matched: dict[tuple[str, str], list[Match]] = field(default_factory=dict)
    truncated: int = 0  # entries whose title or text was cut to MAX_TEXT_CHARS
    unreadable: str | None = None
    # near-duplicate signatures by (source, key), None when not computed here
    signatures: dict[tuple[str, str], bytes | None] | None = None
    salience: tuple[tuple[str, int], ...] = ()  # what `matched` was matched with


def documents_of(work: FeedBody, matcher: Matcher | None = None) -> ParsedBody:
    """Parse, normalise and (given a matcher) match one body; never raises for bad input.

    Matching here, in the worker, spares the main thread; the store later
    keeps only the matches of documents that turn out to be new or edited.
    The parse path is imported on first use (workers preload it): a cycle of
    304s never loads feedparser, lxml, selectolax or the signatures.
    """
    from newswatch.dedup.signature import batch_signatures
    from newswatch.normalize import MAX_TEXT_CHARS, normalize
    from newswatch.sources.feeds import FeedParseError, parse_feed

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
    truncated = sum(max(len(item.title), len(item.body)) > MAX_TEXT_CHARS for item in parsed.items)
    docs = [normalize(item, source) for item in parsed.items]
    matched = {}
    if matcher is not None:
        prior = dict(work.salience)
        matched = {(d.source, d.key): matcher.match(d.title, d.body, d.source, prior) for d in docs}
    signatures = batch_signatures(docs, feed=True, context=work.context)
    return ParsedBody(
        title=parsed.title,
        documents=docs,
        bozo=parsed.bozo,
        matched=matched,
        truncated=truncated,
        unreadable=parsed.unreadable,
        signatures=signatures,
        salience=work.salience,
    )


_worker_matcher: Matcher | None = None


def _start_worker(matcher: Matcher, parent_pid: int) -> None:
    """Pool initializer: the matcher arrives pickled as its compiled rules; the parse
    path is imported now, not at the first body."""
    global _worker_matcher
    _exit_with_parent(parent_pid)
    for module in _PARSE_PATH:
        importlib.import_module(module)
    _worker_matcher = matcher


def _exit_with_parent(parent_pid: int) -> None:
    """Exit this worker as soon as the process that started the pool is gone.

    Nothing else would end it: every worker holds the write end of the task
    queue, so none ever reads end-of-file. (A parent-death signal would end it
    with the thread that started it, not with the process.) A pidfd
    becomes readable when the process exits, with no polling and no PID reuse
    once opened; a thread waits on it and ends the process with `os._exit`.
    """
    try:
        pidfd: int | None = os.pidfd_open(parent_pid)
    except ProcessLookupError:
        os._exit(1)  # gone already
    except (AttributeError, OSError):  # no pidfd on this system: poll instead
        pidfd = None
    threading.Thread(
        target=_wait_for_exit, args=(parent_pid, pidfd), name="newswatch-parent", daemon=True
    ).start()


def _wait_for_exit(pid: int, pidfd: int | None) -> None:
    if pidfd is not None:
        waiter = select.poll()
        waiter.register(pidfd, select.POLLIN)
        while not waiter.poll():  # readable once the process has exited
            pass
    else:
        while pid_alive(pid):
            time.sleep(PARENT_POLL_S)
    os._exit(1)


def _documents_in_worker(work: FeedBody) -> ParsedBody:
    """Parse in a worker; after a large body, give its parse's heap back to the system.

    A worker's heap would otherwise stay at the peak of the largest body it ever
    parsed (several MB of feed make tens of MB of trees and dictionaries), and
    the peak of the process tree is the sum of every process at one moment.
    """
    parsed = documents_of(work, _worker_matcher)
    if len(work.body) >= TRIM_AFTER_BYTES:
        trim_heap()
    return parsed


def _host(url: str) -> str:
    return urlsplit(url).hostname or url


class Parsing(Protocol):
    """A parse under way: `result()` waits for it (or, in-process, does it)."""

    def result(self) -> ParsedBody: ...

    def wait(self, timeout: float | None) -> bool:
        """Wait at most `timeout` seconds for a worker's parse; False if it is not done."""
        ...


class _InProcess:
    """A body parsed in this process, when its result is asked for.

    The parse runs on a thread of its own while the asker waits, so that a stop
    (`abandon`) is heard within ABANDON_POLL_S even in the middle of a large body (a
    feed of 50,000 entries parses for seconds): the asker gets ParseAbandoned, and the
    parse is ended too (`_end_parse`), as the process must not exit while it runs.
    """

    def __init__(self, work: FeedBody, matcher: Matcher, parsers: FeedParsers) -> None:
        self._work = work
        self._matcher = matcher
        self._parsers = parsers

    def result(self) -> ParsedBody:
        outcome: list[ParsedBody | BaseException] = []
        done = threading.Event()

        def parse() -> None:
            try:
                outcome.append(documents_of(self._work, self._matcher))
            except BaseException as exc:  # handed to the asker
                outcome.append(exc)
            finally:
                done.set()

        if not self._parsers.start_here(threading.Thread(target=parse, name="newswatch-parse")):
            raise ParseAbandoned
        while not done.wait(ABANDON_POLL_S):
            if self._parsers.abandoned:
                raise ParseAbandoned
        (parsed,) = outcome
        if isinstance(parsed, _ParseEnded):
            raise ParseAbandoned
        if isinstance(parsed, BaseException):
            raise parsed
        return parsed

    def wait(self, timeout: float | None) -> bool:
        return True  # nothing under way: `result` does the work


def _end_parse(thread: threading.Thread) -> None:
    """End an abandoned parse on `thread` by raising `_ParseEnded` in it.

    The process is about to exit: a parse still running then would hold the exit
    (a thread is joined) or, made a daemon thread, abort it (native code running
    in a daemon thread at interpreter shutdown killed `ingest` with SIGABRT under
    load). It is raised at the thread's next step of Python code: at
    most one native call (an XML parse of one body) later. Nothing parses after
    an abandon, so what the parse leaves half-done is never read.
    """
    import ctypes

    ident = thread.ident
    if ident is not None and thread.is_alive():
        raise_in = ctypes.pythonapi.PyThreadState_SetAsyncExc
        raise_in(ctypes.c_ulong(ident), ctypes.py_object(_ParseEnded))


class _Pooled:
    """A body parsing in a worker; if the worker dies, it is parsed here instead
    (unless the parsers were abandoned: then nothing is parsed any more)."""

    def __init__(self, future: Future[ParsedBody], work: FeedBody, parsers: FeedParsers) -> None:
        self._future = future
        self._work = work
        self._parsers = parsers
        self._matcher = parsers.matcher

    def result(self) -> ParsedBody:
        try:
            return self._future.result()
        # BrokenExecutor, the base of BrokenProcessPool: catching that would import
        # concurrent.futures.process, and a cycle with nothing to parse loads neither it
        # nor multiprocessing (issue 11)
        except (BrokenExecutor, CancelledError):  # worker died, or the pool was replaced
            if self._parsers.abandoned:
                raise ParseAbandoned from None
            return documents_of(self._work, self._matcher)

    def wait(self, timeout: float | None) -> bool:
        done, _ = wait([self._future], timeout)
        return bool(done)


class _Abandoned:
    """A body that came in after the parsers were abandoned."""

    def result(self) -> ParsedBody:
        raise ParseAbandoned

    def wait(self, timeout: float | None) -> bool:
        return True


def _unblock_if_broken(pool: ProcessPoolExecutor) -> None:
    """Close a broken pool's end of its task pipe, so that its shutdown cannot hang.

    When a worker dies (SIGKILL, the OOM killer) while a large body is being
    written to the task pipe, the pool's feeder thread blocks on a pipe no one
    reads any more, and `shutdown` waits for it forever. Python 3.11.3 and later
    close that end themselves when the pool breaks (CPython gh-94777); Debian 12's
    3.11.2, which deploy/install.sh builds the service on, does not. With no
    reader left, the blocked write fails and the thread ends."""
    if getattr(pool, "_broken", False):
        _close_task_pipe(pool)


def _close_task_pipe(pool: ProcessPoolExecutor) -> None:
    """Close this process's read end of the pool's task pipe (the workers hold their own)."""
    call_queue = getattr(pool, "_call_queue", None)
    reader = getattr(call_queue, "_reader", None)
    if reader is not None:
        reader.close()


def _stop_tracker() -> None:
    """Stop the resource tracker, which would otherwise stay resident for the life of
    the daemon (~12 MB: a Python process of its own); the next pool starts it again.

    multiprocessing has no public call for it: `_stop` is what CPython's own tests
    use (3.8 to 3.14). Without it, it simply stays. It goes once the pool's
    semaphores are collected: a late finalizer unregistering one would start it
    again, and it would warn of "leaked" ones at its exit.
    """
    import gc
    from multiprocessing import resource_tracker

    gc.collect()
    stop = getattr(getattr(resource_tracker, "_resource_tracker", None), "_stop", None)
    if stop is not None:
        with contextlib.suppress(OSError, ChildProcessError):
            stop()


class FeedParsers:
    """Hands bodies to worker processes as they arrive; small ones stay in-process.

    `submit` is called from the fetching thread as each body comes in, so
    bodies parse while the network is still busy; close it when done.
    """

    def __init__(self, matcher: Matcher, workers: int = DAEMON_WORKERS) -> None:
        """`workers`: worker processes; 0 parses every body in this process."""
        self.workers = workers
        self.matcher = matcher
        self.abandoned = False
        self._pool: ProcessPoolExecutor | None = None
        self._here: threading.Thread | None = None  # the last parse started in-process
        self._lock = threading.Lock()
        self._last_used = time.monotonic()

    def use(self, matcher: Matcher) -> None:
        """A new watch list: workers started from now on compile it."""
        self.matcher = matcher
        self.close()

    def warm_up(self) -> None:
        """Start the workers now, so their start overlaps the fetching instead of the parsing."""
        if self.workers and not self.abandoned:
            pool = self._ensure_pool()
            for _ in range(self.workers):
                pool.submit(int)

    def submit(self, work: FeedBody) -> Parsing:
        matcher = self.matcher
        if self.abandoned:
            return _Abandoned()
        if not self.workers or (len(work.body) < POOL_THRESHOLD_BYTES and self._pool is None):
            return _InProcess(work, matcher, self)
        try:
            future = self._ensure_pool().submit(_documents_in_worker, work)
        except BrokenExecutor:
            self.close()  # a worker died (killed, out of memory): start afresh next time
            return _InProcess(work, matcher, self)
        except RuntimeError:  # shut down by `abandon` between the check and here
            return _Abandoned()
        return _Pooled(future, work, self)

    def start_here(self, thread: threading.Thread) -> bool:
        """Start an in-process parse on `thread`, unless abandoned (then False)."""
        with self._lock:
            if self.abandoned:
                return False
            self._here = thread
            thread.start()
        return True

    def close_if_idle(self, idle_s: float) -> bool:
        """Stop the workers if nothing was parsed for `idle_s`: a daemon whose feeds are
        quiet should not keep two parser processes (and their resource tracker)
        resident. True if it stopped them."""
        with self._lock:
            idle = self._pool is not None and time.monotonic() - self._last_used > idle_s
        if idle:
            self.close()
            _stop_tracker()
        return idle

    def _ensure_pool(self) -> ProcessPoolExecutor:
        with self._lock:
            self._last_used = time.monotonic()
            if self._pool is None:
                # Spawned, not through a forkserver: a forkserver (~30 MB with the parse
                # path preloaded) would stay resident as long as the workers, since each
                # holds its "alive" pipe, and the pool reads its death as theirs (their
                # exit statuses come through it). Each worker imports the parse path
                # itself (`_start_worker`), at about the CPU the forkserver spent on it,
                # and re-runs the `newswatch` console script as __mp_main__
                # (multiprocessing does so for any script), which must stay cheap:
                # cli.py imports nothing heavy at its top (issue 11).
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor

                context = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=context,
                    initializer=_start_worker,
                    initargs=(self.matcher, os.getpid()),
                )
            return self._pool

    def close(self) -> None:
        """Stop the workers once the parses under way are done."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            _unblock_if_broken(pool)
            pool.shutdown(wait=True, cancel_futures=True)

    def abandon(self) -> None:
        """Stop for good, now: kill the workers mid-parse and parse nothing more.

        Whoever waits for a result gets ParseAbandoned; the daemon is stopping
        and the feed, not marked as polled, is polled again at the next start.
        """
        with self._lock:
            self.abandoned = True
            pool, self._pool = self._pool, None
            here = self._here
        if here is not None:
            _end_parse(here)
        if pool is None:
            return
        # The pool's own table of its workers (Python 3.14 adds a public `kill_workers`).
        processes = getattr(pool, "_processes", None) or {}
        for process in list(processes.values()):
            process.kill()
        _close_task_pipe(pool)  # nothing reads it now: no write may wait on it at exit
        pool.shutdown(wait=False, cancel_futures=True)
