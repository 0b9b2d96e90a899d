"""Processes as Linux shows them in /proc: who descends from whom, and who is still alive."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])  # the name, in brackets, may hold spaces


def descendants(pid: int) -> list[int]:
    """Children, grandchildren and so on of `pid`, as of now."""
    parents = {int(entry): _parent(int(entry)) for entry in os.listdir("/proc") if entry.isdigit()}
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        children = [child for child, parent in parents.items() if parent == current]
        found += children
        frontier += children
    return found


def alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped has exited: it holds no memory)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def peak_rss_mb(pid: int) -> int:
    """The process's peak resident memory (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    raise AssertionError(f"no VmHWM for {pid}")


def survivors(pids: list[int], within: float = 30) -> list[str]:
    """Those of `pids` still alive after up to `within` seconds (polled; empty is good).

    Survivors are then killed, so a failing test leaves nothing behind.
    """
    deadline = time.monotonic() + within
    while True:
        left = [pid for pid in pids if alive(pid)]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    named = [f"{pid}: {command_line(pid)[:100]}" for pid in left]
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return named


def helpers_of(pid: int) -> list[int]:
    """What multiprocessing started under `pid`: parse workers, the resource tracker,
    a forkserver (not the child that validates a config `ingest` had not seen)."""
    return [p for p in descendants(pid) if "multiprocessing" in command_line(p)]


def workers_of(pid: int) -> list[int]:
    """The parse workers under `pid`: the processes multiprocessing spawned."""
    return [p for p in descendants(pid) if "multiprocessing.spawn" in command_line(p)]


def forkservers_of(pid: int) -> list[int]:
    """multiprocessing's forkservers under `pid` (the parse workers start without one)."""
    return [p for p in descendants(pid) if "multiprocessing.forkserver" in command_line(p)]
