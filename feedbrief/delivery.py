"""Mailing a day's digest: claim the day, compose the message, send it, record how it went.

Once per day and recipient list. The day is claimed in the database before anything is
sent (``storage/deliveries.py``), so a second ``digest --send``, a restarted service or
another worker on the same PostgreSQL database finds it sent, or being sent, and leaves
it. What happens when a sender dies with the claim in hand:

- A failure the sender sees (the server is down, refuses the login or a recipient) is
  recorded: the day stays unsent, and the service tries again after ``retry_delay``,
  whether the attempt was its own or a ``digest --send`` run by hand.
- A sender killed mid-send leaves its claim in state ``sending``. After ``STALE_CLAIM``,
  far longer than a send can take, the day is due again and the next attempt sends it.
  An SMTP server takes responsibility for a message only with its reply to the end of
  the message, and the claim is marked sent right after; a duplicate therefore needs
  the process to die, or the database to fail, in the moment between the two. That is
  the one case in which a reader gets a day twice; a day is never silently lost.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    import ssl

    from digest.model import Digest
    from digest.smtp import SmtpServer
    from feedbrief.settings import EmailSettings
    from storage import Delivery, Storage

# The metrics and the service import this module for DeliveryOutcome even when no mail
# is sent: composing and sending (``digest.email``, ``digest.smtp``) are imported by the
# methods that do them.

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]

# A claim older than this was abandoned by a sender that died: a send is at most a
# connection, a TLS handshake and a few replies, each within digest.smtp's 30 s timeout.
STALE_CLAIM = timedelta(minutes=10)
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)


def retry_delay(failures: int) -> timedelta:
    """How long to wait after the *failures*-th failed attempt: 1 min, doubling, at most
    1 h; a mail server that is down for a day is asked 24-odd times, not 1,440."""
    if failures < 1:
        raise ValueError("retry_delay counts failures from 1")
    # Capped before doubling, so that a day failing for weeks cannot overflow.
    doublings = min(failures - 1, 12)
    return min(FIRST_RETRY * 2**doublings, LONGEST_RETRY)


class DeliveryOutcome(StrEnum):
    """What one attempt to mail a day came to; the words of the CLI, logs and metrics."""

    SENT = "sent"
    ALREADY_SENT = "already_sent"
    IN_PROGRESS = "in_progress"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    outcome: DeliveryOutcome
    day: date
    delivery: Delivery
    error: str | None = None
    # Recipients the server refused while it took the message for the others.
    refused: Mapping[str, str] = field(default_factory=dict)


class Mailer:
    """Mails the digests of ``settings.to``; *load* gives a day's digest as published."""

    def __init__(
        self,
        settings: EmailSettings,
        storage: Storage,
        *,
        unsubscribe_url: str,
        load: Callable[[date], Digest],
        clock: Clock,
        environ: Mapping[str, str] | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.unsubscribe_url = unsubscribe_url
        self.load = load
        self.clock = clock
        self.environ = os.environ if environ is None else environ
        self.tls_context = tls_context
        from digest.email import recipients_key

        self.recipients = recipients_key(settings.to)

    @property
    def server(self) -> SmtpServer:
        """The server to send through, its password read now from ``password_env``."""
        from digest.smtp import SendError, SmtpServer

        settings = self.settings
        password = ""
        if settings.username:
            password = self.environ.get(settings.password_env, "")
            if not password:
                raise SendError(
                    f"email.username is set but the environment variable "
                    f"{settings.password_env} (email.password_env) is empty"
                )
        return SmtpServer(
            host=settings.host,
            port=settings.smtp_port,
            security=settings.security,
            username=settings.username,
            password=password,
        )

    def deliver(self, day: date, *, worker: str, resend: bool = False) -> DeliveryResult:
        """Mail *day*'s digest unless it was sent (or *resend*) or is being sent. A
        failure is tried again by ``retry_due`` after ``retry_delay``, a command's as the
        service's: the readers are owed the day whoever tried first."""
        from digest.email import compose_message
        from digest.smtp import SendError, send

        now = self.clock()
        claim = self.storage.claim_delivery(
            day,
            self.recipients,
            worker=worker,
            now=now,
            stale_before=now - STALE_CLAIM,
            resend=resend,
        )
        if not claim.claimed:
            outcome = (
                DeliveryOutcome.ALREADY_SENT
                if claim.delivery.state == "sent"
                else DeliveryOutcome.IN_PROGRESS
            )
            return DeliveryResult(outcome, day, claim.delivery)
        attempt = claim.delivery.attempts
        try:
            message = compose_message(
                self.load(day),
                sender=self.settings.sender or "",
                recipients=self.settings.to,
                unsubscribe_url=self.unsubscribe_url,
                sent_at=now,
            )
            sent = send(self.server, message, self.settings.to, tls_context=self.tls_context)
        except (SendError, OSError, ValueError) as exc:
            # OSError, ValueError: the day's digest could not be read back from disk.
            return self._failed(claim.delivery, str(exc))
        if not self.storage.record_sent(
            day,
            self.recipients,
            attempt=attempt,
            now=self.clock(),
            message_id=message["Message-ID"],
            refused=sent.refused,
        ):
            # Only a send that outlasted STALE_CLAIM gets here: another worker took the
            # day over, and may send it again.
            log.warning("email.claim_lost", day=day.isoformat(), attempt=attempt)
        if sent.refused:
            log.warning("email.recipients_refused", day=day.isoformat(), refused=sent.refused)
        delivery = self.storage.delivery(day, self.recipients) or claim.delivery
        return DeliveryResult(DeliveryOutcome.SENT, day, delivery, refused=sent.refused)

    def retry_due(self, *, worker: str) -> list[DeliveryResult]:
        """Send again every day whose retry time has come or whose sender died."""
        now = self.clock()
        days = self.storage.deliveries_due(self.recipients, now=now, stale_before=now - STALE_CLAIM)
        return [self.deliver(day, worker=worker) for day in days]

    @property
    def server_address(self) -> str:
        return f"{self.settings.host}:{self.settings.smtp_port}"

    def _failed(self, claimed: Delivery, error: str) -> DeliveryResult:
        day, attempt = claimed.day, claimed.attempts
        retry_at = self.clock() + retry_delay(attempt)
        self.storage.record_failed(
            day, self.recipients, attempt=attempt, error=error, retry_at=retry_at
        )
        # The row is gone only if pruning took a day older than the retention period
        # while it was being sent; the attempt failed all the same.
        delivery = self.storage.delivery(day, self.recipients) or replace(
            claimed, state="failed", last_error=error, next_attempt_at=retry_at
        )
        return DeliveryResult(DeliveryOutcome.FAILED, day, delivery, error=error)
