"""One story, many sources: feeds over a real local server and seeds, through the real
pipeline into a real database, out through the digest and ``export``."""

from __future__ import annotations

import html
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from bench.farm import Farm
from feedbrief.app import App
from feedbrief.cli import app as cli
from feedbrief.settings import Settings
from ingest.records import Article
from ingest.seeds import load_seed
from tests.conftest import SEED, shared_path

runner = CliRunner()

NOTE = "This story was first published by a partner site and is republished with permission."
TRAM = (
    "The regional council voted on Tuesday to extend the tram line to the harbour, a project "
    "that has been debated for more than a decade.",
    "Supporters say the line will cut journeys by a third, while opponents warn about the "
    "cost overruns seen on the first section. Construction is due to start next spring.",
)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def settings(database_url: str, tmp_path: Path, concurrency: int = 8) -> Settings:
    return Settings.model_validate(
        {
            "database": {"url": database_url},
            "digest": {"dir": str(tmp_path / "digests"), "timezone": "UTC"},
            "seeds": {"dir": str(tmp_path / "seeds")},
            "feeds": {
                "connect_timeout": 2,
                "read_timeout": 5,
                "total_timeout": 10,
                "concurrency": concurrency,
            },
        }
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def application(database_url: str, tmp_path: Path, clock: Clock) -> Iterator[App]:
    app = App(settings(database_url, tmp_path), clock=clock)
    yield app
    app.close()


def seed_article() -> Article:
    [article] = load_seed(SEED, SEED.parent).articles
    return article


def body(paragraphs: list[str] | tuple[str, ...]) -> str:
    return "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)


def rss(title: str, entries: list[tuple[str, str, str, str]]) -> str:
    """An RSS 2.0 feed of (guid, title, link, html body) entries."""
    items = "".join(
        f"<item><guid isPermaLink='false'>{guid}</guid><title>{html.escape(heading)}</title>"
        f"<link>{html.escape(link)}</link><pubDate>Wed, 25 Nov 2026 07:00:00 GMT</pubDate>"
        f"<description><![CDATA[{content}]]></description></item>"
        for guid, heading, link, content in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>http://example.com/</link>{items}</channel></rss>"
    )


def json_feed(title: str, entries: list[tuple[str, str, str, str]]) -> str:
    items = [
        {"id": guid, "title": heading, "url": link, "content_html": content}
        for guid, heading, link, content in entries
    ]
    return json.dumps(
        {"version": "https://jsonfeed.org/version/1.1", "title": title, "items": items}
    )


def serve_syndicated_copies(httpserver: HTTPServer) -> list[str]:
    """Three feeds carrying the seed article, each retouched differently; the first one
    also carries an article of its own."""
    seed = seed_article()
    paragraphs = seed.paragraphs
    feeds = {
        "/courier.xml": rss(
            "Daily Courier",
            [
                (
                    "courier-ukraine-1",
                    seed.title,
                    "https://Courier.example/world/ukraine-troops/?utm_source=rss&utm_medium=feed",
                    body(paragraphs),
                ),
                (
                    "courier-tram-2",
                    "Tram line to reach the harbour",
                    "https://courier.example/local/tram?utm_source=rss",
                    body(TRAM),
                ),
            ],
        ),
        "/post.xml": rss(
            "Evening Post",
            [
                (
                    "tag:post.example,2026:4411",
                    f"UPDATED: {seed.title}",
                    "https://post.example/2026/11/25/ukraine?utm_campaign=partner&id=7",
                    body([*paragraphs, NOTE]),
                ),
            ],
        ),
        "/wire.json": json_feed(
            "Wire Service",
            [
                (
                    "wire-9981",
                    f"{seed.title} | Wire",
                    "https://wire.example/a/9981?utm_source=partners&fbclid=x1",
                    body([*paragraphs[:-1], NOTE]),
                ),
            ],
        ),
    }
    for path, text in feeds.items():
        kind = "application/feed+json" if path.endswith(".json") else "application/rss+xml"
        httpserver.expect_request(path).respond_with_data(text, content_type=kind)
    return [httpserver.url_for(path) for path in feeds]


def export(config: Path) -> list[dict]:
    result = runner.invoke(cli, ["export", "--config", str(config)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def config_file(app: App, tmp_path: Path) -> Path:
    path = tmp_path / "feedbrief.toml"
    path.write_text(
        f"[database]\nurl = {json.dumps(app.settings.database.url)}\n"
        f"[digest]\ndir = {json.dumps(str(app.settings.digest.dir))}\ntimezone = 'UTC'\n",
        encoding="utf-8",
    )
    return path


def test_a_syndicated_story_is_one_digest_entry_with_every_source(
    application: App, httpserver: HTTPServer, clock: Clock, tmp_path: Path
) -> None:
    seeds = application.seeds_dir
    seeds.mkdir()
    shutil.copy(SEED, seeds / SEED.name)
    [row] = application.replay()
    assert row.status == "new"
    clock.now += timedelta(hours=1)
    for url in serve_syndicated_copies(httpserver):
        application.storage.add_feed(url, application.now())
    results = application.refresh_feeds()
    assert sorted((r.status, r.new, r.linked) for r in results) == [
        ("ok", 1, 1),
        ("ok", 1, 1),
        ("ok", 2, 1),
    ]

    rows = {row["guid"]: row for row in export(config_file(application, tmp_path))}
    seed_guid = SEED.name
    ukraine = [seed_guid, "courier-ukraine-1", "tag:post.example,2026:4411", "wire-9981"]
    assert {rows[guid]["story"] for guid in ukraine} == {rows[seed_guid]["story"]}
    assert rows["courier-tram-2"]["story"] != rows[seed_guid]["story"]
    assert [rows[guid]["canonical_url"] for guid in ukraine] == [
        None,  # a seed file has no URL
        "https://courier.example/world/ukraine-troops",
        "https://post.example/2026/11/25/ukraine?id=7",
        "https://wire.example/a/9981",
    ]
    assert rows["courier-tram-2"]["canonical_url"] == "https://courier.example/local/tram"

    digest = json.loads((application.settings.digest.dir / "2026-11-25.json").read_text())
    stories = {story["id"]: story for story in digest["stories"]}
    assert len(stories) == 2
    story = stories[rows[seed_guid]["story"]]
    assert story["title"] == seed_article().title
    assert story["summary"] == rows[seed_guid]["summary"]
    assert sorted(source["name"] for source in story["sources"]) == [
        "Daily Courier",
        "Evening Post",
        "Wire Service",
        f"seed:{SEED.name}",
    ]
    tram = stories[rows["courier-tram-2"]["story"]]
    assert [source["name"] for source in tram["sources"]] == ["Daily Courier"]


def test_every_farm_copy_joins_its_original_and_no_originals_merge(
    database_url: str, tmp_path: Path, clock: Clock
) -> None:
    shared_path("tools", "feedfarm.py")
    data = [shared_path("data", name) for name in ("summ-dev-bbc.jsonl", "summ-dev-xsum.jsonl")]
    # Eight feeds stored at once: copies and originals meet in concurrent transactions.
    application = App(settings(database_url, tmp_path, concurrency=8), clock=clock)
    try:
        with Farm(data, feeds=20, items=6, extra_args=["--overlap", "0.2"]) as farm:
            for url in farm.feed_urls():
                application.storage.add_feed(url, application.now())
            truth = farm.truth()
            results = application.refresh_feeds()
        story = {item.guid: item.story_id for item in application.storage.iter_items()}
    finally:
        application.close()
    assert [r.status for r in results] == ["ok"] * 20
    assert len(truth) == 24
    assert len(story) == 20 * 6 + len(truth)
    unlinked = {copy: orig for copy, orig in truth.items() if story[copy] != story[orig]}
    assert unlinked == {}
    originals = [guid for guid in story if guid not in truth]
    assert len({story[guid] for guid in originals}) == len(originals) == 120
