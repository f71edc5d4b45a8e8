"""Several ``feedbrief run`` workers on one database, as real processes.

Against PostgreSQL, workers share the due feeds through leases: every feed is fetched
once per cycle, counted by the farm server-side, and a worker killed mid-lease loses its
feeds only until the lease runs out. On SQLite a second ``run`` refuses to start. The
daily digest is finalised by one worker, whichever gets there first.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bench.farm import Farm
from feedbrief.app import App
from feedbrief.cli import app as cli
from feedbrief.runlock import lock_path, run_lock
from feedbrief.service import Service
from feedbrief.settings import Settings
from storage import Storage
from storage.models import Item, Source
from tests.conftest import shared_path
from tests.storage.helpers import raw_session

runner = CliRunner()

postgres_only = pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)

# Generous: four workers share two cores with the farm and the database.
WORKER_SECONDS = 120

# ``python -m feedbrief`` in two steps: import everything (seconds of CPU on a small
# machine), say so, and run the command only when the test says go. Workers then start
# together, and a lease's deadline is not spent importing.
HELD_MAIN = (
    "import sys\n"
    "from feedbrief.cli import main\n"
    "print('imported', flush=True)\n"
    "sys.stdin.readline()\n"
    "main()\n"
)


@dataclass(frozen=True, slots=True)
class Worker:
    """A ``feedbrief`` process held after its imports; its JSON log lines go to a file."""

    process: subprocess.Popen[bytes]
    log: Path

    def imported(self) -> None:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line == b"imported\n", self.log.read_text(encoding="utf-8")[-2000:]

    def go(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"go\n")
        self.process.stdin.close()

    def wait(self) -> int:
        return self.process.wait(timeout=WORKER_SECONDS)

    @property
    def name(self) -> str:
        """The name it claims feeds under (see ``Service.worker``)."""
        return f"{socket.gethostname()}:{self.process.pid}"

    def events(self) -> list[dict[str, Any]]:
        lines = self.log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def refreshed(self) -> set[str]:
        return {e["feed"] for e in self.events() if e["event"] == "feed.refreshed"}

    def errors(self) -> list[dict[str, Any]]:
        return [e for e in self.events() if e["level"] in ("error", "critical")]


def write_config(tmp_path: Path, **feeds: str | int) -> Path:
    """A config file: UTC digests, and every feed on 127.0.0.1 fetched without the
    per-host cap getting in the way."""
    lines = ["[digest]", 'timezone = "UTC"', "", "[feeds]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in {"per_host": 8, **feeds}.items()]
    path = tmp_path / "feedbrief.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def worker_env(tmp_path: Path, database_url: str, config: Path) -> dict[str, str]:
    """What a deployment gives every worker on one machine: the same database, config,
    digest and metrics directories."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("FEEDBRIEF_", "PROMETHEUS_"))
    }
    env.update(
        FEEDBRIEF_CONFIG=str(config),
        FEEDBRIEF_DATABASE_URL=database_url,
        FEEDBRIEF_DIGEST_DIR=str(tmp_path / "digests"),
        FEEDBRIEF_SEEDS_DIR=str(tmp_path / "seeds"),
        FEEDBRIEF_METRICS_DIR=str(tmp_path / "metrics"),
    )
    return env


StartWorker = Callable[..., Worker]


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[StartWorker]:
    """Start ``feedbrief ARGS`` as worker *name*, wait for its imports, and hand it out
    held; whatever a failed test left running is killed afterwards."""
    started: list[Worker] = []

    def start(env: dict[str, str], name: str, *args: str) -> Worker:
        log = tmp_path / f"{name}.log"
        with log.open("wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-c", HELD_MAIN, *args],
                cwd=tmp_path,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
            )
        started.append(Worker(process, log))
        return started[-1]

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.process.kill()
            worker.process.wait()
        for stream in (worker.process.stdin, worker.process.stdout):
            if stream is not None and not stream.closed:
                stream.close()


