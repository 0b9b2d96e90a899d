"""The `email` sink: alerts as e-mail through SMTP (stdlib `smtplib`), one session per delivery.

What is sent is composed by a function the sink is given (one message per
alert here, or one digest from `alerts.digest`); the sink only connects,
secures the connection, logs in and sends. Every failure becomes a SinkError
of one line, so the outbox keeps the alerts pending and retries them.
"""

from __future__ import annotations

import hashlib
import html
import smtplib
import socket
import ssl
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

from newswatch.alerts.sink import SinkError
from newswatch.config import Smtp
from newswatch.log import get_logger
from newswatch.model import Alert

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
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = envelope.sender
    message["To"] = ", ".join(envelope.to)
    message["Subject"] = envelope.subject(subject)
    message["Date"] = format_datetime(now.astimezone(UTC))
    message["Message-ID"] = envelope.message_id(local_id)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(plain)
    message.add_alternative(rich, subtype="html")
    return message


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


def immediate_messages(
    envelope: Envelope, batch: Sequence[Alert], now: datetime
) -> list[EmailMessage]:
    """One message per alert: subject `<prefix> <watch>: <title>`, text and HTML bodies."""
    return [
        new_message(
            envelope,
            f"{alert.watch}: {alert.title}",
            alert_plain(alert),
            f"<p>{html.escape(alert.watch)} ({alert.kind})</p>{alert_html(alert)}",
            f"alert.{alert.id}",
            now,
        )
        for alert in batch
    ]


