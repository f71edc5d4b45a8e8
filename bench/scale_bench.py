"""Does feedbrief keep its pace with a million items stored? SQLite and PostgreSQL.

Run from the repo root: ``python -m bench.scale_bench`` (about half an hour for both
backends at the default million items; ``--items 100000`` for a quick look). PostgreSQL
is the server at 127.0.0.1:5432 (user postgres): a temporary database is created and
dropped; without a server that part is skipped with a message.

For each backend:

(a) ingest into an empty database: a fresh ``App`` refreshes every feed of a feed farm
    (``feedfarm.py``, 50 feeds x 12 items of BBC/XSum dev articles, ``--overlap 0.1``),
    timed around ``App.refresh_feeds()`` (fetch, parse, clean, fingerprint, link,
    summarise, store, write the day's digest);
(b) the same farm ingested into a database filled with synthetic rows: the rate with a
    million items stored against the empty rate (target at least 0.80). Ingest is
    CPU-bound and the machine is shared, so empty and full runs alternate for
    ``--rounds`` rounds (a fresh empty database each time; the full one is brought back
    to its filled state after each), and the best run of each is compared;
(c) near-duplicate lookup while the fill passes 10,000, 100,000 and 1,000,000 items:
    ``storage.batch.stored_candidates`` with the linker for a new item (the quicker of two
    batches), and ``save_items`` of one new item (committed), each for near-duplicates of
    stored items and for unrelated texts; sub-linear means the time per lookup stays
    roughly flat (target: at 1M at most 3x the time at 10k; linear would be 100x);
(d) the digest of the busiest day (20,000 items): ``DigestWriter.build(day)`` (target
    under a second) without keep/block rules, with one feed's own block rule (that
    feed's items' text is read), and with a global block rule (every item's text is
    read and searched; two patterns, as the search's cost depends on the pattern); and
    ``Storage.stories_first_seen`` alone, and the global rule's search alone.

``--digest-only`` fills without band rows and times (d) only: a minute or two per
backend with ``--items 40000``, the smallest fill whose busiest day has 20,000 items,
and a few minutes at the default million.

The synthetic rows (what ``docs/scale.md`` calls the fill): 1,000 feed sources that are
never due; items spread over the 90 days before today, one day carrying 20,000 of them;
each item's text, title and summary taken in turn from the real dev articles (2.4 kB of
text on average, so rows have their real size); 13% of items are copies that join the
story of an item stored shortly before them, the others start a story of their own.
Every item has a fingerprint in the stored format and all 32 of its band keys
(32 million ``item_bands`` rows at a million items), derived by ``dedup.fingerprint``
from random MinHash values; a copy keeps 75% of its original's values, so it shares
about half its bands with it, as a retouched copy does. Rows are written in bulk
(``executemany`` on SQLite, ``COPY`` on PostgreSQL) with foreign-key checks off; band
rows go in sorted by key with ``ix_item_bands_item_id`` dropped and rebuilt around each
stage, so the final schema is exactly the migrations' one. PostgreSQL is ANALYZEd after
each stage, as autovacuum would have done over 90 days; SQLite is left as the service
leaves it (no ANALYZE).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import struct
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import JSON, Engine, Table, delete, func, select, text
from sqlalchemy.orm import Session

from bench.farm import DATA, Farm, FarmError
from dedup.fingerprint import FORMAT_VERSION, NUM_PERM, decode, match_encoded
from dedup.linking import StoryLinker
from digest.build import DEFAULT_RULES, DigestWriter, cycle_collection_paused, day_bounds
from digest.select import DEFAULT_MAX_AGE, Rules
from feedbrief.app import App
from feedbrief.logs import configure_logging
from feedbrief.pipeline import utc_now
from feedbrief.settings import Settings
from storage import ItemData, Storage, SummaryData
from storage.batch import stored_candidates
from storage.models import Item, ItemBand, Source, Story, Summary

FARM_DATA = (DATA / "summ-dev-bbc.jsonl", DATA / "summ-dev-xsum.jsonl")
DEV_DATA = (*FARM_DATA, DATA / "summ-dev-cnndm.jsonl")
POSTGRES_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"

FARM_FEEDS, FARM_ITEMS, FARM_OVERLAP = 50, 12, 0.1
SOURCES = 1_000
DAYS = 90
BUSY_DAY, BUSY_ITEMS = 60, 20_000  # the 61st of the 90 days carries 20,000 items
COPY_SHARE = 0.13
COPY_REACH = 500  # a copy joins the story of one of the 500 items stored before it
COPY_KEEPS = 0.75  # share of MinHash values a copy keeps from its original
CHUNK = 20_000  # items per bulk transaction
BAND_CHUNK = 1_000_000  # band rows per bulk transaction
CHECKPOINTS = (10_000, 100_000, 1_000_000)
LOOKUPS = 200  # per kind, per checkpoint
LOOKUP_BATCHES = 2

TARGET_RATIO = 0.80
TARGET_DIGEST_SECONDS = 1.0
TARGET_LOOKUP_GROWTH = 3.0

_HEADER = struct.Struct("<BI")


# --- the synthetic fill ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Article:
    title: str
    text: str
    summary: tuple[str, ...]


def dev_articles() -> list[Article]:
    """Real article texts: the fill's rows have the sizes real rows have."""
    articles = []
    for path in DEV_DATA:
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            text = record["text"]
            title = record["title"] or text[:80]
            articles.append(Article(title, text, tuple(record["summary"].splitlines()[:3])))
    return articles


