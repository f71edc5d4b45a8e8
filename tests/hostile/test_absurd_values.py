"""Absurd values a feed, a server or a seed can carry (issue 16): a date in year 9999, a
max-age, ttl or Retry-After longer than the universe's age, an interval of 99999999999
days. Each is clamped where it enters or dropped with a warning; nothing overflows, the
feed's items are stored and the day's digest is written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedbrief.feeds import RefreshResult
from ingest.refresh import Intervals
from ingest.schedule import JITTER, MAX_BACKOFF, MAX_HINT
from storage import SourceState
from tests.hostile.conftest import (
    BYSTANDER,
    TIGHT_FEEDS,
    VICTIM,
    Arena,
    HostileHandler,
    HostileServer,
    assert_contained,
    document,
    news_feed,
    news_items,
    rss,
)

HUGE = "999999999999999999999"
YEAR_9999 = "Fri, 31 Dec 9999 23:59:59 GMT"
# The latest next check a hint may cause: the cap, lengthened by the jitter, plus slack.
LATEST_HINTED = MAX_HINT * (1 + JITTER) + timedelta(minutes=5)


def dated_9999(prefix: str, count: int) -> bytes:
    items = [
        item.replace("</item>", f"<pubDate>{YEAR_9999}</pubDate></item>")
        for item in news_items(prefix, count)
    ]
    return rss(items, "Far Future")


def test_huge_max_age_is_capped_and_the_items_are_stored(arena: Arena) -> None:
    primed = arena.prime()
    headers = {"Cache-Control": f"max-age={HUGE}"}
    outcome = arena.attack(document(news_feed("victim", 5), headers=headers))

    assert_contained(outcome, arena, primed)
    assert outcome.result(arena.victim)["status"] == "ok", outcome.log[-2000:]
    assert len(arena.items(arena.victim)) == 5
    checked = arena.source(arena.victim)
    assert checked.next_check_at is not None
    assert checked.next_check_at <= datetime.now(UTC) + LATEST_HINTED


def test_huge_rss_ttl_is_capped_and_the_items_are_stored(arena: Arena) -> None:
    primed = arena.prime()
    body = news_feed("victim", 4).replace(
        b"<link>http://example.com/</link>",
        b"<link>http://example.com/</link><ttl>99999999999999999999</ttl>",
        1,
    )
    outcome = arena.attack(document(body))

    assert_contained(outcome, arena, primed)
    assert outcome.result(arena.victim)["status"] == "ok", outcome.log[-2000:]
    assert len(arena.items(arena.victim)) == 4
    assert arena.source(arena.victim).next_check_at <= datetime.now(UTC) + LATEST_HINTED


def test_huge_retry_after_is_capped_and_the_failure_recorded(arena: Arena) -> None:
    primed = arena.prime()

    def unavailable(handler: HostileHandler) -> None:
        handler.send_response(503)
        handler.send_header("Retry-After", HUGE)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    outcome = arena.attack(unavailable)

    assert_contained(outcome, arena, primed)
    result = outcome.result(arena.victim)
    assert result["status"] == "error"
    assert result["error"].startswith("HTTP 503"), result
    state = arena.source(arena.victim)
    assert state.error_count == 1
    assert state.next_check_at <= datetime.now(UTC) + LATEST_HINTED


def test_an_interval_of_99999999999_days_in_the_database_is_cut_to_the_cap(
    arena: Arena,
) -> None:
    # Settings and the CLI refuse it now; a database written before may still hold it.
    arena.server.routes[VICTIM] = document(news_feed("victim", 2))
    arena.app.storage.add_feed(arena.victim, arena.app.now(), interval=99999999999 * 86400)
    [result] = arena.app.refresh_feeds([arena.source(arena.victim)])
    assert (result.status, result.new) == ("ok", 2), result
    assert arena.source(arena.victim).next_check_at <= datetime.now(UTC) + timedelta(days=402)


def test_a_failing_feed_with_an_interval_of_99999999999_days_is_recorded(
    arena: Arena,
) -> None:
    """The error path computes the next check too: it used to overflow again in the
    error handler, and the whole pass ended."""
    arena.server.routes[VICTIM] = lambda handler: handler.send_error(500)
    arena.app.storage.add_feed(arena.victim, arena.app.now(), interval=99999999999 * 86400)
    [result] = arena.app.refresh_feeds([arena.source(arena.victim)])
    assert result.status == "error" and (result.error or "").startswith("HTTP 500"), result
    assert arena.source(arena.victim).error_count == 1


def test_the_error_handler_records_the_failure_when_the_schedule_itself_fails(
    arena: Arena,
) -> None:
    """Whatever breaks the schedule (here bounds no datetime can add), recording the
    feed's error cannot fail on it: the feed waits a plain day."""
    arena.server.routes[VICTIM] = document(news_feed("victim", 1))
    arena.app.storage.add_feed(arena.victim, arena.app.now())
    updater = arena.app.feeds
    updater.intervals = Intervals(
        interval=timedelta.max, min_interval=timedelta.max, max_interval=timedelta.max
    )
    [result] = arena.app.refresh_feeds([arena.source(arena.victim)])
    assert result.status == "error" and "OverflowError" in (result.error or ""), result
    state = arena.source(arena.victim)
    assert state.error_count == 1
    assert state.next_check_at is not None
    assert state.next_check_at <= datetime.now(UTC) + MAX_BACKOFF * (1 + JITTER) + timedelta(
        minutes=5
    )


