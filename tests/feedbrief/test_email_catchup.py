"""The service catches up on the day's email it missed (asleep or stopped at
``digest.time``), at most one day back; a failed ``digest --send`` is retried like the
service's own failures; delivery rows are pruned with the items. A real SMTP server on
127.0.0.1, a real database, the service driven through its passes with a set clock."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog
from structlog.testing import capture_logs

from digest.mailing import CATCH_UP_AFTER, due_day
from feedbrief.app import App
from feedbrief.service import Service
from feedbrief.settings import DigestSettings, load_settings
from storage import Delivery
from tests.feedbrief.test_email_delivery import READER, Clock, cli, configure, email_table
from tests.smtpserver import SmtpServer, free_port, smtp_server

SECOND_READER = "second@example.org"


@pytest.fixture(autouse=True)
def _info_logs() -> None:
    # Info lines too, whatever level an earlier command in this process set.
    structlog.reset_defaults()


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def server(port: int) -> Iterator[SmtpServer]:
    with smtp_server(port=port) as running:
        yield running


class Running:
    """One service over the test's config, its clock set by the test."""

    def __init__(self, config: Path, now: datetime, **environ: str) -> None:
        self.clock = Clock(now)
        self.app = App(load_settings(config, environ=environ), clock=self.clock)
        self.service = Service(self.app)

    def delivery(self, day: date) -> Delivery | None:
        return self.app.storage.delivery(day, self.app.mailer.recipients)

    def close(self) -> None:
        self.app.close()


@pytest.fixture
def services() -> Iterator[list[Running]]:
    started: list[Running] = []
    yield started
    for running in started:
        running.close()


def start(services: list[Running], config: Path, now: datetime, **environ: str) -> Running:
    running = Running(config, now, **environ)
    services.append(running)
    return running


def events(logs: list[dict[str, Any]], prefix: str = "email.") -> list[str]:
    return [entry["event"] for entry in logs if entry["event"].startswith(prefix)]


def subjects(server: SmtpServer) -> list[str]:
    return [received.message["Subject"] for received in server.received]


def test_a_service_asleep_at_digest_time_sends_yesterday_when_it_wakes(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    port: int,
    server: SmtpServer,
    services: list[Running],
) -> None:
    config = configure(tmp_path, monkeypatch, email_table(port))
    # Running in the evening of the 5th: the seed's story is the 5th's.
    running = start(services, config, datetime(2026, 12, 5, 20, 0, tzinfo=UTC))
    assert running.service.run_once() == {}
    assert server.received == []
    # Asleep through 07:00 on the 6th; awake at 10:00, the next pass sends the 5th.
    running.clock.now = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
    with capture_logs() as logs:
        assert running.service.run_once() == {}
    assert subjects(server) == ["feedbrief digest 2026-12-05"]
    [started] = [entry for entry in logs if entry["event"] == "email.catch_up_started"]
    assert (started["day"], started["due_at"]) == ("2026-12-05", "2026-12-06T07:00:00+00:00")
    assert events(logs) == ["email.catch_up_started", "email.sent"]
    # The digest was finalised before it was mailed, as the daily job does.
    storage = running.app.storage
    assert storage.digest_generated_at(date(2026, 12, 5)) == running.clock.now
    html = server.received[0].message.get_body(("html",))
    assert html is not None and "<article" in html.get_content()

    # Later ticks find it sent; the next morning's job sends the 6th as usual.
    running.clock.now += timedelta(seconds=30)
    with capture_logs() as logs:
        running.service.mail_due()
    assert events(logs) == []
    running.clock.now = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    running.service.daily_digest()
    running.clock.now += timedelta(minutes=10)
    running.service.mail_due()
    assert subjects(server) == ["feedbrief digest 2026-12-05", "feedbrief digest 2026-12-06"]


def test_the_catch_up_leaves_the_daily_job_its_first_minutes(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    port: int,
    server: SmtpServer,
    services: list[Running],
) -> None:
    config = configure(tmp_path, monkeypatch, email_table(port))
    running = start(services, config, datetime(2026, 12, 5, 20, 0, tzinfo=UTC))
    running.app.digests.write(date(2026, 12, 5))
    running.clock.now = datetime(2026, 12, 6, 7, 2, tzinfo=UTC)
    running.service.mail_due()
    assert server.received == []
    running.clock.now = datetime(2026, 12, 6, 7, 5, tzinfo=UTC)
    running.service.mail_due()
    assert subjects(server) == ["feedbrief digest 2026-12-05"]


