"""sd_notify without a dependency: one datagram to $NOTIFY_SOCKET, if systemd gave one."""

from __future__ import annotations

import os
import socket


def notify(state: str) -> bool:
    """Tell systemd our state (READY=1, STOPPING=1, WATCHDOG=1...); False when not under it."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(state.encode("utf-8"))
    except OSError:
        return False
    return True
