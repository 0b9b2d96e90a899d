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
