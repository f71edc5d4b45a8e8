"""What the ``feedbrief`` command loads: commands that summarise nothing do not import
the libraries that made every start-up slow (NLTK, SciPy, datasketch). Each command
runs in a fresh interpreter, as a user's would; the timings are bench/startup_bench.py's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

HEAVY = ("nltk", "scipy", "datasketch")

_RUN = """
import json, sys
from feedbrief.cli import app
try:
    app(sys.argv[1:], prog_name="feedbrief")
except SystemExit:
    pass
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)), file=sys.stderr)
"""


def _heavy_modules_after(args: list[str], cwd: Path, heavy: tuple[str, ...] = HEAVY) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDBRIEF_")}
    env["PYTHONPATH"] = str(REPO)
    result = subprocess.run(
        [sys.executable, "-c", _RUN.format(heavy=heavy), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "args", [["--help"], ["--version"], ["status"], ["feeds", "list"]], ids=" ".join
)
def test_commands_that_report_do_not_import_nltk_or_scipy(args: list[str], tmp_path: Path) -> None:
    assert _heavy_modules_after(args, tmp_path) == []


def test_a_run_in_an_empty_folder_does_not_import_nltk_or_scipy(tmp_path: Path) -> None:
    assert _heavy_modules_after(["run", "--once"], tmp_path) == []
    assert (tmp_path / "digests").is_dir()


@pytest.mark.parametrize("args", [["--help"], ["--version"]], ids=" ".join)
def test_help_and_version_do_not_import_the_database_layer(args: list[str], tmp_path: Path) -> None:
    assert _heavy_modules_after(args, tmp_path, ("sqlalchemy", "storage", "alembic")) == []


def test_a_run_with_nothing_to_do_loads_no_parser_summariser_or_scheduler(tmp_path: Path) -> None:
    # No feed due and no seed: no worker pool is forked, so nothing is warmed up for it.
    unneeded = ("feedbrief.pipeline", "numpy", "apscheduler", "digest.smtp", "ingest.parse")
    # The new database is made from storage/sqlite_schema.sql, without Alembic.
    unneeded += ("alembic", "sqlalchemy.dialects.postgresql")
    assert _heavy_modules_after(["run", "--once"], tmp_path, unneeded) == []
    assert (tmp_path / "digests").is_dir()


@pytest.mark.parametrize("args", [["status"], ["feeds", "list"]], ids=" ".join)
def test_reports_on_an_up_to_date_sqlite_file_load_neither_alembic_nor_postgresql(
    args: list[str], tmp_path: Path
) -> None:
    _heavy_modules_after(["run", "--once"], tmp_path)  # creates the database
    unneeded = ("alembic", "sqlalchemy.dialects.postgresql")  # a SQLite file at the head
    assert _heavy_modules_after(args, tmp_path, unneeded) == []
