"""Signals for the daemon's main loop and `ingest`, with no lock taken in a handler.

A Python signal handler runs in the main thread between two of its bytecodes,
possibly while that thread holds a lock. The daemon's handlers used to call
`threading.Event.set()`, whose lock the main loop itself holds for a moment in
each `Event.wait()`: a SIGTERM landing there blocked the handler on a lock its
own thread held, and the daemon never stopped (seen once in the suite, right
after a SIGHUP). Here the Python handler does nothing at all: Python's C-level
handler writes the signal's number as a byte to a socket (`signal.set_wakeup_fd`),
and whoever waits on that socket, in any thread, reads the signals from it.
"""

from __future__ import annotations

import select
import signal
import socket
from collections.abc import Iterable
from contextlib import suppress
from types import FrameType, TracebackType
from typing import Any


class SignalInbox:
    """While entered (in the main thread), `signals` are recorded, not acted on;
    `wait` (in any one thread) hands them over in the order they came."""

    def __init__(self, signals: Iterable[signal.Signals]) -> None:
        self._signals = tuple(signals)
        self._previous: dict[signal.Signals, Any] = {}
        self._previous_fd = -1
        self._read, self._write = socket.socketpair()
        for end in (self._read, self._write):
            end.setblocking(False)

    def __enter__(self) -> SignalInbox:
        self._previous_fd = signal.set_wakeup_fd(self._write.fileno(), warn_on_full_buffer=False)
        for signum in self._signals:
            self._previous[signum] = signal.signal(signum, _recorded_by_its_byte)
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        signal.set_wakeup_fd(self._previous_fd)
        self._read.close()
        self._write.close()

    def nudge(self) -> None:
        """End a `wait` under way in another thread now (it hands over what came)."""
        with suppress(BlockingIOError):
            self._write.send(b"\0")

    def wait(self, timeout: float | None) -> list[int]:
        """The signals received since the last call; waits for one when there are none
        yet, up to `timeout` seconds (None: until one comes, or a `nudge`)."""
        select.select([self._read], [], [], timeout)
        received = b""
        with suppress(BlockingIOError):
            while chunk := self._read.recv(256):
                received += chunk
        return [signum for signum in received if signum]  # 0: a nudge


def _recorded_by_its_byte(_signum: int, _frame: FrameType | None) -> None:
    """Nothing to do: the signal is in the wake-up socket already."""
