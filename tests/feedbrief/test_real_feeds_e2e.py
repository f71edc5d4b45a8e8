"""143 real-world feeds (../shared/data/feeds) served over HTTP and ingested in one pass.

Every feed is served from a local server with a charset-free Content-Type
(``application/xml``, or ``application/feed+json`` for ``.json``), so each file's
encoding is found from its own bytes: Shift_JIS, EUC-JP, Big5, KOI8-R, windows-1251 and
the rest, including the files that declare the wrong one. All are subscribed, and one
``App.refresh_feeds()`` pass fetches, parses, summarises and stores them.

The expectation for each feed comes from ``parse_feed`` on the same bytes with the same
headers: every entry it recovers is stored, one row per distinct guid (a feed that lists
an item twice stores it once). Separately, ``parse_feed`` must recover as many entries as
MANIFEST.tsv says feedparser does (for JSON Feed, which feedparser cannot read, as many
as the document's ``items``). A malformed feed keeps what was recovered and says why;
a feed with nothing recovered is an error in ``feedbrief status``; no other feed fails.
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import combinations
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from sqlalchemy import Row, create_engine, select
from typer.testing import CliRunner

from feedbrief.app import App
from feedbrief.cli import app as cli
from feedbrief.settings import Settings
from ingest.parse import parse_feed
from storage import SourceState
from storage.models import Item
from tests.conftest import shared_path

# 50 to 110 s on two cores: 7,100 items fetched, parsed, summarised and stored.
pytestmark = pytest.mark.slow

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
JSON_FEED = "application/feed+json"
XML = "application/xml"


def media_type(name: str) -> str:
    return JSON_FEED if name.endswith(".json") else XML


def serve_directory(directory: Path) -> ThreadingHTTPServer:
    """A server on 127.0.0.1 that answers ``GET /NAME`` with the bytes of a file in
    *directory*, with the Content-Type of :func:`media_type` and no charset."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = directory / unquote(self.path.lstrip("/"))
            if path.parent != directory or not path.is_file():
                self.send_error(404)
                return
            body = path.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", media_type(path.name))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: pytest shows the failures that matter."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    return server


@dataclass(frozen=True)
class Recovered:
    """What ``parse_feed`` recovers from one file as the server sends it."""

    entries: int
    guids: int  # distinct


def recover(directory: Path, urls: dict[str, str]) -> dict[str, Recovered]:
    """The expectation for every file, from the parser alone (no HTTP, no storage)."""
    recovered = {}
    for name, url in urls.items():
        body = (directory / name).read_bytes()
        parsed = parse_feed(body, url=url, headers={"Content-Type": media_type(name)})
        guids = {entry.guid for entry in parsed.entries}
        recovered[name] = Recovered(len(parsed.entries), len(guids))
    return recovered


@dataclass(frozen=True)
class Corpus:
    directory: Path
    manifest: dict[str, dict[str, str]]  # file name -> its MANIFEST.tsv row

    def json_items(self, name: str) -> int:
        return len(json.loads((self.directory / name).read_bytes())["items"])


@dataclass(frozen=True)
class Ingested:
    corpus: Corpus
    urls: dict[str, str]  # file name -> the URL it was served at
    recovered: dict[str, Recovered]
    feeds: dict[str, SourceState]  # file name -> the feed's state after the pass
    refreshed: set[str]  # URLs the pass reported on
    database_url: str
    items: int


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    manifest_path = shared_path("data", "feeds", "MANIFEST.tsv")
    with manifest_path.open(newline="", encoding="utf-8") as rows:
        manifest = {row["file"]: row for row in csv.DictReader(rows, delimiter="\t")}
    return Corpus(manifest_path.parent / "real", manifest)


