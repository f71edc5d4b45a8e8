"""Which items and stories count for a day's digest: freshness and keep/block rules."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from digest.select import DayItem, DayStory, Rules, compile_rule, counts, eligible

SEEN = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
TWO_DAYS = timedelta(days=2)


def item(n: int = 1, **changes: object) -> DayItem:
    base = DayItem(
        id=n,
        source=f"https://feed{n}.example/rss",
        source_name=f"Feed {n}",
        title=f"Council approves budget {n}",
        url=f"https://feed{n}.example/{n}",
        published_at=SEEN - timedelta(hours=3),
        first_seen_at=SEEN,
        summary=("The council approved the budget.", "Taxes stay the same."),
    )
    return base._replace(**changes)


def story(story_id: int, *items: DayItem) -> DayStory:
    return DayStory(story_id, items[0], items)


@pytest.mark.parametrize(
    ("published", "max_age", "fresh"),
    [
        (None, TWO_DAYS, True),  # undated: counts
        (SEEN, TWO_DAYS, True),
        (SEEN - TWO_DAYS, TWO_DAYS, True),  # exactly max_age before: counts
        (SEEN - TWO_DAYS - timedelta(seconds=1), TWO_DAYS, False),
        (SEEN - timedelta(days=45), TWO_DAYS, False),  # a new feed's backlog
        (SEEN + timedelta(days=3), TWO_DAYS, True),  # dated in the future
        (SEEN - timedelta(hours=7), timedelta(hours=6), False),
        (SEEN - timedelta(days=6), timedelta(days=7), True),
        (datetime(1, 1, 1, tzinfo=UTC), TWO_DAYS, False),  # dates at either end of time
        (datetime(9999, 12, 31, tzinfo=UTC), TWO_DAYS, True),
    ],
)
def test_an_item_counts_only_if_published_at_most_max_age_before_first_seen(
    published: datetime | None, max_age: timedelta, fresh: bool
) -> None:
    assert counts(item(published_at=published), Rules(max_age=max_age)) is fresh


def rules(block: tuple[str, ...] = (), keep: tuple[str, ...] = ()) -> Rules:
    return Rules.compile(TWO_DAYS, block, keep)


@pytest.mark.parametrize(
    ("rule_set", "changes", "passes"),
    [
        pytest.param(rules(), {}, True, id="no-rules"),
        pytest.param(rules(block=("budget",)), {}, False, id="global-block-title"),
        pytest.param(rules(block=("BUDGET",)), {}, False, id="block-ignores-case"),
        pytest.param(rules(block=("taxes",)), {}, False, id="block-summary-when-no-text"),
        pytest.param(
            rules(block=("taxes",)),
            {"text": "Full text, no such word."},
            True,
            id="text-not-summary",
        ),
        pytest.param(
            rules(block=("sponsored",)),
            {"text": "A SPONSORED post."},
            False,
            id="block-text",
        ),
        pytest.param(rules(block=("football", "cricket")), {}, True, id="block-no-match"),
        pytest.param(rules(keep=("council",)), {}, True, id="keep-match"),
        pytest.param(rules(keep=("football",)), {}, False, id="keep-no-match"),
        pytest.param(rules(keep=("football", "budget")), {}, True, id="keep-any-of"),
        pytest.param(rules(keep=("council",), block=("taxes",)), {}, False, id="block-wins"),
        pytest.param(rules(), {"block": compile_rule("council")}, False, id="feed-block"),
        pytest.param(rules(), {"keep": compile_rule("^council")}, True, id="feed-keep-match"),
        pytest.param(rules(), {"keep": compile_rule("football")}, False, id="feed-keep-no-match"),
        pytest.param(
            rules(keep=("council",)), {"keep": compile_rule("football")}, False, id="both-keeps"
        ),
        pytest.param(
            rules(keep=("football",)), {"keep": compile_rule("council")}, False, id="global-keep"
        ),
    ],
)
def test_keep_and_block_rules(rule_set: Rules, changes: dict[str, object], passes: bool) -> None:
    assert counts(item(**changes), rule_set) is passes


def test_a_bad_pattern_is_refused_when_compiled() -> None:
    with pytest.raises(re.error):
        Rules.compile(TWO_DAYS, block=["(unclosed"])


def test_a_story_is_in_when_one_item_counts_and_keeps_only_those() -> None:
    stale = item(1, published_at=SEEN - timedelta(days=30))
    fresh = item(2)
    [chosen] = eligible([story(10, stale, fresh)], Rules())
    assert chosen.id == 10
    assert chosen.items == (fresh,)
    assert chosen.shown == fresh  # the lead does not count: shown as the first that does


def test_a_story_is_shown_as_its_lead_when_the_lead_counts() -> None:
    first, lead = item(1), item(2)
    [chosen] = eligible([DayStory(10, lead, (first, lead))], Rules())
    assert chosen.shown == lead and chosen.items == (first, lead)


def test_a_story_none_of_whose_items_count_is_out() -> None:
    stale = item(1, published_at=SEEN - timedelta(days=30))
    blocked = item(2, title="Sponsored: win a car")
    chosen = eligible(
        [story(10, stale), story(11, blocked), story(12, item(3))], rules(block=("sponsored",))
    )
    assert [s.id for s in chosen] == [12]
