"""Sending one message over SMTP (the standard library's ``smtplib``), with failures as
one line an operator can act on.

Every failure becomes a ``SendError`` whose message names the server as ``host:port``
and quotes its reply (or the network's error). The password is never part of a message:
it goes to the server in the AUTH exchange only, and is masked should a server's reply
echo it back.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Literal

Security = Literal["none", "starttls", "tls"]
# Long enough for a slow server's greeting and DATA reply, short enough that a dead one
# does not hold the service's digest job for minutes.
TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class SmtpServer:
    host: str
    port: int
    security: Security = "none"
    username: str = ""
    password: str = field(default="", repr=False)
    timeout: float = TIMEOUT_SECONDS

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


class SendError(Exception):
    """The message was not sent; the text is one line naming the server and its reply."""


@dataclass(frozen=True, slots=True)
class Sent:
    """The server took the message; it refused these recipients (the rest got it)."""

    refused: dict[str, str]


def send(
    server: SmtpServer,
    message: EmailMessage,
    recipients: Sequence[str],
    *,
    tls_context: ssl.SSLContext | None = None,
) -> Sent:
    """Deliver *message* to *recipients* through *server*. ``tls_context`` defaults to
    the system's trusted certificates with host name checking (``starttls`` and
    ``tls``). Raises ``SendError`` when no recipient got the message."""
    try:
        refused = _send(server, message, recipients, tls_context or ssl.create_default_context())
    except OSError as exc:  # smtplib's and ssl's errors are OSErrors too
        raise SendError(_masked(failure(exc, server), server)) from None
    return Sent({address: _reply_text(*reply) for address, reply in refused.items()})


def failure(exc: OSError, server: SmtpServer) -> str:
    """What went wrong, in one line naming the server and its reply (the password, if
    the server echoes it, is masked by the caller)."""
    address = server.address
    match exc:
        case smtplib.SMTPRecipientsRefused():
            return f"{address} refused every recipient: {_refusals(exc.recipients)}"
        case smtplib.SMTPAuthenticationError():
            return f"{address} refused the login of {server.username!r}: {_reply(exc)}"
        case smtplib.SMTPSenderRefused():
            return f"{address} refused the sender {exc.sender}: {_reply(exc)}"
        case smtplib.SMTPResponseException():
            return f"{address} answered {_reply(exc)}"
        case smtplib.SMTPServerDisconnected():
            return f"{address} closed the connection: {exc or 'no reason given'}"
        case smtplib.SMTPException():
            return f"{address}: {exc}"
        case ssl.SSLCertVerificationError():
            return f"TLS with {address} failed: {exc.reason}: {exc.verify_message}"
        case ssl.SSLError():
            return f"TLS with {address} failed: {exc.reason or exc}"
    # Refused, unreachable, timed out, or a name that does not resolve.
    return f"cannot reach {address}: {exc.strerror or str(exc) or type(exc).__name__}"


def _send(
    server: SmtpServer,
    message: EmailMessage,
    recipients: Sequence[str],
    context: ssl.SSLContext,
) -> dict[str, tuple[int, bytes]]:
    client: smtplib.SMTP
    if server.security == "tls":
        client = smtplib.SMTP_SSL(server.host, server.port, timeout=server.timeout, context=context)
    else:
        client = smtplib.SMTP(server.host, server.port, timeout=server.timeout)
    with client:
        client.ehlo_or_helo_if_needed()
        if server.security == "starttls":
            if not client.has_extn("starttls"):
                raise smtplib.SMTPNotSupportedError("the server does not offer STARTTLS")
            client.starttls(context=context)
            client.ehlo()
        if server.username:
            client.login(server.username, server.password)
        return client.send_message(message, to_addrs=list(recipients))


def _reply(exc: smtplib.SMTPResponseException) -> str:
    return _reply_text(exc.smtp_code, exc.smtp_error)


def _reply_text(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(text.split())}".strip()


def _refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{address}: {_reply_text(*reply)}" for address, reply in refused.items())


def _masked(line: str, server: SmtpServer) -> str:
    line = " ".join(line.split())
    if server.password:
        line = line.replace(server.password, "****")
    return line
