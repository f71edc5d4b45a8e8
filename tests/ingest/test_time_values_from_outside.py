"""Every time value from outside is clamped where it enters (issue 16): dates to
1970-2200 or dropped, server hints to MAX_HINT, intervals to MAX_INTERVAL; the schedule
cannot overflow whatever it is given."""

from __future__ import annotations

import math
import random
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from structlog.testing import capture_logs

from ingest.dates import EARLIEST, LATEST, DateOutOfRange, parse_date, read_date, to_utc
from ingest.fetch import cache_lifetime, parse_retry_after
from ingest.schedule import (
    JITTER,
    MAX_BACKOFF,
    MAX_HINT,
    MAX_INTERVAL,
    as_interval,
    hint_seconds,
    next_check,
)

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
HUGE = "9" * 30
DAY = MAX_HINT.total_seconds()


@pytest.mark.parametrize(
    "value",
    [
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "9999-12-31T23:59:59Z",
        "2201-01-01T00:00:00Z",
        "1969-12-31T23:59:59Z",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-05:00",
    ],
)
def test_a_date_out_of_range_is_dropped_with_a_warning(value: str) -> None:
    with capture_logs() as logs:
        assert parse_date(value) is None
    assert [log["event"] for log in logs] == ["date.dropped_out_of_range"]
    assert logs[0]["log_level"] == "warning"
    with pytest.raises(DateOutOfRange):
        read_date(value)


@pytest.mark.parametrize(
    ("value", "late"),
    [
        ("Fri, 31 Dec 9999 23:59:59 GMT", True),
        ("Fri, 31 Dec 99999 23:59:59 GMT", True),  # past anything datetime holds
        ("9999-12-31T23:59:59-05:00", True),  # overflows on the way to UTC
        ("2201-01-01T00:00:00Z", True),
        ("1969-12-31T23:59:59Z", False),
        ("0001-01-01T00:00:00+01:00", False),
    ],
)
def test_a_date_out_of_range_says_which_end_it_left_by(value: str, late: bool) -> None:
    with pytest.raises(DateOutOfRange) as raised:
        read_date(value)
    assert raised.value.late is late


def test_the_edges_of_the_range_are_kept() -> None:
    assert parse_date("1970-01-01T00:00:00Z") == EARLIEST
    assert parse_date("2200-12-31T23:59:59Z") == LATEST
    assert to_utc(time.struct_time((9999, 12, 31, 0, 0, 0, 4, 365, 0))) is None
    assert to_utc(datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=14)))) is not None


@pytest.mark.parametrize("hint", [None, 0, -5, math.nan])
def test_no_hint(hint: float | None) -> None:
    assert hint_seconds(hint) is None


@pytest.mark.parametrize("hint", [1e20, math.inf, float(HUGE), DAY * 2])
def test_a_long_hint_is_a_day(hint: float) -> None:
    assert hint_seconds(hint) == DAY


def test_headers_carrying_absurd_values_give_hints_of_a_day_at_most() -> None:
    assert cache_lifetime({"cache-control": f"max-age={HUGE}"}, NOW) == DAY
    assert cache_lifetime({"cache-control": f"max-age={'9' * 5000}"}, NOW) == DAY
    assert cache_lifetime({"cache-control": "max-age=²"}, NOW) is None
    assert cache_lifetime({"expires": "Fri, 31 Dec 2199 23:59:59 GMT"}, NOW) == DAY
    assert cache_lifetime({"expires": "Fri, 31 Dec 9999 23:59:59 GMT"}, NOW) == DAY
    assert parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", NOW) == DAY
    assert parse_retry_after(HUGE, NOW) == DAY
    assert parse_retry_after("Fri, 31 Dec 2199 23:59:59 GMT", NOW) == DAY
    assert parse_retry_after("0", NOW) == 0.0


def test_an_interval_is_cut_to_the_cap() -> None:
    assert as_interval(99999999999 * 86400) == MAX_INTERVAL
    assert as_interval(1800) == timedelta(minutes=30)


@pytest.mark.parametrize("errors", [1, 31, 32, 33, 10**9])
@pytest.mark.parametrize("interval", [timedelta(hours=6), MAX_INTERVAL])
@pytest.mark.parametrize("hint", [None, 1e30, math.inf, math.nan])
def test_the_schedule_never_overflows(errors: int, interval: timedelta, hint: float | None) -> None:
    rng = random.Random(errors)
    at = next_check(
        NOW,
        rng=rng,
        interval=interval,
        max_interval=interval,
        consecutive_errors=errors,
        retry_after=hint,
        cache_lifetime=hint,
        ttl=hint,
    )
    assert NOW < at <= NOW + max(MAX_BACKOFF, MAX_HINT) * (1 + JITTER)
