"""The one place where the stages meet: an article from ingest is summarised and stored.

Nothing here decides *how* to clean, summarise or store; it only hands plain data from
one stage to the next, in the one direction data flows.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import structlog
from sqlalchemy.exc import SQLAlchemyError

from dedup import boilerplate
from dedup.canonical import canonical_url
from dedup.fingerprint import encode, fingerprint
from feedbrief import metrics
from feedbrief.clock import Clock, utc_now
from feedbrief.processes import Offload
from ingest.outcome import Outcome
from ingest.parse import ParsedFeed, parse_feed
from ingest.records import Article, redate, warn_future_dates
from ingest.refresh import changed_entries
from ingest.seeds import SeedError, UnsupportedSeed, load_seed, seed_name
from storage import ItemData, SaveResult, SourceUpdate, Storage, SummaryData
from summarise.summarisers import Length, summarise_text

log = structlog.get_logger(__name__)


class Stopped(Exception):
    """A stop was requested; the work in hand was rolled back, not half-written."""


@dataclass(frozen=True, slots=True)
class ReplayRow:
    """One line of the replay table, with the first-seen times that say which days'
    digests the file concerns: ``first_seen`` those of the items this replay added or
    changed, ``stored_first_seen`` those of all the file's stored items, unchanged ones
    included. A file that failed or was skipped has neither."""

    file: str
    status: Outcome  # an item's outcome (the most telling of the file's), ERROR or SKIPPED
    title: str
    error: str | None = None
    first_seen: tuple[datetime, ...] = ()
    stored_first_seen: tuple[datetime, ...] = ()


@dataclass(frozen=True, slots=True)
class SummaryPolicy:
    algorithm: str = "default"
    length: Length = field(default_factory=lambda: Length(sentences=3))


@dataclass(frozen=True, slots=True)
class Prepared:
    """An article made ready for storage: its item data (canonical URL, fingerprint) and
    its summary, with the time summarising took (for the metrics)."""

    data: ItemData
    summary: SummaryData
    summarise_seconds: float


# A seed's articles stored per transaction. A JSON seed may hold a hundred thousand;
# stored at once, nothing would be kept if the run were stopped or killed after minutes
# of work, and the transaction would hold every summary in memory. Re-running stores
# only what is missing (the items are keyed by their ids).
SEED_BATCH = 500

# Articles prepared per call: a stop request waits for one chunk at most (well under a
# second), and a worker process returns results as it goes.
PREPARE_CHUNK = 64


def prepare_articles(
    articles: Sequence[Article],
    policy: SummaryPolicy,
    boilerplate: frozenset[int] = frozenset(),
) -> list[Prepared]:
    """The CPU-bound half of storing articles; pure, so it can run in a worker process.
    *boilerplate* are the paragraphs of the source's (see :func:`feed_boilerplate`),
    left out of the fingerprints."""
    return [_prepare(article, policy, boilerplate) for article in articles]


def feed_boilerplate(listed: Sequence[Article], known: frozenset[int]) -> frozenset[int]:
    """A source's boilerplate paragraphs, from the entries it lists now (the last of each
    guid) and its record (``Storage.boilerplate``): see :mod:`dedup.boilerplate`."""
    latest = {article.guid: article.text for article in listed}
    return boilerplate.decide(list(latest.values()), known)


_WARM_UP = Article(
    guid="warm-up",
    title="Council approves the new bridge",
    text=(
        "The city council approved the new bridge on Tuesday after a long debate. "
        "Work will start in the spring, officials said, and should take two years.\n\n"
        "Residents had asked for a crossing for cyclists and walkers for a decade. "
        "The old bridge will stay open to traffic while the new one is built."
    ),
)


def warm_up(policy: SummaryPolicy) -> None:
    """Prepare one small article: what that loads on first use (the stemmer, stop words,
    the summariser's weights) is then in memory, so no real article pays for it; run
    before a worker pool is forked, it is loaded once for all of them."""
    prepare_articles([_WARM_UP], policy)


def parse_new_feed(
    content: bytes,
    *,
    url: str,
    headers: dict[str, str],
    max_entries: int,
    policy: SummaryPolicy,
) -> tuple[ParsedFeed, list[Prepared]]:
    """Parse a feed with nothing stored yet and prepare all its entries, in one trip to
    a worker process: every entry is new, so none would be left out."""
    parsed = parse_feed(content, url=url, headers=headers, max_entries=max_entries)
    latest = {article.guid: article for article in parsed.entries}
    lines = feed_boilerplate(parsed.entries, frozenset())
    return parsed, prepare_articles(list(latest.values()), policy, lines)


def _prepare(article: Article, policy: SummaryPolicy, lines: frozenset[int]) -> Prepared:
    started = time.perf_counter()
    sentences = summarise_text(
        article.text,
        length=policy.length,
        algorithm=policy.algorithm,
        language=article.language,
        title=article.title,
    )
    seconds = time.perf_counter() - started
    summary = SummaryData(algorithm=policy.algorithm, sentences=tuple(sentences))
    return Prepared(_item_data(article, lines), summary, seconds)


class Pipeline:
    def __init__(
        self,
        storage: Storage,
        *,
        summary: SummaryPolicy = SummaryPolicy(),
        clock: Clock = utc_now,
        stop: threading.Event | None = None,
        offload: Offload | None = None,
    ) -> None:
        self.storage = storage
        self.summary = summary
        self.clock = clock
        self.stop = stop or threading.Event()
        self.offload = offload or Offload()

    def store_articles(
        self, source_id: int, articles: Sequence[Article], update: SourceUpdate
    ) -> list[SaveResult]:
        """Store those of *articles* that are new or changed (see
        :func:`ingest.refresh.changed_entries`) as :meth:`store_changed` does, with the
        boilerplate that *articles* repeat (a seed file is a source of its own: there is
        no record to go by)."""
        changed = self.changed_articles(source_id, articles)
        lines = feed_boilerplate(articles, frozenset())
        return self.store_changed(source_id, changed, update, boilerplate=lines)

    def changed_articles(self, source_id: int, articles: Sequence[Article]) -> list[Article]:
        """Those of *articles* that are new or changed (see
        :func:`ingest.refresh.changed_entries`) against what the source has stored."""
        guids = list(dict.fromkeys(article.guid for article in articles))
        stored = self.storage.content_hashes(source_id, guids) if guids else {}
        return changed_entries(articles, stored)

    def store_changed(
        self,
        source_id: int,
        changed: Sequence[Article],
        update: SourceUpdate,
        *,
        prepared: Sequence[Prepared] = (),
        boilerplate: frozenset[int] = frozenset(),
    ) -> list[SaveResult]:
        """Summarise *changed* (new or changed articles, one per guid), then store them
        with the source's new state in one transaction. Articles already in *prepared*
        (with the same content and *boilerplate*) are not prepared again; *boilerplate*
        are the source's paragraphs left out of fingerprints (:func:`feed_boilerplate`).

        If a stop is requested while summarising, nothing is written: the pass is
        rolled back as a whole and the next run repeats it.
        """
        ready = _ready(changed, prepared)
        todo = [article for article in changed if article.guid not in ready]
        for start in range(0, len(todo), PREPARE_CHUNK):
            if self.stop.is_set():
                raise Stopped
            chunk = todo[start : start + PREPARE_CHUNK]
            for item in self.offload.call(prepare_articles, chunk, self.summary, boilerplate):
                ready[item.data.guid] = item
        items = [ready[article.guid] for article in changed]
        for item in items:
            metrics.record_summarise(item.summarise_seconds)
        return self.storage.save_items(
            source_id, [(item.data, item.summary) for item in items], update
        )

    def replay_seed(self, path: Path, seeds_dir: Path) -> ReplayRow:
        """Run one seed file through the whole pipeline; errors become a table row."""
        try:
            return self._replay_seed(path, seeds_dir)
        except (Stopped, SQLAlchemyError):
            raise
        except Exception as exc:  # one seed's surprise must not stop the rest: logged
            name = seed_name(path, seeds_dir, resolve=False)
            log.exception("seed.crashed", seed=name)
            error = f"internal error: {type(exc).__name__}: {exc}"
            return ReplayRow(name, Outcome.ERROR, "", error)

    def _replay_seed(self, path: Path, seeds_dir: Path) -> ReplayRow:
        # A file that cannot be read is reported where it was found (a link, not what
        # it leads to); one that is read is named by what it is, its identity.
        name = seed_name(path, seeds_dir, resolve=False)
        seed_log = log.bind(seed=name)
        try:
            document = load_seed(path, seeds_dir)
        except UnsupportedSeed as exc:
            seed_log.info("seed.skipped", reason=str(exc))
            return ReplayRow(name, Outcome.SKIPPED, "", str(exc))
        except SeedError as exc:
            seed_log.error("seed.rejected", error=str(exc))
            source_id = self.storage.ensure_source("seed", f"seed:{name}", None, self.clock())
            self.storage.update_source(source_id, SourceUpdate(self.clock(), error=str(exc)))
            return ReplayRow(name, Outcome.ERROR, "", str(exc))

        name, seed_log = document.name, log.bind(seed=document.name)
        source_id = self.storage.ensure_source("seed", document.source_url, None, self.clock())
        now = self.clock()
        dated = redate(document.articles, fetched=now)
        results = []
        future: dict[str, datetime] = {}  # of the articles stored now: a scan repeats replays
        for start in range(0, len(dated.articles), SEED_BATCH):
            if start and self.stop.is_set():
                raise Stopped
            batch = dated.articles[start : start + SEED_BATCH]
            changed = self.changed_articles(source_id, batch)
            future |= {a.guid: dated.replaced[a.guid] for a in changed if a.guid in dated.replaced}
            results += self.store_changed(
                source_id,
                changed,
                SourceUpdate(checked_at=self.clock()),
                boilerplate=feed_boilerplate(batch, frozenset()),
            )
        warn_future_dates(future, now, seed=name)
        status = _overall([result.outcome for result in results])
        title = dated.articles[0].title
        if len(dated.articles) > 1:
            title = f"{title} (+{len(dated.articles) - 1} more)"
        seed_log.info("seed.replayed", status=status, items=len(dated.articles))
        return ReplayRow(
            name,
            status,
            title,
            first_seen=touched_days(results),
            stored_first_seen=self._stored_first_seen(source_id, dated.articles, results),
        )

    def _stored_first_seen(
        self, source_id: int, articles: Sequence[Article], results: Sequence[SaveResult]
    ) -> tuple[datetime, ...]:
        """The first-seen times of the stored items among *articles*. If every one was
        saved just now, *results* hold them all; the unchanged ones were not saved, so
        then they are read back."""
        guids = list(dict.fromkeys(article.guid for article in articles))
        if len(results) == len(guids):
            return tuple(r.first_seen for r in results if r.outcome != Outcome.BURIED)
        return tuple(self.storage.first_seen_times(source_id, guids).values())

    def replay_seeds(self, paths: Iterable[Path], seeds_dir: Path) -> list[ReplayRow]:
        rows = []
        for path in paths:
            try:
                if self.stop.is_set():
                    raise Stopped
                rows.append(self.replay_seed(path, seeds_dir))
            except Stopped:
                log.info("seed.replay_stopped", seed=seed_name(path, seeds_dir))
                break
        return rows


def _ready(articles: Iterable[Article], prepared: Sequence[Prepared]) -> dict[str, Prepared]:
    """The prepared items made from one of *articles* as it is now, by guid: the same
    content and date (a date the refresh decision replaced makes the item stale)."""
    now = {article.guid: (article.content_hash, article.published) for article in articles}
    return {
        item.data.guid: item
        for item in prepared
        if now.get(item.data.guid) == (item.data.content_hash, item.data.published_at)
    }


def _overall(outcomes: Sequence[str]) -> Outcome:
    """A seed file's outcome: the most telling of its items' outcomes."""
    for outcome in (Outcome.NEW, Outcome.UPDATED, Outcome.UNCHANGED):
        if outcome in outcomes:
            return outcome
    return Outcome.BURIED if outcomes else Outcome.UNCHANGED


def touched_days(results: Sequence[SaveResult]) -> tuple[datetime, ...]:
    """First-seen times of the items that changed: their days' digests need rewriting."""
    changed = (Outcome.NEW, Outcome.UPDATED)
    return tuple(result.first_seen for result in results if result.outcome in changed)


def _item_data(article: Article, lines: frozenset[int]) -> ItemData:
    fp = fingerprint(boilerplate.strip(article.text, lines))
    return ItemData(
        guid=article.guid,
        title=article.title,
        text=article.text,
        content_hash=article.content_hash,
        url=article.url,
        author=article.author,
        published_at=article.published,
        language=article.language,
        canonical_url=_canonical(article.url),
        fingerprint=encode(fp) if fp else None,
        band_keys=fp.band_keys if fp else (),
    )


def _canonical(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return canonical_url(url)
    except ValueError:
        return None
