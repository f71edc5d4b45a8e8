"""``feedbrief summarise --jsonl`` end to end against sumy's LexRank with pysbd, per article.

Run from the repo root (needs the ``test`` extra): ``python -m bench.summarise_cli_bench
[--repeats N] [--copies K] [--processes N] [--sets cnndm,bbc]``. For each dev set, each
repeat times in the same run, one after the other:

- the speed peer (``bench.summarise_bench.peer_summariser``: sumy's LexRank fed by pysbd)
  over every article, in this process, on one core;
- the command ``python -m feedbrief summarise --jsonl IN --out OUT`` over the set's
  articles K times over, with ``feeds.processes`` set by ``--processes`` (0: one per
  CPU): it reads, cleans, summarises and writes them;
- the same command over an empty file: its start-up, which issue 15 item 1 budgets on its
  own and which is the same for one article or a million.

Per article, the command costs (full run - empty run) / (K x articles): K copies make the
work outweigh the start-up's jitter. Both sides are timed in wall-clock time (what a user
waits for: the command's workers run side by side) and in CPU time (the command's with
its worker processes, from ``getrusage``; steady on a busy machine, blind to the cores
used). The table gives the median of the repeats with their range, and the ratio with one
start-up counted in per run of the set. Other work on the machine skews wall-clock time:
compare the spread, and the CPU ratio, before trusting a figure. The last column says
how many cores each side got (CPU time over wall-clock time): the wall-clock ratio is
about the CPU ratio times the command's cores over the peer's, so workers speed the
command up only as far as the machine has cores to spare for them. Where the kernel
groups processes by session for scheduling (``/proc/sys/kernel/sched_autogroup_enabled``,
on by default on desktop Linux), the bench and the command's workers share one
session's share of a loaded machine, however many workers there are.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.summarise_bench import DATA, LENGTHS, NAMES, BenchArticle, load_articles, peer_summariser
from summarise.summarisers import Length

__all__ = ["Run", "Timing", "main", "time_set"]

SETS = ("cnndm", "bbc")


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float


@dataclass(frozen=True)
class Timing:
    articles: int
    copies: int
    peer: Run
    cli: Run
    startup: Run

    def _per_article(self, run: Run, empty: Run, wall: bool) -> float:
        work = (run.wall - empty.wall) if wall else (run.cpu - empty.cpu)
        return 1000 * max(work, 1e-9) / (self.copies * self.articles)

    @property
    def peer_ms(self) -> float:
        return 1000 * self.peer.wall / self.articles

    @property
    def cli_ms(self) -> float:
        """The command's wall-clock time per article, its start-up left out."""
        return self._per_article(self.cli, self.startup, wall=True)

    @property
    def ratio(self) -> float:
        return self.peer_ms / self.cli_ms

    @property
    def cpu_ratio(self) -> float:
        peer = 1000 * self.peer.cpu / self.articles
        return peer / self._per_article(self.cli, self.startup, wall=False)

    @property
    def peer_cores(self) -> float:
        """The share of a core the peer got: below 1 when other work took the rest."""
        return self.peer.cpu / self.peer.wall

    @property
    def cli_cores(self) -> float:
        """The cores the command's work got (its CPU time over its wall-clock time,
        start-up left out): up to ``feeds.processes`` on an idle machine."""
        return (self.cli.cpu - self.startup.cpu) / max(self.cli.wall - self.startup.wall, 1e-9)

    @property
    def ratio_with_startup(self) -> float:
        """Wall-clock, for one run of the set with its start-up."""
        return self.peer.wall / (self.startup.wall + self.cli_ms * self.articles / 1000)


def _length_options(length: Length) -> list[str]:
    if length.ratio is not None:
        return ["--ratio", str(length.ratio)]
    return ["--sentences", str(length.sentences)]


