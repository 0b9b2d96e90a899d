"""The `email` sink: alerts as e-mail through SMTP.

What is sent is composed by a function the sink is given (one message per
alert here, or one digest from `alerts.digest`); `alerts.smtpsend` sends it
and reports on each message as soon as the server answered.
"""

from __future__ import annotations

import hashlib
import html
import quopri
import secrets
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr

from newswatch.alerts.sink import Outcome, SinkError
from newswatch.alerts.smtpsend import Letter, SmtpTransport
from newswatch.log import get_logger
from newswatch.model import Alert
from newswatch.ops.feedhealth import Notice

KEY_MAX = 100  # the outbox's `deliveries.sink` column
SUBJECT_MAX = 200

log = get_logger(__name__)


def sink_key(to: Sequence[str], ordinal: int = 1) -> str:
    """`email:<to, joined by commas>` (`#2`... for a second entry with the same recipients).

    It names outbox rows, so it must not change across restarts; a key too
    long for the outbox keeps its start and a hash of the whole.
    """
    key = "email:" + ",".join(to) + (f"#{ordinal}" if ordinal > 1 else "")
    if len(key) <= KEY_MAX:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return f"{key[: KEY_MAX - 17]}#{digest}"


@dataclass(frozen=True, slots=True)
class Envelope:
    """Who a message is from and to, and how its subject starts."""

    sender: str
    to: tuple[str, ...]
    subject_prefix: str = "[newswatch]"
    key: str = ""

    def subject(self, text: str) -> str:
        subject = " ".join(f"{self.subject_prefix} {text}".split())
        return subject if len(subject) <= SUBJECT_MAX else subject[: SUBJECT_MAX - 1] + "…"

    def message_id(self, local: str) -> str:
        """A Message-ID fixed by the alerts it carries, so a resent copy is recognisable."""
        domain = self.sender.rpartition("@")[2].strip(" <>") or "newswatch.invalid"
        tag = hashlib.sha256(self.key.encode()).hexdigest()[:10]
        return f"<newswatch.{local}.{tag}@{domain}>"


def new_message(
    envelope: Envelope, subject: str, plain: str, rich: str, local_id: str, now: datetime
) -> bytes:
    """The message as sent: multipart/alternative, text and HTML, quoted-printable UTF-8.

    Written out directly: the `email` package's header objects and folding
    cost several times more than the rest of sending a message.
    """
    boundary = f"=_newswatch_{secrets.token_hex(12)}"
    headers = {
        "From": _header(envelope.sender, address=True),
        "To": ", ".join(_header(to, address=True) for to in envelope.to),
        "Subject": _header(envelope.subject(subject)),
        "Date": format_datetime(now.astimezone(UTC)),
        "Message-ID": envelope.message_id(local_id),
        "Auto-Submitted": "auto-generated",
        "MIME-Version": "1.0",
        "Content-Type": f'multipart/alternative; boundary="{boundary}"',
    }
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    body = _part(boundary, "plain", plain) + _part(boundary, "html", rich)
    return head.encode("ascii") + b"\r\n" + body + f"--{boundary}--\r\n".encode("ascii")


