"""Reading `http.listen` addresses: shared by the config check and the status server."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

_HOSTNAME_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
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
    _check_host(listen, host, bracketed=value.startswith("["))
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


def _check_host(listen: str, host: str, bracketed: bool) -> None:
    """An IP address or a host name as written; `999.1.1.1` would only fail at bind time."""
    if not host and not bracketed:
        return  # `:PORT`, every interface
    if bracketed:
        _ip(listen, host, ipaddress.IPv6Address, "an IPv6 address")
    elif re.fullmatch(r"[0-9.]+", host):
        _ip(listen, host, ipaddress.IPv4Address, "an IPv4 address")
    elif not all(_HOSTNAME_LABEL.fullmatch(label) for label in host.removesuffix(".").split(".")):
        raise StatusServerError(
            f"http.listen {listen!r}: {host!r} is not an IP address or host name; {LISTEN_HINT}"
        )


def _ip(listen: str, host: str, kind: Callable[[str], object], what: str) -> None:
    try:
        kind(host)
    except ValueError:
        raise StatusServerError(
            f"http.listen {listen!r}: {host!r} is not {what}; {LISTEN_HINT}"
        ) from None
