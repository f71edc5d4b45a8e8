"""ingest.dates: every date the pipeline reads ends up aware and in UTC."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from ingest.dates import as_utc, parse_date, to_utc


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-03T16:45:00+01:00", datetime(2026, 1, 3, 15, 45, tzinfo=UTC)),
        ("2026-01-03T16:45:00Z", datetime(2026, 1, 3, 16, 45, tzinfo=UTC)),
        ("2026-01-03T16:45:00.123456-05:00", datetime(2026, 1, 3, 21, 45, 0, 123456, tzinfo=UTC)),
        ("2026-01-03", datetime(2026, 1, 3, tzinfo=UTC)),
        ("2026-01-03Z", datetime(2026, 1, 3, tzinfo=UTC)),
        (" 2026-01-03T16:45:00 ", datetime(2026, 1, 3, 16, 45, tzinfo=UTC)),
        ("Sat, 03 Jan 2026 16:45:00 +0100", datetime(2026, 1, 3, 15, 45, tzinfo=UTC)),
        ("Sat, 03 Jan 2026 16:45:00 GMT", datetime(2026, 1, 3, 16, 45, tzinfo=UTC)),
        ("Sat, 03 Jan 2026 16:45:00 -0000", datetime(2026, 1, 3, 16, 45, tzinfo=UTC)),
        ("0001-01-01T00:00:00+01:00", None),  # before year 1 in UTC
        ("yesterday", None),
        ("0", None),  # an Expires header meaning "already expired"
        ("", None),
        (None, None),
    ],
)
def test_parse_date(value: str | None, expected: datetime | None) -> None:
    parsed = parse_date(value)
    assert parsed == expected
    assert parsed is None or parsed.tzinfo is UTC


def test_parse_date_reads_only_iso_8601_when_told() -> None:
    assert parse_date("Sat, 03 Jan 2026 16:45:00 GMT", rfc822=False) is None
    assert parse_date("2026-01-03T16:45:00Z", rfc822=False) == datetime(
        2026, 1, 3, 16, 45, tzinfo=UTC
    )


def test_to_utc_accepts_struct_time_naive_and_aware() -> None:
    expected = datetime(2026, 1, 3, 15, 45, tzinfo=UTC)
    plus_one = timezone(timedelta(hours=1))

    assert to_utc(time.struct_time((2026, 1, 3, 15, 45, 0, 5, 3, 0))) == expected
    assert to_utc(datetime(2026, 1, 3, 15, 45)) == expected
    assert to_utc(datetime(2026, 1, 3, 16, 45, tzinfo=plus_one)) == expected
    assert to_utc(None) is None


def test_to_utc_is_none_for_a_date_no_datetime_holds() -> None:
    assert to_utc(datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5)))) is None
    assert to_utc(time.struct_time((2026, 13, 40, 0, 0, 0, 0, 0, 0))) is None


def test_as_utc_takes_naive_as_utc_and_converts_the_rest() -> None:
    naive = datetime(2026, 1, 3, 15, 45)
    assert as_utc(naive) == naive.replace(tzinfo=UTC)
    assert as_utc(naive).tzinfo is UTC
    tokyo = datetime(2026, 1, 4, 0, 45, tzinfo=timezone(timedelta(hours=9)))
    assert as_utc(tokyo) == tokyo
    assert as_utc(tokyo).tzinfo is UTC
    with pytest.raises(OverflowError):
        as_utc(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))))
