"""The digest writer: a day built from storage, and feed.xml rebuilt on every write from
the digests on disk."""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from digest import build as digests_module
from digest.atom import render_atom
from digest.build import DigestWriter
from digest.model import Digest, load_digest_json, load_recent_digests, render_json
from digest.render_html import render_html
from digest.select import Rules
from storage import ItemData, Storage, StoryRow, SummaryData
from tests.storage.helpers import save_item

DAY = date(2026, 11, 20)
BASE_URL = "https://example.org/digests/"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def store_story(storage: Storage, n: int, when: datetime) -> None:
    source = storage.ensure_source("seed", f"seed:story-{n}", f"Source {n}", when)
    data = ItemData(
        guid=f"story-{n}", title=f"Story number {n}", text=f"Body {n}.", content_hash=f"h{n}"
    )
    save_item(storage, source, data, SummaryData("default", (f"Summary {n}.",)), when)


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Storage, DigestWriter, Clock]:
    storage = Storage.open(f"sqlite:///{tmp_path / 'feedbrief.db'}")
    clock = Clock(datetime(2026, 11, 20, 12, tzinfo=UTC))
    writer = DigestWriter(
        storage, tmp_path / "digests", tz=UTC, tz_name="UTC", base_url=BASE_URL, clock=clock
    )
    return storage, writer, clock


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[date]:
    """The days whose HTML body the digest writer renders, in order, from now on."""
    days: list[date] = []
    real = digests_module.render_html_body

    def counting(digest: Digest) -> str:
        days.append(digest.date)
        return real(digest)

    monkeypatch.setattr(digests_module, "render_html_body", counting)
    return days


def fresh_feed(directory: Path) -> str:
    return render_atom(
        load_recent_digests(directory, digests_module.FEED_DIGESTS),
        feed_url=f"{BASE_URL}feed.xml",
        html_base_url=BASE_URL,
    )


def test_feed_after_rewrites_is_what_a_fresh_build_gives(
    setup: tuple[Storage, DigestWriter, Clock],
) -> None:
    storage, writer, clock = setup
    for offset in range(3):
        day = DAY - timedelta(days=offset)
        clock.now = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=9)
        store_story(storage, offset, clock.now)
        writer.write(day)
    clock.now += timedelta(hours=1)
    store_story(storage, 10, clock.now)  # one more story on the oldest day
    writer.write(clock.now.date())

    feed = (writer.directory / "feed.xml").read_text()
    assert feed == fresh_feed(writer.directory)
    assert "Story number 10" in feed and "Story number 0" in feed


def test_rewriting_one_day_renders_only_that_days_entry_again(
    setup: tuple[Storage, DigestWriter, Clock], rendered: list[date]
) -> None:
    storage, writer, clock = setup
    for offset in range(3):
        day = DAY - timedelta(days=offset)
        store_story(storage, offset, clock.now)
        writer.write(day)
    rendered.clear()
    clock.now += timedelta(minutes=5)
    writer.write(DAY)
    assert rendered == [DAY]


def test_the_days_page_and_feed_entry_share_one_render(
    setup: tuple[Storage, DigestWriter, Clock], rendered: list[date]
) -> None:
    storage, writer, _ = setup
    store_story(storage, 1, datetime(2026, 11, 20, 9, tzinfo=UTC))
    writer.write(DAY)
    assert rendered == [DAY]
    page = load_digest_json(writer.directory / f"{DAY}.json")
    assert (writer.directory / f"{DAY}.html").read_text() == render_html(page)
    assert (writer.directory / "feed.xml").read_text() == fresh_feed(writer.directory)


def test_a_body_is_not_reused_for_a_different_digest_of_the_same_moment(
    setup: tuple[Storage, DigestWriter, Clock],
) -> None:
    """Bodies are remembered by (day, generated at); a file changed behind the writer's
    back under the same stamp is rendered again, not served from the cache."""
    storage, writer, clock = setup
    store_story(storage, 1, clock.now)
    writer.write(DAY)
    path = writer.directory / f"{DAY}.json"
    digest = load_digest_json(path)
    changed = replace(digest, stories=(replace(digest.stories[0], title="Changed title"),))
    path.write_text(render_json(changed))

    writer.write(DAY - timedelta(days=1))  # rebuilds the feed from the files on disk

    feed = (writer.directory / "feed.xml").read_text()
    assert "Changed title" in feed
    assert feed == fresh_feed(writer.directory)


def test_a_new_writer_removes_what_a_killed_write_left(tmp_path: Path) -> None:
    directory = tmp_path / "digests"
    directory.mkdir()
    left = directory / ".2026-11-20.html.q1w2e3r4.tmp"
    left.write_text("<half a page")
    os.utime(left, (0, 0))
    storage = Storage.open(f"sqlite:///{tmp_path / 'feedbrief.db'}")
    try:
        with capture_logs() as logs:
            DigestWriter(
                storage,
                directory,
                tz=UTC,
                tz_name="UTC",
                base_url=BASE_URL,
                clock=Clock(datetime.now(UTC)),
            )
    finally:
        storage.close()
    assert not left.exists()
    assert [entry["path"] for entry in logs if entry["log_level"] == "warning"] == [str(left)]


