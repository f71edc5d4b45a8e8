"""The front page on a farm shaped like a morning's news, end to end as a user runs it.

``python -m bench.front_page_bench`` serves ``../shared/tools/feedfarm.py`` with 100 feeds
in six OPML folders, items dated in the last 20 hours, ten "hot" stories carried by 12,
11, ..., 3 feeds and five stale feeds (a backlog a month or two old), then runs
``feedbrief feeds import`` and ``feedbrief run --once`` and checks the day's files against
the farm's ground truth (``/meta``): the hot stories are the top ten in coverage order
with the right coverage, every folder is a section, no stale item is in the digest,
every fresh item is, and the front page stays within 100 KB and 3,000 words. It prints
the front page's size next to the day's full list (the firehose it replaces) and the
time ``feedbrief digest`` takes to rebuild the day (target: under a second), best and
spread of ``--repeat`` runs. Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import lxml.html

from bench.farm import DATA, Farm, FarmError

MAX_PAGE_BYTES = 100 * 1024
MAX_PAGE_WORDS = 3000
TARGET_DIGEST_SECONDS = 1.0


def feedbrief(env: dict[str, str], *args: str) -> float:
    """Run a command; its wall time in seconds (it must succeed)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "feedbrief", *args], env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"feedbrief {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return seconds


def time_digest(env: dict[str, str], day: str, runs: int) -> tuple[list[float], list[float]]:
    """Seconds to build the day's digest from the database (query, select, rank, lay
    out), and to write it, in this process with the service's own wiring."""
    from feedbrief.app import App
    from feedbrief.settings import load_settings

    app = App(load_settings(Path(env["FEEDBRIEF_CONFIG"]), environ=env))
    try:
        builds, writes = [], []
        for _ in range(runs):
            started = time.perf_counter()
            app.digests.build(date.fromisoformat(day))
            builds.append(time.perf_counter() - started)
            started = time.perf_counter()
            app.digests.write(date.fromisoformat(day))
            writes.append(time.perf_counter() - started)
        return builds, writes
    finally:
        app.close()


def spread(seconds: list[float]) -> str:
    return (
        f"best {min(seconds):.2f} s, median {statistics.median(seconds):.2f} s, "
        f"{min(seconds):.2f}-{max(seconds):.2f} s over {len(seconds)} runs"
    )


def page_words(path: Path) -> int:
    body = lxml.html.document_fromstring(path.read_text(encoding="utf-8")).find("body")
    return len(body.text_content().split())


def check(meta: dict[str, Any], digest: dict[str, Any], export: list[dict[str, Any]]) -> list[str]:
    """What is wrong with the day's digest, against the farm's ground truth."""
    problems = []
    stories = digest["stories"]
    story_of = {item["guid"]: item["story"] for item in export}
    hot = meta["hot"]
    if [s["id"] for s in stories[: len(hot)]] != [story_of[h["guid"]] for h in hot]:
        problems.append("the hot stories are not the top stories in coverage order")
    if [s["coverage"] for s in stories[: len(hot)]] != [h["coverage"] for h in hot]:
        problems.append("the hot stories' coverage is wrong")
    listed = {s["id"] for s in stories}
    stale = set(meta["stale_guids"])
    if any(story_of[guid] in listed for guid in stale):
        problems.append("a stale item is in the digest")
    if {i["story"] for i in export if i["guid"] not in stale} != listed:
        problems.append("a fresh item's story is missing from the digest")
    folders = set(meta["folders"].values())
    if not folders <= {s["section"] for s in stories}:
        problems.append("a folder is not a section")
    return problems


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # 80 x 12 items plus the stale feeds' stay within the 1,100 dev articles: beyond
    # them the farm reuses articles under other guids, and those copies are one story.
    parser.add_argument("--feeds", type=int, default=80)
    parser.add_argument("--items", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=5, help="digest rebuilds timed")
    args = parser.parse_args(argv)
    data = [DATA / "summ-dev-bbc.jsonl", DATA / "summ-dev-xsum.jsonl"]
    extra = ["--recent-hours", "20", "--hot", "10", "--hot-max", "12", "--stale", "5"]
    try:
        farm = Farm(data, feeds=args.feeds, items=args.items, extra_args=[*extra, "--folders", "6"])
    except FarmError as exc:
        sys.exit(str(exc))
    with farm, tempfile.TemporaryDirectory(prefix="front-page-bench-") as tmp:
        work = Path(tmp)
        (work / "seeds").mkdir()
        (work / "farm.opml").write_bytes(farm.opml())
        (work / "feedbrief.toml").write_text('[digest]\ntimezone = "UTC"\n')
        env = {
            **os.environ,
            "FEEDBRIEF_CONFIG": str(work / "feedbrief.toml"),
            "FEEDBRIEF_DATABASE_URL": f"sqlite:///{work / 'feedbrief.db'}",
            "FEEDBRIEF_DIGEST_DIR": str(work / "digests"),
            "FEEDBRIEF_SEEDS_DIR": str(work / "seeds"),
            "FEEDBRIEF_METRICS_DIR": str(work / "metrics"),
        }
        meta = farm._get("/meta").json()
        feedbrief(env, "feeds", "import", str(work / "farm.opml"))
        run = feedbrief(env, "run", "--once")
        export_path = work / "export.jsonl"
        feedbrief(env, "export", "--out", str(export_path))
        day = datetime.now(UTC).date().isoformat()
        builds, writes = time_digest(env, day, args.repeat)
        digests = work / "digests"
        digest = json.loads((digests / f"{day}.json").read_text())
        export = [json.loads(line) for line in export_path.read_text().splitlines()]
        page, full = digests / f"{day}.html", digests / f"{day}-all.html"
        problems = check(meta, digest, export)
        size, words = page.stat().st_size, page_words(page)
        full_size = full.stat().st_size
        if size > MAX_PAGE_BYTES:
            problems.append(f"the front page is {size:,} bytes")
        if words > MAX_PAGE_WORDS:
            problems.append(f"the front page reads {words:,} words")
        if min(builds) >= TARGET_DIGEST_SECONDS:
            problems.append(f"building the day's digest takes {min(builds):.2f} s")

    stories = digest["stories"]
    print(f"farm: {args.feeds} feeds + 5 stale, {len(export):,} items; run --once {run:.1f} s")
    shown = sum(s["front_page"] for s in stories)
    print(f"stories of the day: {len(stories):,}, on the front page {shown}")
    print(
        f"front page: {size:,} bytes, {words:,} words | full list (the firehose): "
        f"{full_size:,} bytes"
    )
    print(f"building the day's digest: {spread(builds)} (target < {TARGET_DIGEST_SECONDS:g} s)")
    print(f"writing it (build, render, publish, feed.xml): {spread(writes)}")
    for problem in problems:
        print(f"FAIL: {problem}")
    if problems:
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
