"""The `webhook` sink: each alert's JSON record POSTed to a URL, optionally signed.

One POST per alert, not per document: the body is exactly the alert's log
record (`{"event": "alert", ...}`, the story included), so a receiver parses
one format whichever sink it reads, and each POST's outcome marks exactly one
outbox row (a retry repeats one alert, never a document's others).

Signing (when `secret_env` or `secret_file` is set): the header
`X-Newswatch-Signature: sha256=<hex>` carries HMAC-SHA256, keyed with the
secret, of `<X-Newswatch-Timestamp>.<raw body>`, so a receiver can verify the
sender and refuse replays of old requests (docs/CONTRACT.md shows how).

What an answer means for the alert:

- 2xx: `sent`;
- 408, 425, 429, 5xx, a timeout or a broken connection: `later` (the outbox
  retries it after its back-off); two in a row fail the sink, which backs off;
- a connection error before the receiver answered anything in this round:
  the sink fails as a whole (the receiver is down; nothing is marked);
- other 3xx and 4xx: `dead` (kept, `newswatch deliver --dead` retries);
  ten in a row look like a wrong URL and fail the sink.

The URL's path and query often hold a token (chat services' incoming
webhooks): messages and the outbox key name only its scheme, host and port.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Generator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

import newswatch
from newswatch.alerts.log import alert_record
from newswatch.alerts.safetext import clean_line
from newswatch.alerts.sink import Outcome, Result, SinkError
from newswatch.config.secrets import SecretUnavailable, read_secret
from newswatch.log import get_logger
from newswatch.model import Alert, iso_utc
from newswatch.ops.feedhealth import Notice

if TYPE_CHECKING:
    from newswatch.config.schema import WebhookAlert

TEMPORARY_IN_A_ROW = 2
PERMANENT_IN_A_ROW = 10
RETRYABLE = frozenset({408, 425, 429})
ANSWER_KEPT = 64 * 1024  # bytes of an answer read (the rest is not waited for)
ERROR_SHOWN = 200  # characters of a refusal's body put in the error

log = get_logger(__name__)


def endpoint(url: str) -> str:
    """`scheme://host[:port]` of the URL: what messages may show (no user, path or query)."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Newswatch-Signature value: `sha256=` and the HMAC of `<timestamp>.<body>`."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def classify(status: int) -> Result:
    """What an HTTP status means for the alert that was POSTed."""
    if 200 <= status < 300:
        return "sent"
    if status in RETRYABLE or status >= 500:
        return "later"
    return "dead"


