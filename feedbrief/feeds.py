"""Refreshing feeds: the one orchestration function from fetch to stored items.

Like miniflux's ``RefreshFeed``: load state -> fetch -> parse -> (full text) -> summarise
and store items together with the feed's new state and next check. Everything it calls
is a stage of its own; nothing calls back up. A feed's failure is recorded on that feed
and never stops the others.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import structlog

from feedbrief import metrics
from feedbrief.pipeline import Clock, Pipeline, Prepared, Stopped, parse_new_feed, touched_days
from feedbrief.settings import FeedSettings
from ingest.clean import clean_paragraphs, extract_page
from ingest.discover import discover_feeds
from ingest.fetch import Fetcher, FetchLimits, FetchResult
from ingest.parse import ParsedFeed, parse_feed
from ingest.records import Article
from ingest.schedule import RATE_WINDOW, next_check
from storage import Outcome, SourceState, SourceUpdate, Storage

log = structlog.get_logger(__name__)

# A feed entry shorter than this is a teaser: --full-text feeds fetch the page instead.
TEASER_WORDS = 120

CLAIMS_PER_THREAD = 4
"""Feeds claimed per feed thread at a time. Claiming one batch of a thread pool's worth
stalled the pass every few feeds: the claim waited for the write lock, new feeds waited for
the claim, and the worker processes ran out of feeds to parse (on the ingest benchmark,
each was idle 12 % of the pass). Four per thread cuts the stalls fourfold, while a second
worker still finds feeds to claim in any pass of more than a few dozen."""


@dataclass(frozen=True, slots=True)
class RefreshResult:
    url: str
    status: str  # "ok", "not-modified", "error", "gone"
    new: int = 0
    updated: int = 0
    linked: int = 0  # new items that joined a story other items already carry
    error: str | None = None
    first_seen: tuple[datetime, ...] = ()


def fetch_limits(settings: FeedSettings) -> FetchLimits:
    return FetchLimits(
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        total_timeout=settings.total_timeout,
        max_body_bytes=int(settings.max_body_mib * 1024 * 1024),
        per_host=settings.per_host,
    )


class FeedUpdater:
    def __init__(
        self,
        storage: Storage,
        pipeline: Pipeline,
        fetcher: Fetcher,
        settings: FeedSettings,
        clock: Clock,
        rng: random.Random | None = None,
    ) -> None:
        self.storage = storage
        self.pipeline = pipeline
        self.fetcher = fetcher
        self.settings = settings
        self.clock = clock
        self.rng = rng or random.Random()

    def refresh_due(self, worker: str) -> list[RefreshResult]:
        """Claim due feeds a few per thread at a time and refresh them, claiming more as
        the claimed ones run out: several workers share the due feeds, and a slow server
        holds one thread, never the pass.

        A claim is a write transaction and queues behind the feeds being stored; while
        it waits, no new feed starts. Claiming several per thread holds a few leases a
        little longer instead (see ``CLAIMS_PER_THREAD``). Feeds claimed but not started
        when a stop is requested are released at once.
        """
        lease = timedelta(seconds=self.settings.lease)
        concurrency = self.settings.concurrency
        results: list[RefreshResult] = []
        claimed: deque[SourceState] = deque()
        with ThreadPoolExecutor(concurrency, thread_name_prefix="feed") as pool:
            running: set[Future[RefreshResult]] = set()
            while True:
                while len(running) < concurrency and not self.pipeline.stop.is_set():
                    if not claimed:
                        claimed.extend(
                            self.storage.claim_due_feeds(
                                worker, self.clock(), lease, concurrency * CLAIMS_PER_THREAD
                            )
                        )
                        if not claimed:
                            break
                    running.add(pool.submit(self.refresh, claimed.popleft()))
                if not running:
                    for feed in claimed:
                        self.storage.release_leases(feed.id)
                    return results
                done, running = wait(running, return_when=FIRST_COMPLETED)
                results.extend(future.result() for future in done)

    def refresh_many(self, feeds: Sequence[SourceState]) -> list[RefreshResult]:
        """Refresh feeds concurrently: a slow server holds one thread, not the pass."""
        if not feeds:
            return []
        workers = min(self.settings.concurrency, len(feeds))
        with ThreadPoolExecutor(workers, thread_name_prefix="feed") as pool:
            return list(pool.map(self.refresh, feeds))

    def refresh(self, feed: SourceState) -> RefreshResult:
        """Refresh one feed; whatever goes wrong is recorded on this feed alone."""
        try:
            return self._refresh(feed)
        except Exception as exc:  # one feed's surprise must not end the pass: logged, recorded
            log.exception("feed refresh crashed", feed=feed.url)
            error = f"internal error: {type(exc).__name__}: {exc}"[:500]
            now = self.clock()
            next_at = self._next_check(feed, now, errors=feed.error_count + 1)
            self.storage.update_source(
                feed.id, SourceUpdate(checked_at=now, error=error, next_check_at=next_at)
            )
            return RefreshResult(feed.url, "error", error=error)

    def _refresh(self, feed: SourceState) -> RefreshResult:
        feed_log = log.bind(feed=feed.url)
        if self.pipeline.stop.is_set():
            return RefreshResult(feed.url, "error", error="stopped before fetching")
        started = time.monotonic()
        result = self.fetcher.fetch_feed(feed.url, etag=feed.etag, last_modified=feed.last_modified)
        seconds = time.monotonic() - started
        metrics.record_fetch(_fetch_outcome(result), seconds)
        feed_log = feed_log.bind(status=result.status, seconds=round(seconds, 3))
        if result.permanent_url:
            feed_log.info("feed moved permanently", to=result.permanent_url)
        if result.gone:
            return self._retire(feed, result, feed_log)
        if not result.ok:
            return self._failed(feed, result, result.error or "unknown error", feed_log)
        if result.not_modified:
            recent = self.storage.recent_published(feed.id, self.clock() - RATE_WINDOW)
            update = self._success(feed, result, entry_times=recent)
            self.storage.update_source(feed.id, update)
            feed_log.info("feed not modified")
            return RefreshResult(feed.url, "not-modified")
        parsed, prepared = self._parse(feed, result)
        if not parsed.is_feed:
            return self._failed(
                feed, result, "not a feed (an HTML page or unknown format)", feed_log
            )
        if parsed.bozo_reason:
            feed_log.warning("malformed feed; keeping what was recovered", bozo=parsed.bozo_reason)
            if not parsed.entries:
                return self._failed(feed, result, f"malformed feed: {parsed.bozo_reason}", feed_log)
        return self._store(feed, result, parsed, prepared, feed_log)

    def _parse(
        self, feed: SourceState, result: FetchResult
    ) -> tuple[ParsedFeed, Sequence[Prepared]]:
        """Parse in a worker process. A feed never fetched before has nothing stored, so
        its entries are prepared in the same trip (``--full-text`` ones excepted: their
        teasers are replaced first)."""
        content = result.content or b""
        headers = dict(result.headers)
        max_entries = self.settings.max_entries
        if feed.last_success_at is None and not feed.full_text:
            return self.pipeline.offload.call(
                parse_new_feed,
                content,
                url=result.url,
                headers=headers,
                max_entries=max_entries,
                policy=self.pipeline.summary,
            )
        parsed = self.pipeline.offload.call(
            parse_feed, content, url=result.url, headers=headers, max_entries=max_entries
        )
        return parsed, ()

    def _store(
        self,
        feed: SourceState,
        result: FetchResult,
        parsed: ParsedFeed,
        prepared: Sequence[Prepared],
        feed_log: structlog.typing.FilteringBoundLogger,
    ) -> RefreshResult:
        entries = list(parsed.entries)
        if feed.full_text:
            entries = self._with_full_text(feed, entries)
        now = self.clock()
        times = [entry.published or now for entry in entries]
        if feed.last_success_at is not None:  # else nothing of it is stored yet
            times += self.storage.recent_published(feed.id, now - RATE_WINDOW)
        update = replace(
            self._success(feed, result, entry_times=times, ttl=parsed.ttl_seconds),
            title=parsed.title,
            site_url=parsed.link,
            warning=f"malformed feed: {parsed.bozo_reason}" if parsed.bozo_reason else None,
        )
        try:
            results = self.pipeline.store_articles(feed.id, entries, update, prepared=prepared)
        except Stopped:
            self.storage.release_leases(feed.id)
            feed_log.info("stopped: this feed's items were not stored and will be fetched again")
            return RefreshResult(feed.url, "error", error="stopped")
        new = sum(1 for result in results if result.outcome is Outcome.NEW)
        updated = sum(1 for result in results if result.outcome is Outcome.UPDATED)
        linked = sum(1 for result in results if result.linked)
        metrics.record_items(new, updated)
        metrics.record_duplicates(linked)
        feed_log.info(
            "feed refreshed", entries=len(entries), new=new, updated=updated, linked=linked
        )
        return RefreshResult(
            feed.url,
            "ok",
            new=new,
            updated=updated,
            linked=linked,
            first_seen=touched_days(results),
        )

    def _success(
        self,
        feed: SourceState,
        result: FetchResult,
        *,
        entry_times: list[datetime] | None,
        ttl: float | None = None,
    ) -> SourceUpdate:
        now = self.clock()
        return SourceUpdate(
            checked_at=now,
            moved_to=self._move_target(feed, result),
            validators=True,
            etag=result.etag,
            last_modified=result.last_modified,
            status=result.status,
            next_check_at=self._next_check(
                feed,
                now,
                errors=0,
                cache_lifetime=result.cache_lifetime,
                ttl=ttl,
                entry_times=entry_times,
            ),
        )

    def _failed(
        self,
        feed: SourceState,
        result: FetchResult,
        error: str,
        feed_log: structlog.typing.FilteringBoundLogger,
    ) -> RefreshResult:
        now = self.clock()
        errors = feed.error_count + 1
        next_at = self._next_check(feed, now, errors=errors, retry_after=result.retry_after)
        self.storage.update_source(
            feed.id,
            SourceUpdate(checked_at=now, error=error, status=result.status, next_check_at=next_at),
        )
        feed_log.error(
            "feed refresh failed", error=error, consecutive_errors=errors, next_check=next_at
        )
        return RefreshResult(feed.url, "error", error=error)

    def _retire(
        self,
        feed: SourceState,
        result: FetchResult,
        feed_log: structlog.typing.FilteringBoundLogger,
    ) -> RefreshResult:
        error = "HTTP 410 Gone: the feed was removed; polling stopped"
        self.storage.update_source(
            feed.id,
            SourceUpdate(
                checked_at=self.clock(),
                error=error,
                status=result.status,
                retired_reason="410 Gone",
            ),
        )
        feed_log.warning("feed retired", reason="410 Gone")
        return RefreshResult(feed.url, "gone", error=error)

    def _next_check(
        self,
        feed: SourceState,
        now: datetime,
        *,
        errors: int,
        retry_after: float | None = None,
        cache_lifetime: float | None = None,
        ttl: float | None = None,
        entry_times: list[datetime] | None = None,
    ) -> datetime:
        # A feed with its own interval keeps it; the others adapt to their posting rate.
        own = feed.interval_seconds
        return next_check(
            now,
            rng=self.rng,
            interval=timedelta(seconds=own or self.settings.interval),
            min_interval=timedelta(seconds=min(own or 1e9, self.settings.min_interval)),
            max_interval=timedelta(seconds=max(own or 0, self.settings.max_interval)),
            consecutive_errors=errors,
            retry_after=retry_after,
            cache_lifetime=cache_lifetime,
            ttl=ttl,
            entry_times=None if own else entry_times,
        )

    def _move_target(self, feed: SourceState, result: FetchResult) -> str | None:
        target = result.permanent_url
        if target and target != feed.url and self.storage.source(target) is not None:
            log.warning(
                "feed moved to a URL already subscribed; keeping both", feed=feed.url, to=target
            )
            return None
        return target

    def _with_full_text(self, feed: SourceState, entries: list[Article]) -> list[Article]:
        """Replace teasers of entries not stored yet by the article extracted from their page."""
        stored = self.storage.content_hashes(feed.id, [entry.guid for entry in entries])
        return [
            self._full_text(feed, entry)
            if entry.guid not in stored and entry.url and len(entry.text.split()) < TEASER_WORDS
            else entry
            for entry in entries
        ]

    def _full_text(self, feed: SourceState, entry: Article) -> Article:
        assert entry.url is not None
        page = self.fetcher.fetch_page(entry.url)
        if not page.ok or not page.content:
            log.warning(
                "full text not fetched; keeping the teaser",
                feed=feed.url,
                item=entry.url,
                error=page.error,
            )
            return entry
        extracted = extract_page(page.content, page.url)
        body = clean_paragraphs(extracted.paragraphs)
        if len(" ".join(body).split()) <= len(entry.text.split()):
            return entry
        return replace(entry, text="\n\n".join(body), language=entry.language or extracted.language)


def _fetch_outcome(result: FetchResult) -> str:
    if result.gone:
        return "gone"
    if not result.ok:
        return "error"
    return "not_modified" if result.not_modified else "ok"


def discover(fetcher: Fetcher, url: str) -> tuple[str, str | None]:
    """The feed URL to subscribe to for *url*: itself if it is a feed, else the first
    feed an HTML page announces with ``<link rel="alternate">``. Returns the URL and a
    note for the user (why it changed, or why it could not be checked)."""
    result = fetcher.fetch_feed(url)
    if not result.ok or result.not_modified or not result.content:
        return url, f"could not check the URL now ({result.error}); added as given"
    parsed = parse_feed(result.content, url=result.url, headers=result.headers)
    if parsed.is_feed:
        return result.permanent_url or url, None
    found = discover_feeds(result.content, result.url)
    if not found:
        raise ValueError(f"{url} is not a feed and its page announces no feed")
    return found[0], f"{url} is a web page; subscribing to the feed it announces"
