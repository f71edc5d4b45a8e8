"""Dates as the whole pipeline keeps them: timezone-aware, in UTC.

Feeds, pages, seeds and HTTP headers write dates their own ways (RFC 822, ISO 8601,
feedparser's ``struct_time``, times without an offset); whatever reads one turns it into
an aware UTC datetime here, so that any two compare and storage never meets a naive one.
A time without an offset is taken as UTC: feedparser's already are, storage keeps UTC,
and guessing the publisher's zone would be no better than being a few hours out.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["as_utc", "parse_date", "to_utc"]


def as_utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime; a naive one is taken to be UTC.

    Raises OverflowError when the conversion leaves datetime's range (year 1 with a
    positive offset, year 9999 with a negative one).
    """
    if moment.utcoffset() is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def to_utc(moment: datetime | time.struct_time | None) -> datetime | None:
    """:func:`as_utc` for dates from outside, feedparser's ``struct_time`` (UTC) included;
    None for no date, or one that no datetime can hold."""
    if moment is None:
        return None
    if isinstance(moment, time.struct_time):
        try:
            return datetime(*moment[:6], tzinfo=UTC)
        except (ValueError, OverflowError):
            return None
    try:
        return as_utc(moment)
    except OverflowError:
        return None


def parse_date(value: str | None, *, rfc822: bool = True) -> datetime | None:
    """An ISO 8601 / RFC 3339 date (what JSON Feed and seeds use, and web pages declare)
    or, unless ``rfc822`` is False, an RFC 822 date (what publishers paste from their RSS
    templates, and HTTP headers carry), as aware UTC; None for anything else.

    A "Z" is read as "+00:00" wherever it stands, so that a date-only "2026-01-02Z" is a
    date as well (``datetime.fromisoformat`` refuses it).
    """
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        return to_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        pass
    if not rfc822:
        return None
    try:
        return to_utc(parsedate_to_datetime(value))
    except (TypeError, ValueError, IndexError):
        return None