@dataclass
class Plan:
    """Every synthetic item's time, source, story parent and MinHash, drawn up front so
    the fill can stop at each checkpoint and go on."""

    total: int
    start: datetime  # midnight UTC of the first day
    seconds: np.ndarray  # per item, offset from start, ascending
    sources: np.ndarray  # per item, source id
    parent: np.ndarray  # per item, the index of the item whose story it joins, or -1
    minhash: np.ndarray  # per item, NUM_PERM uint32 values

    @classmethod
    def draw(cls, total: int, today: date, seed: int = 1) -> Plan:
        rng = np.random.default_rng(seed)
        busy = min(BUSY_ITEMS, total // 2)
        per_day = np.full(DAYS, (total - busy) // (DAYS - 1))
        per_day[BUSY_DAY] = busy
        per_day[: total - int(per_day.sum())] += 1
        day_of = np.repeat(np.arange(DAYS), per_day)
        seconds = np.sort(day_of * 86_400 + rng.integers(0, 86_400, total))
        parent = np.where(
            rng.random(total) < COPY_SHARE,
            np.arange(total) - rng.integers(1, COPY_REACH + 1, total),
            -1,
        )
        parent[parent < 0] = -1
        minhash = rng.integers(0, 2**32, size=(total, NUM_PERM), dtype=np.uint32)
        copies = np.flatnonzero(parent >= 0)  # ascending: an original is drawn first
        for index in copies:
            kept = rng.random(NUM_PERM) < COPY_KEEPS
            minhash[index, kept] = minhash[parent[index], kept]
        start = datetime.combine(today - timedelta(days=DAYS), datetime.min.time(), tzinfo=UTC)
        return cls(total, start, seconds, rng.integers(1, SOURCES + 1, total), parent, minhash)

    @property
    def busy_day(self) -> date:
        return (self.start + timedelta(days=BUSY_DAY)).date()

    def moment(self, index: int) -> datetime:
        return self.start + timedelta(seconds=int(self.seconds[index]))

    def encoded(self, index: int) -> bytes:
        """The item's fingerprint as ``dedup.fingerprint.encode`` would store it."""
        return _HEADER.pack(FORMAT_VERSION, 400) + self.minhash[index].astype("<u4").tobytes()


class BulkLoader:
    """Writes rows fast, bypassing the ORM: ``executemany`` on SQLite, ``COPY`` on
    PostgreSQL, in one transaction per call, with foreign-key checks off."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        self.postgres = engine.dialect.name == "postgresql"
        self._raw = engine.raw_connection()
        cursor = self._raw.cursor()
        if self.postgres:
            cursor.execute("SET session_replication_role = replica")
        else:
            cursor.execute("PRAGMA foreign_keys=OFF")
            cursor.execute("PRAGMA cache_size=-262144")  # 256 MiB, this connection only
        cursor.close()
        self._raw.commit()

    def close(self) -> None:
        # Discarded, not returned to the pool: nothing else gets its switched-off checks.
        self._raw.invalidate()

    def converter(self, table: Table, columns: Sequence[str]) -> list[Callable[[Any], Any] | None]:
        """Each column type's own bind processing (UTC datetimes as the backend keeps them).

        psycopg's COPY would write a Python list as an array, so JSON goes as its text."""
        processors = []
        for name in columns:
            column_type = table.c[name].type
            processor = column_type.bind_processor(self.dialect)
            if processor is None and isinstance(column_type, JSON):
                processor = json.dumps
            processors.append(processor)
        return processors

    def load(self, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        processors = self.converter(table, columns)
        if any(processors):
            rows = (
                tuple(
                    p(v) if p and v is not None else v for p, v in zip(processors, row, strict=True)
                )
                for row in rows
            )
        names = ", ".join(columns)
        cursor = self._raw.cursor()
        try:
            if self.postgres:
                with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                self._raw.commit()
            else:
                cursor.execute("BEGIN")
                marks = ", ".join("?" * len(columns))
                cursor.executemany(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", rows)
                cursor.execute("COMMIT")
        finally:
            cursor.close()


@dataclass
class Filler:
    """Fills a database with the plan's items, stage by stage."""

    storage: Storage
    plan: Plan
    articles: list[Article]
    bands: bool = True  # the digest never reads band rows: a digest-only fill skips them
    loaded: int = 0
    item_ids: np.ndarray = field(init=False)
    story_ids: np.ndarray = field(init=False)
    seconds: float = 0.0

    def __post_init__(self) -> None:
        self.item_ids = np.zeros(self.plan.total, dtype=np.int64)
        self.story_ids = np.zeros(self.plan.total, dtype=np.int64)

    def add_sources(self) -> None:
        far = self.plan.start + timedelta(days=10 * 365)  # never due
        rows = (
            (
                n,
                "feed",
                f"https://synthetic{n}.example/feed",
                f"Synthetic {n}",
                self.plan.start,
                0,
                False,
                far,
            )
            for n in range(1, SOURCES + 1)
        )
        columns = (
            "id",
            "kind",
            "url",
            "title",
            "added_at",
            "error_count",
            "full_text",
            "next_check_at",
        )
        self._loader(lambda loader: loader.load(Source.__table__, columns, rows))

    def fill_to(self, target: int) -> None:
        """Load items up to *target*; their band rows go in sorted, around a rebuilt index."""
        target = min(target, self.plan.total)
        if target <= self.loaded:
            return
        started = time.perf_counter()
        band_keys, band_items = [], []
        with self._bulk() as loader:
            for begin in range(self.loaded, target, CHUNK):
                end = min(begin + CHUNK, target)
                keys, items = self._load_chunk(loader, begin, end)
                band_keys.append(keys)
                band_items.append(items)
            if self.bands:
                self._load_bands(loader, np.concatenate(band_keys), np.concatenate(band_items))
        self.loaded = target
        self.seconds += time.perf_counter() - started

    def _load_chunk(
        self, loader: BulkLoader, begin: int, end: int
    ) -> tuple[np.ndarray, np.ndarray]:
        plan = self.plan
        next_item, next_story = self._next_ids()
        stories, items, summaries = [], [], []
        keys = np.empty((end - begin) * 32, dtype=np.int64)
        for offset, index in enumerate(range(begin, end)):
            item_id = next_item + offset
            moment = plan.moment(index)
            parent = plan.parent[index]
            if parent >= 0:
                story_id = int(self.story_ids[parent])
            else:
                story_id = next_story
                next_story += 1
                stories.append((story_id, moment, item_id))
            self.item_ids[index], self.story_ids[index] = item_id, story_id
            article = self.articles[index % len(self.articles)]
            fingerprint = plan.encoded(index)
            if self.bands:
                keys[offset * 32 : (offset + 1) * 32] = decode(fingerprint).band_keys
            digest = f"{index:064x}"
            url = f"https://synthetic{plan.sources[index]}.example/{index}"
            items.append(
                (
                    item_id,
                    int(plan.sources[index]),
                    f"synthetic:{index}",
                    url,
                    article.title,
                    moment,
                    moment,
                    moment,
                    "en",
                    article.text,
                    digest,
                    1,
                    url,
                    fingerprint,
                    story_id,
                )
            )
            summaries.append((item_id, "default", list(article.summary), digest, moment))
        loader.load(Story.__table__, ("id", "first_seen_at", "lead_item_id"), stories)
        loader.load(
            Item.__table__,
            (
                "id",
                "source_id",
                "guid",
                "url",
                "title",
                "published_at",
                "first_seen_at",
                "updated_at",
                "language",
                "text",
                "content_hash",
                "version",
                "canonical_url",
                "fingerprint",
                "story_id",
            ),
            items,
        )
        loader.load(
            Summary.__table__,
            ("item_id", "algorithm", "sentences", "content_hash", "created_at"),
            summaries,
        )
        return keys, np.repeat(self.item_ids[begin:end], 32)

    def _load_bands(self, loader: BulkLoader, keys: np.ndarray, items: np.ndarray) -> None:
        order = np.lexsort((items, keys))
        keys, items = keys[order], items[order]
        with self.storage.engine.begin() as connection:
            connection.execute(text("DROP INDEX ix_item_bands_item_id"))
        for begin in range(0, len(keys), BAND_CHUNK):
            rows = zip(
                keys[begin : begin + BAND_CHUNK].tolist(),
                items[begin : begin + BAND_CHUNK].tolist(),
                strict=True,
            )
            loader.load(ItemBand.__table__, ("band_key", "item_id"), rows)
        with self.storage.engine.begin() as connection:
            connection.execute(text("CREATE INDEX ix_item_bands_item_id ON item_bands (item_id)"))

    def _next_ids(self) -> tuple[int, int]:
        with Session(self.storage.engine) as session:
            item = session.scalar(select(func.max(Item.id))) or 0
            story = session.scalar(select(func.max(Story.id))) or 0
        return item + 1, story + 1

    @contextmanager
    def _bulk(self) -> Iterator[BulkLoader]:
        loader = BulkLoader(self.storage.engine)
        try:
            yield loader
        finally:
            loader.close()
        if self.storage.dialect == "postgresql":
            with self.storage.engine.connect() as connection:
                for table in ("items", "stories", "sources"):
                    connection.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT MAX(id) FROM {table}))"
                        )
                    )
                connection.execute(text("ANALYZE"))
                connection.commit()

    def _loader(self, work: Callable[[BulkLoader], None]) -> None:
        with self._bulk() as loader:
            work(loader)