def _run_cli(source: Path, target: Path, length: Length, config: Path) -> Run:
    command = [
        sys.executable,
        "-m",
        "feedbrief",
        "summarise",
        "--jsonl",
        str(source),
        "--out",
        str(target),
        *_length_options(length),
        "--config",
        str(config),
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # The command reaps its workers, so their time is counted in its own.
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return Run(wall, cpu)


def _run_peer(articles: Sequence[BenchArticle], length: Length) -> Run:
    summarise = peer_summariser(length)
    summarise(articles[0])  # warm-up, as the in-process bench does for both sides
    start, start_cpu = time.perf_counter(), time.process_time()
    for article in articles:
        summarise(article)
    return Run(time.perf_counter() - start, time.process_time() - start_cpu)


def time_set(
    articles: Sequence[BenchArticle],
    length: Length,
    *,
    processes: int,
    repeats: int,
    copies: int,
) -> list[Timing]:
    """``repeats`` timings of the peer and of the command over ``articles``."""
    timings = []
    with tempfile.TemporaryDirectory(prefix="summarise-cli-bench-") as folder:
        work = Path(folder)
        source, empty, target = work / "in.jsonl", work / "empty.jsonl", work / "out.jsonl"
        rows = (
            {"id": f"{a.id}#{k}", "title": a.title, "text": a.text}
            for k in range(copies)
            for a in articles
        )
        source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        empty.write_text("", encoding="utf-8")
        config = work / "feedbrief.toml"
        config.write_text(f"[feeds]\nprocesses = {processes}\n", encoding="utf-8")
        for _ in range(repeats):
            peer = _run_peer(articles, length)
            cli = _run_cli(source, target, length, config)
            startup = _run_cli(empty, target, length, config)
            timings.append(Timing(len(articles), copies, peer, cli, startup))
    return timings


def _spread(values: Sequence[float], digits: int) -> str:
    return (
        f"{statistics.median(values):.{digits}f} "
        f"({min(values):.{digits}f}-{max(values):.{digits}f})"
    )


def format_table(results: dict[str, list[Timing]]) -> str:
    lines = [
        "| data | articles | peer ms/article | CLI ms/article | CLI start-up s "
        "| speed-up per article | CPU time | one run with start-up | cores: peer, CLI |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, timings in results.items():
        lines.append(
            f"| {NAMES[name]} | {timings[0].articles} "
            f"| {_spread([t.peer_ms for t in timings], 2)} "
            f"| {_spread([t.cli_ms for t in timings], 3)} "
            f"| {_spread([t.startup.wall for t in timings], 2)} "
            f"| {_spread([t.ratio for t in timings], 1)}× "
            f"| {_spread([t.cpu_ratio for t in timings], 1)}× "
            f"| {_spread([t.ratio_with_startup for t in timings], 1)}× "
            f"| {_spread([t.peer_cores for t in timings], 2)}, "
            f"{_spread([t.cli_cores for t in timings], 2)} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if not DATA.is_dir():
        sys.exit(f"{DATA} is absent: this benchmark reads the shared dev sets")
    results = {}
    for name in args.sets:
        articles = load_articles(DATA / f"summ-dev-{name}.jsonl")
        results[name] = time_set(
            articles,
            LENGTHS[name],
            processes=args.processes,
            repeats=args.repeats,
            copies=args.copies,
        )
    print(
        f"feedbrief summarise --jsonl (feeds.processes = {args.processes}) against "
        f"sumy lexrank + pysbd; each set {args.copies} times over; "
        f"median of {args.repeats} (range)\n"
    )
    print(format_table(results))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.summarise_cli_bench",
        description="Time feedbrief summarise --jsonl end to end against sumy's LexRank "
        "with pysbd, per article, in the same run.",
    )
    parser.add_argument("--repeats", type=int, default=5, help="Timings per set (default 5).")
    parser.add_argument(
        "--copies", type=int, default=5, help="Copies of the set per command run (default 5)."
    )
    parser.add_argument(
        "--processes", type=int, default=0, help="feeds.processes (default 0: one per CPU)."
    )
    parser.add_argument(
        "--sets",
        type=lambda value: tuple(v for v in value.split(",") if v),
        default=SETS,
        help="Dev sets, comma-separated (default cnndm,bbc).",
    )
    return parser


if __name__ == "__main__":
    main()
