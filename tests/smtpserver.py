"""A real SMTP server on 127.0.0.1 for the email tests (aiosmtpd), with a throwaway CA
(trustme) for STARTTLS and implicit TLS, a login check, and a list of refused
recipients. What it receives is kept as parsed messages."""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

USERNAME = "digest-sender"
PASSWORD = "s3cret-Pa55word-9f2c"


@dataclass
class Received:
    sender: str
    recipients: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Handler:
    refuse: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.received.append(Received(envelope.mail_from or "", list(envelope.rcpt_tos), content))
        return "250 2.0.0 Ok: queued"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        self.logins.append(data.login.decode())
        ok = data.login.decode() == USERNAME and data.password.decode() == PASSWORD
        # handled=False: aiosmtpd answers a failure with its 535 reply.
        return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Tls:
    """A CA made for one test, and a certificate for 127.0.0.1 signed by it."""

    ca: trustme.CA = field(default_factory=trustme.CA)

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        return context

    def client_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: Handler

    @property
    def received(self) -> list[Received]:
        return self.handler.received


@contextmanager
def smtp_server(
    *,
    security: str = "none",
    tls: Tls | None = None,
    auth: bool = False,
    refuse: set[str] | None = None,
    port: int | None = None,
) -> Iterator[SmtpServer]:
    """Serve SMTP on 127.0.0.1 until the block ends. ``security``: "none", "starttls"
    (offered, and required before anything else) or "tls" (implicit TLS)."""
    handler = Handler(refuse=refuse or set())
    options: dict[str, Any] = {}
    if security == "starttls":
        assert tls is not None
        options.update(tls_context=tls.server_context(), require_starttls=True)
    if auth:
        options.update(
            authenticator=handler.authenticate,
            auth_required=True,
            # Without TLS (security "none") the login goes in the clear, as it would.
            auth_require_tls=security != "none",
        )
    if security == "tls":
        assert tls is not None
        options["ssl_context"] = tls.server_context()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port or free_port(),
        server_hostname="localhost",
        **options,
    )
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", controller.port, handler)
    finally:
        controller.stop()
