"""Operator errors (issue 16): a database that cannot be used, a directory that cannot be
written, a missing seeds directory. Each command says so in one line on stderr naming
the thing, exits non-zero, and shows no traceback."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SEED, _postgres_unavailable

FEEDBRIEF = [sys.executable, "-m", "feedbrief"]


@pytest.fixture
def place(tmp_path: Path) -> dict[str, str]:
    """A working set-up: an empty config, a seeds directory with one seed, and paths for
    the database, the digests and the metrics under tmp_path."""
    config = tmp_path / "feedbrief.toml"
    config.write_text("[feeds]\nprocesses = 1\n", encoding="utf-8")
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / SEED.name).write_bytes(SEED.read_bytes())
    return {
        "FEEDBRIEF_CONFIG": str(config),
        "FEEDBRIEF_DATABASE_URL": f"sqlite:///{tmp_path / 'feedbrief.db'}",
        "FEEDBRIEF_SEEDS_DIR": str(seeds),
        "FEEDBRIEF_DIGEST_DIR": str(tmp_path / "digests"),
        "FEEDBRIEF_METRICS_DIR": str(tmp_path / "metrics"),
    }


def feedbrief(place: dict[str, str], *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FEEDBRIEF, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **place, **env},
        timeout=120,
    )


def assert_one_line(done: subprocess.CompletedProcess[str], *expected: str) -> str:
    """Exit 1 and a single line on stderr holding every *expected* text."""
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert done.returncode == 1, (done.returncode, done.stderr)
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


def corrupted(tmp_path: Path) -> str:
    path = tmp_path / "corrupted.db"
    path.write_bytes(b"this was a database once " * 400)
    return f"sqlite:///{path}"


@pytest.mark.parametrize(
    "command",
    [
        ["status"],
        ["export"],
        ["digest"],
        ["replay"],
        ["feeds", "list"],
        ["prune"],
        ["run", "--once", "--log-level", "WARNING"],
    ],
)
def test_a_corrupted_sqlite_file_is_one_line(
    place: dict[str, str], tmp_path: Path, command: list[str]
) -> None:
    url = corrupted(tmp_path)
    done = feedbrief(place, *command, FEEDBRIEF_DATABASE_URL=url)
    assert_one_line(done, f"database {url}", "file is not a database")


def test_a_database_corrupted_after_its_schema_was_made_is_one_line(
    place: dict[str, str], tmp_path: Path
) -> None:
    """Opened fine, then a table cannot be read: status reports, as it promises."""
    assert feedbrief(place, "replay").returncode == 0
    database = place["FEEDBRIEF_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        connection.execute("DROP TABLE sources")
    done = feedbrief(place, "status")
    assert_one_line(done, "database sqlite:///", "no such table: sources")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("nosuch://user@127.0.0.1/feedbrief", "unknown database dialect 'nosuch'"),
        ("postgresql+pg8000://user@127.0.0.1:1/feedbrief", "driver is not installed"),
        ("postgresql+psycopg://postgres@127.0.0.1:1/feedbrief", "Connection refused"),
    ],
)
def test_a_database_that_cannot_be_used_is_one_line(
    place: dict[str, str], url: str, reason: str
) -> None:
    for command in (["status"], ["run", "--once", "--log-level", "WARNING"]):
        done = feedbrief(place, *command, FEEDBRIEF_DATABASE_URL=url)
        line = assert_one_line(done, reason)
        assert line.startswith(f"database {url.partition('@')[0]}")


def test_a_postgresql_database_that_does_not_exist_is_one_line(place: dict[str, str]) -> None:
    if reason := _postgres_unavailable():
        pytest.skip(reason)
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/feedbrief_no_such_database"
    done = feedbrief(place, "status", FEEDBRIEF_DATABASE_URL=url)
    assert_one_line(done, f"database {url}", 'database "feedbrief_no_such_database" does not')


def test_a_password_is_never_shown(place: dict[str, str]) -> None:
    url = "postgresql+psycopg://postgres:s3cret@127.0.0.1:1/feedbrief"
    done = feedbrief(place, "status", FEEDBRIEF_DATABASE_URL=url)
    line = assert_one_line(done, "Connection refused")
    assert "s3cret" not in line


# Tests run as root here, which chmod cannot stop; a path under a regular file is one no
# user can create, whoever they are.


def test_a_database_directory_that_cannot_be_made_is_one_line(
    place: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("")
    url = f"sqlite:///{tmp_path / 'file' / 'data' / 'feedbrief.db'}"
    done = feedbrief(place, "status", FEEDBRIEF_DATABASE_URL=url)
    assert_one_line(done, f"database {url}", "Not a directory")


@pytest.mark.parametrize("command", [["digest"], ["run", "--once", "--log-level", "WARNING"]])
def test_a_digest_directory_that_cannot_be_written_is_one_line(
    place: dict[str, str], tmp_path: Path, command: list[str]
) -> None:
    (tmp_path / "file").write_text("")
    directory = tmp_path / "file" / "digests"
    done = feedbrief(place, *command, FEEDBRIEF_DIGEST_DIR=str(directory))
    assert_one_line(done, str(directory), "Not a directory")


def test_a_metrics_directory_that_cannot_be_made_is_one_line(
    place: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("")
    directory = tmp_path / "file" / "metrics"
    done = feedbrief(
        place, "run", "--once", "--log-level", "WARNING", FEEDBRIEF_METRICS_DIR=str(directory)
    )
    assert_one_line(done, str(directory), "Not a directory")


def test_export_to_a_missing_directory_is_one_line(place: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "missing" / "x.jsonl"
    done = feedbrief(place, "export", "--out", str(target))
    assert_one_line(done, f"cannot write in {target.parent}", "No such file or directory")


def test_replay_of_a_missing_seeds_directory_is_one_line(
    place: dict[str, str], tmp_path: Path
) -> None:
    missing = tmp_path / "no-seeds-here"
    done = feedbrief(place, "replay", FEEDBRIEF_SEEDS_DIR=str(missing))
    assert_one_line(done, f"seeds directory {missing} does not exist")


def test_the_service_reports_a_missing_seeds_directory_and_goes_on(
    place: dict[str, str], tmp_path: Path
) -> None:
    """A service may read feeds only: the missing directory is a warning naming it."""
    missing = tmp_path / "no-seeds-here"
    done = feedbrief(
        place, "run", "--once", "--log-level", "WARNING", FEEDBRIEF_SEEDS_DIR=str(missing)
    )
    assert done.returncode == 0, done.stderr
    assert '"event": "seeds.dir_missing"' in done.stderr
    assert str(missing) in done.stderr


def test_run_once_exits_1_when_a_job_fails_for_a_reason_not_one_feeds(
    place: dict[str, str], tmp_path: Path
) -> None:
    """The digest cannot be written (its feed.xml is a directory): the run said so."""
    (tmp_path / "digests" / "feed.xml").mkdir(parents=True)
    done = feedbrief(place, "run", "--once", "--log-level", "WARNING")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    last = done.stderr.splitlines()[-1]
    assert last.startswith("run --once failed: ")
    assert "feed.xml" in last


def test_the_traceback_goes_to_the_log_as_json_at_debug_level(
    place: dict[str, str], tmp_path: Path
) -> None:
    url = corrupted(tmp_path)
    done = feedbrief(place, "status", "--log-level", "DEBUG", FEEDBRIEF_DATABASE_URL=url)
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert lines[-1] == f"database {url}: file is not a database"
    logged = [json.loads(line) for line in lines[:-1] if line.startswith("{")]
    assert len(logged) == len(lines) - 1, "every other line is a JSON log line"
    [failed] = [event for event in logged if event["event"] == "command.failed"]
    assert failed["level"] == "debug"
    assert "Traceback" in failed["exception"] and "file is not a database" in failed["exception"]


def test_a_command_without_the_app_reports_an_unwritable_path_in_one_line(
    place: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("")
    target = tmp_path / "file" / "out"
    done = feedbrief(place, "clean", str(SEED), "--out", str(target))
    assert_one_line(done, f"{target}: Not a directory")
