"""sd_notify without a dependency: one datagram to $NOTIFY_SOCKET, if systemd gave one."""

from __future__ import annotations

import os
import socket
from datetime import timedelta


def notify(state: str) -> bool:
    """Tell systemd our state (READY=1, STOPPING=1, WATCHDOG=1...); False when not under it."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            # never wait: a supervisor that stops reading (its queue holds ~10 datagrams)
            # must not hang a stop or the scheduler; a dropped ping is just a missed ping
            sock.setblocking(False)
            sock.connect(address)
            sock.send(state.encode("utf-8"))
    except OSError:  # BlockingIOError included
        return False
    return True


def under_systemd() -> bool:
    return bool(os.environ.get("NOTIFY_SOCKET"))


def watchdog_interval() -> timedelta | None:
    """How often systemd wants WATCHDOG=1 (`WatchdogSec=`), or None when it does not.

    WATCHDOG_PID, when set, must be ours: a child that inherited the variable
    must not ping for its parent.
    """
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0 or (pid and pid != str(os.getpid())):
        return None
    return timedelta(microseconds=int(usec))
