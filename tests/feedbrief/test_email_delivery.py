"""``feedbrief digest --send`` end to end: a real SMTP server on 127.0.0.1, a real SQLite
database, the seed replayed into it. Once per day and recipient list; failures as one
line and exit 1; the password nowhere in what is printed."""

from __future__ import annotations

import json
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import lxml.html
import pytest
import structlog
from structlog.testing import capture_logs
from typer.testing import CliRunner, Result

from digest.sections import MAX_PAGE_BYTES
from feedbrief.app import App
from feedbrief.cli import app
from feedbrief.delivery import retry_delay
from feedbrief.metrics import record_email
from feedbrief.scrape import scrape_registry
from feedbrief.service import Service
from feedbrief.settings import load_settings
from storage import Delivery, Storage
from tests.conftest import SEED
from tests.feedbrief.test_metrics import run_worker
from tests.smtpserver import PASSWORD, USERNAME, SmtpServer, Tls, free_port, smtp_server

runner = CliRunner()
READER = "reader@example.org"
SENDER = "feedbrief@example.org"
BASE_URL = "https://brief.example/digests/"


def configure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, email: str) -> Path:
    seeds = tmp_path / "seeds"
    seeds.mkdir(exist_ok=True)
    shutil.copy(SEED, seeds / SEED.name)
    config = tmp_path / "feedbrief.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "feedbrief.db"}"\n'
        f'[seeds]\ndir = "{seeds}"\n'
        f'[digest]\ndir = "{tmp_path / "digests"}"\ntimezone = "UTC"\nbase_url = "{BASE_URL}"\n'
        f"[email]\n{email}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("FEEDBRIEF_CONFIG", str(config))
    for variable in ("FEEDBRIEF_DATABASE_URL", "FEEDBRIEF_DIGEST_DIR", "FEEDBRIEF_SEEDS_DIR"):
        monkeypatch.delenv(variable, raising=False)
    return config


def email_table(port: int, security: str = "none", **extra: str) -> str:
    lines = [
        f'to = ["{READER}"]',
        f'from = "{SENDER}"',
        'host = "127.0.0.1"',
        f"port = {port}",
        f'security = "{security}"',
    ]
    lines += [f'{key} = "{value}"' for key, value in extra.items()]
    return "\n".join(lines)


def cli(*args: str) -> Result:
    return runner.invoke(app, list(args), catch_exceptions=False)


def today() -> str:
    return datetime.now(UTC).date().isoformat()


@pytest.fixture
def server() -> SmtpServer:
    with smtp_server() as running:
        yield running


@pytest.fixture
def replayed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: SmtpServer) -> str:
    """The seed replayed, today's date, and [email] pointing at the plain server."""
    configure(tmp_path, monkeypatch, email_table(server.port))
    day = today()
    assert cli("replay").exit_code == 0
    return day


def test_send_mails_the_front_page_written_for_the_day(
    tmp_path: Path, server: SmtpServer, replayed: str
) -> None:
    result = cli("digest", "--send", "--date", replayed)
    assert result.exit_code == 0, result.output
    assert f"{replayed}: sent to {READER} <feedbrief.{replayed}." in result.stdout
    assert (tmp_path / "digests" / f"{replayed}.html").exists()
    [received] = server.received
    assert (received.sender, received.recipients) == (SENDER, [READER])
    message = received.message
    assert message["Subject"] == f"feedbrief digest {replayed}"
    assert message["List-Unsubscribe"] == f"<{BASE_URL}>"
    assert message["Date"] and message["Message-ID"] in result.stdout
    # SMTP carries lines ending in CRLF.
    parts = {
        part.get_content_type(): part.get_content().replace("\r\n", "\n")
        for part in message.iter_parts()
    }
    assert list(parts) == ["text/plain", "text/html"]
    # The parts are the day's published front pages.
    digests = tmp_path / "digests"
    assert parts["text/plain"] == (digests / f"{replayed}.md").read_text(encoding="utf-8")
    assert parts["text/html"] == (digests / f"{replayed}.html").read_text(encoding="utf-8")
    assert len(parts["text/html"].encode()) < MAX_PAGE_BYTES
    tree = lxml.html.document_fromstring(parts["text/html"])
    assert tree.findall(".//article")  # the seed's story is on the page
    assert not [e for e in tree.iter() if isinstance(e.tag, str) and e.get("src")]
    assert not tree.findall(".//link")