@pytest.fixture(scope="module")
def ingested(corpus: Corpus, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ingested]:
    """One refresh pass over the whole corpus, on a SQLite file, at a fixed time.

    The expectations are parsed in another process meanwhile: the pass keeps one core
    busy, and parsing 22 MB of feeds a second time would add a quarter to the test.
    """
    tmp = tmp_path_factory.mktemp("real-feeds")
    database_url = f"sqlite:///{tmp / 'feedbrief.db'}"
    settings = Settings.model_validate(
        {
            "database": {"url": database_url},
            "digest": {"dir": str(tmp / "digests"), "timezone": "UTC"},
            "seeds": {"dir": str(tmp / "seeds")},
            "feeds": {"connect_timeout": 5, "read_timeout": 10, "total_timeout": 30},
        }
    )
    server = serve_directory(corpus.directory)
    host, port = server.server_address[:2]
    urls = {name: f"http://{host}:{port}/{name}" for name in corpus.manifest}
    # Spawned, not forked: earlier tests may have left threads (and their locks) behind.
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        expected = pool.submit(recover, corpus.directory, urls)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        app = App(settings, clock=lambda: NOW)
        try:
            for url in urls.values():
                app.storage.add_feed(url, NOW)
            results = app.refresh_feeds()
            by_url = {feed.url: feed for feed in app.storage.sources("feed")}
            yield Ingested(
                corpus=corpus,
                urls=urls,
                recovered=expected.result(),
                feeds={name: by_url[url] for name, url in urls.items()},
                refreshed={result.url for result in results},
                database_url=database_url,
                items=app.storage.count_items(),
            )
        finally:
            app.close()
            server.shutdown()
            server.server_close()


def test_the_parser_recovers_as_many_entries_as_the_manifest_says(ingested: Ingested) -> None:
    counts = {name: recovered.entries for name, recovered in ingested.recovered.items()}
    expected = {
        name: ingested.corpus.json_items(name) if name.endswith(".json") else int(row["entries"])
        for name, row in ingested.corpus.manifest.items()
    }

    assert counts == expected


def test_every_recovered_entry_is_stored_once_per_guid(ingested: Ingested) -> None:
    stored = {name: feed.items for name, feed in ingested.feeds.items()}
    expected = {name: recovered.guids for name, recovered in ingested.recovered.items()}

    assert stored == expected
    assert ingested.items == sum(expected.values())
    assert ingested.items > 7000  # the corpus is 7,122 entries, a few of them repeats


def test_every_feed_is_refreshed_in_the_one_pass(ingested: Ingested) -> None:
    assert ingested.refreshed == set(ingested.urls.values())
    assert all(feed.last_checked_at == NOW for feed in ingested.feeds.values())


def test_malformed_feeds_keep_their_entries_and_say_why(ingested: Ingested) -> None:
    malformed = [
        name
        for name, row in ingested.corpus.manifest.items()
        if row["bozo"] == "1" and not name.endswith(".json")
    ]
    assert len(malformed) == 20
    for name in malformed:
        feed = ingested.feeds[name]
        assert (feed.last_error or "").startswith("malformed feed: "), name
        if ingested.recovered[name].entries:
            assert (feed.error_count, feed.last_success_at) == (0, NOW), name


