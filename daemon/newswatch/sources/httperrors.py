"""What went wrong with a fetch, in words a user can act on; and when to come back.

`FetchError` carries the one line the user will read. `describe_error` turns a
network-level exception (urllib3's, the socket's) into such a line (DNS, refused,
TLS, timeouts), and `parse_retry_after` reads a server's Retry-After, bounded so
that no header can park a feed for longer than a year.
"""

from __future__ import annotations

import email.utils
import http.client
import ssl
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from urllib3 import exceptions as urllib3_errors

if TYPE_CHECKING:
    from newswatch.config import Fetch


MAX_RETRY_AFTER = timedelta(days=365)


class FetchError(Exception):
    """One fetch went wrong; the message is the line the user will read."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def parse_retry_after(value: str | None, now: datetime) -> datetime | None:
    """Retry-After as seconds or as an HTTP date -> an aware UTC moment; None if unreadable."""
    if not value or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return now + min(timedelta(seconds=int(text[:12])), MAX_RETRY_AFTER)
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return min(moment.astimezone(UTC), now + MAX_RETRY_AFTER)


def describe_error(exc: BaseException, url: str, config: Fetch) -> str:
    """One line a user can act on, for a network-level failure (urllib3's, the socket's)."""
    host = _host(url)
    text = _text(_reason(exc))
    if is_timeout(exc) and isinstance(exc, urllib3_errors.ConnectTimeoutError):
        return f"could not connect to {host} within {config.connect_timeout.total_seconds():g} s"
    if is_timeout(exc):
        return f"{host} stopped answering for {config.timeout.total_seconds():g} s ({url})"
    if isinstance(exc, urllib3_errors.ProxyError):
        return f"the proxy failed us on the way to {host}: {_text(exc.original_error)}"
    if isinstance(exc, UnfetchableURL | urllib3_errors.LocationValueError):
        return f"not a fetchable http(s) URL: {url} ({text})"
    if _caused_by(exc, ssl.SSLError) or "CERTIFICATE" in text or "SSL" in text:
        return f"TLS (https) failure with {host}: {text}"
    if isinstance(exc, urllib3_errors.NameResolutionError) or any(h in text for h in _DNS_HINTS):
        return f"DNS lookup failed for {host}: no such host, or no DNS ({text})"
    if _caused_by(exc, ConnectionRefusedError) or "refused" in text.lower():
        return f"connection refused by {host}: nothing listens there"
    if isinstance(exc, _GARBLED):
        return f"{host} broke off or garbled the HTTP exchange: {text}"
    return f"network error with {host}: {text}"


_GARBLED = (
    urllib3_errors.ProtocolError,  # cut short, or not HTTP
    urllib3_errors.InvalidHeader,
    urllib3_errors.HeaderParsingError,
    http.client.HTTPException,
)


def _text(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _reason(exc: BaseException) -> BaseException:
    """What a connection failed on: urllib3 puts its connection's repr before the
    socket's message (`HTTPConnection(host=..., port=80): Failed to resolve ...`)."""
    if isinstance(exc, urllib3_errors.NewConnectionError) and exc.__cause__ is not None:
        return exc.__cause__
    return exc


def is_timeout(exc: BaseException) -> bool:
    """A timeout of the socket's or urllib3's (whose NewConnectionError, a refused or
    unresolved connection, is a kind of ConnectTimeoutError: not a timeout)."""
    if isinstance(exc, urllib3_errors.NewConnectionError):
        return False
    return isinstance(exc, urllib3_errors.TimeoutError | TimeoutError)


class UnfetchableURL(ValueError):
    """A URL that is not http(s), or has no host: no request can be sent to it."""


_DNS_HINTS = (
    "Name or service not known",
    "nodename nor servname",
    "Temporary failure in name resolution",
    "No address associated",
    "getaddrinfo failed",
    "Name does not resolve",
)


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _host(url: str) -> str:
    """host[:port] of `url`, without any user:password@."""
    try:
        return urlsplit(url).netloc.rpartition("@")[2] or url
    except ValueError:
        return url