class WebhookSink:
    """POSTs alerts over one reused connection per delivery round."""

    def __init__(self, entry: WebhookAlert, key: str) -> None:
        self.key = key
        self.entry = entry
        self.where = endpoint(entry.url)

    def deliver(self, batch: Sequence[Alert]) -> Generator[Outcome, None, None]:
        secret = self._secret()
        now = iso_utc(datetime.now(UTC))
        streak = _Streak()
        sent = 0
        try:
            with self._client() as client:
                for alert in batch:
                    ids = (alert.id,) if alert.id is not None else ()
                    body = json.dumps(alert_record(alert, now), ensure_ascii=False).encode()
                    outcome, answered = self._post(client, body, secret, ids, streak.answered)
                    streak.count(outcome, answered)
                    sent += outcome.result == "sent"
                    yield outcome
                    streak.check()
        finally:
            if sent:
                log.info("webhook_sent", sink=self.key, endpoint=self.where, messages=sent)

    def announce(self, notice: Notice) -> None:
        """A feed-health notice POSTed as its JSON record; SinkError unless it was taken."""
        record = {**notice.record(), "timestamp": iso_utc(datetime.now(UTC))}
        body = json.dumps(record, ensure_ascii=False).encode()
        with self._client() as client:
            outcome, _answered = self._post(client, body, self._secret(), (), False)
        if outcome.result != "sent":
            raise SinkError(outcome.error or f"webhook {self.where} refused the notice")

    def _client(self) -> httpx.Client:
        seconds = self.entry.timeout.total_seconds()
        return httpx.Client(
            timeout=httpx.Timeout(seconds, connect=min(seconds, 10.0)),
            follow_redirects=False,
            headers={"User-Agent": f"newswatch/{newswatch.__version__}"},
        )

    def _secret(self) -> str | None:
        try:
            return read_secret(self.entry.secret_env, self.entry.secret_file, self._what)
        except SecretUnavailable as exc:
            raise SinkError(f"{exc} (the alerts stay pending)") from None

    @property
    def _what(self) -> str:
        return f"the secret of webhook {self.key}"

    def _post(
        self,
        client: httpx.Client,
        body: bytes,
        secret: str | None,
        ids: tuple[int, ...],
        answered_before: bool,
    ) -> tuple[Outcome, bool]:
        """One POST: its outcome and whether the receiver answered. SinkError when it
        cannot be reached and has not answered before in this round (it is down)."""
        headers = self._headers(body, secret, ids)
        try:
            request = client.build_request("POST", self.entry.url, content=body, headers=headers)
        except (httpx.InvalidURL, ValueError):
            raise SinkError(f"webhook {self.where}: the url cannot be used; check `url`") from None
        try:
            response = client.send(request, stream=True)
            try:
                answer = _read_capped(
                    response, time.monotonic() + self.entry.timeout.total_seconds()
                )
            finally:
                response.close()
        except httpx.TransportError as exc:
            error = f"webhook {self.where}: {_transport_error(exc)}"
            if not answered_before and not isinstance(exc, httpx.ReadTimeout | httpx.WriteError):
                raise SinkError(f"{error}; backing off (the alerts stay pending)") from None
            return Outcome(ids, "later", error), False
        result = classify(response.status_code)
        if result == "sent":
            return Outcome(ids), True
        return Outcome(ids, result, self._refusal(response, answer)), True

    def _headers(self, body: bytes, secret: str | None, ids: tuple[int, ...]) -> dict[str, str]:
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "X-Newswatch-Timestamp": timestamp}
        if ids:
            headers["X-Newswatch-Alert-Id"] = ",".join(map(str, ids))
        if secret is not None:
            headers["X-Newswatch-Signature"] = sign(secret, timestamp, body)
        return headers

    def _refusal(self, response: httpx.Response, answer: bytes) -> str:
        text = clean_line(answer.decode("utf-8", "replace"), ERROR_SHOWN)
        reason = f"{response.status_code} {response.reason_phrase}".strip()
        error = f"webhook {self.where} answered {reason}" + (f": {text}" if text else "")
        if 300 <= response.status_code < 400:
            error += "; redirects are not followed: point `url` at the final address"
        return error


class _Streak:
    """Failures in a row: past a few, the receiver is down or the URL is wrong."""

    def __init__(self) -> None:
        self.answered = False
        self.temporary = 0
        self.permanent = 0
        self.last: str | None = None

    def count(self, outcome: Outcome, answered: bool) -> None:
        self.answered = self.answered or answered
        self.last = outcome.error
        if outcome.result == "sent":
            self.temporary = self.permanent = 0
        elif outcome.result == "later":
            self.temporary, self.permanent = self.temporary + 1, 0
        else:
            self.temporary, self.permanent = 0, self.permanent + 1

    def check(self) -> None:
        if self.temporary >= TEMPORARY_IN_A_ROW:
            raise SinkError(
                f"{self.last}; {self.temporary} alerts in a row refused for now, "
                "backing off (the rest stay pending)"
            )
        if self.permanent >= PERMANENT_IN_A_ROW:
            raise SinkError(
                f"{self.last}; {self.permanent} alerts in a row refused for good: "
                "check the webhook `url`; backing off (the rest stay pending)"
            )


def _read_capped(response: httpx.Response, deadline: float) -> bytes:
    """Up to ANSWER_KEPT bytes of the answer, read until `deadline` at most: a huge,
    endless or dripping answer cannot hold us (its status is all that counts)."""
    kept = b""
    for chunk in response.iter_raw():
        kept += chunk
        if len(kept) >= ANSWER_KEPT or time.monotonic() > deadline:
            break
    return kept[:ANSWER_KEPT]


def _transport_error(exc: httpx.TransportError) -> str:
    """What went wrong, without the URL (httpx puts it into some messages)."""
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer in time ({type(exc).__name__})"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect ({_reason(exc)}); is the receiver up?"
    return f"the connection failed ({type(exc).__name__}: {_reason(exc)})"


def _reason(exc: Exception) -> str:
    cause = exc.__cause__ or exc.__context__
    while cause is not None and (cause.__cause__ or cause.__context__) is not None:
        cause = cause.__cause__ or cause.__context__
    base = cause if isinstance(cause, OSError) and cause.strerror else None
    return base.strerror if base is not None and base.strerror else "connection error"