# --- measurements ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timing:
    """Milliseconds per call: median and 95th percentile, and how many calls linked."""

    median_ms: float
    p95_ms: float
    linked: int
    calls: int

    @classmethod
    def of(cls, seconds: list[float], linked: int) -> Timing:
        ms = sorted(s * 1000 for s in seconds)
        return cls(statistics.median(ms), ms[int(0.95 * (len(ms) - 1))], linked, len(ms))

    def __str__(self) -> str:
        return f"{self.median_ms:6.2f} / {self.p95_ms:6.2f} ms  ({self.linked}/{self.calls} linked)"


@dataclass(frozen=True, slots=True)
class Lookups:
    items: int
    link_copy: Timing
    link_distinct: Timing
    save_copy: Timing
    save_distinct: Timing


def probe_items(filler: Filler, rng: random.Random, tag: str) -> list[tuple[ItemData, bool]]:
    """New items: near-duplicates of stored ones, and unrelated texts, interleaved."""
    plan, articles = filler.plan, filler.articles
    probes = []
    for number in range(LOOKUPS):
        target = rng.randrange(filler.loaded)
        values = plan.minhash[target].copy()
        changed = np.array([rng.random() > 0.8 for _ in range(NUM_PERM)])
        values[changed] = [rng.getrandbits(32) for _ in range(int(changed.sum()))]
        copy = _HEADER.pack(FORMAT_VERSION, 400) + values.astype("<u4").tobytes()
        other = (
            _HEADER.pack(FORMAT_VERSION, 400)
            + np.array([rng.getrandbits(32) for _ in range(NUM_PERM)], dtype="<u4").tobytes()
        )
        for kind, blob in (("copy", copy), ("distinct", other)):
            article = articles[rng.randrange(len(articles))]
            url = f"https://probe.example/{tag}/{kind}/{number}"
            data = ItemData(
                guid=f"probe:{tag}:{kind}:{number}",
                title=article.title,
                text=article.text,
                content_hash=uuid.uuid4().hex * 2,
                url=url,
                canonical_url=url,
                fingerprint=blob,
                band_keys=decode(blob).band_keys,
            )
            probes.append((data, kind == "copy"))
    return probes


