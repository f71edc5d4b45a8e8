"""Feed ingest speed: feedbrief's whole pipeline against lemon24/reader's fetch-and-store.

Run from the repo root: ``python -m bench.ingest_bench`` (about half a minute).

One feed farm (``../shared/tools/feedfarm.py``, 100 feeds x 12 items from the BBC and
XSum dev files, RSS/Atom/JSON Feed in turn) is served for the whole run, and both
readers ingest it from scratch:

* feedbrief as an operator runs it: a fresh SQLite file, ``feedbrief feeds import
  farm.opml``, then ``feedbrief run --once`` timed from outside (a subprocess configured
  only by ``FEEDBRIEF_*`` variables). That wall time includes the interpreter starting,
  importing and opening the database, so an idle ``run --once`` (nothing subscribed) is
  timed too, and the pipeline's rate is items / (run - idle run).
* reader: ``make_reader(fresh.sqlite)``, ``add_feed`` for every farm URL, then
  ``update_feeds()`` timed in process, serially and with worker threads.

feedbrief fetches, parses, cleans, fingerprints, links stories, summarises and stores
each item and writes the digest; reader fetches, parses and stores. The issue's target
is that feedbrief still reaches half reader's best rate: the run exits 1 below that.

Finally the same ingest runs in process under cProfile (one feed worker and no worker
processes, so the profile adds up to the wall time and sees the parsing and summarising
that ``run`` hands to its processes) and the time is split into stages.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from bench.farm import DATA, Farm, FarmError

REPO = Path(__file__).resolve().parents[1]
FARM_DATA = (DATA / "summ-dev-bbc.jsonl", DATA / "summ-dev-xsum.jsonl")
# The target: feedbrief's whole pipeline at half reader's fetch-and-store rate.
TARGET_RATIO = 0.5
READER_WORKERS = (1, 2, 4, 8)


@dataclass(frozen=True, slots=True)
class Rate:
    label: str
    items: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.items / self.seconds if self.seconds > 0 else float("inf")

    def line(self) -> str:
        return (
            f"{self.label:<44} {self.items:>6} items {self.seconds:>7.2f} s "
            f"{self.per_second:>8.0f} items/s"
        )


@dataclass(frozen=True, slots=True)
class FeedbriefRun:
    run: Rate  # the whole `run --once`, as an operator sees it
    idle_seconds: float  # `run --once` with nothing to do: start-up and shut-down
    failing_feeds: int

    @property
    def pipeline(self) -> Rate:
        return Rate(
            "feedbrief pipeline (run - idle run)",
            self.run.items,
            self.run.seconds - self.idle_seconds,
        )


# --- feedbrief as a subprocess ----------------------------------------------------------


def feedbrief_env(workdir: Path, database: Path) -> dict[str, str]:
    """Everything the command needs, from ``FEEDBRIEF_*`` variables alone (it runs in
    *workdir*, so no ``config/feedbrief.toml`` of the checkout is picked up)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDBRIEF_")}
    seeds = workdir / "seeds"  # empty: the run ingests feeds only
    seeds.mkdir(exist_ok=True)
    env.update(
        FEEDBRIEF_DATABASE_URL=f"sqlite:///{database}",
        FEEDBRIEF_SEEDS_DIR=str(seeds),
        FEEDBRIEF_DIGEST_DIR=str(workdir / "digests"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
    )
    return env


def feedbrief(args: Sequence[str], workdir: Path, env: dict[str, str]) -> float:
    """Run ``feedbrief ARGS``; its wall time in seconds. Its log goes to a file."""
    log = workdir / "feedbrief.log"
    started = time.perf_counter()
    with log.open("ab") as stderr:
        done = subprocess.run(
            [sys.executable, "-m", "feedbrief", *args],
            cwd=workdir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            check=False,
        )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"feedbrief {' '.join(args)} exited {done.returncode}:\n{tail}")
    return seconds


