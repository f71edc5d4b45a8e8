"""Output for people and for scripts: --json, tables that keep whole URLs when piped, and
--config on every command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from feedbrief.cli import app
from tests.conftest import REPO

FEEDBRIEF = [sys.executable, "-m", "feedbrief"]
runner = CliRunner()
# Port 9 (discard) has no listener on the loopback address: fetches fail at once.
LONG_URL = "http://127.0.0.1:9/" + "a-rather-long-path-segment/" * 8 + "feed.xml"

STATUS_FEED_KEYS = {
    "url",
    "title",
    "category",
    "state",
    "items",
    "last_success",
    "last_checked",
    "last_status",
    "last_error",
    "error_count",
    "next_check",
    "retired",
    "retired_reason",
}
STATUS_SUMMARY_KEYS = {"feeds", "healthy", "failing", "retired", "items"}
LIST_KEYS = {
    "url",
    "title",
    "category",
    "interval",
    "full_text",
    "weight",
    "block",
    "keep",
    "retired",
}


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "FEEDBRIEF_CONFIG": str(REPO / "config" / "feedbrief.toml"),
        "FEEDBRIEF_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'feedbrief.db'}",
        "FEEDBRIEF_DIGEST_DIR": str(tmp_path / "digests"),
        "FEEDBRIEF_SEEDS_DIR": str(tmp_path / "seeds"),
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


def _invoke(*args: str) -> str:
    # CliRunner's stdout is no terminal either: what a pipe gets.
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def subscribed(env: dict[str, str]) -> dict[str, str]:
    _invoke("feeds", "add", LONG_URL, "--category", "Local", "--weight", "2")
    _invoke("feeds", "refresh")
    return env


def test_status_json_has_the_documented_keys(subscribed: dict[str, str]) -> None:
    document = json.loads(_invoke("status", "--json"))

    assert document.keys() == {"feeds", "summary", "email"}
    assert document["email"] is None  # no [email] recipients
    [feed] = document["feeds"]
    assert feed.keys() == STATUS_FEED_KEYS
    assert feed["url"] == LONG_URL
    assert feed["state"] == "failing"
    assert feed["error_count"] == 1
    assert feed["last_error"].startswith("connection failed")
    assert feed["last_checked"].endswith("+00:00")
    assert document["summary"] == {"feeds": 1, "healthy": 0, "failing": 1, "retired": 0, "items": 0}


def test_feeds_list_json_has_the_documented_keys(subscribed: dict[str, str]) -> None:
    [feed] = json.loads(_invoke("feeds", "list", "--json"))

    assert feed.keys() == LIST_KEYS
    assert (feed["url"], feed["category"], feed["weight"]) == (LONG_URL, "Local", 2.0)
    assert feed["retired"] is False


def test_json_of_an_empty_database(env: dict[str, str]) -> None:
    assert json.loads(_invoke("feeds", "list", "--json")) == []
    assert json.loads(_invoke("status", "--json"))["feeds"] == []


def _the_row(stdout: str) -> str:
    [row] = [line for line in stdout.splitlines() if "127.0.0.1:9" in line]
    return row


def test_a_piped_status_table_never_cuts_a_url(subscribed: dict[str, str]) -> None:
    # A narrow window: without the rule, the URL would be cut to its first columns.
    result = subprocess.run(
        [*FEEDBRIEF, "status"],
        capture_output=True,  # stdout is a pipe, as in `feedbrief status | less`
        text=True,
        timeout=120,
        env={**os.environ, **subscribed, "COLUMNS": "60"},
    )
    assert result.returncode == 0, result.stderr

    row = _the_row(result.stdout)
    assert LONG_URL in row
    assert "…" not in row


def test_other_tables_keep_urls_and_errors_whole(subscribed: dict[str, str]) -> None:
    row = _the_row(_invoke("feeds", "refresh"))
    assert LONG_URL in row
    assert "connection failed: [Errno 111] Connection refused" in row


def _commands(group: Any, prefix: str = "") -> list[tuple[str, Any]]:
    # Typer's own (vendored) click types: a group is what has sub-commands.
    found: list[tuple[str, Any]] = []
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found.extend(_commands(command, f"{prefix}{name} "))
        else:
            found.append((prefix + name, command))
    return found


def test_every_command_takes_config_and_log_level() -> None:
    root = typer.main.get_command(app)
    commands = _commands(root)
    assert {"run", "status", "clean", "summarise", "serve", "feeds list"} <= {
        name for name, _ in commands
    }
    for name, command in commands:
        options = {option for param in command.params for option in param.opts}
        assert "--config" in options, f"{name} has no --config"
        assert "--log-level" in options, f"{name} has no --log-level"
