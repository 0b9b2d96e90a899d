"""A real SMTP server on 127.0.0.1 for e-mail tests (aiosmtpd in a thread).

`SmtpServer(port)` can be started, stopped and started again on the same port
(to test "the server was down"); it keeps every message it accepted, parsed,
with the SMTP session that carried it. Options: AUTH users, STARTTLS or
implicit TLS with a certificate made by `make_certificate`, and recipients to
refuse with 550.

Faults (fields of `Handler`, changeable while it runs): `replies` answers
messages whose subject contains a key with that reply (a poison message);
`per_session` answers 451 once a session carried that many messages; `reply_all`
answers every message so; `die_after` drops every connection at the end of
data once that many messages were accepted (the server "died"); `hang_after`
never answers data once that many were accepted; `delay` slows each message;
`on_message(n)` runs before the n-th message (1-based) is answered.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def make_certificate(folder: Path) -> tuple[Path, Path] | None:
    """A self-signed certificate for 127.0.0.1 (cert, key), or None without `openssl`."""
    if shutil.which("openssl") is None:
        return None
    cert, key = folder / "cert.pem", folder / "key.pem"
    command = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    command += ["-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
    command += ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)]
    subprocess.run(
        command,
        check=True,
        capture_output=True,
    )
    return cert, key


@dataclass(frozen=True)
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    session: str
    login: str | None

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def text(self) -> str:
        body = self.message.get_body(preferencelist=("plain",))
        assert isinstance(body, EmailMessage)
        return body.get_content()

    def html(self) -> str:
        body = self.message.get_body(preferencelist=("html",))
        assert isinstance(body, EmailMessage)
        return body.get_content()


@dataclass
class Handler:
    refuse: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)
    replies: dict[str, str] = field(default_factory=dict)
    per_session: int | None = None
    reply_all: str | None = None
    die_after: int | None = None
    hang_after: int | None = None
    delay: float = 0.0
    on_message: Callable[[int], None] | None = None
    offered: int = 0  # messages whose data arrived, answered or not
    _per_session: Counter[int] = field(default_factory=Counter)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        assert isinstance(message, EmailMessage)
        self.offered += 1
        if self.on_message is not None:
            self.on_message(self.offered)
        if self.delay:
            await asyncio.sleep(self.delay)
        fault = await self._fault(server, session, str(message["Subject"]))
        if fault is not None:
            return fault
        self._per_session[id(session)] += 1
        auth = session.auth_data
        login = auth.login.decode() if isinstance(auth, LoginPassword) else None
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), message, str(session.peer), login)
        )
        return "250 Message accepted for delivery"

    async def _fault(self, server: Any, session: Any, subject: str) -> str | None:
        accepted = len(self.received)
        if self.hang_after is not None and accepted >= self.hang_after:
            await asyncio.sleep(3600)
        if self.die_after is not None and accepted >= self.die_after:
            server.transport.abort()
            return "421 gone"  # never read: the connection is already closed
        if self.reply_all is not None:
            return self.reply_all
        for needle, reply in self.replies.items():
            if needle in subject:
                return reply
        if self.per_session is not None and self._per_session[id(session)] >= self.per_session:
            return "451 4.7.1 too many messages in this session, reconnect"
        return None

    def copies(self) -> Counter[str]:
        """How many times each Message-ID arrived."""
        return Counter(str(m.message["Message-ID"]) for m in self.received)


@dataclass
class SmtpServer:
    port: int = field(default_factory=free_port)
    users: dict[str, str] | None = None
    certificate: tuple[Path, Path] | None = None
    implicit_tls: bool = False
    handler: Handler = field(default_factory=Handler)
    controller: Controller | None = None

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    @property
    def sessions(self) -> set[str]:
        return {message.session for message in self.received}

    def start(self) -> SmtpServer:
        self.controller = Controller(self.handler, **self._options())
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def _options(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "hostname": HOST,
            "port": self.port,
            "server_hostname": "smtp.newswatch.test",
            "ready_timeout": 5.0,
        }
        if self.users is not None:
            options.update(authenticator=self._authenticate, auth_require_tls=False)
        if self.certificate is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*self.certificate)
            key = "ssl_context" if self.implicit_tls else "tls_context"
            options[key] = context
            options["require_starttls"] = not self.implicit_tls
        return options

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        users = self.users or {}
        if isinstance(auth_data, LoginPassword):
            login, password = auth_data.login.decode(), auth_data.password.decode()
            if users.get(login) == password:
                return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)
