"""The service over a feed farm and hostile feeds, stopped twice by SIGTERM and once by
SIGKILL and started again each time: afterwards every farm item is stored once, only the
feeds that should fail are failing, and the day's digest is written (issue 16,
"measured, not asserted")."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.farm import Farm
from tests.conftest import REPO, shared_path
from tests.hostile.conftest import (
    TIGHT_FEEDS,
    HostileHandler,
    HostileServer,
    document,
    news_feed,
)
from tests.hostile.test_crash_safety import (
    RUN_SECONDS,
    STOP_SECONDS,
    Run,
    assert_database_sound,
    assert_digests_whole,
    start,
    write_config,
)

FARM_FEEDS = 40
FARM_ITEMS = 8
# Each farm response is held this long, so a pass lasts long enough to be interrupted.
FARM_DELAY_MS = 150


def trickle(handler: HostileHandler) -> None:
    handler.send_head("application/rss+xml")
    while handler.server.pause(0.5):
        handler.wfile.write(b" ")
        handler.wfile.flush()


def server_error(handler: HostileHandler) -> None:
    handler.send_error(500)


# Feeds that must end up failing, and one that is odd but must be read.
SHOULD_FAIL = {
    "/error.xml": server_error,
    "/garbage.xml": document(b"\x00\x01 this is not a feed \xff\xfe", "application/xml"),
    "/trickle.xml": trickle,
}
UNCLOSED = news_feed("unclosed", 3, title="Unclosed").replace(b"</channel></rss>", b"")


@pytest.fixture
def farm() -> Iterator[Farm]:
    data = [shared_path("data", "summ-dev-bbc.jsonl"), shared_path("data", "summ-dev-xsum.jsonl")]
    args = ["--recent-hours", "12", "--delay-ms", str(FARM_DELAY_MS)]
    with Farm(data, feeds=FARM_FEEDS, items=FARM_ITEMS, extra_args=args) as running:
        yield running


def farm_items(workdir: Path, farm_urls: list[str]) -> list[tuple[str, str]]:
    with sqlite3.connect(workdir / "feedbrief.db", timeout=10) as db:
        rows = db.execute(
            "SELECT sources.url, items.guid FROM items JOIN sources ON sources.id = items.source_id"
        ).fetchall()
    return [row for row in rows if row[0] in farm_urls]


def erred(workdir: Path) -> set[str]:
    """The feeds with errors counted."""
    with sqlite3.connect(workdir / "feedbrief.db", timeout=10) as db:
        return {url for (url,) in db.execute("SELECT url FROM sources WHERE error_count > 0")}


def interrupt(run: Run, rng: random.Random, signum: signal.Signals) -> int:
    """Let *run* get into its work, then send *signum*; its exit status."""
    deadline = time.monotonic() + RUN_SECONDS
    while not run.refreshed.wait(0.2):
        assert run.process.poll() is None, run.events[-5:]
        assert time.monotonic() < deadline, "the service never refreshed a feed"
    time.sleep(rng.uniform(0.2, 1.5))
    run.process.send_signal(signum)
    if signum == signal.SIGKILL:
        return run.process.wait(STOP_SECONDS)
    return run.wait(STOP_SECONDS)


def feedbrief(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedbrief", *args],
        cwd=config.parent,
        env={**os.environ, "FEEDBRIEF_CONFIG": str(config), "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
    )


@pytest.mark.slow
def test_the_service_survives_restarts_over_a_farm_and_hostile_feeds(
    farm: Farm, server: HostileServer, tmp_path: Path
) -> None:
    for path, route in SHOULD_FAIL.items():
        server.routes[path] = route
    server.routes["/unclosed.xml"] = document(UNCLOSED)
    farm_urls = farm.feed_urls()
    failing = [server.url(path) for path in SHOULD_FAIL]
    unclosed = server.url("/unclosed.xml")
    # Feeds due again within seconds: every run, the last ones too, finds work in hand to
    # be interrupted, however much of the farm the runs before it finished.
    config = write_config(
        tmp_path,
        [*farm_urls, *failing, unclosed],
        concurrency=4,
        per_host=4,
        tick=1,
        interval=2,
        min_interval=1,
        max_interval=2,
        **TIGHT_FEEDS,
    )
    rng = random.Random(16)
    runs: list[Run] = []
    codes = []
    for signum in (signal.SIGTERM, signal.SIGTERM, signal.SIGKILL):
        runs.append(start(config))
        codes.append(interrupt(runs[-1], rng, signum))
        assert_database_sound(tmp_path)

    final = start(config)
    runs.append(final)
    expected = FARM_FEEDS * FARM_ITEMS
    deadline = time.monotonic() + RUN_SECONDS
    while len(farm_items(tmp_path, farm_urls)) < expected or erred(tmp_path) != set(failing):
        assert final.process.poll() is None, final.events[-5:]
        assert time.monotonic() < deadline, "the last run did not finish the farm"
        time.sleep(0.2)
    final.process.send_signal(signal.SIGTERM)
    codes.append(final.wait(STOP_SECONDS))
    day = datetime.now(UTC).date()

    assert codes == [0, 0, -signal.SIGKILL, 0]
    # Every farm item once.
    exported = feedbrief(config, "export")
    assert exported.returncode == 0, exported.stderr[-2000:]
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    keys = Counter((line["source"], line["guid"]) for line in lines)
    assert max(keys.values()) == 1
    expected_guids = {f"urn:farm:{f}:{i}" for f in range(FARM_FEEDS) for i in range(FARM_ITEMS)}
    assert {guid for source, guid in keys if source in farm_urls} == expected_guids
    assert {guid for source, guid in keys if source == unclosed} == {
        f"unclosed-{n}" for n in range(3)
    }
    # Only the feeds that should fail are failing; no run logged a crash or a failed pass.
    status = feedbrief(config, "status")
    assert status.returncode == 0, status.stderr[-2000:]
    feeds = len(farm_urls) + len(failing) + 1
    assert f"{feeds} feeds: {feeds - len(failing)} healthy, {len(failing)} failing" in status.stdout
    assert erred(tmp_path) == set(failing)
    events = [event for run in runs for event in run.events]
    assert not [e for e in events if e["event"] in ("feed.refresh_crashed", "service.pass_failed")]
    assert {e["feed"] for e in events if e["level"] == "error"} <= set(failing)
    # The day's digest, whole, with the farm's stories.
    assert_digests_whole(tmp_path / "digests")
    written = [tmp_path / "digests" / f"{d.isoformat()}.json" for d in {day}]
    assert any(path.exists() for path in written), sorted(os.listdir(tmp_path / "digests"))
    digest = json.loads(next(p for p in written if p.exists()).read_text())
    assert digest["stories"]