def test_a_day_is_sent_once_and_resent_on_purpose(server: SmtpServer, replayed: str) -> None:
    assert cli("digest", "--send", "--date", replayed).exit_code == 0
    again = cli("digest", "--send", "--date", replayed)
    assert again.exit_code == 0
    assert f"{replayed}: already sent to {READER} at " in again.stdout
    assert len(server.received) == 1
    resent = cli("digest", "--send", "--date", replayed, "--resend")
    assert resent.exit_code == 0, resent.output
    assert f"{replayed}: sent to {READER}" in resent.stdout
    assert len(server.received) == 2
    first, second = (r.message["Message-ID"] for r in server.received)
    assert first != second


def test_a_new_recipient_list_gets_the_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: SmtpServer, replayed: str
) -> None:
    assert cli("digest", "--send", "--date", replayed).exit_code == 0
    table = email_table(server.port).replace(
        f'to = ["{READER}"]', f'to = ["{READER}", "second@example.org"]'
    )
    configure(tmp_path, monkeypatch, table)
    assert cli("digest", "--send", "--date", replayed).exit_code == 0
    assert server.received[1].recipients == [READER, "second@example.org"]


def test_a_server_that_is_down_fails_in_one_line_and_the_day_stays_unsent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: SmtpServer, replayed: str
) -> None:
    down = free_port()
    configure(tmp_path, monkeypatch, email_table(down))
    result = cli("digest", "--send", "--date", replayed)
    assert result.exit_code == 1
    first, retry = result.stderr.splitlines()
    assert first == f"{replayed}: not sent: cannot reach 127.0.0.1:{down}: Connection refused"
    # The day stays unsent; the service retries it with the usual backoff.
    assert retry.startswith(f"{replayed}: a running service tries again from ")
    assert retry.endswith(" (feedbrief status shows it)")
    retry_at = datetime.fromisoformat(retry.split(" from ")[1].split(" ")[0])
    assert timedelta(seconds=30) < retry_at - datetime.now(UTC) <= timedelta(minutes=1)
    assert "Traceback" not in result.output
    # Up again: the day was not sent, so it goes now.
    configure(tmp_path, monkeypatch, email_table(server.port))
    assert cli("digest", "--send", "--date", replayed).exit_code == 0
    assert len(server.received) == 1


def test_a_refused_recipient_fails_with_the_servers_reply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, replayed: str
) -> None:
    with smtp_server(refuse={READER}) as refusing:
        configure(tmp_path, monkeypatch, email_table(refusing.port))
        result = cli("digest", "--send", "--date", replayed)
    assert result.exit_code == 1
    failure, retry = result.stderr.splitlines()  # the reason, then when it is tried again
    assert f"127.0.0.1:{refusing.port} refused every recipient: {READER}: 550 5.1.1" in failure
    assert "a running service tries again from" in retry
    assert refusing.received == []


def test_starttls_and_login_with_the_password_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, replayed: str
) -> None:
    tls = Tls()
    ca = tmp_path / "ca.pem"
    tls.ca.cert_pem.write_to_path(str(ca))
    # The system's trust store, as an operator would extend it for a private CA.
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    monkeypatch.setenv("SMTP_PASSWORD_FOR_TEST", PASSWORD)
    with smtp_server(security="starttls", tls=tls, auth=True) as secure:
        configure(
            tmp_path,
            monkeypatch,
            email_table(
                secure.port, "starttls", username=USERNAME, password_env="SMTP_PASSWORD_FOR_TEST"
            ),
        )
        result = cli("digest", "--send", "--date", replayed, "--log-level", "DEBUG")
    assert result.exit_code == 0, result.output
    assert secure.handler.logins == [USERNAME]
    assert len(secure.received) == 1
    assert PASSWORD not in result.output


def test_a_wrong_password_fails_in_one_line_without_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, replayed: str
) -> None:
    tls = Tls()
    ca = tmp_path / "ca.pem"
    tls.ca.cert_pem.write_to_path(str(ca))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    wrong = "wrong-" + PASSWORD
    monkeypatch.setenv("FEEDBRIEF_SMTP_PASSWORD", wrong)
    with smtp_server(security="starttls", tls=tls, auth=True) as secure:
        configure(tmp_path, monkeypatch, email_table(secure.port, "starttls", username=USERNAME))
        result = cli("digest", "--send", "--date", replayed, "--log-level", "DEBUG")
    assert result.exit_code == 1
    # At DEBUG the log's JSON lines (the test server's own among them) share stderr.
    assert (
        f"{replayed}: not sent: 127.0.0.1:{secure.port} refused the login of "
        f"'{USERNAME}': 535 5.7.8 Authentication credentials invalid"
    ) in result.stderr.splitlines()
    assert wrong not in result.output
    assert secure.received == []


