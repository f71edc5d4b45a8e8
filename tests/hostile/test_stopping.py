"""Stopping is not failing: a signal ends ``feedbrief run`` (and ``run --once``) after
the work in hand, exit 0, and a feed whose fetch the stop cut short is given back as it
was, with no error, no error count and no backoff."""

from __future__ import annotations

import signal
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.hostile.conftest import HostileHandler, HostileServer, document, news_feed
from tests.hostile.test_crash_safety import (
    ITEMS,
    RUN_SECONDS,
    STOP_SECONDS,
    assert_feeds_whole,
    start,
    write_config,
)

FAST = 3


def trickle(handler: HostileHandler) -> None:
    """A feed that never finishes: a byte every half second."""
    handler.send_head("application/rss+xml")
    while handler.server.pause(0.5):
        handler.wfile.write(b" ")
        handler.wfile.flush()


def source_row(workdir: Path, url: str) -> dict[str, object]:
    with sqlite3.connect(workdir / "feedbrief.db") as db:
        db.row_factory = sqlite3.Row
        row = db.execute(
            "SELECT error_count, last_error, last_error_at, next_check_at, lease_owner,"
            " lease_until FROM sources WHERE url = ?",
            (url,),
        ).fetchone()
    return dict(row)


@pytest.mark.parametrize(
    ("args", "signum"),
    [
        (["--once"], signal.SIGTERM),
        (["--once"], signal.SIGINT),
        ([], signal.SIGTERM),
    ],
    ids=["once-sigterm", "once-sigint", "service-sigterm"],
)
def test_a_stop_finishes_the_feeds_in_hand_exits_0_and_fails_no_feed(
    server: HostileServer, tmp_path: Path, args: list[str], signum: signal.Signals
) -> None:
    fast = []
    for n in range(FAST):
        path = f"/farm/{n}.xml"
        server.routes[path] = document(news_feed(f"farm{n}", ITEMS, title=f"Farm {n}"))
        fast.append(server.url(path))
    server.routes["/slow.xml"] = trickle
    slow = server.url("/slow.xml")
    config = write_config(tmp_path, [*fast, slow], concurrency=FAST + 1)
    run = start(config, *args)
    deadline = time.monotonic() + RUN_SECONDS
    while time.monotonic() < deadline and not (
        "/slow.xml" in server.requests
        and sum(e.get("event") == "feed.refreshed" for e in run.events) == FAST
    ):
        assert run.process.poll() is None, run.events[-5:]
        time.sleep(0.05)
    time.sleep(0.5)  # well into the slow body

    run.process.send_signal(signum)

    assert run.wait(STOP_SECONDS) == 0, run.events[-5:]
    assert assert_feeds_whole(tmp_path, fast) == FAST
    stopped = source_row(tmp_path, slow)
    assert stopped["error_count"] == 0
    assert stopped["last_error"] is None and stopped["last_error_at"] is None
    assert stopped["lease_owner"] is None and stopped["lease_until"] is None
    next_check = stopped["next_check_at"]
    assert next_check is None or datetime.fromisoformat(str(next_check)).replace(
        tzinfo=UTC
    ) <= datetime.now(UTC)
    events = [e for e in run.events if e.get("feed") == slow]
    assert [e["event"] for e in events] == ["feed.refresh_stopped"]
    assert not [e for e in run.events if e["level"] in ("error", "critical")]
