"""Feeds end to end: a real local HTTP server, the real pipeline, a real database."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from structlog.testing import capture_logs
from typer.testing import CliRunner
from werkzeug import Request, Response

from feedbrief.app import App
from feedbrief.cli import app as cli
from feedbrief.settings import Settings
from ingest.records import MAX_CONTENT_CHARS
from ingest.schedule import MAX_HINT
from storage import SourceState
from storage.models import Source
from tests.storage.helpers import raw_session

runner = CliRunner()

PARAGRAPH = (
    "The regional council voted on Tuesday to extend the tram line to the harbour, "
    "a project that has been debated for more than a decade. Supporters say the line "
    "will cut journeys by a third, while opponents warn about the cost overruns."
)
SECOND = (
    "Construction is due to start next spring. The mayor said residents along the route "
    "would be consulted on the position of the four new stops before work begins."
)


# Stories other than the tram one: distinct texts, so they are distinct stories.
OTHER = {
    "b": (
        "Harbour authorities published plans for a new ferry terminal on Monday. The "
        "building would replace the sheds on the north quay and open in three years.",
        "Fishermen asked for guarantees that the moorings they use every winter would stay, "
        "and the authority promised a separate consultation with them next month.",
    ),
}


def rss(
    items: list[tuple[str, str]],
    title: str = "Local News",
    ttl: int | None = None,
    dates: dict[str, str] | None = None,
) -> str:
    dates = dates or {}
    entries = "".join(
        f"<item><guid>{guid}</guid><title>{heading}</title><link>/news/{guid}</link>"
        f"<pubDate>{dates.get(guid, 'Tue, 24 Nov 2026 10:00:00 GMT')}</pubDate>"
        "<description><![CDATA[{}]]></description></item>".format(
            "".join(f"<p>{p}</p>" for p in OTHER.get(guid, (f"{heading}. {PARAGRAPH}", SECOND)))
        )
        for guid, heading in items
    )
    ttl_tag = f"<ttl>{ttl}</ttl>" if ttl else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>http://example.com/</link>{ttl_tag}{entries}"
        "</channel></rss>"
    )


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def application(database_url: str, tmp_path: Path, clock: Clock) -> App:
    settings = Settings.model_validate(
        {
            "database": {"url": database_url},
            "digest": {"dir": str(tmp_path / "digests"), "timezone": "UTC"},
            "seeds": {"dir": str(tmp_path / "seeds")},
            "feeds": {"connect_timeout": 2, "read_timeout": 2, "total_timeout": 5},
        }
    )
    app = App(settings, clock=clock)
    yield app
    app.close()


def feed(app: App, url: str) -> SourceState:
    state = app.storage.source(url)
    assert state is not None
    return state


def test_new_feed_is_fetched_stored_and_digested(application: App, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss([("a", "Tram line approved"), ("b", "Harbour plans")]),
        content_type="application/rss+xml",
    )
    url = httpserver.url_for("/feed.xml")
    application.storage.add_feed(url, application.now())
    [result] = application.refresh_feeds()
    assert (result.status, result.new) == ("ok", 2)
    items = list(application.storage.iter_items())
    assert {i.title for i in items} == {"Tram line approved", "Harbour plans"}
    assert all(i.url and i.url.startswith(httpserver.url_for("/news/")) for i in items)
    assert all(len(i.summary) >= 1 for i in items)
    state = feed(application, url)
    assert state.title == "Local News"
    assert state.next_check_at is not None and state.next_check_at > application.now()
    digest = json.loads((application.settings.digest.dir / "2026-11-25.json").read_text())
    assert len(digest["stories"]) == 2


def test_a_feed_is_not_fetched_again_before_its_next_check(
    application: App, httpserver: HTTPServer, clock: Clock
) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(rss([("a", "One")]))
    url = httpserver.url_for("/feed.xml")
    application.storage.add_feed(url, application.now())
    application.refresh_feeds()
    assert application.refresh_feeds() == []
    clock.now += timedelta(hours=7)
    [again] = application.refresh_feeds()
    assert (again.status, again.new) == ("ok", 0)
    assert len(httpserver.log) == 2


def test_conditional_get_and_304(application: App, httpserver: HTTPServer, clock: Clock) -> None:
    stamp = "Tue, 24 Nov 2026 10:00:00 GMT"

    def handler(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"v1"':
            assert request.headers.get("If-Modified-Since") == stamp
            # A 304 may carry a new ETag; it must be stored too.
            return Response(status=304, headers={"ETag": '"v1b"'})
        headers = {"ETag": '"v1"', "Last-Modified": stamp}
        return Response(rss([("a", "One")]), headers=headers, content_type="application/rss+xml")

    httpserver.expect_request("/feed.xml").respond_with_handler(handler)
    url = httpserver.url_for("/feed.xml")
    application.storage.add_feed(url, application.now())
    application.refresh_feeds()
    clock.now += timedelta(hours=7)
    [result] = application.refresh_feeds()
    assert result.status == "not_modified"
    state = feed(application, url)
    assert state.etag == '"v1b"'
    assert state.last_modified == stamp
    assert state.last_status == 304
    assert len(httpserver.log) == 2


def test_an_item_updated_in_place_is_one_item_with_a_new_version(
    application: App, httpserver: HTTPServer, clock: Clock
) -> None:
    httpserver.expect_ordered_request("/feed.xml").respond_with_data(
        rss([("a", "Tram line approved")])
    )
    httpserver.expect_ordered_request("/feed.xml").respond_with_data(
        rss([("a", "Tram line approved, again")])
    )
    url = httpserver.url_for("/feed.xml")
    application.storage.add_feed(url, application.now())
    application.refresh_feeds()
    clock.now += timedelta(hours=7)
    [result] = application.refresh_feeds()
    assert (result.new, result.updated) == (0, 1)
    [item] = application.storage.iter_items()
    assert (item.title, item.version) == ("Tram line approved, again", 2)


def test_errors_back_off_and_recover(
    application: App, httpserver: HTTPServer, clock: Clock
) -> None:
    httpserver.expect_ordered_request("/feed.xml").respond_with_data("down", status=500)
    httpserver.expect_ordered_request("/feed.xml").respond_with_data("down", status=502)
    httpserver.expect_ordered_request("/feed.xml").respond_with_data(rss([("a", "Back")]))
    url = httpserver.url_for("/feed.xml")
    application.storage.add_feed(url, application.now())
    [first] = application.refresh_feeds()
    assert first.status == "error" and "500" in (first.error or "")
    delay1 = feed(application, url).next_check_at - clock.now
    clock.now += delay1
    application.refresh_feeds()
    state = feed(application, url)
    delay2 = state.next_check_at - clock.now
    assert state.error_count == 2
    assert delay2 > delay1 * 1.5, "the second failure waits about twice as long"
    clock.now += delay2
    [last] = application.refresh_feeds()
    assert last.status == "ok"
    assert feed(application, url).error_count == 0


def test_410_retires_the_feed_and_status_shows_it(
    application: App, httpserver: HTTPServer, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    httpserver.expect_request("/gone.xml").respond_with_data("gone", status=410)
    url = httpserver.url_for("/gone.xml")
    application.storage.add_feed(url, application.now())
    [result] = application.refresh_feeds()
    assert result.status == "gone"
    clock.now += timedelta(days=30)
    assert application.refresh_feeds() == []
    assert feed(application, url).retired_reason == "410 Gone"


def test_429_retry_after_is_a_floor_on_the_next_check(
    application: App, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "7200"}
    )
    url = httpserver.url_for("/feed.xml")
    application.storage.add_feed(url, application.now())
    application.refresh_feeds()
    assert feed(application, url).next_check_at - application.now() >= timedelta(hours=2)


def test_rss_ttl_is_a_floor_on_the_next_check(application: App, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(rss([("a", "One")], ttl=300))
    url = httpserver.url_for("/feed.xml")
    application.storage.add_feed(url, application.now())
    application.refresh_feeds()
    assert feed(application, url).next_check_at - application.now() >= timedelta(minutes=300)


def test_an_expires_header_far_ahead_is_the_longest_hint(
    application: App, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss([("a", "One")]), headers={"Expires": "Fri, 31 Dec 9999 23:59:59 GMT"}
    )
    url = httpserver.url_for("/feed.xml")
    application.storage.add_feed(url, application.now())
    application.refresh_feeds()
    assert feed(application, url).next_check_at - application.now() >= MAX_HINT


def test_an_item_dated_years_ahead_is_stored_and_digested_with_its_fetch_time(
    application: App, httpserver: HTTPServer, clock: Clock
) -> None:
    ahead = {"a": "Sun, 19 Aug 2035 08:00:00 GMT", "b": "Mon, 20 Aug 2035 08:00:00 GMT"}
    httpserver.expect_ordered_request("/feed.xml").respond_with_data(
        rss([("a", "Tram line approved")], dates=ahead)
    )
    httpserver.expect_ordered_request("/feed.xml").respond_with_data(
        rss([("a", "Tram line approved"), ("b", "Harbour plans")], dates=ahead)
    )
    url = httpserver.url_for("/feed.xml")
    application.storage.add_feed(url, application.now())
    first_fetch = clock.now
    with capture_logs() as logs:
        application.refresh_feeds()
    [item] = application.storage.iter_items()
    assert item.published_at == item.first_seen_at == first_fetch
    [story] = stories_of(application, "2026-11-25")
    assert datetime.fromisoformat(story["published"]) == first_fetch
    assert future_warnings(logs) == [(url, 1, "2035-08-19T08:00:00+00:00")]

    # A new item dated ahead takes its own fetch's time; the stored one is not reported
    # again, nor changed.
    clock.now += timedelta(hours=7)
    with capture_logs() as logs:
        application.refresh_feeds()
    items = {stored.guid: stored.published_at for stored in application.storage.iter_items()}
    assert items == {"a": first_fetch, "b": clock.now}
    published = {s["title"]: s["published"] for s in stories_of(application, "2026-11-25")}
    assert {title: datetime.fromisoformat(moment) for title, moment in published.items()} == {
        "Tram line approved": first_fetch,
        "Harbour plans": clock.now,
    }
    assert future_warnings(logs) == [(url, 1, "2035-08-20T08:00:00+00:00")]


def stories_of(app: App, day: str) -> list[dict[str, Any]]:
    return json.loads((app.settings.digest.dir / f"{day}.json").read_text())["stories"]


def future_warnings(logs: list[dict[str, Any]]) -> list[tuple[str, int, str]]:
    return [
        (log["feed"], log["items"], log["latest"])
        for log in logs
        if log["event"] == "date.future_replaced" and log["log_level"] == "warning"
    ]


def test_301_moves_the_feed_and_302_does_not(application: App, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/old.xml").respond_with_data(
        "", status=301, headers={"Location": httpserver.url_for("/new.xml")}
    )
    httpserver.expect_request("/temp.xml").respond_with_data(
        "", status=302, headers={"Location": httpserver.url_for("/new.xml")}
    )
    httpserver.expect_request("/new.xml").respond_with_data(rss([("a", "One")]))
    old, temp = httpserver.url_for("/old.xml"), httpserver.url_for("/temp.xml")
    application.storage.add_feed(old, application.now())
    application.storage.add_feed(temp, application.now())
    application.refresh_feeds()
    assert application.storage.source(old) is None
    assert application.storage.source(httpserver.url_for("/new.xml")) is not None
    assert application.storage.source(temp) is not None


def test_one_bad_feed_never_stops_the_others(application: App, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/good.xml").respond_with_data(rss([("a", "Good news")]))
    httpserver.expect_request("/html").respond_with_data(
        "<html><body>Not a feed</body></html>", content_type="text/html"
    )
    httpserver.expect_request("/broken.xml").respond_with_data("<rss><channel><item><title>x")
    httpserver.expect_request("/missing.xml").respond_with_data("no", status=404)
    urls = [httpserver.url_for(p) for p in ("/good.xml", "/html", "/broken.xml", "/missing.xml")]
    for url in urls:
        application.storage.add_feed(url, application.now())
    results = {r.url: r for r in application.refresh_feeds()}
    assert results[urls[0]].new == 1
    assert "not a feed" in (results[urls[1]].error or "")
    # A malformed feed keeps what feedparser recovered; its error shows in status.
    assert results[urls[2]].status == "ok"
    assert (feed(application, urls[2]).last_error or "").startswith("malformed feed:")
    assert "404" in (results[urls[3]].error or "")
    assert application.storage.count_items() == 2


def test_full_text_feeds_fetch_the_page_of_a_teaser(
    application: App, httpserver: HTTPServer
) -> None:
    page = (
        "<html><head><title>Tram line approved</title></head>"
        "<body><article><h1>Tram line approved</h1>"
        + "".join(f"<p>{PARAGRAPH} Part {n}.</p>" for n in range(6))
        + "</article></body></html>"
    )
    httpserver.expect_request("/news/a").respond_with_data(page, content_type="text/html")
    teaser = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        "<item><guid>a</guid><title>Tram line approved</title><link>/news/a</link>"
        "<description>The council voted on Tuesday.</description></item></channel></rss>"
    )
    httpserver.expect_request("/feed.xml").respond_with_data(teaser)
    url = httpserver.url_for("/feed.xml")
    application.storage.add_feed(url, application.now(), full_text=True)
    application.refresh_feeds()
    [item] = application.storage.iter_items()
    assert "Part 5." in item.text


def test_a_full_text_page_is_held_to_the_content_cap(
    application: App, httpserver: HTTPServer
) -> None:
    # A teaser's page is cut to the same cap as a feed entry, before the cleaner sees it:
    # the end of a page of 1.3 million characters never reaches the article. (The filler
    # repeats two paragraphs, which the cleaner then keeps once: the article is short.)
    filler = "".join(f"<p>{PARAGRAPH}</p><p>{SECOND}</p>" for _ in range(3500))
    end = "<p>This paragraph closes the page after more than a million characters.</p>"
    page = (
        f"<html><head><title>T</title></head><body><article>{filler}{end}</article></body></html>"
    )
    assert len(page) > 1.3 * MAX_CONTENT_CHARS
    httpserver.expect_request("/news/a").respond_with_data(page, content_type="text/html")
    teaser = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        "<item><guid>a</guid><title>Tram line approved</title><link>/news/a</link>"
        "<description>The council voted on Tuesday.</description></item></channel></rss>"
    )
    httpserver.expect_request("/feed.xml").respond_with_data(teaser)
    url = httpserver.url_for("/feed.xml")
    application.storage.add_feed(url, application.now(), full_text=True)
    with capture_logs() as logs:
        application.refresh_feeds()
    [item] = application.storage.iter_items()
    assert item.text.startswith(PARAGRAPH)
    assert "closes the page" not in item.text
    [cut] = [log for log in logs if log["event"] == "entry.content_truncated"]
    assert cut["url"] == httpserver.url_for("/news/a")
    assert cut["kept"] == MAX_CONTENT_CHARS


def test_cli_feeds_add_discovers_list_export_import_remove(
    httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEEDBRIEF_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    monkeypatch.setenv("FEEDBRIEF_DIGEST_DIR", str(tmp_path / "digests"))
    httpserver.expect_request("/").respond_with_data(
        '<html><head><link rel="alternate" type="application/rss+xml" href="/feed.xml">'
        "</head></html>",
        content_type="text/html",
    )
    httpserver.expect_request("/feed.xml").respond_with_data(rss([("a", "One")]))
    result = runner.invoke(cli, ["feeds", "add", httpserver.url_for("/")])
    assert result.exit_code == 0, result.output
    feed_url = httpserver.url_for("/feed.xml")
    assert feed_url in runner.invoke(cli, ["feeds", "list"]).stdout
    opml = runner.invoke(cli, ["feeds", "export"]).stdout
    assert f'xmlUrl="{feed_url}"' in opml
    assert runner.invoke(cli, ["feeds", "remove", feed_url]).exit_code == 0
    assert feed_url not in runner.invoke(cli, ["feeds", "list"]).stdout
    (tmp_path / "subs.opml").write_text(opml)
    assert "1 added" in runner.invoke(cli, ["feeds", "import", str(tmp_path / "subs.opml")]).stdout
    refreshed = runner.invoke(cli, ["feeds", "refresh"], terminal_width=200)
    assert refreshed.exit_code == 0 and "ok" in refreshed.stdout
    status = runner.invoke(cli, ["status"], terminal_width=250)
    assert status.exit_code == 0
    assert "1 feeds: 1 healthy, 0 failing (in backoff), 0 retired; 1 items stored" in status.stdout


def test_status_exits_0_and_shows_errors(
    httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEEDBRIEF_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    monkeypatch.setenv("FEEDBRIEF_DIGEST_DIR", str(tmp_path / "digests"))
    httpserver.expect_request("/feed.xml").respond_with_data("nope", status=503)
    url = httpserver.url_for("/feed.xml")
    (tmp_path / "subs.opml").write_text(
        f'<?xml version="1.0"?><opml version="2.0"><body><outline xmlUrl="{url}"/></body></opml>'
    )
    runner.invoke(cli, ["feeds", "import", str(tmp_path / "subs.opml")])
    runner.invoke(cli, ["feeds", "refresh"])
    status = runner.invoke(cli, ["status"], terminal_width=250)
    assert status.exit_code == 0
    assert "HTTP 503" in status.stdout
    assert "1 failing" in status.stdout


def test_feeds_claimed_but_not_started_are_released_on_stop(
    database_url: str, tmp_path: Path, clock: Clock
) -> None:
    """Two feeds run at a time, claimed two at a time: when the first ends, the next two
    are claimed and one waits for a thread. A stop then must not leave that one leased
    (another worker could not take it until the lease ran out)."""
    settings = Settings.model_validate(
        {
            "database": {"url": database_url},
            "digest": {"dir": str(tmp_path / "digests"), "timezone": "UTC"},
            "seeds": {"dir": str(tmp_path / "seeds")},
            "feeds": {"concurrency": 2},
        }
    )
    app = App(settings, clock=clock)
    server = HTTPServer(threaded=True)
    third_fetched = threading.Event()

    def feed_response() -> Response:
        return Response(rss([("a", "Tram line approved")]), content_type="application/rss+xml")

    def slow(_request: Request) -> Response:
        third_fetched.wait(5)  # holds its thread until the third feed is being fetched
        return feed_response()

    def stop_while_fetching(_request: Request) -> Response:
        app.stop.set()
        third_fetched.set()
        return feed_response()

    server.expect_request("/first.xml").respond_with_handler(lambda _request: feed_response())
    server.expect_request("/second.xml").respond_with_handler(slow)
    server.expect_request("/third.xml").respond_with_handler(stop_while_fetching)
    server.start()
    try:
        names = ("first", "second", "third", "fourth")
        urls = [server.url_for(f"/{name}.xml") for name in names]
        for url in urls:
            app.storage.add_feed(url, app.now())

        app.feeds.refresh_due("worker-1")

        fetched = sorted(request.path for request, _ in server.log)
        assert fetched == ["/first.xml", "/second.xml", "/third.xml"]
        with raw_session(app.storage) as session:
            leases = {
                url: owner for url, owner in session.execute(select(Source.url, Source.lease_owner))
            }
        assert leases == dict.fromkeys(urls)
    finally:
        server.clear()
        server.stop()
        app.close()
