"""Giving memory back to the system after a burst of work (a feed cycle with bodies).

A cycle that parsed bodies leaves the heap high: freed objects stay in Python's
and glibc's free lists, so an idle daemon would keep its cold-cycle peak. A full
collection frees the cycles, and glibc's `malloc_trim` returns the free pages.
"""

from __future__ import annotations

import gc
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine


def release_memory() -> None:
    """Collect garbage and hand freed heap pages back (glibc only; else just collect)."""
    gc.collect()
    trim_heap()


def release_connections(engine: Engine) -> None:
    """Close the engine's pooled connections (a QueuePool's: an SQLite file or PostgreSQL).

    Connections checked out now are closed when given back; the next checkout opens
    a new one. Other pools are left alone: the connection of an in-memory SQLite
    database is the database.
    """
    from sqlalchemy.pool import QueuePool

    if isinstance(engine.pool, QueuePool):
        engine.dispose()


def trim_heap() -> None:
    """Hand the heap's free pages back to the system (glibc's `malloc_trim`; elsewhere nothing).

    Without a collection: for a caller whose garbage is freed by reference counting
    (a parse whose trees and lists are dropped), a full collection would cost more.
    """
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


# glibc's mallopt parameters (malloc.h)
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
# Blocks this large get their own mapping, handed back to the system when freed.
MMAP_THRESHOLD = 128 * 2**10


@cache
def tune_heap() -> None:
    """Keep a process that passes feed bodies between threads from keeping their peak.

    Bodies arrive on the fetching thread and parse results on the pool's, and are
    freed on the main thread: glibc gives each thread its own arena, and raises its
    mmap threshold to the largest block freed so far, so the blocks of a body or a
    result land in arenas that fragment and are never given back. One arena and a
    fixed threshold kept the main process of a cold pass ~8 MB lower (issue 11).

    Call it before any thread starts: glibc fixes its limit on arenas the first time
    a thread asks for one (at its first allocation) and ignores a later `mallopt`.
    Called once the node's heartbeat had started, it left a cold `ingest` with an
    arena of its own for that thread and peaks 4-8 MB higher than when the command
    line calls it first. glibc only (elsewhere nothing).
    """
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(_M_ARENA_MAX, 1)
        libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)


@cache
def _libc() -> Any:
    """The C library's symbols, if it has `malloc_trim` (glibc; not musl, not macOS).

    `CDLL(None)` is the running program with the libraries it links, libc among
    them: no `find_library` (which runs ldconfig in a subprocess).
    """
    import ctypes  # on first use: the parse workers import this module

    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None