def test_a_login_without_its_password_variable_fails_before_connecting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: SmtpServer, replayed: str
) -> None:
    monkeypatch.delenv("FEEDBRIEF_SMTP_PASSWORD", raising=False)
    configure(tmp_path, monkeypatch, email_table(server.port, username=USERNAME))
    result = cli("digest", "--send", "--date", replayed)
    assert result.exit_code == 1
    assert "environment variable FEEDBRIEF_SMTP_PASSWORD (email.password_env) is empty" in (
        result.stderr
    )
    assert server.received == []


def test_send_without_recipients_names_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(tmp_path, monkeypatch, "to = []")
    result = cli("digest", "--send")
    assert result.exit_code == 2
    assert "email.to" in result.stderr


def test_resend_goes_with_send(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    configure(tmp_path, monkeypatch, "")
    result = cli("digest", "--resend")
    assert result.exit_code == 2
    assert "--resend goes with --send" in result.output


# The service: yesterday's digest at digest.time, retried with backoff until it goes out


def test_retry_delay_doubles_from_a_minute_to_an_hour() -> None:
    minutes = [retry_delay(failures) / timedelta(minutes=1) for failures in range(1, 10)]
    assert minutes == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert retry_delay(100_000) == timedelta(hours=1)
    with pytest.raises(ValueError, match="from 1"):
        retry_delay(0)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_the_service_retries_until_the_day_goes_through_then_never_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Info lines too, whatever level an earlier command in this process set.
    structlog.reset_defaults()
    port = free_port()
    config = configure(tmp_path, monkeypatch, email_table(port))
    clock = Clock(datetime(2026, 12, 6, 7, 0, tzinfo=UTC))
    application = App(load_settings(config, environ={}), clock=clock)
    service = Service(application)
    yesterday = date(2026, 12, 5)

    def delivery() -> Delivery:
        found = application.storage.delivery(yesterday, application.mailer.recipients)
        assert found is not None
        return found

    try:
        with capture_logs() as logs:
            service.daily_digest()  # the server is down
        [failed] = [entry for entry in logs if entry["event"] == "email.failed"]
        assert failed["day"] == "2026-12-05"
        assert failed["error"] == f"cannot reach 127.0.0.1:{port}: Connection refused"
        assert failed["retry_at"] == "2026-12-06T07:01:00+00:00"
        assert (delivery().state, delivery().attempts) == ("failed", 1)

        clock.now += timedelta(seconds=30)
        service.retry_email()  # not due yet
        assert delivery().attempts == 1
        clock.now = datetime(2026, 12, 6, 7, 1, tzinfo=UTC)
        service.retry_email()  # due, still down: the next wait doubles
        assert (delivery().attempts, delivery().next_attempt_at) == (
            2,
            datetime(2026, 12, 6, 7, 3, tzinfo=UTC),
        )

        with smtp_server(port=port) as server:
            clock.now = datetime(2026, 12, 6, 7, 3, tzinfo=UTC)
            with capture_logs() as logs:
                service.retry_email()
            assert [entry["event"] for entry in logs if entry["event"].startswith("email.")] == [
                "email.sent"
            ]
            assert delivery().state == "sent"
            [received] = server.received
            assert received.message["Subject"] == "feedbrief digest 2026-12-05"
            # Later passes, and the daily job run again (a restart within its grace
            # time), find the day sent.
            clock.now += timedelta(hours=1)
            service.retry_email()
            service.daily_digest()
            assert len(server.received) == 1

        status = cli("status")
        assert status.exit_code == 0, status.output
        assert f"email to {READER} via 127.0.0.1:{port} (none):" in status.stdout
        assert "2026-12-05 sent " in status.stdout
    finally:
        application.close()


def test_status_shows_a_failed_day_and_its_next_attempt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    config = configure(tmp_path, monkeypatch, email_table(port))
    application = App(load_settings(config, environ={}))
    try:
        Service(application).send_email(application.today() - timedelta(days=1))
    finally:
        application.close()
    status = cli("status")
    assert status.exit_code == 0
    assert "failed (1 attempts, retry in " in status.stdout
    assert f"cannot reach 127.0.0.1:{port}: Connection refused" in status.stdout


def test_a_partly_refused_day_counts_as_sent_and_status_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: SmtpServer, replayed: str
) -> None:
    gone = "gone@example.org"
    three = f'to = ["{READER}", "{gone}", "third@example.org"]'
    with smtp_server(refuse={gone}) as refusing:
        configure(
            tmp_path, monkeypatch, email_table(refusing.port).replace(f'to = ["{READER}"]', three)
        )
        result = cli("digest", "--send", "--date", replayed)
        assert result.exit_code == 0, result.output
        assert refusing.received[0].recipients == [READER, "third@example.org"]
        reply = f"550 5.1.1 <{gone}>: Recipient address rejected: User unknown"
        assert f"{replayed}: the server refused {gone}: {reply}" in result.stderr
        status = cli("status")
        assert f"{replayed} sent " in status.stdout
        assert f", 1 of 3 refused ({gone}: {reply})" in status.stdout
        document = json.loads(cli("status", "--json").stdout)["email"]
        assert document["to"] == [READER, gone, "third@example.org"]
        assert document["server"] == f"127.0.0.1:{refusing.port}"
        [day] = document["days"]
        assert (day["day"], day["state"], day["refused"]) == (replayed, "sent", {gone: reply})
        # A send that every recipient takes clears it.
        configure(
            tmp_path, monkeypatch, email_table(server.port).replace(f'to = ["{READER}"]', three)
        )
        assert cli("digest", "--send", "--date", replayed, "--resend").exit_code == 0
    status = cli("status")
    assert "refused" not in status.stdout
    [day] = json.loads(cli("status", "--json").stdout)["email"]["days"]
    assert (day["state"], day["refused"], day["attempts"]) == ("sent", {}, 2)


