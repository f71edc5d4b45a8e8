"""Every stderr line of a command is one JSON object when stderr is not a terminal,
the standard-library loggers of Alembic, APScheduler and the rest included."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

from feedbrief.logs import configure_logging
from tests.conftest import REPO, SEED, at_revision

FEEDBRIEF = [sys.executable, "-m", "feedbrief"]


def _environment(tmp_path: Path) -> dict[str, str]:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(SEED, seeds / SEED.name)
    return {
        **os.environ,
        "FEEDBRIEF_CONFIG": str(REPO / "config" / "feedbrief.toml"),
        "FEEDBRIEF_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'feedbrief.db'}",
        "FEEDBRIEF_DIGEST_DIR": str(tmp_path / "digests"),
        "FEEDBRIEF_SEEDS_DIR": str(seeds),
        "FEEDBRIEF_METRICS_DIR": str(tmp_path / "metrics"),
    }


def _json_lines(stderr: str) -> list[dict[str, Any]]:
    lines = stderr.splitlines()
    assert lines, "nothing was logged"
    events = []
    for line in lines:
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"a stderr line is not JSON: {line!r}")
    for event in events:
        assert {"event", "level", "timestamp"} <= event.keys(), event
    return events


def test_alembic_migrations_log_json_lines(tmp_path: Path) -> None:
    # A database some migrations behind, as an upgraded installation has: a new SQLite
    # database is made without Alembic.
    with at_revision(f"sqlite:///{tmp_path / 'data' / 'feedbrief.db'}", "0005"):
        pass
    result = subprocess.run(
        [*FEEDBRIEF, "status", "--log-level", "INFO"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=_environment(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    events = _json_lines(result.stderr)
    alembic = [e for e in events if e.get("logger", "").startswith("alembic")]
    assert any(e["event"].startswith("Running upgrade") for e in alembic), events
    assert all(e["level"] == "info" for e in alembic)


def test_the_service_logs_only_json_lines_apscheduler_included(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [*FEEDBRIEF, "run", "--log-level", "INFO"],
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=_environment(tmp_path),
    )
    assert process.stderr is not None
    lines: list[str] = []
    deadline = time.monotonic() + 90
    for line in process.stderr:
        lines.append(line)
        if '"logger": "apscheduler' in line and "started" in line:
            break
        if time.monotonic() > deadline:
            break
    process.send_signal(signal.SIGTERM)
    try:
        _, rest = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError("".join(lines)) from None
    events = _json_lines("".join(lines) + rest)
    assert process.returncode == 0
    schedulers = [e for e in events if e.get("logger", "").startswith("apscheduler")]
    assert any("started" in e["event"] for e in schedulers), events
    assert any(e.get("seed") == SEED.name for e in events), "our own events are there too"


def test_library_records_warnings_and_tracebacks_are_one_json_line_each(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", json=True)
    try:
        logging.getLogger("trafilatura.core").warning("discarding %s", "data")
        logging.getLogger("apscheduler.executors").debug("below the level: not shown")
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logging.getLogger("sqlalchemy.pool").exception("connection failed")
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            # An earlier test's configure_logging may have left logging believing it
            # captures warnings while pytest restored showwarning: capture afresh.
            logging.captureWarnings(False)
            logging.captureWarnings(True)
            warnings.warn("an old API", DeprecationWarning, stacklevel=1)
    finally:
        configure_logging("WARNING", json=True)
    events = _json_lines(capsys.readouterr().err)

    assert [(e["logger"], e["level"]) for e in events] == [
        ("trafilatura.core", "warning"),
        ("sqlalchemy.pool", "error"),
        ("py.warnings", "warning"),
    ]
    assert events[0]["event"] == "discarding data"
    assert "RuntimeError: boom" in events[1]["exception"]
    assert "an old API" in events[2]["event"]


def test_configuring_again_leaves_one_bridge(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", json=True)
    configure_logging("INFO", json=True)
    logging.getLogger("alembic").warning("once")
    configure_logging("WARNING", json=True)
    assert len(_json_lines(capsys.readouterr().err)) == 1


def test_httpx_request_chatter_is_left_out_at_info(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", json=True)
    logging.getLogger("httpx").info("HTTP Request: GET http://127.0.0.1/ 200 OK")
    logging.getLogger("httpx").warning("kept")
    configure_logging("WARNING", json=True)
    assert [e["event"] for e in _json_lines(capsys.readouterr().err)] == ["kept"]