def run_feedbrief(opml: bytes, workdir: Path) -> FeedbriefRun:
    from storage import Storage

    database = workdir / "feedbrief.db"
    env = feedbrief_env(workdir, database)
    (workdir / "farm.opml").write_bytes(opml)
    feedbrief(["feeds", "import", "farm.opml"], workdir, env)

    idle_dir = workdir / "idle"
    idle_dir.mkdir()
    idle_env = feedbrief_env(idle_dir, idle_dir / "feedbrief.db")
    feedbrief(["feeds", "list"], idle_dir, idle_env)  # creates and migrates the database
    idle = feedbrief(["run", "--once"], idle_dir, idle_env)

    seconds = feedbrief(["run", "--once"], workdir, env)
    storage = Storage.open(f"sqlite:///{database}", migrate=False)
    try:
        items = storage.count_items()
        failing = sum(1 for feed in storage.sources("feed") if feed.error_count)
    finally:
        storage.close()
    return FeedbriefRun(Rate("feedbrief run --once (wall)", items, seconds), idle, failing)


def fastest_feedbrief(runs: Sequence[FeedbriefRun]) -> FeedbriefRun:
    """The least disturbed run and the least disturbed idle run, each on its own."""
    fastest = min(runs, key=lambda run: run.run.seconds)
    return replace(fastest, idle_seconds=min(run.idle_seconds for run in runs))


# --- reader ---------------------------------------------------------------------------


def run_reader(urls: Sequence[str], workdir: Path, workers: int) -> Rate:
    from reader import make_reader

    reader = make_reader(str(workdir / f"reader-{workers}.sqlite"))
    try:
        for url in urls:
            reader.add_feed(url)
        started = time.perf_counter()
        reader.update_feeds(workers=workers)
        seconds = time.perf_counter() - started
        broken = sum(1 for _ in reader.get_feeds(broken=True))
        if broken:
            raise RuntimeError(f"reader could not update {broken} farm feeds")
        items = reader.get_entry_counts().total
    finally:
        reader.close()
    return Rate(f"reader update_feeds(workers={workers})", items, seconds)


# --- where feedbrief's time goes ------------------------------------------------------


class ThreadsProfiler:
    """cProfile for this thread and every thread started while it is active.

    cProfile sees only the thread that enables it, and the feed pass runs in a pool;
    ``threading.setprofile`` gives each new thread a profiler of its own, merged after.
    """

    def __init__(self) -> None:
        self._profiles: list[cProfile.Profile] = []
        self._lock = threading.Lock()

    def __enter__(self) -> ThreadsProfiler:
        threading.setprofile(self._start_in_thread)
        self._profiles.append(cProfile.Profile())
        self._profiles[0].enable()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._profiles[0].disable()
        threading.setprofile(None)  # type: ignore[arg-type]  # None removes the hook

    def _start_in_thread(self, _frame: FrameType, _event: str, _arg: Any) -> None:
        sys.setprofile(None)
        profile = cProfile.Profile()
        with self._lock:
            self._profiles.append(profile)
        profile.enable()

    def stats(self) -> pstats.Stats:
        stats = pstats.Stats(self._profiles[0])
        for profile in self._profiles[1:]:
            stats.add(profile)
        return stats


@dataclass(frozen=True, slots=True)
class Stage:
    """A stage of the pass: the named functions defined in a file ending in *suffix*.

    Top-level stages never run inside one another, so their times add up to the pass;
    ``parts`` run inside their stage and are shown under it.
    """

    name: str
    suffix: str
    functions: tuple[str, ...]
    parts: tuple[Stage, ...] = ()


