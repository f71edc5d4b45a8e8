"""Refreshing feeds: the one orchestration function from fetch to stored items.

Like miniflux's ``RefreshFeed``: load state -> fetch -> parse -> read what is stored ->
decide -> (full text) -> summarise and store items together with the feed's new state and
next check. This module only performs that I/O; every rule (what is new, what wants its
full text, when to check next, backoff, moves, retirement) is decided by the pure
:func:`ingest.refresh.decide`. Nothing it calls calls back up. A feed's failure is
recorded on that feed and never stops the others.
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
from feedbrief.pipeline import (
    Clock,
    Pipeline,
    Prepared,
    Stopped,
    feed_boilerplate,
    parse_new_feed,
    touched_days,
)
from feedbrief.settings import FeedSettings
from ingest.clean import clean_paragraphs, extract_page
from ingest.discover import discover_feeds
from ingest.fetch import Fetcher, FetchLimits, FetchResult
from ingest.outcome import Outcome
from ingest.parse import ParsedFeed, parse_feed
from ingest.records import Article, warn_future_dates
from ingest.refresh import (
    FeedDecision,
    FeedState,
    FeedUpdate,
    Intervals,
    Stored,
    decide,
    failure,
    fetch_outcome,
    has_document,
    with_page_text,
)
from ingest.schedule import MAX_BACKOFF, RATE_WINDOW
from ingest.text import strip_control_characters
from storage import SourceState, SourceUpdate, Storage

log = structlog.get_logger(__name__)

CLAIMS_PER_THREAD = 4
"""Feeds claimed per feed thread at a time. A claim waits for the write lock behind the
feeds being stored, no new feed starts meanwhile, and the worker processes run out of
feeds to parse. Claiming only a thread pool's worth would stall the pass every few feeds;
four per thread claims a quarter as often, while a second worker still finds feeds to
claim in any pass of more than a few dozen."""


@dataclass(frozen=True, slots=True)
class RefreshResult:
    url: str
    status: Outcome  # one of ingest.outcome.FEED_OUTCOMES, or STOPPED
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
        self.intervals = Intervals(
            interval=timedelta(seconds=settings.interval),
            min_interval=timedelta(seconds=settings.min_interval),
            max_interval=timedelta(seconds=settings.max_interval),
        )

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
                        # Before the first feed thread: a deferred worker pool is forked
                        # from a process with no other thread.
                        self.pipeline.offload.start()
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
        self.pipeline.offload.start()  # before the feed threads (see refresh_due)
        workers = min(self.settings.concurrency, len(feeds))
        with ThreadPoolExecutor(workers, thread_name_prefix="feed") as pool:
            return list(pool.map(self.refresh, feeds))

    def refresh(self, feed: SourceState) -> RefreshResult:
        """Refresh one feed; whatever goes wrong is recorded on this feed alone. Every
        line logged meanwhile names the feed (a date dropped from a header as well)."""
        try:
            with structlog.contextvars.bound_contextvars(feed=feed.url):
                return self._refresh(feed)
        except Exception as exc:  # one feed's surprise must not end the pass: logged, recorded
            error = _crash_text(exc)
            log.error("feed.refresh_crashed", feed=feed.url, error=error)
            log.debug("feed.refresh_crashed", feed=feed.url, exc_info=True)
            self.storage.update_source(feed.id, self._crashed(feed, error))
            return RefreshResult(feed.url, Outcome.ERROR, error=error)

    def _crashed(self, feed: SourceState, error: str) -> SourceUpdate:
        """The feed's next state after *error*. The usual backoff, unless the feed's own
        state is what makes the schedule fail: then a plain day's wait, computed from
        nothing the feed holds, so that recording the error cannot fail on the input
        that caused it."""
        now = self.clock()
        try:
            decision = failure(_state(feed), error, now=now, intervals=self.intervals, rng=self.rng)
            return _source_update(decision.update)
        except Exception:  # the fallback is the point
            log.debug("feed.backoff_failed", feed=feed.url, exc_info=True)
            return SourceUpdate(checked_at=now, error=error, next_check_at=now + MAX_BACKOFF)

    def _refresh(self, feed: SourceState) -> RefreshResult:
        """Fetch, parse, read what is stored, decide, then act on the decision."""
        feed_log = log.bind(feed=feed.url)
        if self.pipeline.stop.is_set():
            return self._stopped(feed, feed_log)
        started = time.monotonic()
        fetched = self.fetcher.fetch_feed(
            feed.url, etag=feed.etag, last_modified=feed.last_modified
        )
        if not fetched.ok and self.pipeline.stop.is_set():
            # The stop abandoned the fetch (or came as it failed): no fault of the feed's
            # to count, and the next run fetches it again.
            return self._stopped(feed, feed_log)
        seconds = time.monotonic() - started
        metrics.record_fetch(fetch_outcome(fetched), seconds)
        feed_log = feed_log.bind(status=fetched.status, seconds=round(seconds, 3))
        if fetched.permanent_url:
            feed_log.info("feed.moved_permanently", to=fetched.permanent_url)
        parsed, prepared = self._parse(feed, fetched) if has_document(fetched) else (None, ())
        if parsed is not None and parsed.bozo_reason:
            feed_log.warning("feed.kept_malformed", bozo=parsed.bozo_reason)
        now = self.clock()
        decision = decide(
            _state(feed),
            fetched,
            parsed,
            self._stored(feed, fetched, parsed, now),
            now=now,
            intervals=self.intervals,
            rng=self.rng,
        )
        if decision.kept_both:
            feed_log.warning("feed.move_ignored_already_subscribed", to=decision.kept_both)
        if decision.future_dates:
            warn_future_dates(decision.future_dates, now, feed=feed.url)
        if decision.outcome is Outcome.OK:
            assert parsed is not None  # an OK decision is made on a parsed feed
            return self._store(feed, decision, parsed.entries, prepared, feed_log)
        self.storage.update_source(feed.id, _source_update(decision.update))
        error = decision.update.error
        if decision.outcome is Outcome.GONE:
            feed_log.warning("feed.retired", reason=decision.update.retired_reason)
        elif decision.outcome is Outcome.ERROR:
            feed_log.error(
                "feed.refresh_failed",
                error=error,
                consecutive_errors=decision.consecutive_errors,
                next_check=decision.update.next_check_at,
            )
        else:
            feed_log.info("feed.not_modified")
        return RefreshResult(feed.url, decision.outcome, error=error)

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

    def _stored(
        self, feed: SourceState, fetched: FetchResult, parsed: ParsedFeed | None, now: datetime
    ) -> Stored:
        """What the decision reads from storage. A feed never fetched has nothing stored,
        and a failed fetch is decided without it: neither costs a query."""
        target = fetched.permanent_url
        subscribed = bool(target and target != feed.url and self.storage.source(target))
        if feed.last_success_at is None or not fetched.ok:
            return Stored(target_subscribed=subscribed)
        guids = list(dict.fromkeys(entry.guid for entry in parsed.entries)) if parsed else []
        return Stored(
            hashes=self.storage.content_hashes(feed.id, guids) if guids else {},
            recent=self.storage.recent_published(feed.id, now - RATE_WINDOW),
            target_subscribed=subscribed,
        )

    def _store(
        self,
        feed: SourceState,
        decision: FeedDecision,
        listed: Sequence[Article],
        prepared: Sequence[Prepared],
        feed_log: structlog.typing.FilteringBoundLogger,
    ) -> RefreshResult:
        """Replace the teasers the decision names by their pages' articles, then summarise
        and store the new or changed entries with the feed's next state. *listed* are the
        entries the feed listed: what they repeat is the feed's boilerplate."""
        entries = [
            self._full_text(feed, entry) if entry.guid in decision.full_text else entry
            for entry in decision.entries
        ]
        update = _source_update(decision.update)
        lines: frozenset[int] = frozenset()
        if entries:
            # A feed never stored has no record, and its first entries were prepared in
            # the worker from the same decision.
            known = self.storage.boilerplate(feed.id) if feed.last_success_at else frozenset()
            lines = feed_boilerplate(listed, known)
            if lines != known:
                update = replace(update, boilerplate=lines)
        try:
            results = self.pipeline.store_changed(
                feed.id, entries, update, prepared=prepared, boilerplate=lines
            )
        except Stopped:
            return self._stopped(feed, feed_log)
        new = sum(1 for result in results if result.outcome == Outcome.NEW)
        updated = sum(1 for result in results if result.outcome == Outcome.UPDATED)
        linked = sum(1 for result in results if result.linked)
        metrics.record_items(new, updated)
        metrics.record_duplicates(linked)
        feed_log.info(
            "feed.refreshed", entries=len(listed), new=new, updated=updated, linked=linked
        )
        return RefreshResult(
            feed.url,
            Outcome.OK,
            new=new,
            updated=updated,
            linked=linked,
            first_seen=touched_days(results),
        )

    def _stopped(
        self, feed: SourceState, feed_log: structlog.typing.FilteringBoundLogger
    ) -> RefreshResult:
        """Give the feed back as it was: a stop is not a failure, so no error, no error
        count and no backoff; its lease ends so the next run takes it at once."""
        self.storage.release_leases(feed.id)
        feed_log.info("feed.refresh_stopped")
        return RefreshResult(feed.url, Outcome.STOPPED)

    def _full_text(self, feed: SourceState, entry: Article) -> Article:
        assert entry.url is not None
        page = self.fetcher.fetch_page(entry.url)
        if not page.ok or not page.content:
            log.warning(
                "entry.full_text_failed",
                feed=feed.url,
                item=entry.url,
                error=page.error,
            )
            return entry
        extracted = extract_page(page.content, page.url)
        return with_page_text(entry, clean_paragraphs(extracted.paragraphs), extracted.language)


def _crash_text(exc: Exception) -> str:
    """What a crash is recorded as. The message may quote the input, and a database that
    refuses its characters (PostgreSQL: NUL, lone surrogates) would fail the handler on
    the very input that made it run; so control characters go and surrogates become "?"."""
    text = strip_control_characters(f"internal error: {type(exc).__name__}: {exc}")
    return text.encode("utf-8", "replace").decode("utf-8")[:500]


def _state(feed: SourceState) -> FeedState:
    return FeedState(
        url=feed.url,
        error_count=feed.error_count,
        fetched_before=feed.last_success_at is not None,
        interval_seconds=feed.interval_seconds,
        full_text=feed.full_text,
    )


def _source_update(update: FeedUpdate) -> SourceUpdate:
    return SourceUpdate(
        checked_at=update.checked_at,
        error=update.error,
        warning=update.warning,
        title=update.title,
        site_url=update.site_url,
        moved_to=update.moved_to,
        validators=update.validators,
        etag=update.etag,
        last_modified=update.last_modified,
        status=update.status,
        next_check_at=update.next_check_at,
        retired_reason=update.retired_reason,
    )


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
