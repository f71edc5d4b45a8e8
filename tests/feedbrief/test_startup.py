"""What the ``feedbrief`` command loads: commands that summarise nothing do not import
the libraries that made every start-up slow (NLTK, SciPy, datasketch). Each command
runs in a fresh interpreter, as a user's would; the timings are bench/startup_bench.py's."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

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


def _last_stderr_line_of(code: str, args: list[str], cwd: Path) -> Any:
    """Run *code* in a fresh interpreter (no FEEDBRIEF_* variables) and read the JSON it
    prints last on stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDBRIEF_")}
    env["PYTHONPATH"] = str(REPO)
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stderr.strip().splitlines()[-1])


def _heavy_modules_after(args: list[str], cwd: Path, heavy: tuple[str, ...] = HEAVY) -> list[str]:
    return _last_stderr_line_of(_RUN.format(heavy=heavy), args, cwd)


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
    # No worker pool is started; sqlite_schema's command line is not run.
    unneeded += ("multiprocessing", "concurrent.futures.process", "argparse")
    assert _heavy_modules_after(["run", "--once"], tmp_path, unneeded) == []
    assert (tmp_path / "digests").is_dir()


@pytest.mark.parametrize("args", [["status"], ["feeds", "list"]], ids=" ".join)
def test_reports_on_an_up_to_date_sqlite_file_load_neither_alembic_nor_postgresql(
    args: list[str], tmp_path: Path
) -> None:
    _heavy_modules_after(["run", "--once"], tmp_path)  # creates the database
    unneeded = ("alembic", "sqlalchemy.dialects.postgresql")  # a SQLite file at the head
    assert _heavy_modules_after(args, tmp_path, unneeded) == []


_LAUNCH = """
import gc, json, sys
import feedbrief.service
from feedbrief.launch import main

collecting = {{}}
service_class = feedbrief.service.Service
original_init, original_run_once = service_class.__init__, service_class.run_once

def init(self, *args, **kwargs):
    collecting["service set up"] = gc.isenabled()
    original_init(self, *args, **kwargs)

def run_once(self):
    collecting["pass"] = gc.isenabled()
    return original_run_once(self)

service_class.__init__, service_class.run_once = init, run_once
sys.argv = ["feedbrief", *{args!r}]
try:
    main()
except SystemExit as exit:
    assert not exit.code, exit.code
collecting["after"] = gc.isenabled()
collecting["frozen"] = gc.get_freeze_count() > 0
print(json.dumps(collecting), file=sys.stderr)
"""


def _collector_through_the_entry_point(args: list[str], cwd: Path) -> dict[str, bool]:
    return _last_stderr_line_of(_LAUNCH.format(args=args), [], cwd)


def test_run_once_sets_up_without_the_collector_and_makes_its_pass_with_it(
    tmp_path: Path,
) -> None:
    collecting = _collector_through_the_entry_point(["run", "--once"], tmp_path)
    assert collecting == {"service set up": False, "pass": True, "after": True, "frozen": True}


@pytest.mark.parametrize("args", [["status"], ["feeds", "list"]], ids=" ".join)
def test_other_commands_run_with_the_collector(args: list[str], tmp_path: Path) -> None:
    _collector_through_the_entry_point(["run", "--once"], tmp_path)  # creates the database
    assert _collector_through_the_entry_point(args, tmp_path) == {"after": True, "frozen": True}


_SERVICE = """
import gc, json, sys
import feedbrief.service
from feedbrief.launch import main

def run_forever(self):
    # Instead of serving: ask a worker of the pool the service forked at start.
    print(json.dumps([gc.isenabled(), self.app.offload.call(gc.isenabled)]), file=sys.stderr)

feedbrief.service.Service.run_forever = run_forever
sys.argv = ["feedbrief", "run"]
main()
"""


def test_the_service_forks_its_workers_with_the_collector_running(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "feedbrief.toml").write_text("[feeds]\nprocesses = 2\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDBRIEF_")}
    env["PYTHONPATH"] = str(REPO)
    result = subprocess.run(
        [sys.executable, "-c", _SERVICE],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    in_service, in_worker = json.loads(result.stderr.strip().splitlines()[-1])
    assert in_service and in_worker


def test_resuming_without_a_pause_leaves_the_collector_as_it_was() -> None:
    from feedbrief import collector

    gc.disable()
    try:
        collector.resume()
        assert not gc.isenabled()
    finally:
        gc.enable()