class SmtpTransport:
    """Sends messages in one SMTP session: TLS (implicit or STARTTLS) and login as configured.

    TLS uses the system's trusted certificates (`SSL_CERT_FILE` can name more).
    The password is read when sending, never kept and never logged.
    """

    def __init__(self, smtp: Smtp) -> None:
        self.smtp = smtp
        self.where = f"{smtp.host}:{smtp.port}"

    def send(self, sender: str, to: Sequence[str], messages: Sequence[EmailMessage]) -> None:
        password = self._password()
        with self._session(password) as client:
            for message in messages:
                refused = client.send_message(message, from_addr=sender, to_addrs=list(to))
                if refused:
                    log.warning("email_recipients_refused", server=self.where, refused=str(refused))

    @contextmanager
    def _session(self, password: str | None) -> Iterator[smtplib.SMTP]:
        try:
            with self._connect() as client:
                self._secure(client, password)
                yield client
        except (smtplib.SMTPException, OSError, ValueError) as exc:
            raise SinkError(self.describe(exc)) from exc

    def _connect(self) -> smtplib.SMTP:
        timeout = self.smtp.timeout.total_seconds()
        if self.smtp.ssl:
            context = ssl.create_default_context()
            return smtplib.SMTP_SSL(
                self.smtp.host, self.smtp.port, timeout=timeout, context=context
            )
        return smtplib.SMTP(self.smtp.host, self.smtp.port, timeout=timeout)

    def _secure(self, client: smtplib.SMTP, password: str | None) -> None:
        if self.smtp.starttls and not self.smtp.ssl:
            client.starttls(context=ssl.create_default_context())
        if self.smtp.username and password is not None:
            client.login(self.smtp.username, password)

    def _password(self) -> str | None:
        smtp = self.smtp
        if not smtp.username:
            return None
        try:
            secret = smtp.password()
        except (OSError, UnicodeDecodeError) as exc:
            raise SinkError(
                f"cannot read the SMTP password file {smtp.password_file}: {exc}; "
                "check smtp.password_file and its permissions"
            ) from None
        if secret:
            return secret
        if smtp.password_env:
            raise SinkError(
                f"SMTP login as {smtp.username!r} at {self.where}: environment variable "
                f"{smtp.password_env} is not set; set it in the daemon's environment"
            )
        raise SinkError(
            f"SMTP login as {smtp.username!r} at {self.where} needs a password; "
            "add smtp.password_env or smtp.password_file"
        )

    def describe(self, exc: Exception) -> str:
        """One line: what failed, where, and how to mend it."""
        if isinstance(exc, smtplib.SMTPServerDisconnected) and isinstance(exc.__context__, OSError):
            exc = exc.__context__  # smtplib reports a read timeout as a disconnection
        if isinstance(exc, smtplib.SMTPException):
            return self._smtp_problem(exc)
        if isinstance(exc, OSError):
            return self._network_problem(exc)
        return f"cannot send e-mail through {self.where}: {exc}; check `from` and `to`"

    def _smtp_problem(self, exc: smtplib.SMTPException) -> str:
        where, smtp = self.where, self.smtp
        match exc:
            case smtplib.SMTPAuthenticationError():
                secret = f"${smtp.password_env}" if smtp.password_env else smtp.password_file
                return (
                    f"SMTP server {where} refused the login of {smtp.username!r} "
                    f"({_reply(exc)}); check smtp.username and the password in {secret}"
                )
            case smtplib.SMTPRecipientsRefused():
                refused = "; ".join(f"{who}: {_reply(r)}" for who, r in exc.recipients.items())
                return f"SMTP server {where} refused every recipient ({refused}); check `to`"
            case smtplib.SMTPSenderRefused():
                return (
                    f"SMTP server {where} refused sender {exc.sender!r} ({_reply(exc)}); "
                    "check `from`"
                )
            case smtplib.SMTPResponseException():
                return (
                    f"SMTP server {where} answered {_reply(exc)}; see the server's log "
                    "(the alerts stay pending and are retried)"
                )
            case smtplib.SMTPServerDisconnected():
                return (
                    f"SMTP server {where} closed the connection ({exc}); check that "
                    "smtp.ssl and smtp.starttls suit the port (465: ssl, 587: starttls)"
                )
        return (
            f"SMTP server {where}: {exc}; match the config to what the server offers "
            "(smtp.starttls, smtp.ssl, smtp.username)"
        )

    def _network_problem(self, exc: OSError) -> str:
        where = self.where
        match exc:
            case ssl.SSLError():
                reason = getattr(exc, "verify_message", None) or exc.reason or exc
                return (
                    f"TLS with SMTP server {where} failed ({reason}); check smtp.ssl, "
                    "smtp.starttls and the port, or trust its certificate (SSL_CERT_FILE)"
                )
            case TimeoutError():
                return (
                    f"SMTP server {where} did not answer within "
                    f"{self.smtp.timeout.total_seconds():g}s; check smtp.host and "
                    "smtp.port, or raise smtp.timeout"
                )
            case socket.gaierror():
                return f"cannot resolve SMTP host {self.smtp.host!r} ({exc}); check smtp.host"
        return (
            f"cannot connect to SMTP server {where} ({exc.strerror or exc}); "
            "check smtp.host and smtp.port and that the server is running"
        )


def _reply(reply: smtplib.SMTPResponseException | tuple[int, bytes | str]) -> str:
    code, text = (
        (reply.smtp_code, reply.smtp_error)
        if isinstance(reply, smtplib.SMTPResponseException)
        else reply
    )
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return " ".join(f"{code} {text}".split())


Compose = Callable[[Envelope, Sequence[Alert], datetime], list[EmailMessage]]
Readiness = Callable[[datetime, datetime], bool]


class EmailSink:
    """An alert sink that mails what `compose` makes of a batch, when `ready_when` allows."""

    def __init__(
        self,
        envelope: Envelope,
        transport: SmtpTransport,
        compose: Compose = immediate_messages,
        ready_when: Readiness | None = None,
    ) -> None:
        self.key = envelope.key
        self.envelope = envelope
        self.transport = transport
        self.compose = compose
        self.ready_when = ready_when

    def ready(self, oldest_pending: datetime, now: datetime) -> bool:
        return self.ready_when is None or self.ready_when(oldest_pending, now)

    def deliver(self, batch: Sequence[Alert]) -> None:
        try:
            messages = self.compose(self.envelope, batch, datetime.now(UTC))
        except ValueError as exc:
            raise SinkError(self.transport.describe(exc)) from exc
        self.transport.send(self.envelope.sender, self.envelope.to, messages)
        log.info(
            "email_sent",
            sink=self.key,
            server=self.transport.where,
            messages=len(messages),
            alerts=len(batch),
        )
