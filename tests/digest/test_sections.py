"""The front page's layout: sections, and the steps that fit it to its budgets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest

from digest.model import Digest, DigestStory
from digest.sections import (
    OTHER,
    TOP_STORIES,
    Layout,
    fit,
    front_page,
    place,
    section_title,
    visible_words,
    words,
)
from tests.digest.test_render import DAY, MORNING

TEN_WORDS = "one two three four five six seven eight nine ten"


def make_stories(
    categories: Sequence[str | None], layout: Layout, sentences: int = 3
) -> tuple[list[DigestStory], tuple[str, ...]]:
    """Stories ranked in the order given, placed by ``place``. Each reads as: title 2
    words, source 2 words, ``sentences`` sentences of 10 words; a headline 4 words."""
    sections, placements = place(categories, layout)
    stories = [
        DigestStory(
            id=n,
            title=f"Title {n}",
            url=f"https://news.example/{n}",
            source=f"Feed {n}",
            published=None,
            summary=(TEN_WORDS,) * sentences,
            rank=n,
            coverage=1,
            category=category,
            section=placement.section,
            front_page=placement.front_page,
            headline_only=placement.headline_only,
        )
        for n, (category, placement) in enumerate(zip(categories, placements, strict=True), 1)
    ]
    return stories, sections


def no_bytes(stories: tuple[DigestStory, ...], sections: tuple[str, ...]) -> int:
    return 0


def shown(stories: Sequence[DigestStory]) -> dict[int, str]:
    """Each story's state: "3" (sentences shown), "all", "headline" or "-" (off the page)."""
    states = {}
    for story in stories:
        if not story.front_page:
            states[story.id] = "-"
        elif story.headline_only:
            states[story.id] = "headline"
        elif story.shown_sentences is None:
            states[story.id] = "all"
        else:
            states[story.id] = str(story.shown_sentences)
    return states


@pytest.mark.parametrize(
    ("category", "title"),
    [
        (None, OTHER),
        ("", OTHER),
        ("  ", OTHER),
        ("World", "World"),
        ("  World \n news ", "World news"),
        ("other", "other"),
        ("Top Stories", "Top Stories (category)"),
    ],
)
def test_section_title(category: str | None, title: str) -> None:
    assert section_title(category) == title


def test_place_puts_the_best_on_top_then_sections_alphabetically_and_other_last() -> None:
    categories = ["Tech", "World", None, "tech", "art", "World", None, "Tech", "World", "World"]
    layout = Layout(top_stories=2, section_stories=1, section_headlines=1)
    sections, placements = place(categories, layout)
    assert sections == (TOP_STORIES, "art", "Tech", "tech", "World", OTHER)
    assert [(p.section, p.front_page, p.headline_only) for p in placements] == [
        (TOP_STORIES, True, False),
        (TOP_STORIES, True, False),
        (OTHER, True, False),
        ("tech", True, False),
        ("art", True, False),
        ("World", True, False),
        (OTHER, True, True),
        ("Tech", True, False),
        ("World", True, True),
        ("World", False, False),
    ]


def test_place_with_no_top_stories_and_a_category_called_other() -> None:
    sections, placements = place(["Other", None, "Alpha"], Layout(top_stories=0))
    assert sections == ("Alpha", OTHER)
    assert [p.section for p in placements] == [OTHER, OTHER, "Alpha"]


def test_top_stories_take_at_most_top_per_source_from_one_feed() -> None:
    # Ranked best first: feed a has the four best stories.
    sources = ["a", "a", "a", "a", "b", "c", "b"]
    layout = Layout(top_stories=4, top_per_source=2, section_stories=5)

    sections, placements = place(["World"] * 7, layout, sources)

    on_top = [i for i, p in enumerate(placements) if p.section == TOP_STORIES]
    assert on_top == [0, 1, 4, 5]
    assert [p.section for p in placements[2:4]] == ["World", "World"]
    assert sections == (TOP_STORIES, "World")


def test_top_stories_fill_up_from_one_feed_only_to_its_share() -> None:
    sources = ["a"] * 5
    _, placements = place([None] * 5, Layout(top_stories=4, top_per_source=2), sources)
    assert [p.section for p in placements] == [TOP_STORIES, TOP_STORIES, OTHER, OTHER, OTHER]


def test_place_of_an_empty_day() -> None:
    assert place([], Layout()) == ((), [])


# Fitting to the reading budget. Three stories ranked 1, 2, 3: the top one, then story 3
# in section A and story 2 in section B below it, three sentences each. Words: headings
# 2 + 1 + 1, each story 4 + 30, so 106; a headline is 4 words, "and N more" 3.
ONE_EACH = Layout(top_stories=1, section_stories=1, section_headlines=0)
ALL = (TOP_STORIES, "A", "B")


