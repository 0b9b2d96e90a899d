"""The `log` sink: one JSON object per alert, one per line, on standard output.

Records go out a group at a time (up to GROUP_BYTES, one `os.write`, continued
if the kernel took only part of it) and are reported on together as soon as
the group is written: a commit per alert was most of the delivery's cost, and
a crash repeats at most the group in flight. A group is written whole or not
at all: when the disk fills up half-way through one written to a regular
file, the part that made it is cut off again and its records are written one
by one, so as many whole records as fit are written, once.
"""

from __future__ import annotations

import errno
import fcntl
import io
import json
import os
import stat
import sys
from collections.abc import Generator, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from newswatch.alerts.sink import Outcome, SinkError
from newswatch.model import Alert, iso_utc
from newswatch.ops.feedhealth import Notice

GROUP_BYTES = 64 * 2**10


class LogSink:
    key = "log"

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def deliver(self, batch: Sequence[Alert]) -> Generator[Outcome, None, None]:
        stream = self._stream or sys.stdout
        now = iso_utc(datetime.now(UTC))
        lines = [
            (alert.id, json.dumps(alert_record(alert, now), ensure_ascii=False) + "\n")
            for alert in batch
        ]
        for group in _groups(lines):
            try:
                write_line(stream, "".join(line for _, line in group))
            except (OSError, ValueError) as exc:
                if len(group) == 1:
                    raise SinkError(_describe(exc)) from exc
                yield from _one_by_one(stream, group)  # as many whole records as fit
                continue
            yield Outcome(tuple(i for i, _ in group if i is not None))

    def announce(self, notice: Notice) -> None:
        """A feed-health notice as one JSON line beside the alerts."""
        stream = self._stream or sys.stdout
        record = {**notice.record(), "timestamp": iso_utc(datetime.now(UTC))}
        try:
            write_line(stream, json.dumps(record, ensure_ascii=False) + "\n")
        except (OSError, ValueError) as exc:
            raise SinkError(_describe(exc)) from exc


_Line = tuple[int | None, str]  # an alert's id and its record


def _groups(lines: list[_Line]) -> Iterator[list[_Line]]:
    group: list[_Line] = []
    size = 0
    for line in lines:
        if group and size + len(line[1]) > GROUP_BYTES:
            yield group
            group, size = [], 0
        group.append(line)
        size += len(line[1])
    if group:
        yield group


def _one_by_one(stream: TextIO, group: list[_Line]) -> Generator[Outcome, None, None]:
    for alert_id, line in group:
        try:
            write_line(stream, line)
        except (OSError, ValueError) as exc:
            raise SinkError(_describe(exc)) from exc
        yield Outcome((alert_id,) if alert_id is not None else ())


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
