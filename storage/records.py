"""The plain data that goes in and out of ``Storage``: frozen records, no database types.

Callers build ``ItemData``, ``SummaryData`` and ``SourceUpdate`` to write, and read back
``SourceState``, ``StoredItem`` and ``StoryRow``; none of them holds a session or an ORM
object, so they can cross threads and processes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, NamedTuple, TypedDict


@dataclass(frozen=True, slots=True)
class ItemData:
    """An item as a source delivered it, cleaned; what the store is asked to keep."""

    guid: str
    title: str
    text: str
    content_hash: str
    url: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    language: str | None = None
    canonical_url: str | None = None
    fingerprint: bytes | None = None  # opaque to storage; compared by the StoryLinker
    band_keys: tuple[int, ...] = ()  # LSH keys: items sharing one are candidates


@dataclass(frozen=True, slots=True)
class SummaryData:
    algorithm: str
    sentences: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StoredItem:
    id: int
    source: str
    source_title: str | None
    guid: str
    url: str | None
    title: str
    author: str | None
    published_at: datetime | None
    first_seen_at: datetime
    updated_at: datetime
    language: str | None
    text: str
    content_hash: str
    version: int
    summary: tuple[str, ...]
    canonical_url: str | None = None
    story_id: int | None = None


@dataclass(frozen=True, slots=True)
class SourceState:
    id: int
    kind: str
    url: str
    title: str | None
    items: int | None  # None where not counted (it costs a scan)
    last_success_at: datetime | None
    last_error: str | None
    error_count: int
    site_url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    interval_seconds: int | None = None
    full_text: bool = False
    last_checked_at: datetime | None = None
    next_check_at: datetime | None = None
    last_status: int | None = None
    retired_at: datetime | None = None
    retired_reason: str | None = None
    category: str | None = None
    weight: float = 1.0
    block: str | None = None
    keep: str | None = None


class FeedOptions(TypedDict, total=False):
    """A feed's own settings; ``add_feed`` writes those given and leaves the rest."""

    interval: int | None  # seconds; None: adapt to how often the feed posts
    full_text: bool
    category: str | None
    weight: float
    block: str | None
    keep: str | None


@dataclass(frozen=True, slots=True)
class SourceUpdate:
    """A source's new state after one pass, written in the same transaction as its items.

    ``error`` None means the pass succeeded (the error count resets); otherwise it is
    counted. Fields left None keep their stored value, except the HTTP validators,
    which are replaced whenever ``validators`` is True (a 200 or 304 answered them).
    """

    checked_at: datetime
    error: str | None = None
    warning: str | None = None  # shown as the last error, but not counted (a bozo feed)
    title: str | None = None
    site_url: str | None = None
    moved_to: str | None = None
    validators: bool = False
    etag: str | None = None
    last_modified: str | None = None
    status: int | None = None
    next_check_at: datetime | None = None
    retired_reason: str | None = None
    boilerplate: frozenset[int] | None = None  # the source's new record; None keeps it


# What became of one saved item: "new", "updated", "unchanged", or "buried" (deleted or
# pruned before: its tombstone keeps it out). Plain strings, the values of the one
# outcome enum (``ingest.outcome.Outcome``), which storage may not import.
SaveOutcome = Literal["new", "updated", "unchanged", "buried"]


class SaveResult(NamedTuple):
    outcome: SaveOutcome
    first_seen: datetime
    story_id: int | None = None
    linked: bool = False  # joined a story that other items already carry


class StoryItem(NamedTuple):
    """What a digest shows of one item: no body, no fingerprint (never shown, and on a
    busy day they would be the bulk of what loading the day reads).

    A NamedTuple rather than a frozen dataclass: a busy day has tens of thousands of
    items, and a frozen dataclass costs several times as much to construct.
    """

    id: int
    guid: str
    title: str
    url: str | None
    published_at: datetime | None
    source: str
    source_title: str | None
    summary: tuple[str, ...]
    first_seen_at: datetime | None = None
    language: str | None = None
    category: str | None = None
    weight: float = 1.0
    block: str | None = None
    keep: str | None = None
    text: str | None = None  # only when the reader asked for it (keep/block rules)


@dataclass(frozen=True, slots=True)
class StoryRow:
    """One digest entry: the story's lead item and every item that carried it."""

    id: int
    lead: StoryItem
    items: tuple[StoryItem, ...]


DeliveryState = Literal["sending", "sent", "failed"]


@dataclass(frozen=True, slots=True)
class Delivery:
    """A day's digest and one recipient list (by its key): sent, failed (and when to try
    again), or being sent by ``claimed_by`` since ``claimed_at``."""

    day: date
    recipients: str
    state: DeliveryState
    attempts: int
    claimed_at: datetime
    claimed_by: str
    sent_at: datetime | None = None
    message_id: str | None = None
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    # Sent, but these recipients were refused (address: the server's reply).
    refused: Mapping[str, str] = field(default_factory=dict)


class Claim(NamedTuple):
    """Whether the caller now holds the day's delivery (and must send it, then record
    how it went), and the delivery as it stands."""

    claimed: bool
    delivery: Delivery


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One stored item that matched a search, with its score (higher is better; scores
    compare within one search on one database, not across them)."""

    id: int
    guid: str
    title: str
    url: str | None
    source: str
    source_title: str | None
    published_at: datetime | None
    first_seen_at: datetime
    language: str | None
    summary: tuple[str, ...]
    score: float
