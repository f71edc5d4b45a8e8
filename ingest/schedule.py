"""When to check a feed next: pure rules, no I/O, every input passed in.

The order of the rules is the policy:

1. the base interval: the feed's own posting rate when known (adaptive), else its
   configured interval; either way kept within [min_interval, max_interval];
2. after errors, exponential backoff from that base, capped at :data:`MAX_BACKOFF`;
3. what the server asked for (Retry-After, Cache-Control/Expires, RSS <ttl>) is a floor,
   itself capped at :data:`MAX_HINT` so one odd header cannot park a feed for a month;
4. jitter, only ever lengthening the delay, so floors hold and feeds spread out.

The caller resets ``consecutive_errors`` to 0 on the first success; that is the whole
recovery rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol

# Half an hour is what most feed readers default to, and frequent enough for a daily digest.
DEFAULT_INTERVAL = timedelta(minutes=30)
# Politeness floor: even a feed that posts every minute is fetched at most four times an hour.
DEFAULT_MIN_INTERVAL = timedelta(minutes=15)
# A feed quiet for a week is still checked four times a day: the digest is daily, so a
# post from a dormant feed reaches it within a quarter of a day.
DEFAULT_MAX_INTERVAL = timedelta(hours=6)
# A failing feed is retried at least daily, so it recovers within a day of being fixed.
MAX_BACKOFF = timedelta(hours=24)
# Server hints beyond a day are misconfiguration far more often than intent.
MAX_HINT = timedelta(hours=24)
# The longest interval anyone may configure (settings and `feeds add --interval` refuse
# more); a longer one read from a database is cut to it. Checking a feed once a year is
# already unsubscribing from it.
MAX_INTERVAL = timedelta(days=365)
# Up to 10% later: enough to spread feeds added together (e.g. by an OPML import) apart
# within a few checks, small enough not to matter to the reader.
JITTER = 0.10
# The posting rate is measured over the last week: long enough to include the weekend
# lull of news sites, short enough to follow a feed that becomes busier or quieter.
RATE_WINDOW = timedelta(days=7)


class Random(Protocol):
    """What we need of :class:`random.Random`: a float in [0, 1)."""

    def random(self) -> float: ...


def next_check(
    now: datetime,
    *,
    rng: Random,
    interval: timedelta = DEFAULT_INTERVAL,
    min_interval: timedelta = DEFAULT_MIN_INTERVAL,
    max_interval: timedelta = DEFAULT_MAX_INTERVAL,
    consecutive_errors: int = 0,
    retry_after: float | None = None,
    cache_lifetime: float | None = None,
    ttl: float | None = None,
    entry_times: Iterable[datetime] | None = None,
) -> datetime:
    """The time of the feed's next check.

    ``retry_after``, ``cache_lifetime`` and ``ttl`` are seconds, as
    :class:`ingest.fetch.FetchResult` and :class:`ingest.parse.ParsedFeed` give them.
    ``entry_times`` are the publication (or first-seen) times of the feed's recent entries;
    passing them (even empty) turns on the adaptive interval, None keeps ``interval``.
    """
    base = interval if entry_times is None else posting_interval(now, entry_times, max_interval)
    delay = _clamp(base, min_interval, max_interval)
    if consecutive_errors > 0:
        # Compared in seconds first: a long interval times 2**32 leaves timedelta's range.
        factor = 2 ** min(consecutive_errors, 32)
        too_long = delay.total_seconds() * factor >= MAX_BACKOFF.total_seconds()
        delay = MAX_BACKOFF if too_long else delay * factor
    for hint in (retry_after, cache_lifetime, ttl):
        seconds = hint_seconds(hint)
        if seconds is not None:
            delay = max(delay, timedelta(seconds=seconds))
    return now + delay * (1 + JITTER * rng.random())


def hint_seconds(value: float | None) -> float | None:
    """A server's hint in seconds as the scheduler honours it: None for none, zero,
    negative or not a number; at most :data:`MAX_HINT`. Any number a header or feed
    carries is safe to pass, however large."""
    if value is None or not value > 0:  # `not >` also turns NaN away
        return None
    return min(float(value), MAX_HINT.total_seconds())


def as_interval(seconds: float) -> timedelta:
    """A configured interval as a timedelta, cut to :data:`MAX_INTERVAL` (a value
    stored before that cap existed could leave timedelta's range)."""
    return timedelta(seconds=min(float(seconds), MAX_INTERVAL.total_seconds()))


def posting_interval(now: datetime, entry_times: Iterable[datetime], quiet: timedelta) -> timedelta:
    """The mean gap between posts over the last :data:`RATE_WINDOW`; ``quiet`` if none.

    Checking once per expected post catches each post about half an interval after it
    appears on average, without fetching a slow feed over and over for nothing.
    """
    since = now - RATE_WINDOW
    recent = sum(1 for moment in entry_times if since <= moment <= now)
    return RATE_WINDOW / recent if recent else quiet


def _clamp(value: timedelta, low: timedelta, high: timedelta) -> timedelta:
    return max(low, min(value, high))
