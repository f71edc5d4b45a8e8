"""Crash safety of ``feedbrief run``: killed at random moments, stopped by signals.

An item, its summary and its feed's new state commit together or not at all, and
digests are replaced atomically; so however often the process dies, one complete run
afterwards must leave every item stored exactly once with its summary, and every file
in the digest directory whole.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import feedparser
import pytest

from feedbrief.app import App
from feedbrief.settings import Settings, load_settings
from tests.conftest import REPO
from tests.hostile.conftest import (
    HostileHandler,
    HostileServer,
    document,
    forkserver,
    news_feed,
)

FEEDS = 100
ITEMS = 10
KILLS = 3
# Long enough for any one complete run of the farm on a loaded two-core machine.
RUN_SECONDS = 120
# "Exits within a few seconds" of SIGTERM or SIGINT.
STOP_SECONDS = 5


@dataclass
class Run:
    """A ``feedbrief run`` child whose JSON log lines are read as they come."""

    process: subprocess.Popen[str]
    events: list[dict[str, object]] = field(default_factory=list)
    refreshed: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            if line.startswith("{"):
                event = json.loads(line)
                self.events.append(event)
                if event.get("event") == "feed.refreshed":
                    self.refreshed.set()

    def wait(self, seconds: float) -> int:
        try:
            return self.process.wait(seconds)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"still running after {seconds:g} s: {self.events[-5:]}") from None


@pytest.fixture
def farm(server: HostileServer) -> list[str]:
    """FEEDS feeds of ITEMS ordinary articles each; the URLs."""
    urls = []
    for n in range(FEEDS):
        path = f"/farm/{n}.xml"
        server.routes[path] = document(news_feed(f"farm{n}", ITEMS, title=f"Farm {n}"))
        urls.append(server.url(path))
    return urls


def write_config(workdir: Path, feeds: list[str], **feed_settings: object) -> Path:
    lines = [
        "[database]",
        f'url = "sqlite:///{workdir / "feedbrief.db"}"',
        "[seeds]",
        f'dir = "{workdir / "seeds"}"',
        "[digest]",
        f'dir = "{workdir / "digests"}"',
        'timezone = "UTC"',
        "[metrics]",
        f'dir = "{workdir / "metrics"}"',
        "[feeds]",
        *(f"{key} = {json.dumps(value)}" for key, value in feed_settings.items()),
        *(f'[[feeds.subscriptions]]\nurl = "{url}"' for url in feeds),
    ]
    (workdir / "seeds").mkdir(exist_ok=True)
    config = workdir / "feedbrief.toml"
    config.write_text("\n".join(lines) + "\n")
    return config


def start(config: Path, *args: str) -> Run:
    process = subprocess.Popen(
        [sys.executable, "-m", "feedbrief", "run", *args],
        cwd=config.parent,
        env={**os.environ, "FEEDBRIEF_CONFIG": str(config), "PYTHONPATH": str(REPO)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    return Run(process)


def stored_items(workdir: Path) -> list[tuple[str, str, int]]:
    """(feed URL, guid, summary rows) of every stored item."""
    with sqlite3.connect(workdir / "feedbrief.db") as db:
        return db.execute(
            "SELECT sources.url, items.guid, COUNT(summaries.item_id) FROM items"
            " JOIN sources ON sources.id = items.source_id"
            " LEFT JOIN summaries ON summaries.item_id = items.id"
            " GROUP BY items.id"
        ).fetchall()


def expected_items(feeds: list[str]) -> list[tuple[str, str, int]]:
    return sorted((url, f"farm{n}-{i}", 1) for n, url in enumerate(feeds) for i in range(ITEMS))


def assert_digests_whole(directory: Path) -> list[str]:
    """Every published file parses; returns the leftovers of interrupted atomic writes."""
    leftovers: list[str] = []
    if not directory.exists():
        return leftovers  # killed before its first digest
    for path in sorted(directory.iterdir()):
        if path.name.startswith(".") and path.name.endswith(".tmp"):
            leftovers.append(path.name)
        elif path.suffix == ".json":
            assert "stories" in json.loads(path.read_text()), path
        elif path.suffix == ".html":
            assert path.read_text().rstrip().endswith("</html>"), path
        elif path.name == "feed.xml":
            parsed = feedparser.parse(path.read_bytes())
            assert not parsed.bozo, parsed.get("bozo_exception")
        else:
            assert path.suffix == ".md" and path.read_text().strip(), path
    return leftovers


def assert_database_sound(workdir: Path) -> None:
    with sqlite3.connect(workdir / "feedbrief.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def assert_feeds_whole(workdir: Path, feeds: list[str]) -> int:
    """Each feed's items arrive together with its new state, or none of them do: every
    feed has all its items, each with one summary, and a recorded success, or nothing at
    all. Returns how many feeds are stored."""
    by_feed: dict[str, list[tuple[str, int]]] = {}
    for url, guid, summaries in stored_items(workdir):
        by_feed.setdefault(url, []).append((guid, summaries))
    with sqlite3.connect(workdir / "feedbrief.db") as db:
        succeeded = {
            url
            for (url,) in db.execute("SELECT url FROM sources WHERE last_success_at IS NOT NULL")
        }
    for n, url in enumerate(feeds):
        items = sorted(by_feed.get(url, []))
        assert items in ([], sorted((f"farm{n}-{i}", 1) for i in range(ITEMS))), (url, items)
        assert bool(items) == (url in succeeded), url
    return len(by_feed)


def started_refreshing(run: Run) -> bool:
    """Whether the run began refreshing feeds (False: it ended with nothing to do)."""
    deadline = time.monotonic() + RUN_SECONDS
    while time.monotonic() < deadline:
        if run.refreshed.wait(0.2):
            return True
        if run.process.poll() is not None:
            return False
    raise AssertionError("the ingest never started")


@pytest.mark.slow
def test_runs_killed_mid_ingest_then_one_complete_run_store_everything_once(
    farm: list[str], tmp_path: Path
) -> None:
    # A short lease, so that the last run may take over the feeds the killed runs had
    # claimed (with the default they wait ten minutes: see the test below).
    config = write_config(tmp_path, farm, concurrency=4, lease="1s")
    rng = random.Random(20261125)
    stored = []
    for _ in range(KILLS):
        run = start(config, "--once")
        if not started_refreshing(run):
            break  # an earlier run got through everything before its kill: nothing is due
        time.sleep(rng.uniform(0.05, 0.6))
        run.process.send_signal(signal.SIGKILL)
        run.process.wait(RUN_SECONDS)
        assert_database_sound(tmp_path)
        stored.append(assert_feeds_whole(tmp_path, farm))
        assert_digests_whole(tmp_path / "digests")

    final = start(config, "--once")
    assert final.wait(RUN_SECONDS) == 0, final.events[-5:]

    assert min(stored) < FEEDS, f"no kill landed before the ingest was done: {stored}"
    assert sorted(stored_items(tmp_path)) == expected_items(farm)
    assert assert_feeds_whole(tmp_path, farm) == FEEDS
    leftovers = assert_digests_whole(tmp_path / "digests")
    print(f"feeds stored after each kill: {stored}; temp files left: {leftovers}")


def test_feeds_claimed_by_a_killed_run_are_refreshed_by_the_next_run(
    farm: list[str], tmp_path: Path
) -> None:
    feeds = farm[:4]
    config = write_config(tmp_path, feeds)
    # What a run killed just after claiming leaves behind (the test above kills for real).
    app = App(load_settings(config))
    for url in feeds:
        app.storage.add_feed(url, app.now())
    claimed = app.storage.claim_due_feeds("killed-host:1", app.now(), timedelta(minutes=10), 2)
    app.close()

    assert start(config, "--once").wait(RUN_SECONDS) == 0

    assert len(claimed) == 2
    assert assert_feeds_whole(tmp_path, feeds) == len(feeds)


def test_sigterm_during_a_large_ingest_exits_0_promptly_with_whole_feeds_only(
    farm: list[str], tmp_path: Path
) -> None:
    config = write_config(tmp_path, farm, concurrency=4)
    run = start(config)
    assert run.refreshed.wait(RUN_SECONDS), "the ingest never started"

    run.process.send_signal(signal.SIGTERM)

    assert run.wait(STOP_SECONDS) == 0
    assert_database_sound(tmp_path)
    assert 0 < assert_feeds_whole(tmp_path, farm) < FEEDS
    assert_digests_whole(tmp_path / "digests")


def test_sigint_during_a_slow_fetch_exits_0_within_seconds(
    server: HostileServer, tmp_path: Path
) -> None:
    def trickle(handler: HostileHandler) -> None:
        handler.send_head("application/rss+xml")
        while handler.server.pause(0.5):
            handler.wfile.write(b" ")
            handler.wfile.flush()

    server.routes["/slow.xml"] = trickle
    config = write_config(tmp_path, [server.url("/slow.xml")])
    run = start(config)
    deadline = time.monotonic() + RUN_SECONDS
    while "/slow.xml" not in server.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # well into the body

    run.process.send_signal(signal.SIGINT)

    assert run.wait(STOP_SECONDS) == 0


def _digest_write_killed_before_the_json_rename(settings: dict[str, object], day: date) -> None:
    """In a child: write a day's digest and die by SIGKILL just as its JSON file is about
    to be renamed into place, as a kill at the worst moment would."""
    rename = os.replace

    def killed_at_json(source: str, target: str) -> None:
        if str(target).endswith(".json"):
            os.kill(os.getpid(), signal.SIGKILL)
        rename(source, target)

    os.replace = killed_at_json  # type: ignore[assignment]
    App(Settings.model_validate(settings)).digests.write(day)


def test_temp_files_of_a_killed_digest_write_are_ignored(sqlite_url: str, tmp_path: Path) -> None:
    """The temp file a killed write_atomic leaves must not be taken for a digest by the
    feed, which is rebuilt from the digests on disk."""
    digests = tmp_path / "digests"
    settings = {"database": {"url": sqlite_url}, "digest": {"dir": str(digests)}}
    child = forkserver().Process(
        target=_digest_write_killed_before_the_json_rename, args=(settings, date(2026, 11, 24))
    )
    child.start()
    child.join(RUN_SECONDS)
    assert child.exitcode == -signal.SIGKILL
    app = App(Settings.model_validate(settings))

    app.digests.write(date(2026, 11, 25))
    app.close()

    [leftover] = assert_digests_whole(digests)
    assert leftover.startswith(".2026-11-24.json.")
    assert not (digests / "2026-11-24.json").exists()
    feed = feedparser.parse((digests / "feed.xml").read_bytes())
    assert len(feed.entries) == 1
