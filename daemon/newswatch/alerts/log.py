"""The `log` sink: one JSON object per alert, one per line, on standard output.

Each record is written whole or not at all: one `os.write` of the full line
(continued if the kernel took only part of it); when the disk fills up
half-way through a line written to a regular file, the part that made it is
cut off again. Each record is reported on as soon as it is written, so a
failure repeats nothing already written.
"""

from __future__ import annotations

import errno
import fcntl
import io
import json
import os
import stat
import sys
from collections.abc import Generator, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from newswatch.alerts.sink import Outcome, SinkError
from newswatch.model import Alert, iso_utc
from newswatch.ops.feedhealth import Notice


class LogSink:
    key = "log"

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def deliver(self, batch: Sequence[Alert]) -> Generator[Outcome, None, None]:
        stream = self._stream or sys.stdout
        now = iso_utc(datetime.now(UTC))
        for alert in batch:
            line = json.dumps(alert_record(alert, now), ensure_ascii=False) + "\n"
            try:
                write_line(stream, line)
            except (OSError, ValueError) as exc:
                raise SinkError(_describe(exc)) from exc
            yield Outcome((alert.id,) if alert.id is not None else ())

    def announce(self, notice: Notice) -> None:
        """A feed-health notice as one JSON line beside the alerts."""
        stream = self._stream or sys.stdout
        record = {**notice.record(), "timestamp": iso_utc(datetime.now(UTC))}
        try:
            write_line(stream, json.dumps(record, ensure_ascii=False) + "\n")
        except (OSError, ValueError) as exc:
            raise SinkError(_describe(exc)) from exc


def alert_record(alert: Alert, timestamp: str | None) -> dict[str, Any]:
    """The JSON record of an alert, as written here and POSTed by the webhook sink."""
    return {"event": "alert", **alert.record(), "timestamp": timestamp}


def write_line(stream: TextIO, line: str) -> None:
    """Write `line` whole or not at all: straight to the file descriptor when there is one."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError, io.UnsupportedOperation):
        stream.write(line)  # an in-memory stream (tests, captured output)
        stream.flush()
        return
    stream.flush()  # whatever the stream still buffers goes first
    write_whole(fd, line.encode("utf-8", "replace"))


def write_whole(fd: int, data: bytes) -> None:
    """All of `data`, or (on a regular file) none of it: a short write is truncated away."""
    start = _end_of(fd)
    written = 0
    try:
        while written < len(data):
            written += os.write(fd, data[written:])
    except OSError:
        if written and start is not None:
            _cut_back(fd, start, written)
        raise


def _end_of(fd: int) -> int | None:
    """Where the next write to a regular file lands; None for pipes, terminals, sockets."""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        if _appends(fd):
            return os.fstat(fd).st_size
        return os.lseek(fd, 0, os.SEEK_CUR)
    except OSError:
        return None


def _appends(fd: int) -> bool:
    return bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_APPEND)


def _cut_back(fd: int, start: int, written: int) -> None:
    """Remove a torn line, unless someone else wrote after it (then it cannot be undone)."""
    try:
        if os.fstat(fd).st_size == start + written:
            os.ftruncate(fd, start)
            if not _appends(fd):
                os.lseek(fd, start, os.SEEK_SET)
    except OSError:
        pass


def _describe(exc: OSError | ValueError) -> str:
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return (
            "cannot write alerts to standard output: the disk is full; free space "
            "(the alerts stay pending and are written when there is room)"
        )
    if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
        return (
            "cannot write alerts to standard output: the reader closed the pipe "
            "(the alerts stay pending and are written at the next start)"
        )
    return f"cannot write alerts to standard output: {exc}"
