"""The ``[email]`` settings: a file of only this table, defaults, and errors naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedbrief.settings import ConfigError, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feedbrief.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_file_with_only_the_email_table_is_valid(tmp_path: Path) -> None:
    settings = load_settings(
        write(
            tmp_path,
            '[email]\nto = ["reader@example.org"]\nfrom = "feedbrief@example.org"\n'
            'host = "smtp.example.org"\nsecurity = "starttls"\nusername = "me"\n',
        ),
        environ={},
    )
    email = settings.email
    assert email.enabled
    assert email.to == ["reader@example.org"]
    assert email.sender == "feedbrief@example.org"
    assert (email.host, email.smtp_port, email.security) == ("smtp.example.org", 587, "starttls")
    assert email.password_env == "FEEDBRIEF_SMTP_PASSWORD"
    # Everything else keeps its default.
    assert settings.digest.time.isoformat("minutes") == "07:00"


def test_no_recipients_means_no_email(tmp_path: Path) -> None:
    assert not load_settings(write(tmp_path, ""), environ={}).email.enabled
    assert not load_settings(write(tmp_path, "[email]\nto = []\n"), environ={}).email.enabled


@pytest.mark.parametrize(("security", "port"), [("none", 25), ("starttls", 587), ("tls", 465)])
def test_the_port_defaults_to_the_usual_one_for_the_security(
    tmp_path: Path, security: str, port: int
) -> None:
    email = load_settings(write(tmp_path, f'[email]\nsecurity = "{security}"\n'), environ={}).email
    assert email.smtp_port == port
    email = load_settings(
        write(tmp_path, f'[email]\nsecurity = "{security}"\nport = 2525\n'), environ={}
    ).email
    assert email.smtp_port == 2525


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ('security = "ssl"', "email.security"),
        ("port = 0", "email.port"),
        ("port = 70000", "email.port"),
        ('port = "smtp"', "email.port"),
        ('to = ["Reader <reader@example.org>"]', "email.to.0"),
        ('to = ["reader"]', "email.to.0"),
        ('to = "reader@example.org"', "email.to"),
        ('to = ["a@example.org"]\nfrom = "me"', "email.from"),
        ('to = ["a@example.org"]', "email"),
        ('password_env = "MY PASSWORD"', "email.password_env"),
        ('password = "hunter2"', "email.password"),
        ('host = ""', "email.host"),
        ('host = "smtp.example.org"\nusername = "me"', "email"),
    ],
)
def test_a_bad_value_stops_with_a_message_naming_its_key(
    tmp_path: Path, table: str, key: str
) -> None:
    with pytest.raises(ConfigError, match=rf": {key}: "):
        load_settings(write(tmp_path, f"[email]\n{table}\n"), environ={})


def test_a_password_in_the_file_is_refused_and_not_repeated(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, '[email]\npassword = "hunter2"\n'), environ={})
    assert "hunter2" not in str(caught.value)


def test_a_login_in_the_clear_is_allowed_only_to_this_machine(tmp_path: Path) -> None:
    table = '[email]\nhost = "127.0.0.1"\nusername = "me"\n'
    assert load_settings(write(tmp_path, table), environ={}).email.username == "me"
    with pytest.raises(ConfigError, match="in the clear; use 'starttls' or 'tls'"):
        load_settings(write(tmp_path, table.replace("127.0.0.1", "smtp.example.org")), environ={})
