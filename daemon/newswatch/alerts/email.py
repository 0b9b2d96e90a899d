"""The `email` sink: alerts as e-mail through SMTP.

What is sent is composed by a function the sink is given (one message per
document here, or one digest from `alerts.digest`); `alerts.smtpsend` sends it
and reports on each message as soon as the server answered. The text of the
messages comes from `alerts.mailtext`; this module writes the MIME around it.
"""

from __future__ import annotations

import hashlib
import quopri
import re
import secrets
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache

from newswatch.alerts.mailtext import article_bodies, escape
from newswatch.alerts.render import Article, articles, watch_names
from newswatch.alerts.safetext import clean_line
from newswatch.alerts.sink import Outcome, SinkError
from newswatch.alerts.smtpsend import Letter, SmtpTransport
from newswatch.log import get_logger
from newswatch.model import Alert
from newswatch.ops.feedhealth import Notice

KEY_MAX = 100  # the outbox's `deliveries.sink` column
SUBJECT_MAX = 200
LINE_MAX = 78  # header lines are folded to this length where there is a space

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


def list_id(name: str, sender: str) -> str:
    """`<desk.newswatch.example.org>`: the sink's name under the sender's domain, so
    filters can sort a sink's messages; it stays while the name and sender do."""
    label = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-") or "email"
    domain = re.sub(r"[^a-z0-9.-]+", "", _domain(sender).lower()).strip(".") or "newswatch.invalid"
    return f"<{label}.newswatch.{domain}>"


def _domain(sender: str) -> str:
    return parseaddr(sender)[1].rpartition("@")[2] or sender.rpartition("@")[2].strip(" <>")


@dataclass(frozen=True, slots=True)
class Envelope:
    """Who a message is from and to, how its subject starts, and the zone its times are in."""

    sender: str
    to: tuple[str, ...]
    subject_prefix: str = "[newswatch]"
    key: str = ""
    list_id: str = ""
    zone: tzinfo = UTC

    def subject(self, text: str) -> str:
        """One line (control characters and line breaks taken out), at most SUBJECT_MAX."""
        subject = clean_line(f"{self.subject_prefix} {text}")
        return subject if len(subject) <= SUBJECT_MAX else subject[: SUBJECT_MAX - 1] + "…"

    def message_id(self, local: str) -> str:
        """A Message-ID fixed by the alerts it carries, so a resent copy is recognisable."""
        return f"<newswatch.{local}.{_id_suffix(self.key, self.sender)}>"


@lru_cache(maxsize=64)
def _id_suffix(key: str, sender: str) -> str:
    """`<sink tag>@<sender's domain>`: the same for every message of a sink."""
    tag = hashlib.sha256(key.encode()).hexdigest()[:10]
    return f"{tag}@{_domain(sender) or 'newswatch.invalid'}"


@lru_cache(maxsize=256)
def _address(value: str) -> str:
    return _header("To", value, address=True)


def new_message(
    envelope: Envelope,
    subject: str,
    plain: str,
    rich: str,
    local_id: str,
    now: datetime,
    *,
    reply_to: str | None = None,
) -> bytes:
    """The message as sent: multipart/alternative, text and HTML, quoted-printable UTF-8.

    `reply_to` is the `local_id` of the message this one follows in a thread
    (In-Reply-To and References). Written out directly: the `email` package's
    header objects and folding cost several times more than the rest of
    sending a message.
    """
    boundary = f"=_newswatch_{secrets.token_hex(12)}"
    headers = {
        "From": _address(envelope.sender),
        "To": ", ".join(_address(to) for to in envelope.to),
        "Subject": _header("Subject", envelope.subject(subject)),
        "Date": format_datetime(now.astimezone(UTC)),
        "Message-ID": envelope.message_id(local_id),
    }
    if reply_to is not None:
        parent = envelope.message_id(reply_to)
        headers.update({"In-Reply-To": parent, "References": parent})
    if envelope.list_id:
        headers["List-Id"] = envelope.list_id
    headers.update(
        {
            "Auto-Submitted": "auto-generated",
            "MIME-Version": "1.0",
            "Content-Type": f'multipart/alternative; boundary="{boundary}"',
        }
    )
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    body = _part(boundary, "plain", plain) + _part(boundary, "html", _document(rich))
    return head.encode("ascii") + b"\r\n" + body + f"--{boundary}--\r\n".encode("ascii")


def _document(rich: str) -> str:
    """A whole HTML document: no styles, no scripts, nothing fetched from elsewhere."""
    return f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>{rich}</body></html>'


def _part(boundary: str, subtype: str, text: str) -> bytes:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8", "replace")
    encoded = quopri.encodestring(lines).replace(b"\n", b"\r\n")  # lines of 76 at most
    head = (
        f"--{boundary}\r\nContent-Type: text/{subtype}; charset=utf-8\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    )
    return head.encode("ascii") + encoded + b"\r\n"


def _header(name: str, value: str, *, address: bool = False) -> str:
    """A header value on one logical line (controls taken out), folded at spaces; anything
    not ASCII encoded (RFC 2047), an address keeping its address part."""
    value = clean_line(value)
    if value.isascii():
        return _fold(name, value)
    if address:
        display, mailbox = parseaddr(value)
        return formataddr((display, mailbox), charset="utf-8")
    return Header(value, "utf-8", header_name=name).encode(linesep="\r\n")


def _fold(name: str, value: str) -> str:
    """`value` with CRLF + space before words that would pass LINE_MAX (RFC 5322 folding)."""
    if len(name) + 2 + len(value) <= LINE_MAX:
        return value
    lines: list[str] = []
    line = ""
    room = LINE_MAX - len(name) - 2
    for word in value.split(" "):
        if line and len(line) + 1 + len(word) > room:
            lines.append(line)
            line, room = word, LINE_MAX - 1
        else:
            line = f"{line} {word}" if line else word
    return "\r\n ".join([*lines, line])


def immediate_messages(envelope: Envelope, batch: Sequence[Alert], now: datetime) -> list[Letter]:
    """One message per document, naming every watch that matched it:
    subject `<prefix> <watch>, <watch>: <title>`, text and HTML bodies."""
    return [_article_letter(envelope, article, now) for article in articles(batch)]


def _article_letter(envelope: Envelope, article: Article, now: datetime) -> Letter:
    local_id, reply_to = thread_ids(article)
    plain, rich = article_bodies(article, envelope.zone)
    message = new_message(
        envelope,
        f"{watch_names(article.watches)}: {article.title}",
        plain,
        rich,
        local_id,
        now,
        reply_to=reply_to,
    )
    return Letter(article.alert_ids, message)


def thread_ids(article: Article) -> tuple[str, str | None]:
    """(this message's local id, the local id of the one it follows, if any).

    The message carrying a story's first alert is the thread's root
    (`story.<story id>`); any later message on the story follows it. A message
    off any story is `alert.<its first alert id>`.
    """
    ids = article.alert_ids
    own = f"alert.{min(ids)}" if ids else f"document.{article.lead.document_id}"
    story = article.lead.story
    if story is None or story.root_alert_id is None:
        return own, None
    root = f"story.{story.id}"
    return (root, None) if story.root_alert_id in ids else (own, root)


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
            f"<p><b>{escape(notice.subject)}</b></p><p>{escape(notice.detail)}</p>"
            f"<p>{escape(notice.url)}</p>"
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
