"""The composition root: settings in, a wired storage / pipeline / digest writer out."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache, cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from feedbrief.clock import Clock, utc_now
from feedbrief.operator_errors import OperatorError, database_error
from feedbrief.settings import Settings

if TYPE_CHECKING:
    from dedup.linking import Candidates, StoryLinker
    from digest.build import DigestWriter
    from digest.model import Digest
    from feedbrief.delivery import Mailer
    from feedbrief.feeds import FeedUpdater, RefreshResult
    from feedbrief.pipeline import Pipeline, ReplayRow, SummaryPolicy
    from feedbrief.processes import Offload
    from ingest.fetch import Fetcher
    from storage import SourceState, Storage

# Each part is imported when it is first built, so a command that reads the database
# (``status``, ``feeds list``) never loads the parsers, the fetcher or the summarisers.


def summary_policy(algorithm: str, sentences: int) -> SummaryPolicy:
    from feedbrief.pipeline import SummaryPolicy
    from summarise.summarisers import Length

    return SummaryPolicy(algorithm=algorithm, length=Length(sentences=sentences))


def _warm_up(algorithm: str, sentences: int) -> None:
    """``pipeline.warm_up`` for these settings. Given plain values, it imports the
    pipeline only when a worker pool is about to fork (a pass with nothing to parse never
    does), and a fork server's workers unpickle it without the pipeline."""
    from feedbrief.pipeline import warm_up

    warm_up(summary_policy(algorithm, sentences))


class _StoryLinking:
    """The story linker storage is given (``dedup.linking.StoryLinker``), imported for
    the first batch of items it links: fingerprints load numpy, which opening the
    database does not need."""

    def candidates(self, source: int) -> Candidates:
        return _story_linker().candidates(source)


@cache
def _story_linker() -> StoryLinker:
    from dedup.fingerprint import match_encoded
    from dedup.linking import StoryLinker

    return StoryLinker(match_encoded)


class Pruned(NamedTuple):
    items: int
    deliveries: int


