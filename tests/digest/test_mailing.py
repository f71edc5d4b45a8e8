"""When a day's email is due and what the catch-up does about it: pure rules, every
input given, no database and no clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from digest.mailing import (
    CATCH_UP_AFTER,
    Skip,
    catch_up,
    deliveries_kept_from,
    due_at,
    due_day,
    in_hand,
)
from storage import Delivery

SEVEN = time(7, 0)
BERLIN = ZoneInfo("Europe/Berlin")
DAY = date(2026, 12, 5)


def row(day: date, state: str, *, retry_at: datetime | None = None) -> Delivery:
    return Delivery(
        day=day,
        recipients="a" * 64,
        state=state,  # type: ignore[arg-type]
        attempts=1,
        claimed_at=datetime(2026, 12, 6, 7, 0, tzinfo=UTC),
        claimed_by="host:1",
        next_attempt_at=retry_at,
    )


@pytest.mark.parametrize(
    ("now", "after", "expected"),
    [
        # Before 07:00 the newest final day is the day before yesterday.
        (datetime(2026, 12, 6, 6, 59, tzinfo=UTC), timedelta(), date(2026, 12, 4)),
        (datetime(2026, 12, 6, 7, 0, tzinfo=UTC), timedelta(), date(2026, 12, 5)),
        (datetime(2026, 12, 6, 23, 59, tzinfo=UTC), timedelta(), date(2026, 12, 5)),
        (datetime(2026, 12, 7, 0, 0, tzinfo=UTC), timedelta(), date(2026, 12, 5)),
        # The catch-up leaves the scheduled job its first minutes.
        (datetime(2026, 12, 6, 7, 4, tzinfo=UTC), CATCH_UP_AFTER, date(2026, 12, 4)),
        (datetime(2026, 12, 6, 7, 5, tzinfo=UTC), CATCH_UP_AFTER, date(2026, 12, 5)),
    ],
)
def test_the_due_day_is_yesterday_from_digest_time_on(
    now: datetime, after: timedelta, expected: date
) -> None:
    assert due_day(now, SEVEN, UTC, after=after) == expected


def test_the_due_day_is_counted_in_the_digest_time_zone() -> None:
    # 06:30 UTC is 07:30 in Berlin (winter time): yesterday is due there, not in UTC.
    now = datetime(2026, 12, 6, 6, 30, tzinfo=UTC)
    assert due_day(now, SEVEN, BERLIN) == date(2026, 12, 5)
    assert due_day(now, SEVEN, UTC) == date(2026, 12, 4)
    # 23:30 UTC on the 6th is already the 7th in Berlin.
    late = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)
    assert due_day(late, SEVEN, BERLIN) == date(2026, 12, 5)
    assert due_at(DAY, SEVEN, BERLIN) == datetime(2026, 12, 6, 6, 0, tzinfo=UTC)


def test_the_due_day_across_a_change_to_summer_time() -> None:
    # Berlin moves from 02:00 to 03:00 on 29 March 2026: 07:00 is 05:00 UTC that day.
    assert due_day(datetime(2026, 3, 29, 4, 59, tzinfo=UTC), SEVEN, BERLIN) == date(2026, 3, 27)
    assert due_day(datetime(2026, 3, 29, 5, 0, tzinfo=UTC), SEVEN, BERLIN) == date(2026, 3, 28)


@pytest.mark.parametrize(
    ("own", "expected"),
    [
        (None, False),
        (row(DAY, "sent"), True),
        (row(DAY, "sending"), True),
        (row(DAY, "failed", retry_at=datetime(2026, 12, 6, 8, 0, tzinfo=UTC)), True),
        # A failure recorded with no retry time (an older release's digest --send).
        (row(DAY, "failed"), False),
    ],
)
def test_which_rows_settle_a_day(own: Delivery | None, expected: bool) -> None:
    assert in_hand(own) is expected


LAST = date(2026, 12, 1)
WRITTEN = {date(2026, 12, 2), date(2026, 12, 3), DAY}


@pytest.mark.parametrize(
    ("own", "last_own", "digests", "other", "skip", "missed"),
    [
        # Asleep at digest.time: the day is sent; the days between are missed.
        (None, LAST, WRITTEN, False, None, (date(2026, 12, 2), date(2026, 12, 3))),
        # The day before was sent: nothing in between is missed.
        (None, date(2026, 12, 4), WRITTEN, False, None, ()),
        # A list with no earlier row starts now: nothing before it is missed.
        (None, None, WRITTEN, False, None, ()),
        # Sent, being sent, or failed and waiting for its retry: not the catch-up's.
        (row(DAY, "sent"), LAST, WRITTEN, False, Skip.IN_HAND, ()),
        (row(DAY, "sending"), LAST, WRITTEN, False, Skip.IN_HAND, ()),
        (
            row(DAY, "failed", retry_at=datetime(2026, 12, 6, 9, 0, tzinfo=UTC)),
            LAST,
            WRITTEN,
            False,
            Skip.IN_HAND,
            (),
        ),
        # A failure nobody will retry is sent.
        (row(DAY, "failed"), LAST, WRITTEN, True, None, (date(2026, 12, 2), date(2026, 12, 3))),
        # Asleep all day: no digest was written, nothing to send; older days still missed.
        (
            None,
            LAST,
            WRITTEN - {DAY},
            False,
            Skip.NO_DIGEST,
            (date(2026, 12, 2), date(2026, 12, 3)),
        ),
        # The list changed after the day went out to the previous one.
        (None, None, WRITTEN, True, Skip.SENT_TO_PREVIOUS_LIST, ()),
    ],
)
def test_what_the_catch_up_does_about_the_due_day(
    own: Delivery | None,
    last_own: date | None,
    digests: set[date],
    other: bool,
    skip: Skip | None,
    missed: tuple[date, ...],
) -> None:
    decision = catch_up(
        DAY, own=own, last_own=last_own, digest_days=digests, sent_to_other_list=other
    )
    assert (decision.day, decision.skip, decision.missed) == (DAY, skip, missed)
    assert decision.send is (skip is None)


def test_a_day_after_the_due_day_is_never_missed() -> None:
    # A day sent early by hand (digest --send for today) is newer than the due day.
    decision = catch_up(
        DAY,
        own=None,
        last_own=date(2026, 11, 30),
        digest_days={date(2026, 12, 1), DAY, date(2026, 12, 6)},
        sent_to_other_list=False,
    )
    assert decision.missed == (date(2026, 12, 1),)


@pytest.mark.parametrize(
    ("now", "days", "expected"),
    [
        # The cut-off's own day is kept whole.
        (datetime(2026, 12, 6, 10, 0, tzinfo=UTC), 90, date(2026, 9, 7)),
        (datetime(2026, 12, 6, 10, 0, tzinfo=UTC), 1, date(2026, 12, 5)),
        # At 06:00 the due day is the 4th: its row stays even with one day of retention.
        (datetime(2026, 12, 6, 6, 0, tzinfo=UTC), 1, date(2026, 12, 4)),
    ],
)
def test_delivery_rows_are_kept_from_the_retention_cut_off_or_the_due_day(
    now: datetime, days: int, expected: date
) -> None:
    assert deliveries_kept_from(now, timedelta(days=days), SEVEN, UTC) == expected


def test_delivery_rows_are_kept_by_the_local_day_of_the_cut_off() -> None:
    # 23:30 UTC on 5 Sep is 6 Sep in Berlin: the 6th is the cut-off's day there.
    now = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)
    assert deliveries_kept_from(now, timedelta(days=90), SEVEN, BERLIN) == date(2026, 9, 6)
    assert deliveries_kept_from(now, timedelta(days=90), SEVEN, UTC) == date(2026, 9, 5)