STAGES = (
    Stage("fetch (HTTP, decoding)", "ingest/fetch.py", ("fetch_feed",)),
    Stage(
        "parse (bytes to clean articles)",
        "ingest/parse.py",
        ("parse_feed",),
        parts=(
            Stage("feedparser", "feedparser/api.py", ("parse",)),
            Stage("JSON Feed", "ingest/jsonfeed.py", ("parse_json_feed",)),
            Stage("HTML to paragraphs, cleaning", "ingest/parse.py", ("_paragraphs",)),
        ),
    ),
    Stage("dedup: fingerprints, canonical URLs", "feedbrief/pipeline.py", ("_item_data",)),
    Stage(
        "summarise",
        "summarise/summarisers.py",
        ("summarise_text",),
        parts=(Stage("language detection", "summarise/language.py", ("detect_language",)),),
    ),
    Stage(
        "store (SQLAlchemy, story links)",
        "storage/store.py",
        ("content_hashes", "save_items", "recent_published", "update_source"),
    ),
    # write_days calls write; write alone is today's digest at the end of the pass.
    Stage("digest (build and render)", "feedbrief/digests.py", ("write_days", "write")),
)
# Threads waiting for one another (the main thread for the pool): not work.
WAITING = frozenset({"<method 'acquire' of '_thread.lock' objects>"})


def cumulative(stats: pstats.Stats, stage: Stage) -> float:
    """Cumulative seconds in the stage's functions, counting only calls from outside
    them (write_days calling write is not counted twice; nor is recursion)."""
    table: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    ours = {
        key
        for key in table
        if key[2] in stage.functions and key[0].replace(os.sep, "/").endswith(stage.suffix)
    }
    total = 0.0
    for key in ours:
        callers: dict[tuple[str, int, str], tuple[Any, ...]] = table[key][4]
        # callers: caller -> (calls, primitive calls, own time, cumulative time) of *key*
        total += sum(row[3] for caller, row in callers.items() if caller not in ours)
    return total


def stage_rows(stats: pstats.Stats, total: float) -> list[tuple[str, float]]:
    rows = []
    for stage in STAGES:
        rows.append((stage.name, cumulative(stats, stage)))
        rows += [(f"  {part.name}", cumulative(stats, part)) for part in stage.parts]
    accounted = sum(seconds for name, seconds in rows if not name.startswith(" "))
    # What no stage covers; it can come out slightly negative, as each thread has its own
    # profiler and clock readings while the total is one wall-clock span.
    rows.append(("rest (claiming feeds, scheduling, logging)", total - accounted))
    return rows


def top_functions(stats: pstats.Stats, count: int) -> list[str]:
    """The functions with the most own time, waiting for other threads left out."""
    table: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    rows = sorted(table.items(), key=lambda item: item[1][2], reverse=True)
    lines = []
    for (filename, line, name), (_, calls, own, cumulative_time, _) in rows:
        if name in WAITING:
            continue
        where = name if filename == "~" else f"{_short_path(filename)}:{line}({name})"
        lines.append(f"  {own:>7.2f} s own {cumulative_time:>7.2f} s cum {calls:>9} calls  {where}")
        if len(lines) == count:
            break
    return lines