def import_farm(farm: Farm, env: dict[str, str], tmp_path: Path) -> list[str]:
    opml = tmp_path / "farm.opml"
    opml.write_bytes(farm.opml())
    result = runner.invoke(cli, ["feeds", "import", str(opml)], env=env)
    assert result.exit_code == 0, result.output
    urls = farm.feed_urls()
    assert f"{len(urls)} added" in result.output
    return urls


def farm_data() -> Path:
    return shared_path("data", "summ-dev-bbc.jsonl")


def feed_requests(stats: dict[str, Any]) -> dict[str, int]:
    return {path: n for path, n in stats["paths"].items() if path.startswith("/feed/")}


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


@pytest.fixture
def storage(database_url: str) -> Iterator[Storage]:
    """The test's own view of the workers' database (migrated, as workers find it)."""
    store = Storage.open(database_url)
    yield store
    store.close()


def leases(storage: Storage) -> dict[str, tuple[str | None, datetime | None]]:
    with raw_session(storage) as session:
        rows = session.execute(select(Source.url, Source.lease_owner, Source.lease_until))
        return {url: (owner, until) for url, owner, until in rows}


def wait_until(condition: Callable[[], bool], what: str, timeout: float = WORKER_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


@postgres_only
@pytest.mark.slow
def test_four_workers_fetch_each_of_200_feeds_exactly_once(
    database_url: str, storage: Storage, start_worker: StartWorker, tmp_path: Path
) -> None:
    items = 2
    env = worker_env(tmp_path, database_url, write_config(tmp_path))
    # Items dated in the last day: older ones would be a backlog, in no digest.
    with Farm([farm_data()], feeds=200, items=items, extra_args=["--recent-hours", "20"]) as farm:
        urls = import_farm(farm, env, tmp_path)
        workers = [start_worker(env, f"worker-{n}", "run", "--once") for n in range(4)]
        for worker in workers:
            worker.imported()
        for worker in workers:
            worker.go()
        codes = [worker.wait() for worker in workers]
        stats = farm.stats()

    assert codes == [0, 0, 0, 0], [w.log.read_text()[-2000:] for w in workers]
    assert [w.errors() for w in workers] == [[], [], [], []]
    assert feed_requests(stats) == {path_of(url): 1 for url in urls}
    shares = [worker.refreshed() for worker in workers]
    assert sum(len(share) for share in shares) == len(urls)
    assert set().union(*shares) == set(urls)
    assert sum(1 for share in shares if share) >= 2, [len(share) for share in shares]

    with raw_session(storage) as session:
        pairs = session.execute(select(Item.source_id, Item.guid)).all()
    assert len(pairs) == len(set(pairs)) == len(urls) * items
    stored = list(storage.iter_items())
    assert all(item.summary for item in stored)
    now = datetime.now(UTC)
    for feed in storage.sources("feed"):
        assert feed.items == items
        assert feed.last_status == 200
        assert feed.next_check_at is not None and feed.next_check_at > now
    assert set(leases(storage).values()) == {(None, None)}
    # All four rewrote the same day's files in the shared digest directory: each write
    # replaced the file whole, and none left a temporary file behind.
    digests = tmp_path / "digests"
    days = list(digests.glob("*.json"))
    assert days and all(json.loads(day.read_text(encoding="utf-8"))["stories"] for day in days)
    assert list(digests.glob(".*")) == []


@postgres_only
@pytest.mark.slow
def test_a_killed_workers_feeds_wait_for_its_lease_then_go_to_another(
    database_url: str, storage: Storage, start_worker: StartWorker, tmp_path: Path
) -> None:
    # The lease is long enough for worker B to run a pass before it runs out on a loaded
    # machine; the farm slow enough that A is killed with fetches in flight (under a
    # second: bench.farm waits one second at most for the farm's first answer).
    feeds = 4
    config = write_config(tmp_path, lease="6s", concurrency=feeds)
    env = worker_env(tmp_path, database_url, config)
    with Farm([farm_data()], feeds=feeds, items=1, extra_args=["--delay-ms", "900"]) as farm:
        urls = import_farm(farm, env, tmp_path)
        a, b, b_again = (start_worker(env, name, "run", "--once") for name in ["a", "b", "b-again"])
        for worker in (a, b, b_again):
            worker.imported()
        a.go()
        wait_until(
            lambda: a.process.poll() is not None or all(o for o, _ in leases(storage).values()),
            "worker A to claim every feed",
        )
        time.sleep(0.2)  # its requests go out; the farm holds each for 0.9 s
        a.process.send_signal(signal.SIGKILL)
        assert a.wait() == -signal.SIGKILL
        assert a.refreshed() == set()
        held = leases(storage)
        assert {owner for owner, _ in held.values()} == {a.name}
        expiry = min(until for _, until in held.values() if until is not None)

        b.go()
        assert b.wait() == 0
        if datetime.now(UTC) >= expiry:
            pytest.fail(f"worker B took until after the lease ran out ({expiry}): too slow")
        assert b.refreshed() == set()
        assert leases(storage) == held
        assert storage.count_items() == 0

        time.sleep(max(0.0, (expiry - datetime.now(UTC)).total_seconds()) + 0.1)
        b_again.go()
        assert b_again.wait() == 0
        stats = farm.stats()

    assert b_again.refreshed() == set(urls)
    assert b_again.errors() == []
    assert storage.count_items() == feeds
    assert set(leases(storage).values()) == {(None, None)}
    # Each feed was fetched by B; A's requests, if they reached the farm, count too.
    assert set(feed_requests(stats)) == {path_of(url) for url in urls}
    assert set(feed_requests(stats).values()) <= {1, 2}


def test_a_second_run_on_a_sqlite_file_refuses_and_names_the_lock(
    start_worker: StartWorker, tmp_path: Path
) -> None:
    database = tmp_path / "feedbrief.db"
    env = worker_env(tmp_path, f"sqlite:///{database}", write_config(tmp_path))
    first = start_worker(env, "first", "run")
    second = start_worker(env, "second", "run", "--once")
    first.imported()
    second.imported()
    first.go()
    wait_until(
        lambda: first.process.poll() is not None or "service.started" in first.log.read_text(),
        "the first service to start",
    )
    second.go()
    assert second.wait() == 1
    message = "".join(second.log.read_text().splitlines())  # however the console wrapped it
    assert f"{database}.run.lock" in message
    assert f"pid {first.process.pid}" in message
    first.process.send_signal(signal.SIGTERM)
    assert first.wait() == 0, first.log.read_text()[-2000:]
    assert "service.stopped" in first.log.read_text()


def test_the_refusal_names_the_lock_on_one_line(sqlite_url: str, tmp_path: Path) -> None:
    """Logs are read with grep and paths copied from them: the path must stay whole."""
    lock = lock_path(sqlite_url)
    assert lock is not None
    env = worker_env(tmp_path, sqlite_url, write_config(tmp_path))
    with run_lock(sqlite_url):
        result = runner.invoke(cli, ["run", "--once"], env={**env, "COLUMNS": None})
    assert result.exit_code == 1
    assert any(str(lock) in line for line in result.stderr.splitlines()), result.stderr


# -- the daily digest: once across workers, without real clocks ------------------------------

DAY = date(2026, 11, 25)
SCHEDULED = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def make_app(database_url: str, tmp_path: Path) -> Iterator[Callable[[str, datetime], App]]:
    """Workers in this process: each its own App (storage, digest directory, clock)."""
    apps: list[App] = []

    def make(name: str, now: datetime) -> App:
        settings = Settings.model_validate(
            {
                "database": {"url": database_url},
                "digest": {"dir": str(tmp_path / name), "timezone": "UTC", "time": "07:00"},
                "seeds": {"dir": str(tmp_path / "seeds")},
            }
        )
        apps.append(App(settings, clock=Clock(now)))
        return apps[-1]

    yield make
    for app in apps:
        app.close()


def finalised(app: App, day: date) -> bool:
    return (app.settings.digest.dir / f"{day.isoformat()}.json").exists()


def test_the_daily_digest_is_written_by_the_first_worker_only(
    make_app: Callable[[str, datetime], App],
) -> None:
    first = make_app("first", SCHEDULED + timedelta(seconds=5))
    second = make_app("second", SCHEDULED + timedelta(seconds=40))
    Service(first).daily_digest()
    Service(second).daily_digest()
    yesterday = DAY - timedelta(days=1)
    assert first.storage.digest_generated_at(yesterday) == SCHEDULED + timedelta(seconds=5)
    assert finalised(first, yesterday) and finalised(first, DAY)
    assert not finalised(second, yesterday)


def test_a_digest_rewritten_before_the_scheduled_time_is_finalised_again(
    make_app: Callable[[str, datetime], App],
) -> None:
    yesterday = DAY - timedelta(days=1)
    late_evening = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
    make_app("evening", late_evening).digests.write(yesterday)
    morning = make_app("morning", SCHEDULED + timedelta(seconds=5))
    Service(morning).daily_digest()
    assert morning.storage.digest_generated_at(yesterday) == SCHEDULED + timedelta(seconds=5)
    assert finalised(morning, yesterday)


@postgres_only
def test_workers_running_the_daily_digest_at_once_write_it_once(
    make_app: Callable[[str, datetime], App],
) -> None:
    apps = [make_app(f"worker-{n}", SCHEDULED + timedelta(seconds=n + 1)) for n in range(4)]
    start = threading.Barrier(len(apps))

    def run(app: App) -> None:
        start.wait(timeout=10)
        Service(app).daily_digest()

    with ThreadPoolExecutor(len(apps)) as pool:
        list(pool.map(run, apps))
    yesterday = DAY - timedelta(days=1)
    [writer] = [app for app in apps if finalised(app, yesterday)]
    assert apps[0].storage.digest_generated_at(yesterday) == writer.now()


@postgres_only
def test_a_worker_waits_for_the_daily_digest_lock_and_writes_what_its_holder_did_not(
    make_app: Callable[[str, datetime], App], storage: Storage
) -> None:
    """The holder died (its lock went with its connection) before writing: the worker
    that waited writes yesterday's digest instead of leaving the day without one."""
    app = make_app("worker", SCHEDULED + timedelta(seconds=5))
    yesterday = DAY - timedelta(days=1)
    with ThreadPoolExecutor(1) as pool:
        with storage.exclusive("feedbrief:daily-digest") as held:
            assert held
            waiting = pool.submit(Service(app).daily_digest)
            time.sleep(0.3)
            assert not waiting.done() and not finalised(app, yesterday)
        waiting.result(timeout=30)
    assert app.storage.digest_generated_at(yesterday) == SCHEDULED + timedelta(seconds=5)
    assert finalised(app, yesterday)


@postgres_only
def test_a_worker_that_waited_leaves_a_digest_its_holder_wrote(
    make_app: Callable[[str, datetime], App], storage: Storage
) -> None:
    holder = make_app("holder", SCHEDULED + timedelta(seconds=1))
    app = make_app("worker", SCHEDULED + timedelta(seconds=5))
    yesterday = DAY - timedelta(days=1)
    with ThreadPoolExecutor(1) as pool:
        with storage.exclusive("feedbrief:daily-digest") as held:
            assert held
            waiting = pool.submit(Service(app).daily_digest)
            holder.digests.write_days([yesterday, DAY])
        waiting.result(timeout=30)
    assert app.storage.digest_generated_at(yesterday) == SCHEDULED + timedelta(seconds=1)
    assert finalised(holder, yesterday) and not finalised(app, yesterday)