@dataclass
class App:
    settings: Settings
    clock: Clock = utc_now
    stop: threading.Event = field(default_factory=threading.Event)

    @cached_property
    def storage(self) -> Storage:
        """The database, opened and migrated; :class:`OperatorError` naming it if it
        cannot be (corrupted, unreachable, no such database, driver not installed)."""
        from sqlalchemy.exc import SQLAlchemyError

        from storage import Storage

        url = self.settings.database.url
        try:
            return Storage.open(url, linker=_StoryLinking())
        except (SQLAlchemyError, OSError, ImportError) as exc:
            raise database_error(url, exc) from exc

    @property
    def summary_policy(self) -> SummaryPolicy:
        return summary_policy(self.settings.digest.algorithm, self.settings.digest.sentences)

    @cached_property
    def pipeline(self) -> Pipeline:
        from feedbrief.pipeline import Pipeline

        return Pipeline(
            self.storage,
            summary=self.summary_policy,
            clock=self.clock,
            stop=self.stop,
            offload=self.offload,
        )

    @cached_property
    def offload(self) -> Offload:
        """In place unless ``start_processes`` forked a pool first."""
        from feedbrief.processes import Offload

        return Offload()

    def start_processes(self, *, when_needed: bool = False) -> None:
        """Fork the worker processes that parse and summarise, for a command that ingests
        in bulk. Call it first, before any thread is started. With *when_needed* they
        are forked by the first feed or seed to parse or summarise instead (a pass with
        nothing to do forks nothing and warms nothing up)."""
        if "offload" in self.__dict__:
            raise RuntimeError("start_processes() must come before anything uses the pipeline")
        from feedbrief.processes import Offload, default_processes

        processes = self.settings.feeds.processes or default_processes()
        digest = self.settings.digest
        self.offload = Offload(
            processes,
            before_fork=partial(_warm_up, digest.algorithm, digest.sentences),
            release=self._release_connections,
            deferred=when_needed,
        )

    def _release_connections(self) -> None:
        if "storage" in self.__dict__:
            self.storage.release_connections()

    @cached_property
    def digests(self) -> DigestWriter:
        from digest.build import DigestWriter
        from digest.sections import Layout
        from digest.select import Rules

        digest = self.settings.digest
        return DigestWriter(
            self.storage,
            digest.dir,
            tz=digest.tz,
            tz_name=digest.tz_name,
            base_url=digest.base_url,
            clock=self.clock,
            rules=Rules.compile(timedelta(seconds=digest.max_age), digest.block, digest.keep),
            layout=Layout(
                top_stories=digest.top_stories,
                top_per_source=digest.top_per_source,
                section_stories=digest.section_stories,
                section_headlines=digest.section_headlines,
                reading_minutes=digest.reading_minutes,
            ),
        )

    @cached_property
    def mailer(self) -> Mailer:
        """Mails the digests to ``[email] to``; check ``settings.email.enabled`` first."""
        from feedbrief.delivery import Mailer

        return Mailer(
            self.settings.email,
            self.storage,
            unsubscribe_url=self.settings.digest.base_url,
            load=self.published_digest,
            clock=self.clock,
        )

    def published_digest(self, day: date) -> Digest:
        """*day*'s digest as written to the digest directory (written now if it is not):
        the email carries the very page that is published."""
        from digest.model import DigestFileError, load_digest_json, record_name

        path = self.settings.digest.dir / record_name(day)
        try:
            return load_digest_json(path)
        except (FileNotFoundError, DigestFileError):
            self.digests.write(day)
            return load_digest_json(path)

    @cached_property
    def fetcher(self) -> Fetcher:
        from feedbrief import USER_AGENT
        from feedbrief.feeds import fetch_limits
        from ingest.addresses import AddressPolicy
        from ingest.fetch import Fetcher
        from ingest.proxy import ProxyRules

        feeds = self.settings.feeds
        return Fetcher(
            fetch_limits(feeds),
            user_agent=USER_AGENT,
            stop=self.stop,
            proxies=ProxyRules.from_environment(os.environ, feeds.proxy),
            addresses=AddressPolicy(allow_private_networks=feeds.allow_private_networks),
        )

    @cached_property
    def feeds(self) -> FeedUpdater:
        from feedbrief.feeds import FeedUpdater

        return FeedUpdater(
            self.storage, self.pipeline, self.fetcher, self.settings.feeds, self.clock
        )

    def sync_subscriptions(self) -> None:
        """Add the feeds listed in the config file; the database stays the source of truth."""
        for subscription in self.settings.feeds.subscriptions:
            interval = int(subscription.interval) if subscription.interval else None
            self.storage.add_feed(
                subscription.url,
                self.now(),
                interval=interval,
                full_text=subscription.full_text,
                category=subscription.category,
                weight=subscription.weight,
                block=subscription.block,
                keep=subscription.keep,
            )

    def refresh_feeds(
        self, feeds: list[SourceState] | None = None, *, worker: str = "cli"
    ) -> list[RefreshResult]:
        """Refresh the given feeds (default: claim the due ones as *worker*) and rewrite
        the digests of the days they touched."""
        from digest.build import local_day

        if feeds is None:
            # With no feed due, the fetcher and the parsers are not even loaded.
            due = self.storage.any_feed_due(self.now())
            results = self.feeds.refresh_due(worker) if due else []
        else:
            results = self.feeds.refresh_many(feeds)
        days = {
            local_day(moment, self.settings.digest.tz)
            for result in results
            for moment in result.first_seen
        }
        self.digests.write_days(days)
        return results

    @property
    def seeds_dir(self) -> Path:
        return self.settings.seeds.dir

    def replay(self, paths: list[Path] | None = None, *, unchanged: bool = True) -> list[ReplayRow]:
        """Replay seed files (default: the whole seeds directory) and write the digest
        of every day their items belong to, so that replaying into an empty digest
        folder reproduces its files. With ``unchanged=False`` (the service's periodic
        scan, which finds the same files again and again) only the days with an item
        added or changed are rewritten."""
        from ingest.seeds import find_seeds

        if paths is None:
            if not self.seeds_dir.is_dir():
                raise OperatorError(f"seeds directory {self.seeds_dir} does not exist")
            paths = list(find_seeds(self.seeds_dir))
        rows = self.pipeline.replay_seeds(paths, self.seeds_dir)
        self.digests.write_days(self.touched_days(rows, unchanged=unchanged))
        return rows

    def touched_days(self, rows: list[ReplayRow], *, unchanged: bool = True) -> set[date]:
        """The local days of the rows' stored items, or (``unchanged=False``) of those
        the replay added or changed."""
        from digest.build import local_day

        return {
            local_day(moment, self.settings.digest.tz)
            for row in rows
            for moment in (row.stored_first_seen if unchanged else row.first_seen)
        }

    def prune(self, days: int | None = None) -> Pruned:
        """Delete what is older than the retention period (tombstones stay): items, and
        the email delivery rows of the days before the cut-off's (``digest.mailing``)."""
        from digest.mailing import deliveries_kept_from

        keep = timedelta(days=self.settings.retention_days if days is None else days)
        now = self.now()
        items = self.storage.prune(now - keep, now)
        digest = self.settings.digest
        kept_from = deliveries_kept_from(now, keep, digest.time, digest.tz)
        return Pruned(items, self.storage.prune_deliveries(kept_from))

    def check_directories(self) -> None:
        """Create the digest directory and check that it can be written, so that a
        service that could never publish says so at start rather than at every pass."""
        directory = self.settings.digest.dir
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OperatorError(f"digest directory {directory}: {exc.strerror}") from exc
        if not os.access(directory, os.W_OK | os.X_OK):
            raise OperatorError(f"digest directory {directory}: not writable")

    def today(self) -> date:
        return self.digests.today()

    def now(self) -> datetime:
        return self.clock()

    def close(self) -> None:
        if "offload" in self.__dict__:
            self.offload.close()
        if "fetcher" in self.__dict__:
            self.fetcher.close()
        if "storage" in self.__dict__:
            self.storage.close()
