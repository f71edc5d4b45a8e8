"""decide: what one fetch of a feed means, table-driven, without I/O.

Each case is the feed's state, what the fetch returned, the parsed feed and what storage
holds; the expectation is the decision: outcome, entries to store, full-text wishes and
the feed's next state. Time and randomness are passed in (no jitter here)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ingest.fetch import FetchResult
from ingest.outcome import Outcome
from ingest.parse import ParsedFeed
from ingest.records import Article
from ingest.refresh import (
    GONE_ERROR,
    NOT_A_FEED,
    TEASER_WORDS,
    FeedDecision,
    FeedState,
    Intervals,
    Stored,
    changed_entries,
    decide,
    failure,
    fetch_outcome,
    has_document,
    with_page_text,
)
from ingest.schedule import DEFAULT_MAX_INTERVAL, MAX_BACKOFF

NOW = datetime(2026, 1, 7, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
URL = "https://news.example/feed.xml"
LONG_TEXT = " ".join(["word"] * TEASER_WORDS)


class NoJitter:
    def random(self) -> float:
        return 0.0


def entry(guid: str, text: str = LONG_TEXT, **fields: Any) -> Article:
    fields.setdefault("url", f"https://news.example/{guid}")
    return Article(guid=guid, title=f"Title {guid}", text=text, **fields)


def feed(*entries: Article, **fields: Any) -> ParsedFeed:
    values: dict[str, Any] = {
        "title": "News",
        "link": "https://news.example/",
        "language": "en",
        "ttl_seconds": None,
        "bozo_reason": None,
        "entries": entries,
        "is_feed": True,
    }
    return ParsedFeed(**(values | fields))


def ok(**fields: Any) -> FetchResult:
    return FetchResult(URL, status=200, content=b"<rss/>", etag='"v1"', **fields)


NOT_MODIFIED = FetchResult(URL, status=304, etag='"v1"', not_modified=True)
SERVER_ERROR = FetchResult(URL, status=500, error="HTTP 500 Internal Server Error")
GONE = FetchResult(URL, status=410, error="HTTP 410 Gone", gone=True)
TIMEOUT = FetchResult(URL, error="timed out")
KNOWN = FeedState(URL, fetched_before=True)
NOTHING_STORED = Stored()
CONFIGURED = Intervals()


def run(
    fetched: FetchResult,
    parsed: ParsedFeed | None = None,
    *,
    state: FeedState = KNOWN,
    stored: Stored = NOTHING_STORED,
    intervals: Intervals = CONFIGURED,
) -> FeedDecision:
    return decide(state, fetched, parsed, stored, now=NOW, intervals=intervals, rng=NoJitter())


# -- outcome and the feed's next state --------------------------------------------------


@pytest.mark.parametrize(
    ("fetched", "parsed", "outcome", "error", "warning"),
    [
        pytest.param(ok(), feed(entry("a")), Outcome.OK, None, None, id="a feed"),
        pytest.param(ok(), feed(), Outcome.OK, None, None, id="a feed without entries"),
        pytest.param(NOT_MODIFIED, None, Outcome.NOT_MODIFIED, None, None, id="304"),
        pytest.param(GONE, None, Outcome.GONE, GONE_ERROR, None, id="410"),
        pytest.param(
            SERVER_ERROR, None, Outcome.ERROR, "HTTP 500 Internal Server Error", None, id="500"
        ),
        pytest.param(TIMEOUT, None, Outcome.ERROR, "timed out", None, id="no response"),
        pytest.param(ok(), feed(is_feed=False), Outcome.ERROR, NOT_A_FEED, None, id="HTML page"),
        pytest.param(
            ok(),
            feed(bozo_reason="mismatched tag"),
            Outcome.ERROR,
            "malformed feed: mismatched tag",
            None,
            id="malformed, nothing recovered",
        ),
        pytest.param(
            ok(),
            feed(entry("a"), bozo_reason="mismatched tag"),
            Outcome.OK,
            None,
            "malformed feed: mismatched tag",
            id="malformed, entries recovered",
        ),
    ],
)
def test_outcome_error_and_warning(
    fetched: FetchResult,
    parsed: ParsedFeed | None,
    outcome: Outcome,
    error: str | None,
    warning: str | None,
) -> None:
    decision = run(fetched, parsed)
    assert (decision.outcome, decision.update.error, decision.update.warning) == (
        outcome,
        error,
        warning,
    )
    assert decision.update.checked_at == NOW


def test_a_success_replaces_the_validators_and_the_feed_metadata() -> None:
    update = run(ok(last_modified="Wed, 07 Jan 2026 10:00:00 GMT"), feed()).update
    assert update.validators
    assert (update.etag, update.last_modified) == ('"v1"', "Wed, 07 Jan 2026 10:00:00 GMT")
    assert (update.status, update.title, update.site_url) == (200, "News", "https://news.example/")
    assert update.retired_reason is None


def test_a_304_replaces_the_validators_and_keeps_the_metadata() -> None:
    update = run(NOT_MODIFIED).update
    assert update.validators and update.etag == '"v1"' and update.status == 304
    assert (update.title, update.site_url, update.error) == (None, None, None)


@pytest.mark.parametrize(
    "fetched", [SERVER_ERROR, TIMEOUT, FetchResult(URL, status=429, error="HTTP 429")]
)
def test_a_failure_keeps_the_validators_and_is_counted(fetched: FetchResult) -> None:
    decision = run(fetched, state=replace(KNOWN, error_count=2))
    assert not decision.update.validators
    assert decision.update.status == fetched.status
    assert decision.consecutive_errors == 3
    assert decision.entries == ()


def test_410_retires_the_feed_and_schedules_nothing() -> None:
    decision = run(GONE)
    assert decision.update.retired_reason == "410 Gone"
    assert decision.update.next_check_at is None
    assert decision.update.status == 410


def test_a_document_is_decided_on_once_parsed() -> None:
    with pytest.raises(ValueError, match="parsed"):
        run(ok(), None)


# -- when to check next ---------------------------------------------------------------------


def hourly(count: int) -> list[datetime]:
    return [NOW - HOUR * n for n in range(count)]


@pytest.mark.parametrize(
    ("state", "fetched", "parsed", "stored", "delay"),
    [
        pytest.param(KNOWN, ok(), feed(), Stored(), DEFAULT_MAX_INTERVAL, id="no posts known"),
        pytest.param(
            KNOWN,
            ok(),
            feed(),
            Stored(recent=hourly(168)),
            HOUR,
            id="stored posts set the rate",
        ),
        pytest.param(
            KNOWN,
            ok(),
            feed(*(entry(f"e{n}", published=t) for n, t in enumerate(hourly(84)))),
            Stored(recent=hourly(84)),
            HOUR,
            id="listed and stored posts count together",
        ),
        pytest.param(
            KNOWN,
            ok(),
            feed(*(entry(f"e{n}") for n in range(168))),
            Stored(),
            HOUR,
            id="undated entries count as posted now",
        ),
        pytest.param(
            KNOWN,
            NOT_MODIFIED,
            None,
            Stored(recent=hourly(84)),
            2 * HOUR,
            id="304: stored posts alone",
        ),
        pytest.param(
            replace(KNOWN, interval_seconds=3600),
            ok(),
            feed(),
            Stored(recent=hourly(1000)),
            HOUR,
            id="own interval, whatever the posts",
        ),
        pytest.param(
            replace(KNOWN, interval_seconds=60),
            ok(),
            feed(),
            Stored(),
            MINUTE,
            id="own interval below the floor",
        ),
        pytest.param(
            replace(KNOWN, interval_seconds=12 * 3600),
            ok(),
            feed(),
            Stored(),
            12 * HOUR,
            id="own interval above the ceiling",
        ),
        pytest.param(KNOWN, ok(), feed(ttl_seconds=9 * 3600), Stored(), 9 * HOUR, id="RSS ttl"),
        pytest.param(KNOWN, ok(cache_lifetime=8 * 3600), feed(), Stored(), 8 * HOUR, id="max-age"),
        pytest.param(
            replace(KNOWN, error_count=5),
            ok(),
            feed(),
            Stored(recent=hourly(168)),
            HOUR,
            id="a success resets the backoff",
        ),
        pytest.param(
            replace(KNOWN, error_count=1, interval_seconds=3600),
            SERVER_ERROR,
            None,
            Stored(),
            4 * HOUR,
            id="second error: backoff x4",
        ),
        pytest.param(
            replace(KNOWN, error_count=40),
            SERVER_ERROR,
            None,
            Stored(),
            MAX_BACKOFF,
            id="backoff capped",
        ),
        pytest.param(
            replace(KNOWN, interval_seconds=3600),
            FetchResult(URL, status=429, error="HTTP 429", retry_after=5 * 3600),
            None,
            Stored(),
            5 * HOUR,
            id="Retry-After a floor on the backoff",
        ),
        pytest.param(
            replace(KNOWN, interval_seconds=3600),
            ok(),
            feed(is_feed=False),
            Stored(),
            2 * HOUR,
            id="not a feed backs off too",
        ),
    ],
)
def test_next_check(
    state: FeedState,
    fetched: FetchResult,
    parsed: ParsedFeed | None,
    stored: Stored,
    delay: timedelta,
) -> None:
    assert run(fetched, parsed, state=state, stored=stored).update.next_check_at == NOW + delay


def test_configured_intervals_apply_to_feeds_without_their_own() -> None:
    intervals = Intervals(interval=HOUR, min_interval=2 * HOUR, max_interval=3 * HOUR)
    decision = run(SERVER_ERROR, state=FeedState(URL), intervals=intervals)
    assert decision.update.next_check_at == NOW + 2 * (2 * HOUR)


def test_a_crash_is_a_counted_error_that_backs_off() -> None:
    state = FeedState(URL, error_count=1, interval_seconds=3600)
    error = "internal error: KeyError: 'x'"
    decision = failure(state, error, now=NOW, intervals=CONFIGURED, rng=NoJitter())
    assert decision.outcome is Outcome.ERROR
    assert decision.update.error == error
    assert decision.update.next_check_at == NOW + 4 * HOUR
    assert decision.update.status is None and decision.consecutive_errors == 2


# -- moves ----------------------------------------------------------------------------------

NEW_URL = "https://news.example/rss"


@pytest.mark.parametrize(
    ("fetched", "parsed", "stored", "moved_to", "kept_both"),
    [
        pytest.param(ok(permanent_url=NEW_URL), feed(), Stored(), NEW_URL, None, id="301"),
        pytest.param(
            replace(NOT_MODIFIED, permanent_url=NEW_URL),
            None,
            Stored(),
            NEW_URL,
            None,
            id="301+304",
        ),
        pytest.param(
            ok(permanent_url=NEW_URL),
            feed(),
            Stored(target_subscribed=True),
            None,
            NEW_URL,
            id="to a URL subscribed already",
        ),
        pytest.param(ok(), feed(), Stored(), None, None, id="no permanent redirect"),
        pytest.param(
            ok(permanent_url=NEW_URL), feed(is_feed=False), Stored(), None, None, id="failed"
        ),
    ],
)
def test_moves(
    fetched: FetchResult,
    parsed: ParsedFeed | None,
    stored: Stored,
    moved_to: str | None,
    kept_both: str | None,
) -> None:
    decision = run(fetched, parsed, stored=stored)
    assert (decision.update.moved_to, decision.kept_both) == (moved_to, kept_both)


# -- what to store --------------------------------------------------------------------------

A, B = entry("a"), entry("b")
A_EDITED = entry("a", text=LONG_TEXT + " more")


@pytest.mark.parametrize(
    ("entries", "hashes", "stored"),
    [
        pytest.param([A, B], {}, [A, B], id="nothing stored: all new"),
        pytest.param([A, B], {"a": A.content_hash}, [B], id="unchanged left out"),
        pytest.param([A_EDITED, B], {"a": A.content_hash}, [A_EDITED, B], id="edited kept"),
        pytest.param(
            [A, B, A_EDITED], {}, [A_EDITED, B], id="repeated guid: the last, in first place"
        ),
        pytest.param(
            [A_EDITED, A], {"a": A.content_hash}, [], id="repeated guid: the last is stored"
        ),
        pytest.param([], {"a": A.content_hash}, [], id="no entries"),
    ],
)
def test_entries_to_store(
    entries: list[Article], hashes: dict[str, str], stored: list[Article]
) -> None:
    assert changed_entries(entries, hashes) == stored
    decision = run(ok(), feed(*entries), stored=Stored(hashes=hashes))
    assert list(decision.entries) == stored


TEASER = entry("t", text="The council voted on Tuesday.")
TEASER_WITHOUT_PAGE = entry("n", text="The council voted on Tuesday.", url=None)
FULL_TEXT = FeedState(URL, fetched_before=True, full_text=True)


@pytest.mark.parametrize(
    ("state", "hashes", "wanted"),
    [
        pytest.param(FULL_TEXT, {}, {"t"}, id="new teasers with a page"),
        pytest.param(
            FULL_TEXT,
            {"t": "an older version"},
            set(),
            id="a stored item is not fetched again",
        ),
        pytest.param(FeedState(URL, fetched_before=True), {}, set(), id="not a full-text feed"),
    ],
)
def test_full_text_is_wanted_for_new_teasers_of_full_text_feeds(
    state: FeedState, hashes: dict[str, str], wanted: set[str]
) -> None:
    parsed = feed(TEASER, TEASER_WITHOUT_PAGE, A)
    decision = run(ok(), parsed, state=state, stored=Stored(hashes=hashes))
    assert decision.full_text == wanted
    assert decision.full_text <= {item.guid for item in decision.entries}


@pytest.mark.parametrize(
    ("body", "language", "text", "expected_language"),
    [
        pytest.param(
            ["A longer first paragraph from the page.", "And a second one."],
            "de",
            "A longer first paragraph from the page.\n\nAnd a second one.",
            "de",
            id="longer: replaces the teaser",
        ),
        pytest.param(["Voted."], "de", TEASER.text, None, id="shorter: the teaser stays"),
        pytest.param([], None, TEASER.text, None, id="nothing extracted"),
    ],
)
def test_a_page_replaces_a_teaser_only_when_it_says_more(
    body: list[str], language: str | None, text: str, expected_language: str | None
) -> None:
    result = with_page_text(TEASER, body, language)
    assert (result.text, result.language, result.guid) == (text, expected_language, "t")


def test_a_page_keeps_the_language_the_feed_gave() -> None:
    english = replace(TEASER, language="en")
    assert with_page_text(english, ["Many more words than before."], "de").language == "en"


# -- the fetch alone ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fetched", "outcome", "document"),
    [
        pytest.param(ok(), Outcome.OK, True, id="200"),
        pytest.param(NOT_MODIFIED, Outcome.NOT_MODIFIED, False, id="304"),
        pytest.param(SERVER_ERROR, Outcome.ERROR, False, id="500"),
        pytest.param(GONE, Outcome.GONE, False, id="410"),
    ],
)
def test_fetch_outcome(fetched: FetchResult, outcome: Outcome, document: bool) -> None:
    assert (fetch_outcome(fetched), has_document(fetched)) == (outcome, document)


# -- dates too far ahead ----------------------------------------------------------------------

AHEAD = datetime(2035, 8, 19, tzinfo=UTC)


def test_an_entry_dated_years_ahead_is_stored_with_the_fetch_time() -> None:
    dated = entry("a", published=NOW - HOUR)
    ahead = entry("b", published=AHEAD)
    decision = run(ok(), feed(dated, ahead))
    assert [(e.guid, e.published) for e in decision.entries] == [("a", NOW - HOUR), ("b", NOW)]
    assert decision.future_dates == {"b": AHEAD}


def test_an_unchanged_entry_dated_ahead_is_not_reported_again() -> None:
    ahead = entry("b", published=AHEAD)
    decision = run(ok(), feed(ahead), stored=Stored(hashes={"b": ahead.content_hash}))
    assert (decision.entries, decision.future_dates) == ((), {})


def test_entries_dated_ahead_count_towards_the_posting_rate_as_fetched_now() -> None:
    # 56 posts in the week: one every three hours, shorter than the quiet interval.
    ahead = [entry(str(n), published=AHEAD) for n in range(56)]
    decision = run(ok(), feed(*ahead))
    assert decision.update.next_check_at == NOW + 3 * HOUR
    assert 3 * HOUR < DEFAULT_MAX_INTERVAL
