"""The SQLite run lock belongs to the database file, whatever name reaches it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feedbrief.cli import app as cli
from feedbrief.runlock import RunLocked, lock_path, run_lock
from tests.conftest import REPO

runner = CliRunner()

# A second process that takes the lock, says so, and holds it until its stdin closes.
HOLDER = (
    "import sys\n"
    "from feedbrief.runlock import run_lock\n"
    "with run_lock(sys.argv[1]):\n"
    "    print('held', flush=True)\n"
    "    sys.stdin.read()\n"
)


@pytest.fixture
def hold_lock() -> Iterator[Callable[[str], subprocess.Popen[str]]]:
    holders: list[subprocess.Popen[str]] = []

    def hold(url: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, url],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        holders.append(process)
        assert process.stdout is not None
        assert process.stdout.readline() == "held\n"
        return process

    yield hold
    for process in holders:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(30)


def env_for(tmp_path: Path, database: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FEEDBRIEF_")}
    env.update(
        FEEDBRIEF_DATABASE_URL=f"sqlite:///{database}",
        FEEDBRIEF_DIGEST_DIR=str(tmp_path / "digests"),
        FEEDBRIEF_SEEDS_DIR=str(tmp_path / "seeds"),
        FEEDBRIEF_METRICS_DIR=str(tmp_path / "metrics"),
    )
    return env


def test_every_spelling_of_a_database_path_names_one_lock(tmp_path: Path) -> None:
    real = tmp_path / "data" / "feedbrief.db"
    real.parent.mkdir()
    alias = tmp_path / "alias.db"
    alias.symlink_to(real)
    linked_dir = tmp_path / "linked"
    linked_dir.symlink_to(real.parent)
    spellings = [real, alias, linked_dir / "feedbrief.db", tmp_path / "data" / ".." / "alias.db"]
    locks = {lock_path(f"sqlite:///{path}") for path in spellings}
    assert locks == {Path(f"{real}.run.lock")}


def test_no_lock_where_none_is_needed() -> None:
    assert lock_path("sqlite:///:memory:") is None
    assert lock_path("postgresql+psycopg://postgres@127.0.0.1/test") is None


@pytest.mark.parametrize("alias", ["symlink", "hard link"])
def test_an_alias_of_a_held_database_cannot_run_beside_its_holder(
    hold_lock: Callable[[str], subprocess.Popen[str]], tmp_path: Path, alias: str
) -> None:
    real = tmp_path / "feedbrief.db"
    holder = hold_lock(f"sqlite:///{real}")
    if alias == "symlink":
        other = tmp_path / "elsewhere" / "same.db"
        other.parent.mkdir()
        other.symlink_to(real)
    else:
        # SQLite names its journal after the path, so a hard link is a second database
        # to it; the lock still keeps a second service off the same file.
        other = tmp_path / "same.db"
        os.link(real, other)

    result = runner.invoke(cli, ["run", "--once"], env=env_for(tmp_path, other))

    assert result.exit_code == 1, result.output
    assert f"pid {holder.pid}" in result.stderr
    assert not (tmp_path / "digests").exists()  # it did nothing


def test_the_lock_is_free_again_once_its_holder_ends(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'feedbrief.db'}"
    with run_lock(url), pytest.raises(RunLocked), run_lock(url):
        pass
    with run_lock(url):
        pass


# Takes the lock, forks a child that stays alive, prints its pid, and dies with the
# lock in hand, as a killed `run --once` with worker processes would.
FORKS_AND_DIES = (
    "import os, sys, time\n"
    "from feedbrief.runlock import run_lock\n"
    "with run_lock(sys.argv[1]):\n"
    "    ready, told = os.pipe()\n"
    "    child = os.fork()\n"
    "    if child == 0:\n"
    "        os.write(told, b'x')\n"
    "        time.sleep(60)\n"
    "        os._exit(0)\n"
    "    os.read(ready, 1)\n"
    "    print(child, flush=True)\n"
    "    os._exit(1)\n"
)


def test_a_forked_child_does_not_keep_the_lock_of_a_process_that_died(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'feedbrief.db'}"
    dead = subprocess.Popen(
        [sys.executable, "-c", FORKS_AND_DIES, url], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    assert dead.stdout is not None
    child = int(dead.stdout.readline())  # the child keeps the pipe open: no communicate()
    try:
        assert dead.wait(60) == 1
        os.kill(child, 0)  # still alive, with its copies of the descriptors
        with run_lock(url):
            pass
    finally:
        os.kill(child, 9)
