"""What went wrong with a fetch, in words a user can act on; and when to come back.

`FetchError` carries the one line the user will read. `describe_error` turns a
network-level exception into such a line (DNS, refused, TLS, timeouts), and
`parse_retry_after` reads a server's Retry-After, bounded so that no header can
park a feed for longer than a year.
"""

from __future__ import annotations

import email.utils
import ssl
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import httpx

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
    """One line a user can act on, for a network-level failure."""
    host = _host(url)
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, httpx.ConnectTimeout):
        return f"could not connect to {host} within {config.connect_timeout.total_seconds():g} s"
    if isinstance(exc, httpx.TimeoutException):
        return f"{host} stopped answering for {config.timeout.total_seconds():g} s ({url})"
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return f"not a fetchable http(s) URL: {url} ({text})"
    if _caused_by(exc, ssl.SSLError) or "CERTIFICATE" in text or "SSL" in text:
        return f"TLS (https) failure with {host}: {text}"
    if any(hint in text for hint in _DNS_HINTS):
        return f"DNS lookup failed for {host}: no such host, or no DNS ({text})"
    if _caused_by(exc, ConnectionRefusedError) or "refused" in text.lower():
        return f"connection refused by {host}: nothing listens there"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"{host} broke off or garbled the HTTP exchange: {text}"
    return f"network error with {host}: {text}"


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
    try:
        return httpx.URL(url).netloc.decode("ascii", "replace") or url
    except (httpx.InvalidURL, ValueError):
        return url
