"""One daemon per SQLite file: an exclusive lock on a file beside the database.

SQLite has no way to share feeds between processes safely, so a second
`newswatch run` on the same file refuses to start. The lock is an `flock` on
`<database>.lock`: the kernel drops it when its process ends, however it
ends (kill -9 included), so a stale lock can never block a restart, and no
heartbeat or PID check is needed. The file holds the holder's PID, for the
message only.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from newswatch.store.db import DatabaseError


@dataclass
class SqliteLock:
    path: Path
    fd: int

    def release(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)  # closing drops the flock


def lock_path(url: str) -> Path | None:
    """The lock file of a SQLite database file; None for PostgreSQL or an in-memory database."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        return None
    path = Path(database).expanduser().resolve()
    return path.with_name(path.name + ".lock")


def lock_database(url: str) -> SqliteLock | None:
    """Take the daemon's lock on a SQLite database; raise DatabaseError if a daemon holds it."""
    path = lock_path(url)
    if path is None:
        return None
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise DatabaseError(f"cannot create the lock file {path}: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder(fd)
        os.close(fd)
        raise DatabaseError(
            f"another `newswatch run`{holder} already uses the SQLite database "
            f"{path.with_suffix('')}; SQLite is single-node: stop it first, "
            "or use PostgreSQL to run several nodes"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return SqliteLock(path, fd)


def _holder(fd: int) -> str:
    text = os.pread(fd, 32, 0).decode(errors="replace").strip()
    return f" (pid {text})" if text.isdigit() else ""
