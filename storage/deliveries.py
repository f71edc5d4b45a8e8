"""Email deliveries: one row per day and recipient list, claimed before the message is
sent, so that a day goes out once however many workers and restarts there are.

A claim is a row in state ``sending``. The first claim inserts the row: the primary key
(day, recipients) lets one worker win on any backend; the others see its row. Any later
claim (a retry after a failure, a resend, the takeover of a claim whose worker died) is a
compare-and-set on ``attempts``, which every claim increments: of two workers that read
the same row, one updates it and the other finds it changed. Whoever holds the claim
records ``sent`` or ``failed`` afterwards, and only while the claim is still its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import date, datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage.models import EmailDelivery
from storage.records import Claim, Delivery, DeliveryState


def claimable(delivery: Delivery, *, stale_before: datetime, resend: bool) -> bool:
    """A failed day can be retried; a sent one only on purpose; one being sent only once
    its claim is older than *stale_before* (its worker died mid-send)."""
    if delivery.state == "failed":
        return True
    if delivery.state == "sent":
        return resend
    return delivery.claimed_at < stale_before


class DeliveriesMixin:
    """The email deliveries part of ``Storage``."""

    # Set up by Storage.__init__.
    _reader: sessionmaker[Session]
    _write: Callable[[], AbstractContextManager[Session]]

    def claim_delivery(
        self,
        day: date,
        recipients: str,
        *,
        worker: str,
        now: datetime,
        stale_before: datetime,
        resend: bool = False,
    ) -> Claim:
        """Claim the sending of *day* to the list *recipients* for *worker*; see the
        module's docstring. The caller that gets ``claimed`` must send, then call
        ``record_sent`` or ``record_failed`` with the claim's ``attempts``."""
        key = (day, recipients)
        with self._write() as session:
            row = session.get(EmailDelivery, key)
            if row is None:
                try:
                    with session.begin_nested():
                        row = EmailDelivery(
                            day=day,
                            recipients=recipients,
                            state="sending",
                            attempts=1,
                            claimed_at=now,
                            claimed_by=worker,
                        )
                        session.add(row)
                    return Claim(True, _record(row))
                except IntegrityError:
                    row = session.get_one(EmailDelivery, key, populate_existing=True)
            seen = _record(row)
            if not claimable(seen, stale_before=stale_before, resend=resend):
                return Claim(False, seen)
            changed = session.execute(
                update(EmailDelivery)
                .where(
                    EmailDelivery.day == day,
                    EmailDelivery.recipients == recipients,
                    EmailDelivery.attempts == seen.attempts,
                )
                .values(
                    state="sending",
                    attempts=seen.attempts + 1,
                    claimed_at=now,
                    claimed_by=worker,
                    next_attempt_at=None,
                )
                .execution_options(synchronize_session=False)
            )
            row = session.get_one(EmailDelivery, key, populate_existing=True)
            return Claim(changed.rowcount == 1, _record(row))

    def record_sent(
        self,
        day: date,
        recipients: str,
        *,
        attempt: int,
        now: datetime,
        message_id: str,
        refused: Mapping[str, str] | None = None,
    ) -> bool:
        """Mark the claim *attempt* sent, the server having refused *refused* (address:
        reply) and taken the message for the rest; False if another worker has taken
        the claim over."""
        return self._settle(
            day,
            recipients,
            attempt,
            "sent",
            sent_at=now,
            message_id=message_id,
            last_error=None,
            refused=dict(refused) if refused else None,
        )

    def record_failed(
        self,
        day: date,
        recipients: str,
        *,
        attempt: int,
        error: str,
        retry_at: datetime | None,
    ) -> bool:
        """Mark the claim *attempt* failed, to be tried again from *retry_at* (None: only
        when someone asks)."""
        return self._settle(
            day, recipients, attempt, "failed", last_error=error, next_attempt_at=retry_at
        )

    def _settle(
        self, day: date, recipients: str, attempt: int, state: DeliveryState, **values: object
    ) -> bool:
        with self._write() as session:
            changed = session.execute(
                update(EmailDelivery)
                .where(
                    EmailDelivery.day == day,
                    EmailDelivery.recipients == recipients,
                    EmailDelivery.attempts == attempt,
                    EmailDelivery.state == "sending",
                )
                .values(state=state, **values)
                .execution_options(synchronize_session=False)
            )
            return changed.rowcount == 1

    def delivery(self, day: date, recipients: str) -> Delivery | None:
        with self._reader() as session:
            row = session.get(EmailDelivery, (day, recipients))
            return None if row is None else _record(row)

    def deliveries(self, recipients: str, *, limit: int = 7) -> list[Delivery]:
        """The list's most recent days, newest first."""
        with self._reader() as session:
            rows = session.scalars(
                select(EmailDelivery)
                .where(EmailDelivery.recipients == recipients)
                .order_by(EmailDelivery.day.desc())
                .limit(limit)
            )
            return [_record(row) for row in rows]

    def deliveries_due(
        self, recipients: str, *, now: datetime, stale_before: datetime
    ) -> list[date]:
        """Days to send to the list again: failed and due, or abandoned mid-send."""
        with self._reader() as session:
            return list(
                session.scalars(
                    select(EmailDelivery.day)
                    .where(
                        EmailDelivery.recipients == recipients,
                        or_(
                            (EmailDelivery.state == "failed")
                            & (EmailDelivery.next_attempt_at <= now),
                            (EmailDelivery.state == "sending")
                            & (EmailDelivery.claimed_at < stale_before),
                        ),
                    )
                    .order_by(EmailDelivery.day)
                )
            )

    def last_delivery_before(self, recipients: str, day: date) -> date | None:
        """The newest day before *day* that the list has a row for."""
        with self._reader() as session:
            return session.scalar(
                select(func.max(EmailDelivery.day)).where(
                    EmailDelivery.recipients == recipients, EmailDelivery.day < day
                )
            )

    def sent_to_other_list(self, day: date, recipients: str) -> bool:
        """Whether *day* was sent to a recipient list other than *recipients*."""
        with self._reader() as session:
            found = session.scalar(
                select(EmailDelivery.day)
                .where(
                    EmailDelivery.day == day,
                    EmailDelivery.recipients != recipients,
                    EmailDelivery.state == "sent",
                )
                .limit(1)
            )
            return found is not None

    def prune_deliveries(self, before: date) -> int:
        """Delete the rows of days before *before*, every list's; how many went."""
        with self._write() as session:
            deleted = session.execute(
                delete(EmailDelivery)
                .where(EmailDelivery.day < before)
                .execution_options(synchronize_session=False)
            )
            return deleted.rowcount


def _record(row: EmailDelivery) -> Delivery:
    return Delivery(
        day=row.day,
        recipients=row.recipients,
        state=row.state,  # type: ignore[arg-type]
        attempts=row.attempts,
        claimed_at=row.claimed_at,
        claimed_by=row.claimed_by,
        sent_at=row.sent_at,
        message_id=row.message_id,
        last_error=row.last_error,
        next_attempt_at=row.next_attempt_at,
        refused=row.refused or {},
    )
