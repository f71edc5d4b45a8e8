"""Dates as the whole pipeline keeps them: timezone-aware, in UTC, within a sane range.

Feeds, pages, seeds and HTTP headers write dates their own ways (RFC 822, ISO 8601,
feedparser's ``struct_time``, times without an offset); whatever reads one turns it into
an aware UTC datetime here, so that any two compare and storage never meets a naive one.
A time without an offset is taken as UTC: feedparser's already are, storage keeps UTC,
and guessing the publisher's zone would be no better than being a few hours out.

A date from outside is kept only between :data:`EARLIEST` and :data:`LATEST`; any other
is dropped (None) with a warning. Python's datetime stops at year 9999, so a feed's
"31 Dec 9999" would overflow as soon as anything adds a day to it or shows it east of
UTC; no news item was written before 1970 or will be after 2200.

A date inside that range may still be impossible for what it dates: an item cannot have
been published long after the moment it was fetched. :func:`believable` keeps a date at
most :data:`FUTURE_TOLERANCE` after that moment and answers the moment itself for a later
one (a feed's "2035-08-19" would otherwise be shown, and rank as the newest item, for
years).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime, parsedate_tz

import structlog

__all__ = [
    "EARLIEST",
    "FUTURE_TOLERANCE",
    "LATEST",
    "DateOutOfRange",
    "as_utc",
    "believable",
    "in_range",
    "parse_date",
    "read_date",
    "to_utc",
]

log = structlog.get_logger(__name__)

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 12, 31, 23, 59, 59, tzinfo=UTC)

FUTURE_TOLERANCE = timedelta(days=1)
"""How far after the moment an item was fetched its date may lie and still be believed.
A day covers a publisher whose clock or time zone is hours out (a naive time read as UTC
is up to 14 hours early or late) and a post scheduled for later the same day; a date
beyond it is a mistake in the feed, not news from tomorrow."""


def as_utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime; a naive one is taken to be UTC.

    Raises OverflowError when the conversion leaves datetime's range (year 1 with a
    positive offset, year 9999 with a negative one).
    """
    if moment.utcoffset() is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def in_range(moment: datetime) -> bool:
    """Whether an aware ``moment`` lies between :data:`EARLIEST` and :data:`LATEST`."""
    return EARLIEST <= moment <= LATEST


def believable(published: datetime | None, fetched: datetime) -> datetime | None:
    """The date to keep for an item dated ``published`` and fetched (first seen) at
    ``fetched``: ``published`` itself, unless it lies more than
    :data:`FUTURE_TOLERANCE` after ``fetched``; then ``fetched``. Both aware."""
    if published is not None and published - fetched > FUTURE_TOLERANCE:
        return fetched
    return published


class DateOutOfRange(ValueError):
    """A date that no datetime holds, or one outside :data:`EARLIEST`..:data:`LATEST`.
    ``late`` says it lies after :data:`LATEST` (year 9999, or a five-digit year): a
    reader of an HTTP header may take that to mean "never", where an earlier one means
    "long ago" or nothing."""

    def __init__(self, value: str, *, late: bool = False) -> None:
        super().__init__(value)
        self.late = late


def to_utc(moment: datetime | time.struct_time | None) -> datetime | None:
    """:func:`as_utc` for dates from outside, feedparser's ``struct_time`` (UTC) included;
    None for no date, or one out of range (with a warning; the caller's bound log context
    names the feed or seed)."""
    if moment is None:
        return None
    try:
        return _checked(moment)
    except DateOutOfRange as exc:
        log.warning("date.dropped_out_of_range", value=str(exc))
        return None


def parse_date(value: str | None, *, rfc822: bool = True) -> datetime | None:
    """:func:`read_date`, with a date out of range dropped (None) with a warning."""
    try:
        return read_date(value, rfc822=rfc822)
    except DateOutOfRange as exc:
        log.warning("date.dropped_out_of_range", value=str(exc))
        return None


def read_date(value: str | None, *, rfc822: bool = True) -> datetime | None:
    """An ISO 8601 / RFC 3339 date (what JSON Feed and seeds use, and web pages declare)
    or, unless ``rfc822`` is False, an RFC 822 date (what publishers paste from their RSS
    templates, and HTTP headers carry), as aware UTC; None for anything else. Raises
    :class:`DateOutOfRange` for a date outside :data:`EARLIEST`..:data:`LATEST`, for a
    caller that reports it in its own words.

    A "Z" is read as "+00:00" wherever it stands, so that a date-only "2026-01-02Z" is a
    date as well (``datetime.fromisoformat`` refuses it).
    """
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        if not rfc822:
            return None
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            if _year(value) > LATEST.year:
                raise DateOutOfRange(value[:100], late=True) from None
            return None
    return _checked(moment)


def _year(value: str) -> int:
    """The year an RFC 822 date names, however large (datetime stops at 9999); else 0."""
    try:
        fields = parsedate_tz(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return 0
    return fields[0] if fields else 0


def _checked(moment: datetime | time.struct_time) -> datetime:
    try:
        if isinstance(moment, time.struct_time):
            converted = datetime(*moment[:6], tzinfo=UTC)
        else:
            converted = as_utc(moment)
    except (ValueError, OverflowError) as exc:
        year = moment.tm_year if isinstance(moment, time.struct_time) else moment.year
        raise DateOutOfRange(str(moment)[:100], late=year > LATEST.year) from exc
    if not in_range(converted):
        raise DateOutOfRange(converted.isoformat(), late=converted > LATEST)
    return converted