# Probes come from a source with nothing stored, as a new feed's first items do.
PROBE_SOURCE = 0


def time_link(storage: Storage, probes: list[tuple[ItemData, bool]]) -> tuple[Timing, Timing]:
    """The story lookup of a new, not yet stored item: storage's candidate reads, then
    the linking rule."""
    seconds: dict[bool, list[float]] = {True: [], False: []}
    linked: dict[bool, int] = {True: 0, False: 0}
    for data, is_copy in probes:
        with Session(storage.engine) as session:
            started = time.perf_counter()
            joined = (
                stored_candidates(
                    session.connection(), PROBE_SOURCE, [data], storage.linker
                ).story_for(data)
                is not None
            )
            seconds[is_copy].append(time.perf_counter() - started)
        linked[is_copy] += joined
    return Timing.of(seconds[True], linked[True]), Timing.of(seconds[False], linked[False])


def time_save(storage: Storage, probes: list[tuple[ItemData, bool]]) -> tuple[Timing, Timing]:
    """``save_items`` of one new item: the lookup plus the writes, committed."""
    # A seed source: a feed would be due, and the farm ingest would try to fetch it.
    source = storage.ensure_source("seed", "seed:scale-probes", "Probes", utc_now())
    summary = SummaryData("default", ("One sentence.",))
    seconds: dict[bool, list[float]] = {True: [], False: []}
    linked: dict[bool, int] = {True: 0, False: 0}
    for data, is_copy in probes:
        started = time.perf_counter()
        [result] = storage.save_items(source, [(data, summary)], now=utc_now())
        seconds[is_copy].append(time.perf_counter() - started)
        linked[is_copy] += result.linked
    return Timing.of(seconds[True], linked[True]), Timing.of(seconds[False], linked[False])


