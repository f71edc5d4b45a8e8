"""Retention: old items and summaries go, their tombstones and written digests stay, and
a feed that still carries them does not bring them back."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select
from typer.testing import CliRunner

from feedbrief.app import App
from feedbrief.cli import app as cli
from feedbrief.settings import Settings
from storage.models import Summary, Tombstone
from tests.storage.helpers import digest_days, raw_session

runner = CliRunner()

STORIES = {
    "harbour": (
        "Harbour authorities published plans for a new ferry terminal on Monday. The building "
        "would replace the old sheds on the north quay and open in three years."
    ),
    "tram": (
        "The regional council voted on Tuesday to extend the tram line to the harbour, a "
        "project that has been debated for more than a decade."
    ),
    "library": (
        "The city library will open on Sundays from January, after volunteers offered to "
        "staff the reading rooms and the council found money for heating."
    ),
}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def rss(title: str, guids: list[str]) -> str:
    items = "".join(
        f"<item><guid>{guid}</guid><title>{guid.title()} news</title>"
        f"<link>https://{title.lower()}.example/{guid}?utm_source=rss</link>"
        f"<description><![CDATA[<p>{STORIES[guid]}</p>]]></description></item>"
        for guid in guids
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>https://{title.lower()}.example/</link>{items}"
        "</channel></rss>"
    )


def config_file(tmp_path: Path, database_url: str, retention_days: int) -> Path:
    path = tmp_path / "feedbrief.toml"
    path.write_text(
        f"retention_days = {retention_days}\n"
        f"[database]\nurl = {json.dumps(database_url)}\n"
        f"[digest]\ndir = {json.dumps(str(tmp_path / 'digests'))}\ntimezone = 'UTC'\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def make_app(database_url: str, tmp_path: Path) -> Iterator[Callable[[int, Clock], App]]:
    """Apps over one database and digest directory, each with its own clock; the config
    file beside them serves the CLI."""
    apps: list[App] = []

    def make(retention_days: int, clock: Clock) -> App:
        config_file(tmp_path, database_url, retention_days)
        settings = Settings.model_validate(
            {
                "retention_days": retention_days,
                "database": {"url": database_url},
                "digest": {"dir": str(tmp_path / "digests"), "timezone": "UTC"},
                "feeds": {"connect_timeout": 2, "read_timeout": 2, "total_timeout": 5},
            }
        )
        apps.append(App(settings, clock=clock))
        return apps[-1]

    yield make
    for application in apps:
        application.close()


def serve(httpserver: HTTPServer) -> tuple[str, str]:
    httpserver.expect_request("/old.xml").respond_with_data(
        rss("Gazette", ["harbour", "tram"]), content_type="application/rss+xml"
    )
    httpserver.expect_request("/new.xml").respond_with_data(
        rss("Herald", ["library"]), content_type="application/rss+xml"
    )
    return httpserver.url_for("/old.xml"), httpserver.url_for("/new.xml")


def refresh(app: App, url: str) -> tuple[str, int]:
    state = app.storage.source(url)
    assert state is not None
    [result] = app.refresh_feeds([state])
    return result.status, result.new


def count(app: App, model: type) -> int:
    with raw_session(app.storage) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_app_prune_drops_old_items_keeps_digests_and_buries_them(
    make_app: Callable[[int, Clock], App], httpserver: HTTPServer
) -> None:
    clock = Clock(datetime(2026, 8, 1, 8, 0, tzinfo=UTC))
    app = make_app(90, clock)
    old_feed, new_feed = serve(httpserver)
    app.storage.add_feed(old_feed, clock())
    app.storage.add_feed(new_feed, clock())
    assert refresh(app, old_feed) == ("ok", 2)
    old_digest = app.settings.digest.dir / "2026-08-01.json"
    written = old_digest.read_text(encoding="utf-8")
    assert len(json.loads(written)["stories"]) == 2

    clock.now += timedelta(days=80)
    assert refresh(app, new_feed) == ("ok", 1)
    [kept] = [item for item in app.storage.iter_items() if item.guid == "library"]

    clock.now += timedelta(days=15)  # the first feed's items are 95 days old
    assert app.prune().items == 2
    assert [item.guid for item in app.storage.iter_items()] == ["library"]
    assert count(app, Summary) == 1
    assert count(app, Tombstone) == 4  # identity and canonical URL of each
    assert old_digest.read_text(encoding="utf-8") == written
    assert datetime(2026, 8, 1).date() in digest_days(app.storage)

    # The feed still carries them: fetched again, they stay buried.
    assert refresh(app, old_feed) == ("ok", 0)
    [again] = app.storage.iter_items()
    assert again == kept
    assert old_digest.read_text(encoding="utf-8") == written
    assert not (app.settings.digest.dir / f"{clock.now.date().isoformat()}.json").exists()


def test_prune_command_uses_retention_days_from_the_config(
    make_app: Callable[[int, Clock], App], httpserver: HTTPServer, tmp_path: Path
) -> None:
    # The command runs on the real clock, so the items are dated relative to it.
    now = datetime.now(UTC)
    clock = Clock(now - timedelta(days=40))
    app = make_app(30, clock)
    old_feed, new_feed = serve(httpserver)
    app.storage.add_feed(old_feed, clock())
    assert refresh(app, old_feed) == ("ok", 2)
    clock.now = now - timedelta(days=20)
    app.storage.add_feed(new_feed, clock())
    assert refresh(app, new_feed) == ("ok", 1)
    digests = sorted(path.name for path in (tmp_path / "digests").glob("*.json"))
    assert len(digests) == 2

    config = str(tmp_path / "feedbrief.toml")
    result = runner.invoke(cli, ["prune", "--config", config], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "2 items pruned" in result.stdout
    assert [item.guid for item in app.storage.iter_items()] == ["library"]
    assert sorted(path.name for path in (tmp_path / "digests").glob("*.json")) == digests

    clock.now = now
    assert refresh(app, old_feed) == ("ok", 0)
    assert [item.guid for item in app.storage.iter_items()] == ["library"]

    # --days overrides the configured period: ten days keeps nothing here.
    result = runner.invoke(cli, ["prune", "--days", "10", "--config", config])
    assert result.exit_code == 0, result.output
    assert "1 items pruned" in result.stdout
    assert app.storage.count_items() == 0
