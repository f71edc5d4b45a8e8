"""The one place where the stages meet: an article from ingest is summarised and stored.

Nothing here decides *how* to clean, summarise or store; it only hands plain data from
one stage to the next, in the one direction data flows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import structlog

from ingest.records import Article
from ingest.seeds import SeedError, UnsupportedSeed, load_seed, seed_name
from storage import ItemData, Outcome, Storage, SummaryData
from summarise.summarisers import Length, summarise_text

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ReplayRow:
    """One line of the replay table."""

    file: str
    status: str  # an Outcome value, "error" or "skipped"
    title: str
    error: str | None = None
    first_seen: tuple[datetime, ...] = ()


@dataclass(frozen=True, slots=True)
class SummaryPolicy:
    algorithm: str = "default"
    length: Length = field(default_factory=lambda: Length(sentences=3))


class Pipeline:
    def __init__(
        self,
        storage: Storage,
        *,
        summary: SummaryPolicy = SummaryPolicy(),
        clock: Clock = utc_now,
        stop: threading.Event | None = None,
    ) -> None:
        self.storage = storage
        self.summary = summary
        self.clock = clock
        self.stop = stop or threading.Event()

    def store_article(self, source_id: int, article: Article) -> tuple[Outcome, datetime | None]:
        """Summarise (only when the content changed) and store one article.

        Returns the outcome and, unless unchanged, the item's first-seen time, so the
        caller knows which digest days it touched.
        """
        if self.storage.content_hash(source_id, article.guid) == article.content_hash:
            return Outcome.UNCHANGED, None
        sentences = summarise_text(
            article.text,
            length=self.summary.length,
            algorithm=self.summary.algorithm,
            language=article.language,
            title=article.title,
        )
        outcome, first_seen = self.storage.save_item(
            source_id,
            _item_data(article),
            SummaryData(algorithm=self.summary.algorithm, sentences=tuple(sentences)),
            self.clock(),
        )
        return outcome, None if outcome is Outcome.UNCHANGED else first_seen

    def replay_seed(self, path: Path, seeds_dir: Path) -> ReplayRow:
        """Run one seed file through the whole pipeline; errors become a table row."""
        name = seed_name(path, seeds_dir)
        seed_log = log.bind(seed=name)
        try:
            document = load_seed(path, seeds_dir)
        except UnsupportedSeed as exc:
            seed_log.info("seed skipped", reason=str(exc))
            return ReplayRow(name, "skipped", "", str(exc))
        except SeedError as exc:
            seed_log.error("seed rejected", error=str(exc))
            source_id = self.storage.ensure_source("seed", f"seed:{name}", None, self.clock())
            self.storage.record_error(source_id, str(exc), self.clock())
            return ReplayRow(name, "error", "", str(exc))

        source_id = self.storage.ensure_source("seed", document.source_url, None, self.clock())
        outcomes: list[Outcome] = []
        touched: list[datetime] = []
        for article in document.articles:
            if self.stop.is_set():
                break
            outcome, when = self.store_article(source_id, article)
            outcomes.append(outcome)
            if when is not None:
                touched.append(when)
        self.storage.record_success(source_id, self.clock())
        status = _overall(outcomes)
        title = document.articles[0].title
        if len(document.articles) > 1:
            title = f"{title} (+{len(document.articles) - 1} more)"
        seed_log.info("seed replayed", status=status, items=len(outcomes))
        return ReplayRow(name, status, title, first_seen=tuple(touched))

    def replay_seeds(self, paths: Iterable[Path], seeds_dir: Path) -> list[ReplayRow]:
        rows = []
        for path in paths:
            if self.stop.is_set():
                log.info("stopping before the next seed", seed=seed_name(path, seeds_dir))
                break
            rows.append(self.replay_seed(path, seeds_dir))
        return rows


def _overall(outcomes: list[Outcome]) -> str:
    for outcome in (Outcome.NEW, Outcome.UPDATED):
        if outcome in outcomes:
            return outcome.value
    return Outcome.UNCHANGED.value


def _item_data(article: Article) -> ItemData:
    return ItemData(
        guid=article.guid,
        title=article.title,
        text=article.text,
        content_hash=article.content_hash,
        url=article.url,
        author=article.author,
        published_at=article.published,
        language=article.language,
    )