@pytest.mark.parametrize(
    ("budget", "total", "expected", "kept"),
    [
        (106, 106, {1: "all", 2: "all", 3: "all"}, ALL),
        (105, 96, {1: "all", 2: "2", 3: "all"}, ALL),  # the lowest section first
        (96, 96, {1: "all", 2: "2", 3: "all"}, ALL),
        (86, 86, {1: "all", 2: "2", 3: "2"}, ALL),
        (76, 76, {1: "all", 2: "1", 3: "2"}, ALL),  # one sentence less everywhere first
        (66, 66, {1: "all", 2: "1", 3: "1"}, ALL),
        (56, 56, {1: "2", 2: "1", 3: "1"}, ALL),  # Top stories last
        (46, 46, {1: "1", 2: "1", 3: "1"}, ALL),
        (45, 36, {1: "1", 2: "1", 3: "headline"}, ALL),  # then headlines, lowest ranked first
        (35, 26, {1: "1", 2: "headline", 3: "headline"}, ALL),
        (25, 25, {1: "1", 2: "headline", 3: "-"}, ALL),  # then off the page: "and 1 more"
        (24, 24, {1: "1", 2: "-", 3: "-"}, ALL),
        (20, 20, {1: "1", 2: "-", 3: "-"}, (TOP_STORIES, "A")),  # the lowest section goes
        (16, 16, {1: "1", 2: "-", 3: "-"}, (TOP_STORIES,)),
        (6, 6, {1: "headline", 2: "-", 3: "-"}, (TOP_STORIES,)),  # the top story only now
        (5, 5, {1: "-", 2: "-", 3: "-"}, (TOP_STORIES,)),
        (0, 0, {1: "-", 2: "-", 3: "-"}, ()),
    ],
)
def test_fit_gives_way_in_order_until_within_the_reading_budget(
    budget: int, total: int, expected: dict[int, str], kept: tuple[str, ...]
) -> None:
    stories, sections = make_stories(["A", "B", "A"], ONE_EACH)
    assert sections == ALL and [s.section for s in stories] == [TOP_STORIES, "B", "A"]
    layout = replace(ONE_EACH, reading_minutes=budget / 230)
    fitted, shown_sections = fit(stories, sections, layout, no_bytes)
    assert shown(fitted) == expected
    assert shown_sections == kept
    digest = Digest(DAY, MORNING, "UTC", fitted, sections=shown_sections)
    assert visible_words(digest) == total


def test_fit_changes_nothing_within_budget() -> None:
    stories, sections = make_stories(["A", "B", None, "A"], Layout(top_stories=1))
    assert fit(stories, sections, Layout(), no_bytes) == (tuple(stories), sections)


def test_fit_takes_the_fewest_steps_that_bring_the_page_under_its_byte_budget() -> None:
    stories, sections = make_stories([f"S{n % 4}" for n in range(60)], Layout())

    def page_bytes(stories: tuple[DigestStory, ...], sections: tuple[str, ...]) -> int:
        on_page = [story for story in stories if story.front_page]
        return 1000 * sum(len(story.shown_summary) for story in on_page) + 10 * len(on_page)

    unbounded = replace(Layout(), reading_minutes=1000)
    before = page_bytes(*fit(stories, sections, unbounded, page_bytes))
    assert before > 50_000
    fitted = fit(stories, sections, replace(unbounded, max_page_bytes=50_000), page_bytes)
    assert 49_000 < page_bytes(*fitted) <= 50_000
    fewer = fit(stories, sections, replace(unbounded, max_page_bytes=30_000), page_bytes)
    assert page_bytes(*fewer) <= 30_000


def test_front_page_groups_stories_in_page_order_and_counts_the_rest() -> None:
    layout = Layout(top_stories=1, section_stories=1, section_headlines=1)
    stories, sections = make_stories(["B", "A", "A", "A", "A", "B"], layout)
    digest = Digest(DAY, MORNING, "UTC", tuple(stories), sections=sections)
    views = front_page(digest)
    assert [
        (v.title, [s.id for s in v.stories], [s.id for s in v.headlines], v.more) for v in views
    ] == [
        (TOP_STORIES, [1], [], 0),
        ("A", [2], [3], 2),
        ("B", [6], [], 0),
    ]
    hidden = replace(digest, sections=(TOP_STORIES, "B"))
    assert [v.title for v in front_page(hidden)] == [TOP_STORIES, "B"]


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("", 0),
        ("Council approves the budget", 4),
        ("  spaced\tout\nwords ", 3),
        ("הממשלה אישרה את התקציב", 4),
        ("東京で会議が開かれた", 1 + 5),  # ten characters read as about five words
        ("Tokyo: 東京 会議", 3 + 2),
    ],
)
def test_words(text: str, count: int) -> None:
    assert words(text) == count