def measure_lookups(filler: Filler, rng: random.Random) -> Lookups:
    """Lookups in two batches of new probes, keeping the quicker batch: one batch can
    fall on a moment when the shared machine is busy (a fourfold swing was seen)."""
    batches = [
        time_link(filler.storage, probe_items(filler, rng, f"link{filler.loaded}.{batch}"))
        for batch in range(LOOKUP_BATCHES)
    ]
    link_copy, link_distinct = min(batches, key=lambda pair: pair[0].median_ms)
    save_probes = probe_items(filler, rng, f"save{filler.loaded}")
    save_copy, save_distinct = time_save(filler.storage, save_probes)
    return Lookups(filler.loaded, link_copy, link_distinct, save_copy, save_distinct)


@dataclass(frozen=True, slots=True)
class DigestCase:
    """Keep/block rules for a timed build: global ones make every item's text be read
    and matched, a feed's own only that feed's items'."""

    name: str
    global_block: str | None = None
    feed_block: str | None = None


# Matching a rule scans every item's title and text (2.4 kB on average) with Python's
# re, and how long that takes depends on the pattern: a plain word is found by a quick
# scan for its first letter, a pattern that starts with \b is tried at every position.
DIGEST_CASES = (
    DigestCase("no rules"),
    DigestCase("one feed's block rule", feed_block=r"\bthe\b"),  # blocks most of its items
    DigestCase("global block rule, a word", global_block="football"),
    DigestCase("global block rule, \\b-bounded", global_block=r"\bfootball\b"),
)
RULED_FEED = "https://synthetic1.example/feed"


@dataclass(frozen=True, slots=True)
class DigestTiming:
    case: str
    items: int
    stories: int
    builds: tuple[float, ...]  # DigestWriter.build, in run order
    queries: tuple[float, ...] = ()  # Storage.stories_first_seen alone
    matching: float | None = None  # the global rule's search over the day's items alone

    @property
    def build_best(self) -> float:
        return min(self.builds)

    def __str__(self) -> str:
        runs = ", ".join(f"{s:.2f}" for s in self.builds)
        line = (
            f"{self.case + ':':<33} {self.stories:,} stories, build {runs} s "
            f"(best {self.build_best:.2f}, median {statistics.median(self.builds):.2f})"
        )
        if self.queries:
            line += f"; stories_first_seen alone best {min(self.queries):.2f} s"
        if self.matching is not None:
            line += f"; of which matching the rule {self.matching:.2f} s"
        return line


