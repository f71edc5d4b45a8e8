"""When a day's email is due, and what a service that was away does about it (pure:
every input is passed in, the time included).

A day's digest is final, and its email due, at ``digest.time`` on the next day. The
service's daily job mails it then; a service that was not running at that moment (a
laptop asleep, a restart, a crash) notices on its next pass and catches up, at most one
day back: the most recent day whose email is due. Older days it finds unsent are
reported once and left to ``feedbrief digest --send --date``: after a holiday a reader
wants today's news, not a week of old digests at once.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from storage import Delivery

# The scheduled job fires at digest.time itself; the catch-up leaves it these minutes,
# so that the two do not both start the same day and only a late day is "caught up".
CATCH_UP_AFTER = timedelta(minutes=5)


def due_at(day: date, send_at: time, tz: tzinfo) -> datetime:
    """When *day*'s email is due: *send_at* on the next day, local time."""
    return datetime.combine(day + timedelta(days=1), send_at, tzinfo=tz)


def due_day(now: datetime, send_at: time, tz: tzinfo, *, after: timedelta = timedelta()) -> date:
    """The most recent day whose email was due at least *after* before *now*: yesterday
    from ``send_at`` (plus *after*) on, the day before yesterday until then."""
    today = now.astimezone(tz).date()
    yesterday = today - timedelta(days=1)
    if now >= due_at(yesterday, send_at, tz) + after:
        return yesterday
    return yesterday - timedelta(days=1)


class Skip(StrEnum):
    """Why the catch-up leaves the due day alone; the ``reason`` of its log line."""

    IN_HAND = "in_hand"  # the list has the day's row: sent, being sent, or retried
    NO_DIGEST = "no_digest"  # nothing was collected that day: no digest was written
    SENT_TO_PREVIOUS_LIST = "sent_to_previous_list"  # its readers had it before a change


def in_hand(own: Delivery | None) -> bool:
    """Whether the list's row for a day already settles it: sent, being sent (a dead
    sender's claim is taken over by the retry pass), or failed with a retry time. A
    failure recorded without one (by an older release's ``digest --send``) is not."""
    if own is None:
        return False
    return not (own.state == "failed" and own.next_attempt_at is None)


@dataclass(frozen=True, slots=True)
class CatchUp:
    """The catch-up's decision for the due ``day``: send it, or ``skip`` it and why; and
    the older days the list never got (``missed``), to report."""

    day: date
    skip: Skip | None
    missed: tuple[date, ...] = ()

    @property
    def send(self) -> bool:
        return self.skip is None


def catch_up(
    day: date,
    *,
    own: Delivery | None,
    last_own: date | None,
    digest_days: Collection[date],
    sent_to_other_list: bool,
) -> CatchUp:
    """What to do about *day*, the most recent day whose email is due (``due_day``).

    *own* is the list's row for *day*; *last_own* the newest earlier day the list has a
    row for; *digest_days* the days after *last_own* up to *day* with a digest written;
    *sent_to_other_list* whether another recipient list has *day* sent.

    The day is sent unless the list's row settles it, no digest was written for it (the
    service collected nothing that day), or another list got it (the list changed after
    the day went out: its readers had it; a new reader's first day is the next one). The
    days between *last_own* and *day* with a digest are missed; a list with no earlier
    row misses none (it starts now).
    """
    missed = tuple(sorted(d for d in digest_days if last_own is not None and last_own < d < day))
    if in_hand(own):
        return CatchUp(day, Skip.IN_HAND)
    if day not in digest_days:
        return CatchUp(day, Skip.NO_DIGEST, missed)
    if own is None and sent_to_other_list:
        return CatchUp(day, Skip.SENT_TO_PREVIOUS_LIST, missed)
    return CatchUp(day, None, missed)


def deliveries_kept_from(now: datetime, retention: timedelta, send_at: time, tz: tzinfo) -> date:
    """The first day whose delivery rows pruning keeps: the local day of the retention
    cut-off (the day whose items are partly kept is kept whole), and never later than the
    day whose email is due, whose row stops the catch-up from sending it again."""
    cut_off = (now - retention).astimezone(tz).date()
    return min(cut_off, due_day(now, send_at, tz))