def _config(tmp_path: Path, feed: str | None = None) -> Path:
    lines = [
        "[database]",
        f"url = 'sqlite:///{tmp_path / 'feedbrief.db'}'",
        "[seeds]",
        f"dir = '{tmp_path / 'seeds'}'",
        "[metrics]",
        f"dir = '{tmp_path / 'metrics'}'",
        "[digest]",
        f"dir = '{tmp_path / 'digests'}'",
        "timezone = 'Asia/Tokyo'",
        "[feeds]",
        "processes = 1",
        *(f"{key} = {value}" for key, value in TIGHT_FEEDS.items()),
    ]
    if feed:
        lines += ["[[feeds.subscriptions]]", f"url = '{feed}'"]
    path = tmp_path / "feedbrief.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _feedbrief(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FEEDBRIEF_CONFIG": str(config)}
    return subprocess.run(
        [sys.executable, "-m", "feedbrief", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_year_9999_items_east_of_utc_then_run_once_writes_the_digest(
    server: HostileServer, tmp_path: Path
) -> None:
    server.routes[VICTIM] = document(dated_9999("future", 3))
    (tmp_path / "seeds").mkdir()
    config = _config(tmp_path, server.url(VICTIM))

    done = _feedbrief(config, "run", "--once")

    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    dropped = [
        json.loads(line) for line in done.stderr.splitlines() if "date.dropped_out_of_range" in line
    ]
    assert len(dropped) == 3 and all(
        event["feed"] == server.url(VICTIM) and event["level"] == "warning" for event in dropped
    ), done.stderr[-3000:]
    pages = list((tmp_path / "digests").glob("????-??-??.html"))
    assert pages, "no digest written"
    assert "Story future-0" in pages[0].read_text(encoding="utf-8")
    exported = [json.loads(line) for line in _feedbrief(config, "export").stdout.splitlines()]
    assert len(exported) == 3
    assert all(item["published"] is None for item in exported)
    # And the next start is no different.
    again = _feedbrief(config, "run", "--once")
    assert again.returncode == 0, again.stderr[-3000:]


def test_year_9999_seed_east_of_utc_is_stored_undated_and_the_digest_written(
    tmp_path: Path,
) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    seed = {
        "id": "far",
        "title": "From the far future",
        "published": "9999-12-31T23:59:59Z",
        "text": " ".join(["The council met on Tuesday to agree the budget."] * 8),
    }
    (seeds / "future.json").write_text(json.dumps(seed), encoding="utf-8")

    done = _feedbrief(_config(tmp_path), "run", "--once")

    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    dropped = [json.loads(line) for line in done.stderr.splitlines() if "seed.date_dropped" in line]
    assert dropped and dropped[0]["seed"] == "future.json", done.stderr[-3000:]
    assert list((tmp_path / "digests").glob("*.html"))
    exported = _feedbrief(_config(tmp_path), "export")
    [item] = [json.loads(line) for line in exported.stdout.splitlines()]
    assert item["title"] == "From the far future" and item["published"] is None


def test_a_crash_quoting_characters_the_database_refuses_is_still_recorded(
    arena_any_database: Arena, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The error handler stores the crash's message; on PostgreSQL a NUL or a lone
    surrogate in it (quoted from the input) made the handler fail too, ending the pass."""
    arena = arena_any_database
    arena.server.routes[VICTIM] = document(news_feed("victim", 1))
    arena.server.routes[BYSTANDER] = document(news_feed("bystander", 2))
    for url in (arena.victim, arena.bystander):
        arena.app.storage.add_feed(url, arena.app.now())
    updater = arena.app.feeds
    real = updater._refresh

    def crashing_on_the_victim(feed: SourceState) -> RefreshResult:
        if feed.url == arena.victim:
            raise ValueError("unexpected \x00 byte and a lone \ud800 surrogate in the input")
        return real(feed)

    monkeypatch.setattr(updater, "_refresh", crashing_on_the_victim)
    results = {
        r.url: r
        for r in arena.app.refresh_feeds(
            [arena.source(arena.victim), arena.source(arena.bystander)]
        )
    }

    assert results[arena.bystander].status == "ok"
    assert results[arena.victim].status == "error"
    recorded = arena.source(arena.victim)
    assert recorded.error_count == 1
    assert (
        recorded.last_error
        == "internal error: ValueError: unexpected  byte and a lone ? surrogate in the input"
    )