def test_emails_are_counted_for_metrics(tmp_path: Path, sqlite_url: str) -> None:
    metrics_dir = tmp_path / "metrics"
    run_worker(
        metrics_dir,
        """
        from feedbrief import metrics
        metrics.setup_metrics(Path(METRICS_DIR))
        metrics.record_email("failed")
        metrics.record_email("failed")
        metrics.record_email("sent")
        """,
    )
    storage = Storage.open(sqlite_url)
    try:
        registry = scrape_registry(metrics_dir, storage)
    finally:
        storage.close()
    assert registry.get_sample_value("feedbrief_emails_total", {"outcome": "sent"}) == 1
    assert registry.get_sample_value("feedbrief_emails_total", {"outcome": "failed"}) == 2
    with pytest.raises(ValueError, match="unknown email outcome"):
        record_email("bounced")


def test_the_service_logs_a_refused_login_without_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tls = Tls()
    ca = tmp_path / "ca.pem"
    tls.ca.cert_pem.write_to_path(str(ca))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    wrong = "wrong-" + PASSWORD
    monkeypatch.setenv("FEEDBRIEF_SMTP_PASSWORD", wrong)
    structlog.reset_defaults()
    with smtp_server(security="starttls", tls=tls, auth=True) as secure:
        config = configure(
            tmp_path, monkeypatch, email_table(secure.port, "starttls", username=USERNAME)
        )
        application = App(
            load_settings(config, environ={}),
            clock=Clock(datetime(2026, 12, 6, 7, 0, tzinfo=UTC)),
        )
        try:
            with capture_logs() as logs:
                Service(application).daily_digest()
        finally:
            application.close()
    [failed] = [entry for entry in logs if entry["event"] == "email.failed"]
    assert "refused the login of 'digest-sender': 535" in failed["error"]
    assert wrong not in repr(logs)
    assert secure.received == []


@pytest.mark.postgres
def test_workers_sharing_postgresql_send_a_day_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_server: str, server: SmtpServer
) -> None:
    from tests.conftest import _reset_postgres

    _reset_postgres(postgres_server)
    config = configure(tmp_path, monkeypatch, email_table(server.port))
    settings = load_settings(config, environ={"FEEDBRIEF_DATABASE_URL": postgres_server})
    workers = [
        App(settings, clock=Clock(datetime(2026, 12, 6, 7, 0, tzinfo=UTC))) for _ in range(4)
    ]
    try:
        for worker in workers:
            worker.storage  # noqa: B018 (migrated before the race, not during it)
        start = threading.Barrier(len(workers))

        def daily(index: int) -> None:
            start.wait()
            service = Service(workers[index])
            service.worker = f"worker-{index}"
            service.daily_digest()

        with ThreadPoolExecutor(len(workers)) as pool:
            list(pool.map(daily, range(len(workers))))
    finally:
        for worker in workers:
            worker.close()
    assert len(server.received) == 1
    assert server.received[0].message["Subject"] == "feedbrief digest 2026-12-05"
