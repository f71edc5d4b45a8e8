"""The order of a day's stories: coverage, weight, recency, feeds in turn, then id."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from digest.rank import rank
from digest.select import DayItem, Eligible

SEEN = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def item(source: str, *, hours_ago: float = 1, weight: float = 1.0, **changes: object) -> DayItem:
    base = DayItem(
        id=hash((source, hours_ago)) % 10_000,
        source=f"https://{source}.example/rss",
        source_name=source,
        title="A story",
        url=None,
        published_at=SEEN - timedelta(hours=hours_ago),
        first_seen_at=SEEN,
        summary=(),
        weight=weight,
    )
    return base._replace(**changes)


def story(story_id: int, *items: DayItem) -> Eligible:
    return Eligible(story_id, items[0], items)


# Each case: stories in any order, and the ids best first.
CASES = {
    "coverage first": (
        [story(1, item("a", hours_ago=0)), story(2, item("a"), item("b"), item("c"))],
        [2, 1],
    ),
    "coverage counts distinct sources": (
        [
            story(1, item("a"), item("a", hours_ago=2), item("a", hours_ago=3)),
            story(2, item("b", hours_ago=5), item("c", hours_ago=5)),
        ],
        [2, 1],  # three items of one feed are coverage 1; two feeds are 2
    ),
    "weight before recency": (
        [story(1, item("a", hours_ago=0)), story(2, item("b", hours_ago=20, weight=2))],
        [2, 1],
    ),
    "weight is the heaviest source's": (
        [
            story(1, item("a", weight=1.5), item("b", weight=0.5)),
            story(2, item("c", weight=1.2), item("d", weight=1.2)),
        ],
        [1, 2],
    ),
    "coverage before weight": (
        [story(1, item("a", weight=5)), story(2, item("b"), item("c"))],
        [2, 1],
    ),
    "recency: the newest item": (
        [
            story(1, item("a", hours_ago=5)),
            story(2, item("b", hours_ago=9), item("c", hours_ago=2)),
        ],
        [2, 1],
    ),
    "undated counts as first seen": (
        [story(1, item("a", hours_ago=1)), story(2, item("b", published_at=None))],
        [2, 1],
    ),
    "a date in the future counts as first seen": (
        [
            story(1, item("a", hours_ago=-48)),
            story(2, item("b", published_at=None, first_seen_at=SEEN + timedelta(hours=1))),
        ],
        [2, 1],
    ),
    "dates at either end of time": (
        [
            story(1, item("a", published_at=datetime(1, 1, 1, tzinfo=UTC))),
            story(2, item("b", published_at=datetime(9999, 12, 31, tzinfo=UTC))),
            story(3, item("c", hours_ago=2)),
        ],
        [2, 3, 1],  # the far future counts as first seen (now), the year 1 as the year 1
    ),
    "ties by id": (
        [story(9, item("a")), story(3, item("b")), story(5, item("c"))],
        [3, 5, 9],
    ),
    "in a tie the feeds take turns": (
        [
            story(1, item("a", published_at=None)),
            story(2, item("a", published_at=None)),
            story(3, item("a", published_at=None)),
            story(4, item("b", published_at=None)),
            story(5, item("c", published_at=None)),
            story(6, item("b", published_at=None)),
        ],
        [1, 4, 5, 2, 6, 3],  # a, b, c, then a's and b's second, then a's third
    ),
    "nothing to read comes after something to read": (
        [
            story(1, item("a", published_at=None, title="")),
            story(2, item("b", published_at=None, title="", summary=("Words.",))),
            story(3, item("c", published_at=None)),
        ],
        [2, 3, 1],
    ),
    "turns only within a tie": (
        [
            story(1, item("a", hours_ago=1)),
            story(2, item("a", hours_ago=2)),
            story(3, item("b", hours_ago=3)),
        ],
        [1, 2, 3],
    ),
}


@pytest.mark.parametrize(("stories", "expected"), CASES.values(), ids=CASES.keys())
def test_rank_orders_stories_best_first(stories: list[Eligible], expected: list[int]) -> None:
    ranked = rank(stories)
    assert [entry.story.id for entry in ranked] == expected
    assert [entry.rank for entry in ranked] == list(range(1, len(expected) + 1))


def test_rank_reports_coverage_weight_and_recency() -> None:
    [entry] = rank(
        [story(1, item("a", weight=2, hours_ago=4), item("a", hours_ago=3), item("b", hours_ago=6))]
    )
    assert (entry.coverage, entry.weight) == (2, 2)
    assert entry.recency == SEEN - timedelta(hours=3)


def test_rank_is_the_same_whatever_order_stories_arrive_in() -> None:
    rng = random.Random(5)
    sources = "abcdef"
    stories = [
        story(
            n,
            *(
                item(rng.choice(sources), hours_ago=rng.choice((1, 2)), weight=rng.choice((1, 2)))
                for _ in range(rng.randint(1, 3))
            ),
        )
        for n in range(200)
    ]
    expected = [entry.story.id for entry in rank(stories)]
    for _ in range(5):
        rng.shuffle(stories)
        assert [entry.story.id for entry in rank(stories)] == expected
