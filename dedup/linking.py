"""The linking rule: which story a new item joins, decided over candidates storage read.

A new item joins the story of the earliest item with the same canonical URL or the same
content (stored items first, by id, then the batch in hand in order); failing that, the
story of the most similar confirmed near-duplicate among the items sharing a band key;
failing that, a story of its own.

Storage runs the indexed reads that find candidates and writes the result; it is handed
a :class:`StoryLinker` at start and never learns how fingerprints are compared. Everything
here is pure: plain data in, a story id (or None) out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

StoryMatcher = Callable[[bytes, bytes], float | None]
"""``matcher(new, candidate)`` -> similarity if the fingerprints are the same story, else None."""

# Candidates confirmed per new item. Items sharing a band key are rarely more than a
# handful; boilerplate shared by many (a syndication footer) can raise it, and past this
# bound the best match is almost surely already among the first ones read.
MAX_CANDIDATES = 200


class LinkKeys(Protocol):
    """What linking reads of an item: storage's ``ItemData`` has these attributes."""

    @property
    def canonical_url(self) -> str | None: ...
    @property
    def content_hash(self) -> str: ...
    @property
    def fingerprint(self) -> bytes | None: ...
    @property
    def band_keys(self) -> Sequence[int]: ...


@dataclass(slots=True)
class Candidates:
    """Where the new items of a batch may find their stories: stored items sharing a
    canonical URL, a content hash or a band key, then the batch's own earlier items.

    Exact matches keep the earliest item; ``rank`` orders them (stored items rank by id,
    below every item of the batch). Batch items have placeholder ids and stories below
    zero, which storage resolves once the new stories are inserted.
    """

    matcher: StoryMatcher | None = None
    by_url: dict[str, tuple[int, int]] = field(default_factory=dict)
    by_hash: dict[str, tuple[int, int]] = field(default_factory=dict)
    by_band: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    fingerprints: dict[int, tuple[int, bytes]] = field(default_factory=dict)

    def add_stored_page(self, url: str, item_id: int, story: int) -> None:
        self.by_url.setdefault(url, (item_id, story))

    def add_stored_text(self, content_hash: str, item_id: int, story: int) -> None:
        self.by_hash.setdefault(content_hash, (item_id, story))

    def add_stored_band(self, key: int, item_id: int) -> None:
        self.by_band[key].append(item_id)

    def add_stored_fingerprint(self, item_id: int, story: int, fingerprint: bytes) -> None:
        self.fingerprints[item_id] = (story, fingerprint)

    def add(self, rank: int, item_id: int, story: int, item: LinkKeys) -> None:
        """An item of the batch in hand, placed in *story*: later items may join it."""
        if item.canonical_url:
            self.by_url.setdefault(item.canonical_url, (rank, story))
        self.by_hash.setdefault(item.content_hash, (rank, story))
        if item.fingerprint is not None:
            self.fingerprints[item_id] = (story, item.fingerprint)
            for key in item.band_keys:
                self.by_band[key].append(item_id)

    def story_for(self, item: LinkKeys) -> int | None:
        return choose_story(item, self)


def choose_story(item: LinkKeys, candidates: Candidates) -> int | None:
    """The story of the earliest item with the same canonical URL or content, else of
    the most similar confirmed near-duplicate, else None (a new story)."""
    exact = [
        found
        for found in (
            candidates.by_url.get(item.canonical_url or ""),
            candidates.by_hash.get(item.content_hash),
        )
        if found is not None
    ]
    if exact:
        return min(exact)[1]
    matcher = candidates.matcher
    if matcher is None or item.fingerprint is None:
        return None
    shared: dict[int, None] = {}
    for key in item.band_keys:
        shared.update(dict.fromkeys(candidates.by_band.get(key, ())))
    best: tuple[float, int] | None = None
    fingerprints = candidates.fingerprints
    for item_id in [i for i in shared if i in fingerprints][:MAX_CANDIDATES]:
        story, candidate = fingerprints[item_id]
        score = matcher(item.fingerprint, candidate)
        if score is not None and (best is None or score > best[0]):
            best = (score, story)
    return None if best is None else best[1]


@dataclass(frozen=True, slots=True)
class StoryLinker:
    """What storage is handed: a fresh :class:`Candidates` per batch, with the matcher
    that confirms near-duplicates (None links exact copies only)."""

    matcher: StoryMatcher | None = None

    def candidates(self) -> Candidates:
        return Candidates(self.matcher)