def _part(boundary: str, subtype: str, text: str) -> bytes:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8", "replace")
    encoded = quopri.encodestring(lines).replace(b"\n", b"\r\n")  # lines of 76 at most
    head = (
        f"--{boundary}\r\nContent-Type: text/{subtype}; charset=utf-8\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    )
    return head.encode("ascii") + encoded + b"\r\n"


def _header(value: str, *, address: bool = False) -> str:
    """ASCII as it is; anything else encoded (RFC 2047), an address keeping its address part."""
    if "\r" in value or "\n" in value:
        raise ValueError(f"a line break in a header: {value!r}")
    if value.isascii():
        return value
    if address:
        name, mailbox = parseaddr(value)
        return formataddr((name, mailbox), charset="utf-8")
    return Header(value, "utf-8").encode().replace("\n", "\r\n")


def published_text(alert: Alert) -> str:
    if alert.published is None:
        return "unknown"
    return alert.published.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def alert_fields(alert: Alert) -> list[tuple[str, str]]:
    return [
        ("Title", alert.title),
        ("URL", alert.url or "(none)"),
        ("Source", alert.source),
        ("Published", published_text(alert)),
        ("Matched", ", ".join(alert.matched)),
        *also_reported_by(alert),
    ]


def also_reported_by(alert: Alert) -> list[tuple[str, str]]:
    """The story's other outlets, when other outlets carry it."""
    others = alert.story.others if alert.story else ()
    if not others:
        return []
    return [("Also in", "; ".join(f"{o.source} <{o.url or 'no link'}>" for o in others))]


def alert_plain(alert: Alert) -> str:
    fields = [("Watch", f"{alert.watch} ({alert.kind})"), *alert_fields(alert)]
    lines = [f"{name + ':':<11}{value}" for name, value in fields]
    return "\n".join([*lines, "", alert.snippet, ""])


def alert_html(alert: Alert) -> str:
    title = html.escape(alert.title)
    heading = f'<a href="{html.escape(alert.url)}">{title}</a>' if alert.url else title
    rows = "".join(
        f"<tr><th align=left>{name}</th><td>{html.escape(value)}</td></tr>"
        for name, value in alert_fields(alert)[2:]
    )
    snippet = html.escape(alert.snippet)
    return f"<h3>{heading}</h3><table>{rows}</table><blockquote>{snippet}</blockquote>"


def immediate_messages(envelope: Envelope, batch: Sequence[Alert], now: datetime) -> list[Letter]:
    """One message per alert: subject `<prefix> <watch>: <title>`, text and HTML bodies."""
    return [
        Letter(
            (alert.id,) if alert.id is not None else (),
            new_message(
                envelope,
                f"{alert.watch}: {alert.title}",
                alert_plain(alert),
                f"<p>{html.escape(alert.watch)} ({alert.kind})</p>{alert_html(alert)}",
                f"alert.{alert.id}",
                now,
            ),
        )
        for alert in batch
    ]


Compose = Callable[[Envelope, Sequence[Alert], datetime], list[Letter]]
Readiness = Callable[[datetime, datetime], bool]


class EmailSink:
    """An alert sink that mails what `compose` makes of a batch, when `ready_when` allows."""

    def __init__(
        self,
        envelope: Envelope,
        transport: SmtpTransport,
        compose: Compose = immediate_messages,
        ready_when: Readiness | None = None,
        max_per_hour: int | None = None,
        overflow: Compose | None = None,
    ) -> None:
        self.key = envelope.key
        self.envelope = envelope
        self.transport = transport
        self.compose = compose
        self.ready_when = ready_when
        self.max_per_hour = max_per_hour  # the outbox keeps to it (`sink.RateLimited`)
        self.overflow = overflow or compose  # what is left over an hour: one digest

    def ready(self, oldest_pending: datetime, now: datetime) -> bool:
        return self.ready_when is None or self.ready_when(oldest_pending, now)

    def announce(self, notice: Notice) -> None:
        """A feed-health notice as a short message of its own."""
        now = datetime.now(UTC)
        plain = f"{notice.subject}\n\n{notice.detail}\n\n{notice.url}\n"
        rich = (
            f"<p><b>{html.escape(notice.subject)}</b></p><p>{html.escape(notice.detail)}</p>"
            f"<p>{html.escape(notice.url)}</p>"
        )
        local_id = f"health.{notice.kind}.{hashlib.sha256(notice.url.encode()).hexdigest()[:12]}"
        letter = Letter((), new_message(self.envelope, notice.subject, plain, rich, local_id, now))
        for outcome in self.transport.send(self.envelope.sender, self.envelope.to, [letter]):
            if outcome.result != "sent":
                raise SinkError(outcome.error or "the server refused the message")

    def deliver(self, batch: Sequence[Alert]) -> Generator[Outcome, None, None]:
        return self._send(self.compose, batch)

    def deliver_digest(self, batch: Sequence[Alert]) -> Generator[Outcome, None, None]:
        return self._send(self.overflow, batch)

    def _send(self, compose: Compose, batch: Sequence[Alert]) -> Generator[Outcome, None, None]:
        try:
            letters = compose(self.envelope, batch, datetime.now(UTC))
        except ValueError as exc:
            raise SinkError(self.transport.describe(exc)) from exc
        sent = 0
        try:
            for outcome in self.transport.send(self.envelope.sender, self.envelope.to, letters):
                sent += outcome.result == "sent"
                yield outcome
        finally:
            if sent:
                log.info("email_sent", sink=self.key, server=self.transport.where, messages=sent)
