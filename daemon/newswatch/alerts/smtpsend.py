"""Sending messages over SMTP (stdlib `smtplib`), reporting on each one as it goes.

The server's reply decides what happens to a message:

- accepted: reported `sent` at once, before the next one is sent;
- 5xx: that message is refused for good (`dead`), the others carry on; ten in
  a row with nothing accepted look like a config problem, and fail the sink;
- 4xx after the session accepted messages: a per-session limit, so a new
  session starts with that message; 4xx in a fresh session: that message
  waits (`later`), and a second 4xx in a row fails the sink (it backs off);
- the connection drops after accepted messages: a new session carries on;
  before any, the sink fails.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from newswatch.alerts.sink import Outcome, SinkError
from newswatch.log import get_logger

if TYPE_CHECKING:
    from newswatch.config import Smtp

PERMANENT_IN_A_ROW = 10
TEMPORARY_IN_A_ROW = 2

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Letter:
    """One message and the alerts it carries."""

    alert_ids: tuple[int, ...]
    message: bytes


@lru_cache(maxsize=64)
def _quoted(address: str) -> str:
    return smtplib.quoteaddr(address)


class _Quoting(smtplib.SMTP):
    """smtplib parsing the same sender and recipients again for every message cost a
    sixth of the CPU time of sending one; here each address is parsed once."""

    def mail(self, sender: str, options: Sequence[str] = ()) -> tuple[int, bytes]:
        if any(option.lower() == "smtputf8" for option in options):
            return super().mail(sender, options)  # it checks the server offers it
        self.putcmd("mail", f"from:{_quoted(sender)}{self._options(options)}")
        return self.getreply()

    def rcpt(self, recip: str, options: Sequence[str] = ()) -> tuple[int, bytes]:
        self.putcmd("rcpt", f"to:{_quoted(recip)}{self._options(options)}")
        return self.getreply()

    def _options(self, options: Sequence[str]) -> str:
        """As smtplib sends them: ESMTP options (SIZE=...) only to an ESMTP server."""
        return " " + " ".join(options) if options and self.does_esmtp else ""


class _Client(_Quoting, smtplib.SMTP):
    pass


class _SslClient(_Quoting, smtplib.SMTP_SSL):
    pass


class _Reconnect(Exception):
    """The session ended after accepting messages; a new one carries on."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class SmtpTransport:
    """Sends letters in as few SMTP sessions as the server allows; TLS and login as configured.

    TLS uses the system's trusted certificates (`SSL_CERT_FILE` can name more).
    The password is read when sending, never kept and never logged.
    """

    def __init__(self, smtp: Smtp) -> None:
        self.smtp = smtp
        self.where = f"{smtp.host}:{smtp.port}"

    def send(self, sender: str, to: Sequence[str], letters: Sequence[Letter]) -> Iterator[Outcome]:
        """Yield each letter's outcome as soon as the server answered; SinkError if it fails."""
        password = self._password()
        queue = deque(letters)
        ended: str | None = None  # why the previous session ended, if it did early
        while queue:
            try:
                client = self._open(password)
                try:
                    yield from self._session(client, sender, to, queue)
                finally:
                    _close(client)
            except _Reconnect as again:
                ended = again.why
                log.info("smtp_reconnecting", server=self.where, why=again.why)
            except SinkError as exc:
                raise SinkError(f"{ended}; then {exc}" if ended else str(exc)) from exc

    def _session(
        self, client: smtplib.SMTP, sender: str, to: Sequence[str], queue: deque[Letter]
    ) -> Iterator[Outcome]:
        accepted = temporary = permanent = 0
        while queue:
            letter = queue[0]
            try:
                refused = client.sendmail(sender, list(to), letter.message)
            except smtplib.SMTPServerDisconnected as exc:
                self._lost(exc, accepted)
            except smtplib.SMTPException as exc:
                code = reply_code(exc)
                if code is None or not 400 <= code < 600:
                    raise SinkError(self.describe(exc)) from exc
                queue.popleft()
                if code >= 500:
                    permanent, temporary = permanent + 1, 0
                    yield Outcome(letter.alert_ids, "dead", self.describe(exc))
                    if permanent >= PERMANENT_IN_A_ROW:
                        raise SinkError(self._streak(exc, permanent, "refused")) from exc
                    continue
                if accepted:
                    queue.appendleft(letter)
                    raise _Reconnect(
                        f"SMTP server {self.where} answered {_reply(exc)} after "
                        f"{_count(accepted)} in one session"
                    ) from exc
                temporary, permanent = temporary + 1, 0
                yield Outcome(letter.alert_ids, "later", self.describe(exc))
                if temporary >= TEMPORARY_IN_A_ROW:
                    raise SinkError(self._streak(exc, temporary, "deferred")) from exc
                continue
            except OSError as exc:
                self._lost(exc, accepted)
            except ValueError as exc:  # a message smtplib cannot send as it is
                queue.popleft()
                permanent, temporary = permanent + 1, 0
                yield Outcome(letter.alert_ids, "dead", f"cannot send this message: {exc}")
                if permanent >= PERMANENT_IN_A_ROW:
                    raise SinkError(self.describe(exc)) from exc
                continue
            queue.popleft()
            accepted += 1
            temporary = permanent = 0
            if refused:
                log.warning("email_recipients_refused", server=self.where, refused=str(refused))
            yield Outcome(letter.alert_ids)

    def _lost(self, exc: Exception, accepted: int) -> None:
        """The connection broke or timed out mid-session: carry on in a new one, or fail."""
        timed_out = isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError)
        what = "timed out" if timed_out else "closed the connection"
        if accepted:
            raise _Reconnect(f"SMTP server {self.where} {what} after {_count(accepted)}")
        if isinstance(exc, smtplib.SMTPServerDisconnected | TimeoutError):
            raise SinkError(
                f"SMTP server {self.where} {what} before accepting a message ({exc}); "
                "see the server's log (the alerts stay pending and are retried)"
            ) from exc
        raise SinkError(self.describe(exc)) from exc

    def _streak(self, exc: smtplib.SMTPException, times: int, how: str) -> str:
        return (
            f"SMTP server {self.where} {how} {times} messages in a row ({_reply(exc)}); "
            "see the server's log; backing off (the rest stay pending)"
        )

    def _open(self, password: str | None) -> smtplib.SMTP:
        """A connected, secured, logged-in session; SinkError if any step fails."""
        try:
            client = self._connect()
        except (smtplib.SMTPException, OSError, ValueError) as exc:
            raise SinkError(self.describe(exc, opening=True)) from exc
        try:
            self._secure(client, password)
        except (smtplib.SMTPException, OSError, ValueError) as exc:
            _close(client)
            raise SinkError(self.describe(exc, opening=True)) from exc
        return client

    def _connect(self) -> smtplib.SMTP:
        timeout = self.smtp.timeout.total_seconds()
        if self.smtp.ssl:
            context = ssl.create_default_context()
            return _SslClient(self.smtp.host, self.smtp.port, timeout=timeout, context=context)
        return _Client(self.smtp.host, self.smtp.port, timeout=timeout)

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

    def describe(self, exc: Exception, *, opening: bool = False) -> str:
        """One line: what failed, where, and how to mend it."""
        if isinstance(exc, smtplib.SMTPServerDisconnected) and isinstance(exc.__context__, OSError):
            exc = exc.__context__  # smtplib reports a read timeout as a disconnection
        if isinstance(exc, smtplib.SMTPException):
            return self._smtp_problem(exc, opening)
        if isinstance(exc, OSError):
            return self._network_problem(exc)
        return f"cannot send e-mail through {self.where}: {exc}; check `from` and `to`"

    def _smtp_problem(self, exc: smtplib.SMTPException, opening: bool) -> str:
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
                return f"SMTP server {where} answered {_reply(exc)}; see the server's log"
            case smtplib.SMTPServerDisconnected() if opening:
                return (
                    f"SMTP server {where} closed the connection while it was being set up "
                    f"({exc}); check that smtp.ssl and smtp.starttls suit the port "
                    "(465: ssl, 587: starttls)"
                )
            case smtplib.SMTPServerDisconnected():
                return f"SMTP server {where} closed the connection ({exc})"
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


def reply_code(exc: smtplib.SMTPException) -> int | None:
    """The SMTP reply code behind an error; for refused recipients, the mildest one."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _text in exc.recipients.values()]
        return min(codes) if codes else None
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code
    return None


def _reply(reply: smtplib.SMTPException | tuple[int, bytes | str]) -> str:
    if isinstance(reply, smtplib.SMTPRecipientsRefused):
        return "; ".join(_reply(r) for r in reply.recipients.values())
    if isinstance(reply, smtplib.SMTPResponseException):
        code, text = reply.smtp_code, reply.smtp_error
    elif isinstance(reply, tuple):
        code, text = reply
    else:
        return str(reply)
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return " ".join(f"{code} {text}".split())


def _count(messages: int) -> str:
    return f"{messages} message{'' if messages == 1 else 's'}"


def _close(client: smtplib.SMTP) -> None:
    """QUIT politely; a server that is gone or hangs is simply dropped."""
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()
