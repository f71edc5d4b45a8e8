"""How long the ``feedbrief`` command takes to start, against Python importing SQLAlchemy.

``python -m bench.startup_bench [--runs N]`` runs each command in a subprocess of its
own, N times, interleaved (one of each, then again) so that a busy moment of a shared
machine falls on all of them alike, after one warm-up round. It prints, per command,
the median and the spread (min, max, and the interquartile range) in seconds, the ratio
of its median to the median of ``python -c "import sqlalchemy"`` run in the same rounds,
and for ``run --once`` the difference instead.

``status`` and ``feeds list`` run in a folder where ``run --once`` made the database;
each ``run --once`` starts in an empty folder of its own with the built-in defaults
(creating ``./data`` and ``./digests``).

With ``--against DIR`` (another checkout, such as a worktree of an earlier commit) each
``feedbrief`` command also runs with DIR's code (``PYTHONPATH=DIR``) in the same rounds,
for a before/after comparison under the same load.

The targets (issue 15): ``--help``, ``--version``, ``status`` and ``feeds list`` within
4x the import of SQLAlchemy, ``run --once`` at most 0.5 s more. docs/startup.md has the
figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

RATIO_TARGET = 4.0
RUN_ONCE_EXTRA = 0.5


def _feedbrief() -> list[str]:
    """The installed console script, as a user runs it; ``python -m feedbrief`` without."""
    script = Path(sys.executable).with_name("feedbrief")
    return [str(script)] if script.exists() else [sys.executable, "-m", "feedbrief"]


def _timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    seconds = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return seconds


def _spread(times: list[float]) -> str:
    quartiles = statistics.quantiles(times, n=4) if len(times) > 1 else [times[0]] * 3
    return (
        f"median {statistics.median(times):6.3f}  min {min(times):6.3f}  "
        f"max {max(times):6.3f}  IQR {quartiles[2] - quartiles[0]:5.3f}"
    )


def _run_once(feedbrief: list[str], fresh: Path, env: dict[str, str]) -> float:
    """``run --once`` in an empty folder, made anew for each run."""
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir()
    return _timed([*feedbrief, "run", "--once"], fresh, env)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="timed runs of each command")
    parser.add_argument("--against", type=Path, help="also time this checkout's commands")
    args = parser.parse_args(argv)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDBRIEF_")}
    other = {**env, "PYTHONPATH": str(args.against.resolve())} if args.against else None
    feedbrief = _feedbrief()
    with tempfile.TemporaryDirectory(prefix="feedbrief-startup-") as temp:
        root = Path(temp)
        variants = {"": env} if other is None else {"": env, " (against)": other}
        commands: dict[str, Callable[[], float]] = {}
        for number, (suffix, variables) in enumerate(variants.items()):
            # Each variant reports on a database its own code made: an older checkout
            # cannot open one a newer migration has touched.
            installed = root / f"installed-{number}"
            installed.mkdir()
            _timed([*feedbrief, "run", "--once"], installed, variables)
            if not commands:
                commands['python -c "import sqlalchemy"'] = partial(
                    _timed, [sys.executable, "-c", "import sqlalchemy"], installed, env
                )
            for words in (["--help"], ["--version"], ["status"], ["feeds", "list"]):
                commands[" ".join(["feedbrief", *words]) + suffix] = partial(
                    _timed, [*feedbrief, *words], installed, variables
                )
            commands["feedbrief run --once" + suffix] = partial(
                _run_once, feedbrief, root / f"fresh-{number}", variables
            )
        times: dict[str, list[float]] = {name: [] for name in commands}
        for round_number in range(args.runs + 1):
            for name, command in commands.items():
                seconds = command()
                if round_number:  # the first round warms the disk cache
                    times[name].append(seconds)
    baseline = statistics.median(times['python -c "import sqlalchemy"'])
    print(f"{args.runs} runs each, interleaved; seconds (python {sys.version.split()[0]})")
    failed = []
    for name, measured in times.items():
        median = statistics.median(measured)
        if "run --once" in name:
            verdict = f"+{median - baseline:5.2f} s (target +{RUN_ONCE_EXTRA})"
            ok = median - baseline <= RUN_ONCE_EXTRA
        elif name.startswith("feedbrief"):
            verdict = f"{median / baseline:5.2f}x (target {RATIO_TARGET}x)"
            ok = median / baseline <= RATIO_TARGET
        else:
            verdict, ok = "baseline", True
        print(f"{name:30} {_spread(measured)}  {verdict}{'' if ok else '  OVER'}")
        if not ok:
            failed.append(name)
    if failed:
        print(f"over target: {', '.join(failed)}")


if __name__ == "__main__":
    main()