def test_after_a_long_absence_only_the_latest_day_goes_and_older_ones_are_reported_once(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    port: int,
    server: SmtpServer,
    services: list[Running],
) -> None:
    config = configure(tmp_path, monkeypatch, email_table(port))
    running = start(services, config, datetime(2026, 12, 2, 7, 0, tzinfo=UTC))
    running.service.daily_digest()  # the 1st goes out on time
    assert subjects(server) == ["feedbrief digest 2026-12-01"]
    running.close()
    # Stopped from then on, while digests were written for the 2nd, 3rd and 5th (by
    # hand, or by a service that ran only at night); nothing of the 4th.
    for day in (2, 3, 5):
        running.app.digests.write(date(2026, 12, day))

    back = start(services, config, datetime(2026, 12, 6, 10, 0, tzinfo=UTC))
    with capture_logs() as logs:
        assert back.service.run_once() == {}
        back.clock.now += timedelta(seconds=30)
        back.service.mail_due()
    assert subjects(server) == ["feedbrief digest 2026-12-01", "feedbrief digest 2026-12-05"]
    missed = [entry for entry in logs if entry["event"] == "email.days_missed"]
    assert [entry["days"] for entry in missed] == [["2026-12-02", "2026-12-03"]]
    assert missed[0]["log_level"] == "warning"
    assert back.delivery(date(2026, 12, 2)) is None
    # The operator sends a missed day by hand.
    result = cli("digest", "--send", "--date", "2026-12-02")
    assert result.exit_code == 0, result.output
    assert subjects(server)[-1] == "feedbrief digest 2026-12-02"


def test_a_day_never_collected_is_not_mailed(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    port: int,
    server: SmtpServer,
    services: list[Running],
) -> None:
    # A first start: no digest was ever written for yesterday, so no empty one goes out.
    config = configure(tmp_path, monkeypatch, email_table(port))
    running = start(services, config, datetime(2026, 12, 6, 10, 0, tzinfo=UTC))
    with capture_logs() as logs:
        assert running.service.run_once() == {}
        running.clock.now += timedelta(seconds=30)
        running.service.mail_due()
    assert server.received == []
    skipped = [entry for entry in logs if entry["event"] == "email.catch_up_skipped"]
    assert [(entry["day"], entry["reason"]) for entry in skipped] == [("2026-12-05", "no_digest")]


def test_a_catch_up_that_fails_is_retried_with_the_usual_backoff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, port: int, services: list[Running]
) -> None:
    config = configure(tmp_path, monkeypatch, email_table(port))
    running = start(services, config, datetime(2026, 12, 5, 20, 0, tzinfo=UTC))
    running.app.digests.write(date(2026, 12, 5))
    day = date(2026, 12, 5)
    running.clock.now = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
    with capture_logs() as logs:
        running.service.mail_due()  # the server is down
    assert events(logs) == ["email.catch_up_started", "email.failed"]
    failed = running.delivery(day)
    assert failed is not None
    assert (failed.attempts, failed.next_attempt_at) == (
        1,
        datetime(2026, 12, 6, 10, 1, tzinfo=UTC),
    )
    running.clock.now += timedelta(seconds=30)
    running.service.mail_due()  # neither a second catch-up nor an early retry
    assert running.delivery(day).attempts == 1  # type: ignore[union-attr]
    running.clock.now = datetime(2026, 12, 6, 10, 1, tzinfo=UTC)
    running.service.mail_due()
    assert running.delivery(day).next_attempt_at == datetime(  # type: ignore[union-attr]
        2026, 12, 6, 10, 3, tzinfo=UTC
    )
    with smtp_server(port=port) as server:
        running.clock.now = datetime(2026, 12, 6, 10, 3, tzinfo=UTC)
        running.service.mail_due()
        running.clock.now += timedelta(minutes=30)
        running.service.mail_due()
    assert subjects(server) == ["feedbrief digest 2026-12-05"]
    assert running.delivery(day).state == "sent"  # type: ignore[union-attr]


def test_a_reader_added_after_the_day_went_out_gets_the_next_day(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    port: int,
    server: SmtpServer,
    services: list[Running],
) -> None:
    config = configure(tmp_path, monkeypatch, email_table(port))
    running = start(services, config, datetime(2026, 12, 6, 7, 0, tzinfo=UTC))
    running.service.daily_digest()
    running.close()
    table = email_table(port).replace(f'to = ["{READER}"]', f'to = ["{READER}", "{SECOND_READER}"]')
    config = configure(tmp_path, monkeypatch, table)
    restarted = start(services, config, datetime(2026, 12, 6, 10, 0, tzinfo=UTC))
    with capture_logs() as logs:
        restarted.service.mail_due()
    # The first reader does not get the 5th twice.
    assert subjects(server) == ["feedbrief digest 2026-12-05"]
    [skipped] = [entry for entry in logs if entry["event"] == "email.catch_up_skipped"]
    assert skipped["reason"] == "sent_to_previous_list"
    restarted.clock.now = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    restarted.service.daily_digest()
    assert server.received[-1].recipients == [READER, SECOND_READER]
    assert subjects(server)[-1] == "feedbrief digest 2026-12-06"


