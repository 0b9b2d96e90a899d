"""Reading `http.listen` addresses: shared by the config check and the status server."""

from __future__ import annotations

import ipaddress

LISTEN_HINT = "write `http: {listen: HOST:PORT}`, e.g. 127.0.0.1:9464 or [::1]:9464"


class StatusServerError(ValueError):
    """The endpoint cannot be served; the message says what, where and how to mend."""


def parse_listen(listen: str) -> tuple[str, int]:
    """`HOST:PORT`, `[IPv6]:PORT` or `:PORT` (every interface) -> (host, port)."""
    value = listen.strip()
    if value.startswith("["):
        host, close, rest = value[1:].partition("]")
        if not close or not rest.startswith(":"):
            raise StatusServerError(f"http.listen {listen!r}: expected [IPv6]:PORT; {LISTEN_HINT}")
        port = rest[1:]
    else:
        host, colon, port = value.rpartition(":")
        if not colon:
            raise StatusServerError(f"http.listen {listen!r}: no port; {LISTEN_HINT}")
        if ":" in host:
            raise StatusServerError(
                f"http.listen {listen!r}: put an IPv6 address in brackets, e.g. [::1]:9464"
            )
    if not port.isascii() or not port.isdigit() or int(port) > 65535:
        raise StatusServerError(
            f"http.listen {listen!r}: port {port!r} is not a number from 0 to 65535; {LISTEN_HINT}"
        )
    return host, int(port)


def is_loopback(listen: str) -> bool:
    """True when only this machine can reach the address (`:PORT` is every interface)."""
    host, _ = parse_listen(listen)
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name, or empty for every interface
        return False
