"""The linking rule: which story a new item joins, decided over candidates storage read.

A new item joins the story of the earliest item with the same canonical URL or the same
content (stored items first, by id, then the batch in hand in order); failing that, the
story of the most similar confirmed near-duplicate among the items sharing a band key;
failing that, a story of its own.

A canonical URL is an identity only where it tells items apart: when one source gives it
to items with different guids (a podcast's home page as every episode's link, a blog's
day page whose posts differ only by fragment, which canonical URLs drop), it links
nothing. Same content is an identity only where there is content to compare: a text
under the near-duplicate floor (an untitled stub, a photo post with no words) links by
its content hash only to an item with the same guid.

A feed rarely republishes its own story under a new guid, while its different items often
look alike (one show's episodes, one template's release notes, one newsletter's news): two
items of the same source with different guids join only on stronger evidence than copies
from two sources: titles sharing at least half their words, and for near-duplicates a
higher similarity.

Storage runs the indexed reads that find candidates and writes the result; it is handed
a :class:`StoryLinker` at start and never learns how fingerprints are compared. Everything
here is pure: plain data in, a story id (or None) out.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from dedup.fingerprint import MIN_WORDS, word_count
from ingest.identity import CONTENT_GUID_PREFIX

StoryMatcher = Callable[[bytes, bytes], float | None]
"""``matcher(new, candidate)`` -> similarity if the fingerprints are the same story, else None."""

# Candidates confirmed per new item. Items sharing a band key are rarely more than a
# handful; boilerplate shared by many (a syndication footer) can raise it, and past this
# bound the best match is almost surely already among the first ones read.
MAX_CANDIDATES = 200

SAME_SOURCE_TITLE_SHARE = 0.5
"""Share of title words (of both titles' words together) two items of one source with
different guids need to be one story. A re-post keeps most of its title ("UPDATED: ...",
a corrected word); one feed's different items share a show's name or a template
("Stand Up: <comedian> - <sketch>", "Камеди Клаб «...»") but rarely half their words."""

SAME_SOURCE_SIMILARITY = 0.6
"""Near-duplicate similarity two items of one source with different guids need, above
the matcher's own threshold for copies from two sources (0.4): what one feed's items
share (a sign-off, a template) is stripped as boilerplate before fingerprinting, but a
template that varies a little from item to item survives the stripping."""

_TITLE_WORD = re.compile(r"\w+")


class LinkKeys(Protocol):
    """What linking reads of an item: storage's ``ItemData`` has these attributes."""

    @property
    def guid(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def canonical_url(self) -> str | None: ...
    @property
    def content_hash(self) -> str: ...
    @property
    def fingerprint(self) -> bytes | None: ...
    @property
    def band_keys(self) -> Sequence[int]: ...


@dataclass(frozen=True, slots=True)
class Exact:
    """An item sharing a canonical URL or a content hash with the new one."""

    rank: int
    story: int
    source: int
    guid: str
    title: str = ""


@dataclass(frozen=True, slots=True)
class Near:
    """An item whose fingerprint may confirm the new one as a near-duplicate."""

    story: int
    fingerprint: bytes
    source: int
    guid: str
    title: str


@dataclass(slots=True)
class Candidates:
    """Where the new items of one source's batch may find their stories: stored items
    sharing a canonical URL, a content hash or a band key, then the batch's own earlier
    items.

    Exact matches keep the earliest item; ``rank`` orders them (stored items rank by id,
    below every item of the batch). Batch items have placeholder ids and stories below
    zero, which storage resolves once the new stories are inserted.
    """

    source: int
    matcher: StoryMatcher | None = None
    by_url: dict[str, list[Exact]] = field(default_factory=lambda: defaultdict(list))
    by_hash: dict[str, list[Exact]] = field(default_factory=lambda: defaultdict(list))
    by_band: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    fingerprints: dict[int, Near] = field(default_factory=dict)

    def add_stored_page(self, url: str, item_id: int, story: int, source: int, guid: str) -> None:
        self.by_url[url].append(Exact(item_id, story, source, guid))

    def add_stored_text(
        self, content_hash: str, item_id: int, story: int, source: int, guid: str, title: str
    ) -> None:
        self.by_hash[content_hash].append(Exact(item_id, story, source, guid, title))

    def add_stored_band(self, key: int, item_id: int) -> None:
        self.by_band[key].append(item_id)

    def add_stored_fingerprint(
        self, item_id: int, story: int, fingerprint: bytes, source: int, guid: str, title: str
    ) -> None:
        self.fingerprints[item_id] = Near(story, fingerprint, source, guid, title)

    def add(self, rank: int, item_id: int, story: int, item: LinkKeys) -> None:
        """An item of the batch in hand, placed in *story*: later items may join it."""
        exact = Exact(rank, story, self.source, item.guid, item.title)
        if item.canonical_url:
            self.by_url[item.canonical_url].append(exact)
        self.by_hash[item.content_hash].append(exact)
        if item.fingerprint is not None:
            near = Near(story, item.fingerprint, self.source, item.guid, item.title)
            self.fingerprints[item_id] = near
            for key in item.band_keys:
                self.by_band[key].append(item_id)

    def story_for(self, item: LinkKeys) -> int | None:
        return choose_story(item, self)


def choose_story(item: LinkKeys, candidates: Candidates) -> int | None:
    """The story of the earliest item with the same identifying canonical URL or the
    same comparable content, else of the most similar confirmed near-duplicate, else
    None (a new story). An item of the new one's own source with another guid counts
    only with a like title, and as a near-duplicate only at a higher similarity."""
    exact = _same_page(item, candidates) + _same_text(item, candidates)
    if exact:
        return min(exact, key=lambda found: found.rank).story
    matcher = candidates.matcher
    if matcher is None or item.fingerprint is None:
        return None
    shared: dict[int, None] = {}
    for key in item.band_keys:
        shared.update(dict.fromkeys(candidates.by_band.get(key, ())))
    best: tuple[float, int] | None = None
    fingerprints = candidates.fingerprints
    for item_id in [i for i in shared if i in fingerprints][:MAX_CANDIDATES]:
        near = fingerprints[item_id]
        score = matcher(item.fingerprint, near.fingerprint)
        if score is None or (best is not None and score <= best[0]):
            continue
        if _same_source_other_guid(item, candidates.source, near) and (
            score < SAME_SOURCE_SIMILARITY or not _like_titles(item.title, near.title)
        ):
            continue
        best = (score, near.story)
    return None if best is None else best[1]


def _same_source_other_guid(item: LinkKeys, source: int, other: Exact | Near) -> bool:
    """Whether *other* is another item of the new one's own source: a repost at most."""
    return other.source == source and other.guid != item.guid


def _like_titles(one: str, other: str) -> bool:
    """Titles sharing at least ``SAME_SOURCE_TITLE_SHARE`` of their words; two empty
    titles say nothing, so they are not alike."""
    a, b = _title_words(one), _title_words(other)
    union = a | b
    return bool(union) and len(a & b) >= SAME_SOURCE_TITLE_SHARE * len(union)


def _title_words(title: str) -> set[str]:
    return set(_TITLE_WORD.findall(unicodedata.normalize("NFKC", title).casefold()))


def _same_page(item: LinkKeys, candidates: Candidates) -> list[Exact]:
    """The items sharing the new item's canonical URL, none when one source gives that
    URL to items with different guids: there it names a page, not an article."""
    found = candidates.by_url.get(item.canonical_url or "", [])
    guids = {candidates.source: item.guid}
    if any(guids.setdefault(other.source, other.guid) != other.guid for other in found):
        return []
    return found


def _same_text(item: LinkKeys, candidates: Candidates) -> list[Exact]:
    """The items with the new item's content; for a text too short to compare (two
    untitled stubs, two photo posts titled "Photo"), only those with its guid too, and
    not a guid made from that same content (empty items of two feeds share one). Of the
    new item's own source, only those with a like title (a podcast giving every episode
    the show's description is not one story)."""
    found = candidates.by_hash.get(item.content_hash, [])
    if found and word_count(item.text) < MIN_WORDS:
        if item.guid.startswith(CONTENT_GUID_PREFIX):
            return []
        return [other for other in found if other.guid == item.guid]
    return [
        other
        for other in found
        if not _same_source_other_guid(item, candidates.source, other)
        or _like_titles(item.title, other.title)
    ]


@dataclass(frozen=True, slots=True)
class StoryLinker:
    """What storage is handed: a fresh :class:`Candidates` per source's batch, with the
    matcher that confirms near-duplicates (None links exact copies only)."""

    matcher: StoryMatcher | None = None

    def candidates(self, source: int) -> Candidates:
        return Candidates(source, self.matcher)
