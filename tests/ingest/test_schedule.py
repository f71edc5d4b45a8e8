"""next_check: the scheduling rules, table-driven, with time and randomness passed in."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ingest.schedule import (
    DEFAULT_MAX_INTERVAL,
    JITTER,
    MAX_BACKOFF,
    RATE_WINDOW,
    next_check,
    posting_interval,
)

NOW = datetime(2026, 1, 7, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


class FixedRandom:
    """Always the same draw: 0.0 means no jitter, 0.5 half the most."""

    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


NO_JITTER = FixedRandom(0.0)


def posts(count: int, *, every: timedelta, ending: datetime = NOW) -> list[datetime]:
    return [ending - every * n for n in range(count)]


@pytest.mark.parametrize(
    ("rules", "delay"),
    [
        pytest.param({}, 30 * MINUTE, id="default interval"),
        pytest.param({"interval": 2 * HOUR}, 2 * HOUR, id="per-feed interval"),
        pytest.param({"interval": 5 * MINUTE}, 15 * MINUTE, id="interval below the floor"),
        pytest.param({"interval": 12 * HOUR}, 6 * HOUR, id="interval above the ceiling"),
        pytest.param(
            {"interval": 5 * MINUTE, "min_interval": MINUTE}, 5 * MINUTE, id="per-feed floor"
        ),
        # adaptive: the mean gap between last week's posts, within [min, max]
        pytest.param({"entry_times": posts(84, every=2 * HOUR)}, 2 * HOUR, id="posts every 2h"),
        pytest.param({"entry_times": posts(1000, every=MINUTE)}, 15 * MINUTE, id="busy feed"),
        pytest.param({"entry_times": posts(3, every=48 * HOUR)}, 6 * HOUR, id="slow feed"),
        pytest.param({"entry_times": []}, 6 * HOUR, id="no posts known"),
        pytest.param(
            {"entry_times": posts(50, every=HOUR, ending=NOW - 8 * timedelta(days=1))},
            6 * HOUR,
            id="posts older than the window",
        ),
        pytest.param(
            {"entry_times": posts(50, every=HOUR, ending=NOW + 60 * timedelta(days=1))},
            6 * HOUR,
            id="future-dated posts",
        ),
        # errors: exponential from the base, capped, recovered by resetting the count
        pytest.param({"consecutive_errors": 1}, 60 * MINUTE, id="1 error"),
        pytest.param({"consecutive_errors": 3}, 4 * HOUR, id="3 errors"),
        pytest.param({"consecutive_errors": 6}, 24 * HOUR, id="6 errors hit the cap"),
        pytest.param({"consecutive_errors": 10_000}, MAX_BACKOFF, id="any number of errors"),
        pytest.param({"consecutive_errors": 0}, 30 * MINUTE, id="recovered"),
        pytest.param(
            {"consecutive_errors": 2, "entry_times": posts(84, every=2 * HOUR)},
            8 * HOUR,
            id="backoff from the adaptive base",
        ),
        # server hints are floors, capped at a day
        pytest.param({"retry_after": 7200}, 2 * HOUR, id="Retry-After"),
        pytest.param({"retry_after": 60}, 30 * MINUTE, id="short Retry-After"),
        pytest.param({"retry_after": 30 * 86400}, 24 * HOUR, id="month-long Retry-After"),
        pytest.param({"cache_lifetime": 3600}, HOUR, id="max-age"),
        pytest.param({"ttl": 5400}, 90 * MINUTE, id="RSS ttl"),
        pytest.param({"ttl": 5400, "cache_lifetime": 7200}, 2 * HOUR, id="largest hint wins"),
        pytest.param({"cache_lifetime": 0}, 30 * MINUTE, id="zero max-age"),
        pytest.param({"retry_after": -5}, 30 * MINUTE, id="negative hint"),
        pytest.param({"ttl": 86400 * 7}, 24 * HOUR, id="week-long ttl"),
        pytest.param(
            {"consecutive_errors": 1, "retry_after": 3 * 3600}, 3 * HOUR, id="Retry-After > backoff"
        ),
        pytest.param(
            {"consecutive_errors": 4, "retry_after": 60}, 8 * HOUR, id="backoff > Retry-After"
        ),
    ],
)
def test_delay_before_next_check(rules: dict[str, Any], delay: timedelta) -> None:
    assert next_check(NOW, rng=NO_JITTER, **rules) == NOW + delay


@pytest.mark.parametrize(
    ("rules", "base"),
    [
        ({}, 30 * MINUTE),
        ({"consecutive_errors": 10}, MAX_BACKOFF),
        ({"retry_after": 7200}, 2 * HOUR),
    ],
)
def test_jitter_only_lengthens_and_by_at_most_ten_percent(
    rules: dict[str, Any], base: timedelta
) -> None:
    rng = random.Random(20260107)

    delays = [next_check(NOW, rng=rng, **rules) - NOW for _ in range(500)]

    assert all(base <= delay <= base * (1 + JITTER) for delay in delays)
    assert max(delays) - min(delays) > base * JITTER * 0.8  # really spread


def test_jitter_scales_with_the_draw() -> None:
    assert next_check(NOW, rng=FixedRandom(0.5)) == NOW + 30 * MINUTE * (1 + JITTER / 2)


def test_posting_interval_counts_only_last_weeks_posts() -> None:
    recent = posts(7, every=24 * HOUR)
    ancient = posts(100, every=MINUTE, ending=NOW - RATE_WINDOW - HOUR)

    assert posting_interval(NOW, recent + ancient, DEFAULT_MAX_INTERVAL) == 24 * HOUR
    assert posting_interval(NOW, ancient, DEFAULT_MAX_INTERVAL) == DEFAULT_MAX_INTERVAL