def test_a_failed_send_by_hand_is_retried_by_the_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, port: int, services: list[Running]
) -> None:
    config = configure(tmp_path, monkeypatch, email_table(port))
    assert cli("replay").exit_code == 0
    day = datetime.now(UTC).date()
    before = datetime.now(UTC)
    result = cli("digest", "--send", "--date", day.isoformat())  # the server is down
    assert result.exit_code == 1
    running = start(services, config, datetime.now(UTC))
    failed = running.delivery(day)
    assert failed is not None and failed.state == "failed"
    # The same first wait as the service's own failures.
    assert failed.next_attempt_at is not None
    assert (
        before + timedelta(minutes=1)
        <= failed.next_attempt_at
        <= datetime.now(UTC) + timedelta(minutes=1)
    )
    with smtp_server(port=port) as server:
        running.service.mail_due()  # not due yet
        assert server.received == []
        running.clock.now = failed.next_attempt_at
        running.service.mail_due()
    assert subjects(server) == [f"feedbrief digest {day}"]
    assert running.delivery(day).state == "sent"  # type: ignore[union-attr]


def test_run_once_sends_the_day_due_that_nobody_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, port: int, server: SmtpServer
) -> None:
    # The real clock, with digest.time half a day away so that the day due cannot
    # change while the test runs.
    config = configure(tmp_path, monkeypatch, email_table(port))
    far = (datetime.now(UTC) + timedelta(hours=12)).strftime("%H:%M")
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('timezone = "UTC"\n', f'timezone = "UTC"\ntime = "{far}"\n'))
    assert f'time = "{far}"' in config.read_text(encoding="utf-8")
    settings = DigestSettings(time=far)
    day = due_day(datetime.now(UTC), settings.time, UTC, after=CATCH_UP_AFTER)
    assert cli("digest", "--date", day.isoformat()).exit_code == 0  # written, not sent
    env = {**os.environ, "FEEDBRIEF_METRICS_DIR": str(tmp_path / "metrics")}

    def run_once() -> None:
        done = subprocess.run(
            [sys.executable, "-m", "feedbrief", "run", "--once"],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr[-3000:]

    run_once()
    assert subjects(server) == [f"feedbrief digest {day}"]
    run_once()
    assert len(server.received) == 1
    assert f"{day} sent " in cli("status").stdout


def test_delivery_rows_are_pruned_with_the_items(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    port: int,
    server: SmtpServer,
    services: list[Running],
) -> None:
    config = configure(tmp_path, monkeypatch, email_table(port))
    config.write_text("retention_days = 3\n" + config.read_text(encoding="utf-8"))
    running = start(services, config, datetime(2026, 12, 6, 7, 0, tzinfo=UTC))
    storage = running.app.storage
    recipients = running.app.mailer.recipients
    for offset in range(2, 8):
        day = date(2026, 12, 5) - timedelta(days=offset)
        claimed_at = datetime(2026, 12, 1, tzinfo=UTC)
        storage.claim_delivery(day, recipients, worker="w", now=claimed_at, stale_before=claimed_at)
        storage.record_sent(day, recipients, attempt=1, now=claimed_at, message_id="<m@x>")
    # The retention cut-off is 07:00 on the 3rd: the 3rd's items are partly kept, so
    # its row stays; the 5th is sent by the job itself.
    with capture_logs() as logs:
        running.service.daily_digest()
    assert [d.day.day for d in storage.deliveries(recipients, limit=10)] == [5, 3]
    [pruned] = [entry for entry in logs if entry["event"] == "items.pruned"]
    assert pruned["deliveries"] == 5  # the 28th to the 2nd


@pytest.mark.postgres
def test_workers_sharing_postgresql_catch_up_on_a_day_once(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    postgres_server: str,
    port: int,
    server: SmtpServer,
    services: list[Running],
) -> None:
    from tests.conftest import _reset_postgres

    _reset_postgres(postgres_server)
    config = configure(tmp_path, monkeypatch, email_table(port))
    environ = {"FEEDBRIEF_DATABASE_URL": postgres_server}
    evening = datetime(2026, 12, 5, 20, 0, tzinfo=UTC)
    start(services, config, evening, **environ).app.digests.write(date(2026, 12, 5))
    morning = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
    workers = [start(services, config, morning, **environ) for _ in range(4)]
    for index, worker in enumerate(workers):
        worker.app.storage  # noqa: B018 (migrated before the race, not during it)
        worker.service.worker = f"worker-{index}"
    begin = threading.Barrier(len(workers))

    def wake(worker: Running) -> None:
        begin.wait()
        worker.service.mail_due()

    with ThreadPoolExecutor(len(workers)) as pool:
        list(pool.map(wake, workers))
    assert subjects(server) == ["feedbrief digest 2026-12-05"]