def test_a_written_day_is_a_ranked_front_page_with_its_full_list(
    setup: tuple[Storage, DigestWriter, Clock],
) -> None:
    storage, writer, clock = setup
    for n in range(3):
        store_story(storage, n, clock.now)
    paths = writer.write(DAY)
    assert [p.name for p in paths] == [
        "2026-11-20.md",
        "2026-11-20.html",
        "2026-11-20-all.html",
        "2026-11-20.json",
    ]
    digest = load_digest_json(writer.directory / f"{DAY}.json")
    assert digest.sections == ("Top stories",)
    assert digest.base_url == BASE_URL
    assert [(s.rank, s.coverage, s.front_page) for s in digest.stories] == [
        (1, 1, True),
        (2, 1, True),
        (3, 1, True),
    ]
    assert f'href="{BASE_URL}2026-11-20-all.html"' in (writer.directory / f"{DAY}.html").read_text()
    assert "Story number 2" in (writer.directory / f"{DAY}-all.html").read_text()


def store_feed_item(
    storage: Storage,
    feed: str,
    n: int,
    when: datetime,
    *,
    published: datetime | None = None,
    text: str = "An ordinary report.",
    language: str | None = None,
) -> None:
    source = storage.source(f"https://{feed}.example/rss")
    assert source is not None
    data = ItemData(
        guid=f"{feed}-{n}",
        title=f"{feed} story {n}",
        text=text,
        content_hash=f"{feed}{n}",
        url=f"https://{feed}.example/{n}",
        published_at=published,
        language=language,
    )
    save_item(storage, source.id, data, SummaryData("default", (f"Summary {n}.",)), when)


def test_a_day_from_storage_keeps_backlog_and_blocked_items_out(tmp_path: Path) -> None:
    """The digest reads the feeds' options and the items' first-seen time, language and
    (for a feed's rule on the text) text from storage."""
    storage = Storage.open(f"sqlite:///{tmp_path / 'feedbrief.db'}")
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    storage.add_feed("https://world.example/rss", now, category="World", weight=2.0)
    storage.add_feed("https://tech.example/rss", now, category="Tech", block="casino")
    storage.add_feed("https://misc.example/rss", now)
    store_feed_item(storage, "world", 1, now, published=now - timedelta(hours=3), language="fr")
    store_feed_item(storage, "world", 2, now, published=now - timedelta(days=30))  # backlog
    store_feed_item(storage, "tech", 3, now, text="Win big at the CASINO tonight.")  # blocked
    store_feed_item(storage, "tech", 4, now)
    store_feed_item(storage, "misc", 5, now, published=now - timedelta(hours=1))
    writer = DigestWriter(
        storage, tmp_path / "d", tz=UTC, tz_name="UTC", base_url=BASE_URL, clock=Clock(now)
    )
    try:
        digest = writer.build(DAY)
        assert [(s.title, s.rank, s.category, s.language) for s in digest.stories] == [
            ("world story 1", 1, "World", "fr"),  # the heavier feed
            ("tech story 4", 2, "Tech", None),  # undated: as new as when first seen
            ("misc story 5", 3, None, None),
        ]
        kept = Rules.compile(timedelta(days=2), keep=["story [45]"])
        writer.rules = kept
        assert [s.title for s in writer.build(DAY).stories] == ["tech story 4", "misc story 5"]
    finally:
        storage.close()


class ReadRecordingStorage(Storage):
    """Storage that keeps the story rows of its last day read, as the digest got them."""

    last_read: list[StoryRow]

    def stories_first_seen(
        self, start: datetime, end: datetime, *, with_text: bool | Collection[int] = False
    ) -> list[StoryRow]:
        self.last_read = super().stories_first_seen(start, end, with_text=with_text)
        return self.last_read


def test_item_text_is_read_only_where_a_rule_matches_it(tmp_path: Path) -> None:
    """A feed's own rule reads its items' text, a global rule every item's; a day with
    no rule reads none (text is the bulk of a busy day's read)."""
    storage = ReadRecordingStorage.open(f"sqlite:///{tmp_path / 'feedbrief.db'}")
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    storage.add_feed("https://tech.example/rss", now, block="casino")
    storage.add_feed("https://world.example/rss", now)
    storage.add_feed("https://misc.example/rss", now)
    store_feed_item(storage, "tech", 1, now, text="Win big at the casino tonight.")
    store_feed_item(storage, "tech", 2, now)
    store_feed_item(storage, "world", 3, now, text="A casino opened on the bridge.")
    store_feed_item(storage, "misc", 4, now)
    writer = DigestWriter(
        storage, tmp_path / "d", tz=UTC, tz_name="UTC", base_url=BASE_URL, clock=Clock(now)
    )

    def texts_read() -> dict[str, bool]:
        items = (item for row in storage.last_read for item in row.items)
        return {item.title: item.text is not None for item in items}

    try:
        titles = [s.title for s in writer.build(DAY).stories]
        assert titles == ["tech story 2", "world story 3", "misc story 4"]
        assert texts_read() == {
            "tech story 1": True,
            "tech story 2": True,
            "world story 3": False,
            "misc story 4": False,
        }

        writer.rules = Rules.compile(timedelta(days=2), block=["bridge"])
        assert [s.title for s in writer.build(DAY).stories] == ["tech story 2", "misc story 4"]
        assert set(texts_read().values()) == {True}

        storage.add_feed("https://tech.example/rss", now, block=None)
        writer.rules = Rules()
        assert len(writer.build(DAY).stories) == 4
        assert set(texts_read().values()) == {False}
    finally:
        storage.close()
