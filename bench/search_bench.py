"""How fast is ``Storage.search`` with 10,000, 100,000 and 1,000,000 items stored?

Run from the repo root: ``python -m bench.search_bench`` (``--items 100000`` stops at
100,000; ``--backends sqlite`` for one). The database is the scale benchmark's fill
(``bench.scale_bench``: real dev articles' titles, texts and summaries over 90 days and
1,000 feeds), without band rows, which search never reads; the search index is built
as the rows go in (FTS5 triggers on SQLite, the generated column on PostgreSQL), as for
items the service stores.

At each size, each kind of query below is drawn ``--queries`` times from the fill's
articles (a fixed seed) and the set is run ``--runs`` times; the figure is the median
query time of a run, and the spread is the lowest and highest of those medians, with
the 95th percentile of all runs. Target: median under 50 ms at 1,000,000 items.

- ``title``: the first four words of an article's title (what the quality test asks);
- ``word``: one word of six letters or more from an article's text;
- ``phrase``: two adjacent words of an article's text, quoted;
- ``or-not``: two words joined by OR, less a third (``a OR b -c``).

The fill takes its articles in turn, so at a million items each of the 1,274 texts is
stored about 800 times: a query matches hundreds of items at least, which is what
ranking costs most on.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.scale_bench import (
    CHECKPOINTS,
    Article,
    Filler,
    Plan,
    chosen_backends,
    database_size,
    dev_articles,
)
from feedbrief.logs import configure_logging
from feedbrief.pipeline import utc_now
from storage import Storage

TARGET_MS = 50.0
LIMIT = 20  # results asked for, as the command's default
_WORD = re.compile(r"[^\W\d_]{6,}")
_PAIR = re.compile(r"\b([^\W\d_]{3,}) ([^\W\d_]{3,})\b")


def title_query(article: Article, rng: random.Random) -> str:
    return " ".join(article.title.split()[:4])


def word_query(article: Article, rng: random.Random) -> str:
    words = _WORD.findall(article.text) or article.title.split()
    return rng.choice(words)


def phrase_query(article: Article, rng: random.Random) -> str:
    pairs = _PAIR.findall(article.text)
    return '"{} {}"'.format(*rng.choice(pairs)) if pairs else title_query(article, rng)


def or_not_query(article: Article, rng: random.Random) -> str:
    words = _WORD.findall(article.text) or article.title.split()
    a, b, c = (rng.choice(words) for _ in range(3))
    return f"{a} OR {b} -{c}"


KINDS: dict[str, Callable[[Article, random.Random], str]] = {
    "title": title_query,
    "word": word_query,
    "phrase": phrase_query,
    "or-not": or_not_query,
}


@dataclass(frozen=True, slots=True)
class Timing:
    kind: str
    medians_ms: tuple[float, ...]  # one per run
    p95_ms: float
    hits: float  # mean results per query

    @property
    def median_ms(self) -> float:
        return statistics.median(self.medians_ms)

    def __str__(self) -> str:
        low, high = min(self.medians_ms), max(self.medians_ms)
        return (
            f"{self.kind:<7} median {self.median_ms:8.2f} ms  "
            f"(runs {low:.2f}-{high:.2f}, p95 {self.p95_ms:.2f})  {self.hits:4.1f} hits"
        )


def time_queries(storage: Storage, queries: list[str], kind: str, runs: int) -> Timing:
    for query in queries[:5]:  # the first queries pay for cold caches
        storage.search(query, limit=LIMIT)
    medians, every, hits = [], [], 0
    for _ in range(runs):
        times = []
        for query in queries:
            started = time.perf_counter()
            hits += len(storage.search(query, limit=LIMIT))
            times.append((time.perf_counter() - started) * 1000)
        medians.append(statistics.median(times))
        every.extend(times)
    p95 = statistics.quantiles(every, n=20)[-1]
    return Timing(kind, tuple(medians), p95, hits / (runs * len(queries)))


def run_backend(
    name: str,
    database: Callable[[Path, str], Any],
    total: int,
    articles: list[Article],
    directory: Path,
    queries: int,
    runs: int,
) -> list[tuple[int, int, list[Timing]]]:
    print(f"\n== {name} ==", flush=True)
    plan = Plan.draw(total, utc_now().date())
    rng = random.Random(13)
    drawn = {
        kind: [make(rng.choice(articles), rng) for _ in range(queries)]
        for kind, make in KINDS.items()
    }
    results = []
    with database(directory, "search") as url:
        storage = Storage.open(url)
        try:
            filler = Filler(storage, plan, articles, bands=False)
            filler.add_sources()
            for checkpoint in sorted({min(c, total) for c in CHECKPOINTS}):
                filler.fill_to(checkpoint)
                size = database_size(storage)
                print(
                    f"{filler.loaded:>9,} items (filled in {filler.seconds:.0f} s, "
                    f"database {size / 2**30:.2f} GiB)",
                    flush=True,
                )
                timings = [time_queries(storage, drawn[k], k, runs) for k in KINDS]
                for timing in timings:
                    print(f"  {timing}", flush=True)
                results.append((filler.loaded, size, timings))
        finally:
            storage.close()
    return results


def run_existing(url: str, articles: list[Article], queries: int, runs: int) -> list[Timing]:
    """Times the queries on a database this benchmark (or the scale benchmark) filled
    before, as it stands: a million-item fill takes longer than the comparison it serves."""
    rng = random.Random(13)
    drawn = {
        kind: [make(rng.choice(articles), rng) for _ in range(queries)]
        for kind, make in KINDS.items()
    }
    storage = Storage.open(url, migrate=False)
    try:
        print(f"\n== {url} ({storage.count_items():,} items) ==", flush=True)
        timings = [time_queries(storage, drawn[k], k, runs) for k in KINDS]
        for timing in timings:
            print(f"  {timing}", flush=True)
    finally:
        storage.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=CHECKPOINTS[-1], help="largest fill")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--queries", type=int, default=100, help="queries of each kind")
    parser.add_argument("--runs", type=int, default=5, help="runs of each query set")
    parser.add_argument(
        "--database", help="time this filled database's URL as it stands, without a fill"
    )
    args = parser.parse_args()
    configure_logging("WARNING")
    if args.database:
        run_existing(args.database, dev_articles(), args.queries, args.runs)
        return
    backends = chosen_backends(args.backends)
    try:
        articles = dev_articles()
    except OSError as exc:
        raise SystemExit(f"the fill needs the shared dev data: {exc}") from exc
    missed = []
    with tempfile.TemporaryDirectory(prefix="feedbrief-search-") as temporary:
        for name, database in backends:
            results = run_backend(
                name, database, args.items, articles, Path(temporary), args.queries, args.runs
            )
            items, _, timings = results[-1]
            if items >= CHECKPOINTS[-1]:
                missed.extend(
                    f"{name} {t.kind} {t.median_ms:.1f} ms"
                    for t in timings
                    if t.median_ms >= TARGET_MS
                )
    if missed:
        raise SystemExit(f"median over {TARGET_MS:g} ms at 1,000,000 items: " + "; ".join(missed))


if __name__ == "__main__":
    main()
