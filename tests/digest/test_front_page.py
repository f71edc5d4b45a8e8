"""The day's digest as a front page: built from plain data, rendered, within its budgets."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import feedparser
import lxml.html
import pytest
from structlog.testing import capture_logs

from bench.digest_bench import busy_day
from digest.atom import render_atom
from digest.build import DEFAULT_LAYOUT, DEFAULT_RULES, compose, day_story
from digest.model import Digest, load_digest_json, render_json
from digest.render_html import render_full_list, render_html
from digest.render_markdown import render_markdown
from digest.sections import MAX_PAGE_BYTES, OTHER, TOP_STORIES, Layout, visible_words
from digest.select import DayItem, DayStory, Rules
from storage import StoryItem, StoryRow

DAY = date(2026, 12, 6)
SEEN = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
GENERATED = datetime(2026, 12, 6, 23, 0, tzinfo=UTC)
BASE_URL = "https://brief.example/digests/"
FULL_LIST = f"{BASE_URL}2026-12-06-all.html"


def build(
    stories: list[DayStory], rules: Rules = DEFAULT_RULES, layout: Layout = DEFAULT_LAYOUT
) -> Digest:
    return compose(
        stories,
        day=DAY,
        generated_at=GENERATED,
        timezone="UTC",
        base_url=BASE_URL,
        rules=rules,
        layout=layout,
    )


def day_item(n: int, feed: int, **changes: object) -> DayItem:
    item = DayItem(
        id=n,
        source=f"https://feed{feed}.example/rss",
        source_name=f"Feed {feed}",
        title=f"Story {n} headline",
        url=f"https://feed{feed}.example/{n}",
        published_at=SEEN - timedelta(hours=1),
        first_seen_at=SEEN + timedelta(seconds=n),
        summary=(f"Story {n} first sentence.", "Second sentence.", "Third sentence."),
        category=f"Cat {feed % 3}",
    )
    return item._replace(**changes)


def text_words(html: str) -> int:
    return len(lxml.html.document_fromstring(html).find("body").text_content().split())


# A busy day


@pytest.fixture(scope="module")
def busy() -> list[DayStory]:
    return busy_day()


@pytest.fixture(scope="module")
def busy_digest(busy: list[DayStory]) -> Digest:
    return build(busy)


def test_a_busy_day_front_page_is_under_100_kb_and_3000_words(
    busy: list[DayStory], busy_digest: Digest
) -> None:
    assert sum(len(story.items) for story in busy) == 30_000
    html = render_html(busy_digest)
    assert len(html.encode()) < MAX_PAGE_BYTES
    assert text_words(html) <= 3000
    assert visible_words(busy_digest) <= Layout().word_budget
    markdown = render_markdown(busy_digest)
    assert len(markdown.encode()) < MAX_PAGE_BYTES
    # Every story that counts is in the record; backlog items are not.
    assert 15_000 < len(busy_digest.stories) < 20_000
    on_page = [story for story in busy_digest.stories if story.front_page]
    assert 50 < len(on_page) < 300


def test_a_busy_day_is_ranked_and_every_story_has_its_place(busy_digest: Digest) -> None:
    stories = busy_digest.stories
    assert [story.rank for story in stories] == list(range(1, len(stories) + 1))
    coverage = [story.coverage or 0 for story in stories]
    assert coverage == sorted(coverage, reverse=True)
    assert all(story.section is not None for story in stories)
    top = [story for story in stories if story.section == TOP_STORIES]
    assert [story.rank for story in top] == list(range(1, 11))
    assert busy_digest.sections is not None
    assert busy_digest.sections[0] == TOP_STORIES and busy_digest.sections[-1] == OTHER


def test_two_builds_of_a_busy_day_give_the_same_digest(
    busy: list[DayStory], busy_digest: Digest
) -> None:
    shuffled = list(busy)
    random.Random(3).shuffle(shuffled)
    again = build(shuffled)
    assert [s.id for s in again.stories] == [s.id for s in busy_digest.stories]
    assert render_json(again) == render_json(busy_digest)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param(lambda n: {}, id="plain"),
        pytest.param(lambda n: {"title": "Enormous headline " * 2000}, id="huge-titles"),
        pytest.param(lambda n: {"summary": ("word " * 30_000,)}, id="huge-summaries"),
        pytest.param(lambda n: {"category": f"Category {n} " + "x" * 200}, id="a-category-each"),
        pytest.param(lambda n: {"source_name": "Publisher " * 300}, id="huge-source-names"),
        pytest.param(lambda n: {"url": "https://a.example/" + "q" * 5000}, id="huge-urls"),
    ],
)
@pytest.mark.parametrize("minutes", [10, 100_000], ids=["read-in-10-min", "bytes-only"])
def test_the_front_page_stays_under_100_kb_whatever_the_stories(changes, minutes: int) -> None:
    stories = []
    for n in range(1, 3001):
        items = tuple(day_item(n * 10 + k, k, **changes(n)) for k in range(1 + n % 4))
        stories.append(DayStory(n, items[0], items))
    # Every lead comes from one feed here; let it fill Top stories.
    digest = build(stories, layout=Layout(reading_minutes=minutes, top_per_source=10))
    html = render_html(digest)
    assert len(html.encode()) < MAX_PAGE_BYTES
    if minutes == 10:
        assert text_words(html) <= 3000
    assert len(digest.stories) == 3000
    top = [s for s in digest.stories if s.section == TOP_STORIES]
    assert len(top) == 10
    if changes(0) == {}:
        assert all(story.front_page and not story.headline_only for story in top)


# Selection and ranking through the build


def test_backlog_and_blocked_items_stay_out_and_coverage_counts_what_is_in() -> None:
    stale = SEEN - timedelta(days=40)
    stories = [
        DayStory(1, day_item(1, 1), (day_item(1, 1), day_item(2, 2), day_item(3, 3))),
        DayStory(2, day_item(4, 1, published_at=stale), (day_item(4, 1, published_at=stale),)),
        DayStory(
            3,
            day_item(5, 1, published_at=stale),
            (day_item(5, 1, published_at=stale), day_item(6, 2), day_item(7, 4, title="Ad")),
        ),
        DayStory(4, day_item(8, 5, title="Sponsored: a car"), (day_item(8, 5, title="Sponsored"),)),
    ]
    digest = build(stories, Rules.compile(timedelta(days=2), block=["^sponsored", r"^ad\b"]))
    assert [(s.id, s.coverage, s.rank) for s in digest.stories] == [(1, 3, 1), (3, 1, 2)]
    story = digest.stories[1]
    assert (story.title, story.source) == ("Story 6 headline", "Feed 2")  # lead is stale
    assert [ref.name for ref in story.sources] == ["Feed 2"]


def test_a_feed_that_carried_a_story_twice_is_one_of_its_sources() -> None:
    items = (day_item(1, 1), day_item(2, 1), day_item(3, 2), day_item(4, 1))
    [story] = build([DayStory(1, items[1], items)]).stories
    assert story.url == "https://feed1.example/2"  # the lead
    assert story.coverage == 2
    assert [(ref.name, ref.url) for ref in story.sources] == [
        ("Feed 1", "https://feed1.example/2"),
        ("Feed 2", "https://feed2.example/3"),
    ]


def stored(n: int, **changes: object) -> StoryItem:
    item = StoryItem(
        id=n,
        guid=f"g{n}",
        title=f"Item {n}",
        url=f"https://a.example/{n}",
        published_at=SEEN,
        source="https://a.example/feed",
        source_title="A Feed",
        summary=("One.",),
        first_seen_at=SEEN,
        language="he",
        category="World",
        weight=2.0,
        block=None,
        keep=None,
        text=None,
    )
    return item._replace(**changes)


def test_storage_rows_become_the_builds_input() -> None:
    row = StoryRow(7, stored(1), (stored(1), stored(2, source_title=None, keep="^item")))
    patterns: dict = {}
    story = day_story(row, patterns)
    first, second = story.items
    assert story.lead == first
    assert (first.source_name, second.source_name) == ("A Feed", "https://a.example/feed")
    assert (first.language, first.category, first.weight) == ("he", "World", 2.0)
    assert first.keep is None and second.keep is not None and second.keep.search("ITEM 2")
    assert first.first_seen_at == SEEN


def test_a_bad_feed_pattern_from_storage_is_logged_and_ignored() -> None:
    row = StoryRow(7, stored(1, block="(unclosed"), (stored(1, block="(unclosed"),))
    with capture_logs() as logs:
        story = day_story(row, {})
    assert story.lead.block is None
    assert [entry["feed"] for entry in logs if entry["log_level"] == "warning"] == [
        "https://a.example/feed"
    ]


# Rendering the front page


def small_day() -> Digest:
    """Top 2, then per category 1 story with its summary and 1 headline, the rest more."""
    stories = []
    for n in range(1, 10):
        feed = n % 3
        language = ("en-GB", "he", "ja_JP", 'en" onload="x')[n % 4]
        items = tuple(
            day_item(n * 10 + k, feed + 3 * k, language=language, category=f"Cat {feed}")
            for k in range(1 + (9 - n) // 3)
        )
        stories.append(DayStory(n, items[0], items))
    return build(stories, layout=Layout(top_stories=2, section_stories=1, section_headlines=1))


def test_html_front_page_has_sections_headlines_more_links_and_reading_time() -> None:
    digest = small_day()
    doc = lxml.html.document_fromstring(render_html(digest))
    assert doc.get("lang") == "en"
    main = doc.find(".//main")
    reading = main.find("p[@class='meta']")
    assert reading.text_content() == "1 min read · all 9 stories"
    assert reading.find("a").get("href") == FULL_LIST
    sections = main.findall("section")
    assert [s.findtext("h2") for s in sections] == [TOP_STORIES, "Cat 0", "Cat 1", "Cat 2"]
    top = sections[0]
    assert [a.get("id") for a in top.findall("article")] == ["story-1", "story-2"]
    assert top.find("article/h3/a").get("href") == "https://feed1.example/10"
    assert "Also in:" in top.find("article/p[@class='also']").text_content()
    cat0 = sections[1]
    assert [a.get("id") for a in cat0.findall("article")] == ["story-3"]
    assert [li.get("id") for li in cat0.findall("ul/li")] == ["story-6"]
    assert cat0.find("ul/li").text_content() == "Story 60 headline · Feed 0 · 2 sources"
    more = cat0.find("p[@class='more']/a")
    assert (more.text, more.get("href")) == ("and 1 more", FULL_LIST)


def test_each_story_carries_its_language_and_only_a_valid_one() -> None:
    doc = lxml.html.document_fromstring(render_html(small_day()))
    langs = {el.get("id"): el.get("lang") for el in doc.xpath("//*[starts-with(@id, 'story-')]")}
    assert langs["story-1"] == "he" and langs["story-2"] == "ja-JP"
    assert langs["story-4"] == "en-GB"
    assert langs["story-3"] is None  # 'en" onload="x' is no language tag


def test_front_page_is_a_function_of_the_json_record(tmp_path: Path) -> None:
    digest = small_day()
    path = tmp_path / "2026-12-06.json"
    path.write_text(render_json(digest), encoding="utf-8")
    again = load_digest_json(path)
    assert again == digest
    assert render_html(again) == render_html(digest)
    assert render_markdown(again) == render_markdown(digest)


def test_json_lists_every_story_best_first_with_its_place() -> None:
    data = json.loads(render_json(small_day()))
    assert [s["rank"] for s in data["stories"]] == list(range(1, 10))
    assert [s["front_page"] for s in data["stories"]] == [True] * 8 + [False]
    assert data["stories"][0]["section"] == TOP_STORIES
    assert data["stories"][0]["category"] == "Cat 1"
    assert data["stories"][0]["coverage"] == 3
    assert len(data["stories"][0]["summary"]) == 3  # the whole summary, whatever is shown
    assert data["sections"] == [TOP_STORIES, "Cat 0", "Cat 1", "Cat 2"]


def test_markdown_front_page_has_the_same_sections() -> None:
    text = render_markdown(small_day())
    lines = text.splitlines()
    assert [line for line in lines if line.startswith("## ")] == [
        "## Top stories",
        "## Cat 0",
        "## Cat 1",
        "## Cat 2",
    ]
    assert "### [Story 10 headline](https://feed1.example/10)" in lines
    assert "- [Story 60 headline](https://feed0.example/60) · Feed 0 · 2 sources" in lines
    assert f"[and 1 more]({FULL_LIST})" in lines
    assert f"1 min read · [all 9 stories]({FULL_LIST})" in lines


def test_full_list_has_every_story_best_first_with_one_sentence() -> None:
    digest = small_day()
    doc = lxml.html.document_fromstring(render_full_list(digest))
    items = doc.findall(".//ol/li")
    assert [li.get("id") for li in items] == [f"story-{s.id}" for s in digest.stories]
    first = items[0]
    assert first.find("span[@class='summary']").text == "Story 10 first sentence."
    assert first.find("span[@class='byline']").text_content() == ("· Feed 1, also Feed 4, Feed 7")
    back = doc.find(".//header//a")
    assert back.get("href") == f"{BASE_URL}2026-12-06.html"


def test_feed_entry_carries_the_front_page_only() -> None:
    digest = small_day()
    off_page = [s for s in digest.stories if not s.front_page]
    assert off_page
    feed = feedparser.parse(
        render_atom([digest], feed_url=f"{BASE_URL}feed.xml", html_base_url=BASE_URL)
    )
    body = feed.entries[0].content[0].value
    for story in digest.stories:
        assert (f"story-{story.id}" in body) is story.front_page