def time_digests(storage: Storage, day: date, runs: int = 3) -> list[DigestTiming]:
    """``DigestWriter.build(day)`` *runs* times for each rule case; storage's query alone
    for the case without rules, the global rule's search alone for the global cases."""
    bounds = day_bounds(day, UTC)
    items = sum(len(row.items) for row in storage.stories_first_seen(*bounds))
    timings = []
    for case in DIGEST_CASES:
        rules = DEFAULT_RULES
        if case.global_block:
            rules = Rules.compile(DEFAULT_MAX_AGE, block=[case.global_block])
        storage.add_feed(RULED_FEED, utc_now(), block=case.feed_block)
        try:
            builds, stories = time_build(storage, day, rules, runs)
        finally:
            storage.add_feed(RULED_FEED, utc_now(), block=None)
        timing = DigestTiming(case.name, items, stories, tuple(builds))
        if case == DIGEST_CASES[0]:
            queries = []
            for _ in range(runs):
                with cycle_collection_paused():  # as the build runs it
                    started = time.perf_counter()
                    storage.stories_first_seen(*bounds)
                    queries.append(time.perf_counter() - started)
            timing = replace(timing, queries=tuple(queries))
        if case.global_block:
            timing = replace(timing, matching=time_matching(storage, bounds, rules))
        timings.append(timing)
    return timings


def time_matching(storage: Storage, bounds: tuple[datetime, datetime], rules: Rules) -> float:
    """The global block rules' search over every item of the day, as ``digest.select``
    runs it (title and text), best of three."""
    rows = storage.stories_first_seen(*bounds, with_text=True)
    haystacks = [f"{item.title}\n{item.text}" for row in rows for item in row.items]
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for haystack in haystacks:
            any(pattern.search(haystack) for pattern in rules.block)
        best = min(best, time.perf_counter() - started)
    return best


def time_build(storage: Storage, day: date, rules: Rules, runs: int) -> tuple[list[float], int]:
    with tempfile.TemporaryDirectory() as directory:
        writer = DigestWriter(
            storage,
            Path(directory),
            tz=UTC,
            tz_name="UTC",
            base_url="http://127.0.0.1/",
            clock=utc_now,
            rules=rules,
        )
        builds, stories = [], 0
        for _ in range(runs):
            started = time.perf_counter()
            stories = len(writer.build(day).stories)
            builds.append(time.perf_counter() - started)
    return builds, stories


@dataclass(frozen=True, slots=True)
class Ingest:
    items: int
    seconds: float
    last_source: int = 0  # the highest source and story ids before it began
    last_story: int = 0

    @property
    def rate(self) -> float:
        return self.items / self.seconds


def ingest_farm(url: str, directory: Path, feeds: int = FARM_FEEDS) -> Ingest:
    """Refresh every feed of a new farm into the database at *url*, timed."""
    settings = Settings.model_validate(
        {
            "database": {"url": url},
            "digest": {"dir": str(directory / "digests"), "timezone": "UTC"},
            "seeds": {"dir": str(directory / "seeds")},
        }
    )
    app = App(settings)
    try:
        app.storage.ping()  # opened and migrated before the clock starts
        before = app.storage.count_items()
        with Session(app.storage.engine) as session:
            last_source = session.scalar(select(func.max(Source.id))) or 0
            last_story = session.scalar(select(func.max(Story.id))) or 0
        extra = ["--overlap", str(FARM_OVERLAP)]
        with Farm(FARM_DATA, feeds=feeds, items=FARM_ITEMS, extra_args=extra) as farm:
            for feed in farm.feed_urls():
                app.storage.add_feed(feed, app.now())
            started = time.perf_counter()
            results = app.refresh_feeds()
            seconds = time.perf_counter() - started
        failed = [result.url for result in results if result.status != "ok"]
        if failed:
            raise RuntimeError(f"{len(failed)} farm feeds failed, e.g. {failed[0]}")
        return Ingest(app.storage.count_items() - before, seconds, last_source, last_story)
    finally:
        app.close()


# --- backends --------------------------------------------------------------------------


@contextmanager
def sqlite_database(directory: Path, name: str) -> Iterator[str]:
    path = directory / f"{name}.db"
    yield f"sqlite:///{path}"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@contextmanager
