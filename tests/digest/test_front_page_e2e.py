"""The front page end to end, as a new user meets it: ``feeds import`` of an OPML with
folders, one ``run --once``, then the day's files.

The farm (``../shared/tools/feedfarm.py``) dates its items in the last 20 hours, carries
ten "hot" stories in 12, 11, ..., 3 feeds each, adds five stale feeds whose items are a
month or two old, and groups the feeds in six folders; ``/meta`` is the ground truth.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bench.farm import Farm
from tests.conftest import shared_path
from tests.digest.test_front_page import text_words

pytestmark = pytest.mark.slow

FEEDBRIEF = [sys.executable, "-m", "feedbrief"]
MAX_PAGE_BYTES = 100 * 1024
MAX_PAGE_WORDS = 3000


def feedbrief(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*FEEDBRIEF, *args], capture_output=True, text=True, timeout=600, env=env, cwd=env["HOME"]
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    return result


def run_once(tmp_path: Path, opml: bytes) -> tuple[dict[str, str], Path]:
    (tmp_path / "farm.opml").write_bytes(opml)
    (tmp_path / "seeds").mkdir()
    (tmp_path / "feedbrief.toml").write_text(
        '[digest]\ntimezone = "UTC"\n[feeds]\nconnect_timeout = "5s"\nprocesses = 2\n'
    )
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "FEEDBRIEF_CONFIG": str(tmp_path / "feedbrief.toml"),
        "FEEDBRIEF_DATABASE_URL": f"sqlite:///{tmp_path / 'feedbrief.db'}",
        "FEEDBRIEF_DIGEST_DIR": str(tmp_path / "digests"),
        "FEEDBRIEF_SEEDS_DIR": str(tmp_path / "seeds"),
        "FEEDBRIEF_METRICS_DIR": str(tmp_path / "metrics"),
        "NO_PROXY": "127.0.0.1",
    }
    feedbrief(env, "feeds", "import", str(tmp_path / "farm.opml"))
    feedbrief(env, "run", "--once")
    return env, tmp_path / "digests"


def test_the_farm_front_page_ranks_hot_stories_by_coverage_in_folder_sections(
    tmp_path: Path,
) -> None:
    data = [shared_path("data", "summ-dev-bbc.jsonl"), shared_path("data", "summ-dev-xsum.jsonl")]
    farm_args = ["--recent-hours", "20", "--hot", "10", "--hot-max", "12", "--stale", "5"]
    with Farm(data, feeds=60, items=8, extra_args=[*farm_args, "--folders", "6"]) as farm:
        meta: dict[str, Any] = farm._get("/meta").json()
        env, digests = run_once(tmp_path, farm.opml())
    export = [json.loads(line) for line in feedbrief(env, "export").stdout.splitlines()]
    day = datetime.now(UTC).date().isoformat()
    digest = json.loads((digests / f"{day}.json").read_text())
    stories = digest["stories"]
    story_of = {item["guid"]: item["story"] for item in export}

    # Ranked best first, ranks 1..n.
    assert [s["rank"] for s in stories] == list(range(1, len(stories) + 1))
    # The ten hot stories are the top ten, in coverage order, each with its coverage.
    hot = meta["hot"]
    assert len(hot) == 10
    assert [s["id"] for s in stories[:10]] == [story_of[h["guid"]] for h in hot]
    assert [s["coverage"] for s in stories[:10]] == [h["coverage"] for h in hot]
    assert all(story_of[c] == story_of[h["guid"]] for h in hot for c in h["copies"])
    # No stale item is in the digest; every fresh item's story is.
    listed = {s["id"] for s in stories}
    stale = set(meta["stale_guids"])
    assert stale and not any(story_of[g] in listed for g in stale)
    fresh = {item["story"] for item in export if item["guid"] not in stale}
    assert fresh == listed
    # Every folder is a section of the front page, the feeds' categories.
    folders = set(meta["folders"].values())
    assert {s["category"] for s in stories} == folders
    assert folders <= {s["section"] for s in stories}
    page = (digests / f"{day}.html").read_text(encoding="utf-8")
    for folder in folders:
        assert re.search(rf"<h2[^>]*>\s*{folder}\s*</h2>", page), folder
    # Within the budget: mail clients clip past 100 KB; ten minutes' reading.
    assert len(page.encode()) <= MAX_PAGE_BYTES
    assert text_words(page) <= MAX_PAGE_WORDS
    assert (digests / f"{day}-all.html").exists()
    assert sum(s["front_page"] for s in stories) < len(stories)
