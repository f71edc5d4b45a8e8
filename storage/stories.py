"""Linking an item to its story, and the tombstones that keep deleted items away.

Storage does not know how fingerprints are made or compared: the caller injects a
:data:`StoryMatcher`, so the rule lives in ``ingest`` and storage only runs the indexed
candidate lookups.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import Item, ItemBand, Story, Tombstone

StoryMatcher = Callable[[bytes, bytes], float | None]
"""``matcher(new, candidate)`` -> similarity if the fingerprints are the same story, else None."""

# Candidates confirmed per new item. Items sharing a band key are rarely more than a
# handful; boilerplate shared by many (a syndication footer) can raise it, and past this
# bound the best match is almost surely already among the first ones read.
MAX_CANDIDATES = 200


def tombstone_keys(source_url: str, guid: str, canonical_url: str | None) -> list[str]:
    keys = [_digest(f"item\0{source_url}\0{guid}")]
    if canonical_url:
        keys.append(_digest(f"url\0{canonical_url}"))
    return keys


def is_tombstoned(session: Session, keys: Sequence[str]) -> bool:
    return session.scalar(select(Tombstone.key).where(Tombstone.key.in_(keys)).limit(1)) is not None


def bury(session: Session, keys: Sequence[str], now: datetime) -> None:
    known = set(session.scalars(select(Tombstone.key).where(Tombstone.key.in_(keys))))
    session.add_all(
        Tombstone(key=key, created_at=now) for key in dict.fromkeys(keys) if key not in known
    )


def link_story(
    session: Session,
    item: Item,
    band_keys: Sequence[int],
    matcher: StoryMatcher | None,
    now: datetime,
) -> bool:
    """Give a new item its story: the story of an item with the same canonical URL, the
    same content, or a confirmed near-duplicate text; else a new story. Returns True
    when the item joined an existing story."""
    story_id = _same_url_or_content(session, item) or _near_duplicate(
        session, item, band_keys, matcher
    )
    if story_id is None:
        story = Story(first_seen_at=now, lead_item_id=item.id)
        session.add(story)
        session.flush()
        item.story_id = story.id
        return False
    item.story_id = story_id
    return True


def set_bands(session: Session, item: Item, band_keys: Sequence[int]) -> None:
    session.execute(delete(ItemBand).where(ItemBand.item_id == item.id))
    if band_keys:
        session.add_all(ItemBand(band_key=key, item_id=item.id) for key in dict.fromkeys(band_keys))


def _same_url_or_content(session: Session, item: Item) -> int | None:
    conditions = [Item.content_hash == item.content_hash]
    if item.canonical_url:
        conditions.insert(0, Item.canonical_url == item.canonical_url)
    for condition in conditions:
        story_id = session.scalar(
            select(Item.story_id)
            .where(condition, Item.id != item.id, Item.story_id.is_not(None))
            .order_by(Item.id)
            .limit(1)
        )
        if story_id is not None:
            return story_id
    return None


def _near_duplicate(
    session: Session, item: Item, band_keys: Sequence[int], matcher: StoryMatcher | None
) -> int | None:
    if not band_keys or matcher is None or item.fingerprint is None:
        return None
    candidates = (
        select(ItemBand.item_id)
        .where(ItemBand.band_key.in_(list(band_keys)), ItemBand.item_id != item.id)
        .distinct()
        .limit(MAX_CANDIDATES)
        .subquery()
    )
    rows = session.execute(
        select(Item.story_id, Item.fingerprint).where(
            Item.id.in_(select(candidates.c.item_id)),
            Item.story_id.is_not(None),
            Item.fingerprint.is_not(None),
        )
    )
    best: tuple[float, int] | None = None
    for story_id, fingerprint in rows:
        score = matcher(item.fingerprint, fingerprint)
        if score is not None and (best is None or score > best[0]):
            best = (score, story_id)
    return None if best is None else best[1]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
