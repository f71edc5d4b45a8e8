"""Refreshing a feed, decided: what to store and the feed's next state, as plain data.

Like reader's ``Decider``, nothing here interacts with anything: :func:`decide` takes
the feed's state, what the fetch returned, the parsed feed and what storage already
holds of it, and returns a :class:`FeedDecision`: the outcome, the entries that are new
or changed, which of them want their page's full text, and the feed's next state (next
check, backoff, move, retirement, error). The caller performs the I/O on either side:
fetching, parsing, reading storage, fetching pages, summarising and writing.

The rules, in order:

1. a 410 retires the feed: it is never polled again;
2. a failed fetch, a document that is not a feed, or a malformed feed of which nothing
   was recovered is an error: counted, shown, and the next check backs off;
3. a 304 is a success with nothing to store;
4. otherwise the entries whose content differs from what is stored (new ones included)
   are stored; a malformed feed's recovered entries are kept, with a warning. An entry
   dated more than a day after this fetch is dated by the fetch instead
   (:func:`ingest.records.redate`), for what is stored and for the posting rate alike.

On success the validators (ETag, Last-Modified) are replaced, the error count resets,
and a permanent redirect moves the feed, unless its new URL is subscribed already (then
both are kept). The next check follows :func:`ingest.schedule.next_check`: a feed with
its own interval keeps it; the others adapt to their posting rate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from ingest.fetch import FetchResult
from ingest.outcome import Outcome
from ingest.parse import ParsedFeed
from ingest.records import Article, redate
from ingest.schedule import (
    DEFAULT_INTERVAL,
    DEFAULT_MAX_INTERVAL,
    DEFAULT_MIN_INTERVAL,
    Random,
    as_interval,
    next_check,
)

TEASER_WORDS = 120
"""A feed entry shorter than this is a teaser: ``--full-text`` feeds fetch its page."""

GONE_ERROR = "HTTP 410 Gone: the feed was removed; polling stopped"
GONE_REASON = "410 Gone"
NOT_A_FEED = "not a feed (an HTML page or unknown format)"


@dataclass(frozen=True, slots=True)
class FeedState:
    """What the decision needs of the feed as stored."""

    url: str
    error_count: int = 0
    fetched_before: bool = False  # it succeeded once: items of it may be stored
    interval_seconds: int | None = None  # its own polling interval, if it has one
    full_text: bool = False


@dataclass(frozen=True, slots=True)
class Stored:
    """What storage holds that the decision reads, looked up for this fetch.

    ``hashes`` are the content hashes of stored items by guid (those of the parsed
    entries suffice); ``recent`` the publication times of the feed's items stored within
    :data:`ingest.schedule.RATE_WINDOW`; ``target_subscribed`` whether the URL the feed
    moved to permanently is a subscription already.
    """

    hashes: Mapping[str, str] = field(default_factory=dict)
    recent: Sequence[datetime] = ()
    target_subscribed: bool = False


@dataclass(frozen=True, slots=True)
class Intervals:
    """The configured polling intervals (a feed's own interval overrides them)."""

    interval: timedelta = DEFAULT_INTERVAL
    min_interval: timedelta = DEFAULT_MIN_INTERVAL
    max_interval: timedelta = DEFAULT_MAX_INTERVAL


@dataclass(frozen=True, slots=True)
class FeedUpdate:
    """The feed's next state. ``error`` None is a success (the error count resets);
    otherwise it is counted. Fields left None keep the stored value, except the
    validators, which are replaced whenever ``validators`` is True."""

    checked_at: datetime
    next_check_at: datetime | None = None  # None once retired
    error: str | None = None
    warning: str | None = None  # shown as the last error, but not counted (a bozo feed)
    status: int | None = None
    validators: bool = False
    etag: str | None = None
    last_modified: str | None = None
    title: str | None = None
    site_url: str | None = None
    moved_to: str | None = None
    retired_reason: str | None = None


@dataclass(frozen=True, slots=True)
class FeedDecision:
    """What to do after one fetch of a feed.

    ``entries`` are the new or changed ones, in feed order, one per guid (a repeated guid:
    the last wins); ``full_text`` the guids among them whose teaser is to be replaced by
    the article on their page (see :func:`with_page_text`). ``kept_both`` is the URL the
    feed moved to when that URL is subscribed already, so the feed was not moved.
    ``future_dates`` are the dates of ``entries`` given up for the fetch time, by guid.
    """

    outcome: Outcome
    update: FeedUpdate
    entries: tuple[Article, ...] = ()
    full_text: frozenset[str] = frozenset()
    consecutive_errors: int = 0
    kept_both: str | None = None
    future_dates: Mapping[str, datetime] = field(default_factory=dict)


def has_document(fetched: FetchResult) -> bool:
    """Whether the fetch brought a document to parse (not an error, a 410 or a 304)."""
    return fetched.ok and not fetched.gone and not fetched.not_modified


def fetch_outcome(fetched: FetchResult) -> Outcome:
    """What the fetch alone did, whatever the document turns out to be."""
    if fetched.gone:
        return Outcome.GONE
    if not fetched.ok:
        return Outcome.ERROR
    return Outcome.NOT_MODIFIED if fetched.not_modified else Outcome.OK


def decide(
    state: FeedState,
    fetched: FetchResult,
    parsed: ParsedFeed | None,
    stored: Stored,
    *,
    now: datetime,
    intervals: Intervals,
    rng: Random,
) -> FeedDecision:
    """What to store and the feed's next state after one fetch (see the module's rules).

    *parsed* is the parsed document, required when :func:`has_document` is True.
    """
    if fetched.gone:
        retired = FeedUpdate(
            checked_at=now, error=GONE_ERROR, status=fetched.status, retired_reason=GONE_REASON
        )
        return FeedDecision(Outcome.GONE, retired, consecutive_errors=state.error_count + 1)
    if not fetched.ok:
        return failure(
            state,
            fetched.error or "unknown error",
            now=now,
            intervals=intervals,
            rng=rng,
            status=fetched.status,
            retry_after=fetched.retry_after,
        )
    moved_to, kept_both = _move(state, fetched, stored)
    if fetched.not_modified:
        update = _success(state, fetched, now, intervals, rng, entry_times=stored.recent)
        return FeedDecision(
            Outcome.NOT_MODIFIED, replace(update, moved_to=moved_to), kept_both=kept_both
        )
    if parsed is None:
        raise ValueError("a fetched document is decided on once parsed")
    problem = _unusable(parsed)
    if problem is not None:
        return failure(
            state,
            problem,
            now=now,
            intervals=intervals,
            rng=rng,
            status=fetched.status,
            retry_after=fetched.retry_after,
        )
    listed = redate(parsed.entries, fetched=now)
    times = [entry.published or now for entry in listed.articles]
    update = _success(
        state,
        fetched,
        now,
        intervals,
        rng,
        entry_times=[*times, *stored.recent],
        ttl=parsed.ttl_seconds,
    )
    update = replace(
        update,
        moved_to=moved_to,
        title=parsed.title,
        site_url=parsed.link,
        warning=f"malformed feed: {parsed.bozo_reason}" if parsed.bozo_reason else None,
    )
    entries = changed_entries(listed.articles, stored.hashes)
    full_text = frozenset(
        entry.guid
        for entry in entries
        if state.full_text and entry.guid not in stored.hashes and is_teaser(entry)
    )
    future = {e.guid: listed.replaced[e.guid] for e in entries if e.guid in listed.replaced}
    return FeedDecision(
        Outcome.OK, update, tuple(entries), full_text, kept_both=kept_both, future_dates=future
    )


def failure(
    state: FeedState,
    error: str,
    *,
    now: datetime,
    intervals: Intervals,
    rng: Random,
    status: int | None = None,
    retry_after: float | None = None,
) -> FeedDecision:
    """A refresh that failed with *error*: counted, and the next check backs off (no
    sooner than a Retry-After asked)."""
    errors = state.error_count + 1
    next_at = next_check_at(
        state, now, intervals, rng, consecutive_errors=errors, retry_after=retry_after
    )
    update = FeedUpdate(checked_at=now, next_check_at=next_at, error=error, status=status)
    return FeedDecision(Outcome.ERROR, update, consecutive_errors=errors)


def next_check_at(
    state: FeedState,
    now: datetime,
    intervals: Intervals,
    rng: Random,
    *,
    consecutive_errors: int = 0,
    retry_after: float | None = None,
    cache_lifetime: float | None = None,
    ttl: float | None = None,
    entry_times: Iterable[datetime] | None = None,
) -> datetime:
    """When to check the feed next. A feed with its own interval keeps it (the bounds
    widen to admit it); the others adapt to their posting rate, from *entry_times*."""
    own = as_interval(state.interval_seconds) if state.interval_seconds else None
    return next_check(
        now,
        rng=rng,
        interval=own or intervals.interval,
        min_interval=min(own, intervals.min_interval) if own else intervals.min_interval,
        max_interval=max(own, intervals.max_interval) if own else intervals.max_interval,
        consecutive_errors=consecutive_errors,
        retry_after=retry_after,
        cache_lifetime=cache_lifetime,
        ttl=ttl,
        entry_times=None if own else entry_times,
    )


def changed_entries(entries: Iterable[Article], hashes: Mapping[str, str]) -> list[Article]:
    """The entries whose content differs from what is stored under their guid (all new
    ones among them), in feed order, one per guid: of a repeated guid the last wins, as
    a feed that repeats an entry lists its newer edit later."""
    latest = {entry.guid: entry for entry in entries}
    return [entry for entry in latest.values() if hashes.get(entry.guid) != entry.content_hash]


def is_teaser(entry: Article) -> bool:
    """An entry with a page to read and too few words to summarise well by itself."""
    return bool(entry.url) and len(entry.text.split()) < TEASER_WORDS


def with_page_text(entry: Article, body: Sequence[str], language: str | None) -> Article:
    """*entry* with the article extracted from its page (*body*: cleaned paragraphs) as its
    text, if that says more than the teaser; else *entry* as it is."""
    if len(" ".join(body).split()) <= len(entry.text.split()):
        return entry
    return replace(entry, text="\n\n".join(body), language=entry.language or language)


def _unusable(parsed: ParsedFeed) -> str | None:
    if not parsed.is_feed:
        return NOT_A_FEED
    if parsed.bozo_reason and not parsed.entries:
        return f"malformed feed: {parsed.bozo_reason}"
    return None


def _success(
    state: FeedState,
    fetched: FetchResult,
    now: datetime,
    intervals: Intervals,
    rng: Random,
    *,
    entry_times: Iterable[datetime],
    ttl: float | None = None,
) -> FeedUpdate:
    return FeedUpdate(
        checked_at=now,
        next_check_at=next_check_at(
            state,
            now,
            intervals,
            rng,
            cache_lifetime=fetched.cache_lifetime,
            ttl=ttl,
            entry_times=entry_times,
        ),
        status=fetched.status,
        validators=True,
        etag=fetched.etag,
        last_modified=fetched.last_modified,
    )


def _move(state: FeedState, fetched: FetchResult, stored: Stored) -> tuple[str | None, str | None]:
    """Where the feed moves (None: nowhere), and the URL it was kept from moving to."""
    target = fetched.permanent_url
    if target and target != state.url and stored.target_subscribed:
        return None, target
    return target, None