def postgres_database(directory: Path, name: str) -> Iterator[str]:
    import psycopg

    database = f"feedbrief_scale_{name}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def postgres_unavailable() -> str | None:
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install -e '.[postgres]')"
    try:
        psycopg.connect(POSTGRES_ADMIN).close()
    except psycopg.OperationalError as exc:
        return f"no PostgreSQL answers at 127.0.0.1:5432 ({str(exc).strip()[:120]})"
    return None


Backend = tuple[str, Callable[[Path, str], Any]]


def chosen_backends(names: str) -> list[Backend]:
    """The backends named in a comma-separated ``--backends`` value, PostgreSQL left out
    (with the reason printed) where no server answers."""
    chosen = names.split(",")
    backends: list[Backend] = []
    if "sqlite" in chosen:
        backends.append(("sqlite", sqlite_database))
    if "postgresql" in chosen:
        reason = postgres_unavailable()
        if reason:
            print(f"PostgreSQL skipped: {reason}")
        else:
            backends.append(("postgresql", postgres_database))
    return backends


def database_size(storage: Storage) -> int:
    if storage.dialect == "postgresql":
        with storage.engine.connect() as connection:
            return int(connection.scalar(text("SELECT pg_database_size(current_database())")))
    path = storage.engine.url.database or ""
    return sum(
        os.path.getsize(f"{path}{suffix}")
        for suffix in ("", "-wal")
        if os.path.exists(f"{path}{suffix}")
    )


@dataclass
class Report:
    backend: str
    empty: list[Ingest] = field(default_factory=list)  # one per round, interleaved
    full: list[Ingest] = field(default_factory=list)
    fill_items: int = 0
    fill_seconds: float = 0.0
    size_bytes: int = 0
    lookups: list[Lookups] = field(default_factory=list)
    digests: list[DigestTiming] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        """Best full rate over best empty rate: on a shared machine the best run of each
        is the one least slowed by everything else running."""
        if not (self.empty and self.full):
            return None
        return max(i.rate for i in self.full) / max(i.rate for i in self.empty)

    def missed(self) -> list[str]:
        misses = []
        if self.ratio is not None and self.ratio < TARGET_RATIO:
            misses.append(f"{self.backend}: ingest ratio {self.ratio:.2f}")
        for timing in self.digests:
            if timing.build_best >= TARGET_DIGEST_SECONDS:
                misses.append(
                    f"{self.backend}: digest build ({timing.case}) {timing.build_best:.2f} s"
                )
        if len(self.lookups) >= 2:
            growth = self.lookups[-1].link_copy.median_ms / self.lookups[0].link_copy.median_ms
            if growth > TARGET_LOOKUP_GROWTH:
                misses.append(f"{self.backend}: lookup grew {growth:.1f}x")
        return misses

    def print(self) -> None:
        print(f"\n== {self.backend} ==")
        print(
            f"fill: {self.fill_items:,} items in {self.fill_seconds:.0f} s, "
            f"database {self.size_bytes / 2**30:.2f} GiB"
        )
        if self.ratio is not None:
            for label, runs in (
                ("ingest, empty database", self.empty),
                (f"ingest, {self.fill_items:,} items stored", self.full),
            ):
                rates = "  ".join(f"{i.rate:5.1f}" for i in runs)
                print(
                    f"{label:<34} {runs[0].items:4d} items, items/s per round: {rates}"
                    f"  (best {max(i.rate for i in runs):.1f})"
                )
            print(
                f"{'ratio, best full / best empty':<34} {self.ratio:.2f} (target >= {TARGET_RATIO})"
            )
        if self.lookups:
            self.print_lookups()
        if self.digests:
            first = self.digests[0]
            print(
                f"busiest day, {first.items:,} items: DigestWriter.build "
                f"(target < {TARGET_DIGEST_SECONDS:g} s)"
            )
            for timing in self.digests:
                print(f"  {timing}")

    def print_lookups(self) -> None:
        print("lookup at N items, median / p95 per new item:")
        print(
            f"  {'N':>9}  {'find_story copy':<32} {'find_story distinct':<32} "
            f"{'save_item copy':<32} {'save_item distinct':<32}"
        )
        for row in self.lookups:
            print(
                f"  {row.items:>9,}  {row.link_copy!s:<32} {row.link_distinct!s:<32} "
                f"{row.save_copy!s:<32} {row.save_distinct!s:<32}"
            )
        if len(self.lookups) >= 2:
            growth = self.lookups[-1].link_copy.median_ms / self.lookups[0].link_copy.median_ms
            print(
                f"  find_story growth {self.lookups[0].items:,} -> {self.lookups[-1].items:,}: "
                f"{growth:.2f}x (target <= {TARGET_LOOKUP_GROWTH}x)"
            )


