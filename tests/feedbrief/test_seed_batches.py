"""A large JSON seed is stored in batches: a replay killed part-way keeps the batches it
committed, and the next replay stores the rest, nothing twice. (Its speed is measured
by ``bench.seed_bench``.)"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from feedbrief.pipeline import SEED_BATCH
from tests.conftest import REPO

OBJECTS = 3 * SEED_BATCH + 17
WAIT_SECONDS = 120


def write_seed(path: Path) -> None:
    items = [
        {
            "id": f"wire-{n}",
            "title": f"Council vote {n}",
            "text": f"The council voted on motion {n} on Tuesday. It passed by {n % 9 + 1} votes.",
        }
        for n in range(OBJECTS)
    ]
    path.write_text(json.dumps(items), encoding="utf-8")


def stored(database: Path) -> list[str]:
    if not database.exists():
        return []
    try:
        with sqlite3.connect(database, timeout=10) as db:
            return [guid for (guid,) in db.execute("SELECT guid FROM items")]
    except sqlite3.OperationalError:  # the schema is not there yet
        return []


def test_a_killed_replay_keeps_whole_batches_and_the_next_stores_the_rest_once(
    tmp_path: Path,
) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    seed = seeds / "wire.json"
    write_seed(seed)
    database = tmp_path / "feedbrief.db"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FEEDBRIEF_")},
        "FEEDBRIEF_DATABASE_URL": f"sqlite:///{database}",
        "FEEDBRIEF_SEEDS_DIR": str(seeds),
        "FEEDBRIEF_DIGEST_DIR": str(tmp_path / "digests"),
        "PYTHONPATH": str(REPO),
    }
    command = [sys.executable, "-m", "feedbrief", "replay", str(seed)]

    first = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + WAIT_SECONDS
    while not stored(database):
        assert first.poll() is None, "the replay ended before its first batch was seen"
        assert time.monotonic() < deadline, "no batch was stored"
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait(WAIT_SECONDS)
    kept = stored(database)

    second = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert second.returncode == 0, second.stderr[-2000:]

    assert 0 < len(kept) < OBJECTS
    assert len(kept) % SEED_BATCH == 0  # whole batches, never part of one
    everything = stored(database)
    assert len(everything) == len(set(everything)) == OBJECTS
    assert set(kept) <= set(everything)
