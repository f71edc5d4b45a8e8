"""``feedbrief digest --send`` end to end: a real SMTP server on 127.0.0.1, a real SQLite
database, the seed replayed into it. Once per day and recipient list; failures as one
line and exit 1; the password nowhere in what is printed."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import lxml.html
import pytest
from typer.testing import CliRunner, Result

from digest.sections import MAX_PAGE_BYTES
from feedbrief.cli import app
from tests.conftest import SEED
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
    assert result.stderr == (
        f"{replayed}: not sent: cannot reach 127.0.0.1:{down}: Connection refused\n"
    )
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
    assert result.stderr.count("\n") == 1
    assert f"127.0.0.1:{refusing.port} refused every recipient: {READER}: 550 5.1.1" in (
        result.stderr
    )
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
    assert result.stderr.endswith(
        f"{replayed}: not sent: 127.0.0.1:{secure.port} refused the login of "
        f"'{USERNAME}': 535 5.7.8 Authentication credentials invalid\n"
    )
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