def run_backend(
    name: str,
    database: Callable[[Path, str], Any],
    total: int,
    articles: list[Article],
    directory: Path,
    rounds: int,
    digest_only: bool = False,
    digest_runs: int = 3,
) -> Report:
    report = Report(name)
    print(f"[{name}] drawing the fill ...", flush=True)
    plan = Plan.draw(total, utc_now().date())
    rng = random.Random(7)
    with database(directory, "full") as url:
        storage = Storage.open(url, linker=StoryLinker(match_encoded))
        try:
            filler = Filler(storage, plan, articles, bands=not digest_only)
            filler.add_sources()
            checkpoints = [total] if digest_only else sorted({min(c, total) for c in CHECKPOINTS})
            for checkpoint in checkpoints:
                filler.fill_to(checkpoint)
                if digest_only:
                    break
                print(
                    f"[{name}] {filler.loaded:,} items stored ({filler.seconds:.0f} s); "
                    "timing lookups ...",
                    flush=True,
                )
                report.lookups.append(measure_lookups(filler, rng))
            report.fill_items, report.fill_seconds = filler.loaded, filler.seconds
            report.size_bytes = database_size(storage)
            print(f"[{name}] digest of the busiest day ...", flush=True)
            report.digests = time_digests(storage, plan.busy_day, digest_runs)
            for number in range(0 if digest_only else rounds):
                print(f"[{name}] ingest round {number + 1}/{rounds}: empty, then full ...")
                with database(directory, f"empty{number}") as empty:
                    report.empty.append(ingest_farm(empty, directory / f"empty{number}"))
                report.full.append(ingest_farm(url, directory / f"full{number}"))
                forget_newer(storage, report.full[-1])
        finally:
            storage.close()
    return report


def forget_newer(storage: Storage, ingest: Ingest) -> None:
    """Delete what a farm ingest added, so the next round meets the same database."""
    with storage.engine.begin() as connection:
        connection.execute(delete(Item).where(Item.source_id > ingest.last_source))
        connection.execute(delete(Source).where(Source.id > ingest.last_source))
        connection.execute(delete(Story).where(Story.id > ingest.last_story))


def warm_up(directory: Path) -> None:
    """One small ingest first, so neither timed run pays for first imports and caches."""
    with sqlite_database(directory, "warm") as url:
        ingest_farm(url, directory / "warm", feeds=5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=CHECKPOINTS[-1], help="synthetic items")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=3, help="ingest rounds (empty, full)")
    parser.add_argument(
        "--digest-only",
        action="store_true",
        help="fill without band rows, time the busiest day's digest only (no lookups, no "
        "ingest); --items 40000 is the smallest fill with a 20,000-item busiest day",
    )
    parser.add_argument("--digest-runs", type=int, default=3, help="builds per rule case")
    args = parser.parse_args()
    configure_logging("WARNING")
    backends = chosen_backends(args.backends)
    try:
        articles = dev_articles()
    except OSError as exc:
        sys.exit(f"the fill needs the shared dev data: {exc}")
    reports = []
    try:
        with tempfile.TemporaryDirectory(prefix="feedbrief-scale-") as temporary:
            directory = Path(temporary)
            if not args.digest_only:
                warm_up(directory)
            for name, database in backends:
                reports.append(
                    run_backend(
                        name,
                        database,
                        args.items,
                        articles,
                        directory,
                        args.rounds,
                        digest_only=args.digest_only,
                        digest_runs=args.digest_runs,
                    )
                )
    except FarmError as exc:
        sys.exit(str(exc))
    for report in reports:
        report.print()
    missed = [miss for report in reports for miss in report.missed()]
    if missed:
        sys.exit("targets missed: " + "; ".join(missed))


if __name__ == "__main__":
    main()
