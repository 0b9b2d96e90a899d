"""Giving memory back to the system after a burst of work (a feed cycle with bodies).

A cycle that parsed bodies leaves the heap high: freed objects stay in Python's
and glibc's free lists, so an idle daemon would keep its cold-cycle peak. A full
collection frees the cycles, and glibc's `malloc_trim` returns the free pages.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from functools import cache
from typing import Any


def release_memory() -> None:
    """Collect garbage and hand freed heap pages back (glibc only; else just collect)."""
    gc.collect()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


@cache
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None
