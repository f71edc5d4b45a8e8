"""``feedbrief relink`` on a database whose stories the old rules made: one feed's
episodes merged by their shared footer, and a syndicated copy left apart. Real storage
(SQLite and PostgreSQL), the real pipeline, the command as a user runs it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, update
from typer.testing import CliRunner

from dedup.fingerprint import encode, fingerprint
from feedbrief.app import App
from feedbrief.cli import app as cli
from feedbrief.settings import Settings
from ingest.records import Article
from storage import SourceUpdate
from storage.models import FeedBoilerplate, Item, Story
from tests.feedbrief.test_feed_boilerplate import FOOTER, TOPICS
from tests.storage.helpers import raw_session

DAY_ONE = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
DAY_TWO = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
REPORT = (
    "The harbour authority published plans for a new ferry terminal on Monday, replacing "
    "the sheds on the north quay. It would open in three years and serve four islands.\n\n"
    "Fishermen asked for guarantees that their winter moorings would stay, and the "
    "authority promised them a consultation of their own next month, before any work."
)


def episodes() -> list[Article]:
    return [
        Article(
            guid=f"ep{n}",
            title=f"Episode {n}: {topic}",
            text="\n\n".join([f"In this episode: {topic}.", *FOOTER]),
        )
        for n, topic in enumerate(TOPICS)
    ]


@pytest.fixture
def application(database_url: str, tmp_path: Path) -> App:
    settings = Settings.model_validate(
        {"database": {"url": database_url}, "digest": {"dir": str(tmp_path), "timezone": "UTC"}}
    )
    app = App(settings)
    yield app
    app.close()


def store(app: App, url: str, articles: list[Article], now: datetime) -> int:
    source = app.storage.ensure_source("feed", url, None, now)
    app.pipeline.store_articles(source, articles, SourceUpdate(checked_at=now))
    return source


def stories(app: App) -> dict[str, int]:
    return {item.guid: item.story_id for item in app.storage.iter_items()}


def old_links(app: App, show: int) -> None:
    """What the old rules left: the show's episodes in one story (with fingerprints of
    their whole text and no boilerplate record), the copy in a story of its own."""
    with raw_session(app.storage) as session, session.begin():
        ids = session.scalars(select(Item.id).where(Item.source_id == show).order_by(Item.id))
        first, *rest = ids
        story = session.scalar(select(Item.story_id).where(Item.id == first))
        session.execute(update(Item).where(Item.id.in_(rest)).values(story_id=story))
        for item in session.scalars(select(Item).where(Item.source_id == show)):
            item.fingerprint = encode(fingerprint(item.text))  # type: ignore[arg-type]
        session.execute(FeedBoilerplate.__table__.delete())
        apart = session.scalar(insert(Story).values(first_seen_at=DAY_TWO).returning(Story.id))
        session.execute(update(Item).where(Item.guid == "copy").values(story_id=apart))
        session.execute(
            Story.__table__.delete().where(
                ~select(Item.id).where(Item.story_id == Story.id).exists()
            )
        )


def test_relink_splits_old_wrong_merges_and_joins_missed_copies(
    application: App, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    show = store(application, "http://show.example/feed", episodes(), DAY_ONE)
    store(
        application, "http://news.example/feed", [Article("report", "Ferry plans", REPORT)], DAY_ONE
    )
    copy = Article("copy", "Ferry plans | Wire", REPORT + "\n\nRepublished with permission.")
    store(application, "http://wire.example/feed", [copy], DAY_TWO)
    now_right = stories(application)
    assert len(set(now_right.values())) == 6  # five episodes, one report with its copy
    old_links(application, show)
    monkeypatch.setenv("FEEDBRIEF_DATABASE_URL", database_url)
    runner = CliRunner()

    recent = runner.invoke(cli, ["relink", "--since", "2026-11-25"])
    after_recent = stories(application)
    full = runner.invoke(cli, ["relink"])

    assert recent.exit_code == 0, recent.output
    assert (
        "1 items relinked: 0 stories split, 1 merged, 1 items moved; 7 items before, 7 after"
        in recent.stdout
    )
    assert after_recent["copy"] == after_recent["report"]
    assert len({after_recent[f"ep{n}"] for n in range(5)}) == 1  # before the day: untouched
    assert full.exit_code == 0, full.output
    assert (
        "7 items relinked: 1 stories split, 0 merged, 4 items moved; 7 items before, 7 after"
        in full.stdout
    )
    final = stories(application)
    assert len({final[f"ep{n}"] for n in range(5)}) == 5
    assert final["copy"] == final["report"]
    assert application.storage.boilerplate(show)
    with raw_session(application.storage) as session:
        assert session.scalar(select(func.count(Story.id))) == len(set(final.values()))
        earliest = select(func.min(Item.first_seen_at)).where(Item.story_id == Story.id)
        assert not session.scalars(
            select(Story.id).where(Story.first_seen_at != earliest.scalar_subquery())
        ).all()


def test_relink_of_an_empty_database_changes_nothing(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEEDBRIEF_DATABASE_URL", database_url)

    result = CliRunner().invoke(cli, ["relink"])

    assert result.exit_code == 0, result.output
    assert "0 items relinked: 0 stories split, 0 merged, 0 items moved" in result.stdout