def _short_path(filename: str) -> str:
    path = filename.replace(os.sep, "/")
    for marker in ("/site-packages/", f"{REPO.as_posix()}/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def profile_feedbrief(urls: Sequence[str], workdir: Path) -> tuple[float, pstats.Stats]:
    """``Service.run_once`` in process with one feed worker; (wall seconds, profile)."""
    from feedbrief.app import App
    from feedbrief.logs import configure_logging
    from feedbrief.service import Service
    from feedbrief.settings import Settings

    configure_logging("WARNING")
    settings = Settings.model_validate(
        {
            "database": {"url": f"sqlite:///{workdir / 'profile.db'}"},
            "seeds": {"dir": str(workdir / "seeds")},
            "digest": {"dir": str(workdir / "profile-digests"), "timezone": "UTC"},
            "feeds": {"concurrency": 1},
        }
    )
    app = App(settings)
    try:
        for url in urls:
            app.storage.add_feed(url, app.now())
        service = Service(app)
        with ThreadsProfiler() as profiler:
            started = time.perf_counter()
            service.run_once()
            seconds = time.perf_counter() - started
        return seconds, profiler.stats()
    finally:
        app.close()


def print_profile(seconds: float, stats: pstats.Stats, top: int) -> None:
    print(
        f"\nWhere the time goes: Service.run_once in one process, 1 feed worker, under cProfile "
        f"({seconds:.2f} s with the profiler's overhead):"
    )
    for stage, spent in stage_rows(stats, seconds):
        print(f"  {stage:<46} {spent:>7.2f} s {100 * spent / seconds:>5.1f} %")
    print(f"\nTop {top} functions by own time:")
    print("\n".join(top_functions(stats, top)))


# --- the run --------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=",".join(str(p) for p in FARM_DATA))
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--items", type=int, default=12)
    parser.add_argument("--profile", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--top", type=int, default=15, help="functions listed in the profile")
    parser.add_argument(
        "--repeat", type=int, default=1, help="take the fastest of N runs of each (a busy machine)"
    )
    args = parser.parse_args(argv)

    data = [Path(p) for p in args.data.split(",")]
    expected = args.feeds * args.items
    try:
        # Items dated in the last day, so that the digest holds every one of them, as it
        # does on a day of fresh news (an older item is a backlog, in no digest).
        farm = Farm(data, feeds=args.feeds, items=args.items, extra_args=["--recent-hours", "20"])
    except FarmError as exc:
        sys.exit(str(exc))
    with farm, tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        workdir = Path(tmp)
        urls = farm.feed_urls()
        print(
            f"farm: {len(urls)} feeds x {args.items} items at {farm.base_url} "
            f"({', '.join(p.name for p in data)})\n"
        )
        runs: list[FeedbriefRun] = []
        reader_runs: list[list[Rate]] = []
        for attempt in range(args.repeat):
            attempt_dir = workdir / str(attempt)
            attempt_dir.mkdir()
            runs.append(run_feedbrief(farm.opml(), attempt_dir))
            reader_runs.append([run_reader(urls, attempt_dir, n) for n in READER_WORKERS])
        served = farm.stats()
        profile = profile_feedbrief(urls, workdir) if args.profile else None

    fb = fastest_feedbrief(runs)
    readers = [
        min(rates, key=lambda rate: rate.seconds) for rates in zip(*reader_runs, strict=True)
    ]
    best = max(readers, key=lambda rate: rate.per_second)
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    print(f"fastest of {args.repeat} run(s) each; load average now {load} on {os.cpu_count()} CPUs")
    for rate in (fb.run, fb.pipeline, *readers):
        print(rate.line())
    print(
        f"  (idle `feedbrief run --once`: {fb.idle_seconds:.2f} s of interpreter start, "
        f"imports and database open)"
    )
    print(
        f"farm answered {served.get('200', 0)} feed requests with 200, "
        f"{served.get('304', 0)} with 304"
    )

    ratio = fb.pipeline.per_second / best.per_second
    print(f"\nfeedbrief pipeline / reader best ({best.label}): {ratio:.2f}")
    print(f"  target: at least {TARGET_RATIO}")
    print(f"feedbrief whole run --once / reader best: {fb.run.per_second / best.per_second:.2f}")
    serial = fb.pipeline.per_second / readers[0].per_second
    print(f"feedbrief pipeline / reader serial: {serial:.2f}")

    problems = []
    if fb.run.items != expected or fb.failing_feeds:
        problems.append(
            f"feedbrief stored {fb.run.items} of {expected} items "
            f"({fb.failing_feeds} feeds failing)"
        )
    problems += [
        f"{r.label} stored {r.items} of {expected} entries" for r in readers if r.items != expected
    ]
    if ratio < TARGET_RATIO:
        problems.append(f"BELOW TARGET: ratio {ratio:.2f} < {TARGET_RATIO}")
    if profile is not None:
        print_profile(*profile, top=args.top)
    if problems:
        print("\n" + "\n".join(problems))
        sys.exit(1)
    print(f"\nOK: ratio {ratio:.2f} >= {TARGET_RATIO}")


if __name__ == "__main__":
    main()