def test_feeds_with_nothing_recovered_are_errors_in_status(
    ingested: Ingested, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = sorted(name for name, recovered in ingested.recovered.items() if not recovered.entries)
    assert empty == ["arts-and-ego-broken.xml", "reuters-mostread-truncated.rss"]
    monkeypatch.setenv("FEEDBRIEF_DATABASE_URL", ingested.database_url)
    # Wide enough that every row of the table is one line.
    monkeypatch.setenv("COLUMNS", "1000")

    status = CliRunner().invoke(cli, ["status"])

    assert status.exit_code == 0, status.output
    lines = status.stdout.splitlines()
    for name in empty:
        feed = ingested.feeds[name]
        assert feed.error_count == 1 and feed.last_success_at is None, name
        [row] = [line for line in lines if ingested.urls[name] in line]
        assert "malformed feed: SAXParseException" in row
    total = len(ingested.urls)
    assert (
        f"{total} feeds: {total - len(empty)} healthy, {len(empty)} failing (in backoff), "
        f"0 retired; {ingested.items} items stored"
    ) in status.stdout


def test_one_bad_feed_never_stops_the_others(ingested: Ingested) -> None:
    failing = {name for name, feed in ingested.feeds.items() if feed.error_count}
    broken = {name for name, recovered in ingested.recovered.items() if not recovered.entries}

    assert failing == broken
    healthy = [feed for name, feed in ingested.feeds.items() if name not in broken]
    assert all(feed.last_success_at == NOW and feed.title for feed in healthy)


# The front page of the real corpus. At NOW almost every item is months or years old, so
# the day's digest holds only the undated ones; with max_age lifted, every story counts,
# which is what a reader sees the day a backlog arrives under new guids.
MAX_PAGE_BYTES = 100 * 1024
MAX_PAGE_WORDS = 3000


def write_front_page(ingested: Ingested, directory: Path, **digest: object) -> dict[str, object]:
    settings = Settings.model_validate(
        {
            "database": {"url": ingested.database_url},
            "digest": {"dir": str(directory), "timezone": "UTC", **digest},
        }
    )
    app = App(settings, clock=lambda: NOW)
    try:
        app.digests.write(NOW.date())
    finally:
        app.close()
    return dict(json.loads((directory / f"{NOW.date()}.json").read_text()))


@pytest.mark.parametrize("max_age", ["2d", "36500d"], ids=["backlog-out", "everything"])
def test_the_real_corpus_front_page_is_a_ten_minute_read(
    ingested: Ingested, tmp_path: Path, max_age: str
) -> None:
    from tests.digest.test_front_page import text_words

    digest = write_front_page(ingested, tmp_path, max_age=max_age)
    stories = digest["stories"]
    page = (tmp_path / f"{NOW.date()}.html").read_text(encoding="utf-8")
    full_list = (tmp_path / f"{NOW.date()}-all.html").read_text(encoding="utf-8")

    assert len(page.encode()) <= MAX_PAGE_BYTES
    assert text_words(page) <= MAX_PAGE_WORDS
    assert [s["rank"] for s in stories] == list(range(1, len(stories) + 1))
    assert full_list.count("<li") >= len(stories)
    top = [s for s in stories if s["section"] == "Top stories"]
    assert len(top) == 10
    # No publisher holds more than two of the Top stories (heise has two feeds).
    sources = [s["source"] for s in top]
    assert max(map(sources.count, sources)) <= 2
    if max_age == "2d":
        assert 0 < len(stories) < 1000  # the undated items only
    else:
        assert len(stories) > 6000
        assert sum(s["front_page"] for s in stories) < 200


# An independent judge of wrong merges (issue 14), knowing nothing of the linking rule:
# two items of one story are different articles when their titles share under 30 % of
# their words, their texts under 20 % of their word 5-grams, or their texts are too short
# to compare (under the near-duplicate floor) and neither URL nor guid says they are one.
# None of the 143 feeds syndicates another, so such a story is a wrong merge.
TITLE_FLOOR = 0.3
TEXT_FLOOR = 0.2
SHORT_WORDS = 30
# None since two items of one feed with different guids need like titles to be one story
# (docs/dedup.md has the counts before and after each rule).
MAX_WRONG_MERGES = 0


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


def _share(a: set[object], b: set[object]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def _different_articles(one: Row[Any], other: Row[Any]) -> bool:
    titles = set(_words(one.title)), set(_words(other.title))
    if all(titles) and _share(*titles) < TITLE_FLOOR:
        return True
    words = _words(one.text), _words(other.text)
    if min(map(len, words)) < SHORT_WORDS:
        same_url = one.url is not None and one.url == other.url
        return not same_url and one.guid != other.guid
    grams = [{tuple(w[i : i + 5]) for i in range(len(w) - 4)} for w in words]
    return _share(*grams) < TEXT_FLOOR


def wrong_merges(database_url: str) -> list[int]:
    """Stories holding two items the judge says are different articles."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(Item.story_id, Item.guid, Item.url, Item.title, Item.text).order_by(
                    Item.story_id, Item.id
                )
            ).all()
    finally:
        engine.dispose()
    stories: dict[int, list[Row[Any]]] = {}
    for row in rows:
        stories.setdefault(row.story_id, []).append(row)
    return [
        story
        for story, items in stories.items()
        if any(_different_articles(a, b) for a, b in combinations(items, 2))
    ]


def test_different_articles_of_the_real_corpus_are_rarely_one_story(ingested: Ingested) -> None:
    wrong = wrong_merges(ingested.database_url)

    assert len(wrong) <= MAX_WRONG_MERGES, f"{len(wrong)} wrong merges: {wrong}"
