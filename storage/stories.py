"""Linking an item to its story, and the tombstones that keep deleted items away.

Storage does not know how fingerprints are made or compared: the caller injects a
:data:`StoryMatcher`, so the rule lives in ``ingest`` and storage only runs the indexed
candidate lookups.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import delete, insert, or_, select
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


def find_story(
    session: Session,
    *,
    canonical_url: str | None,
    content_hash: str,
    fingerprint: bytes | None,
    band_keys: Sequence[int],
    matcher: StoryMatcher | None,
    exclude: int | None = None,
) -> int | None:
    """The story a new item belongs to: that of an item with the same canonical URL or
    the same content, or of a confirmed near-duplicate text; None for a new story."""
    return _same_url_or_content(session, canonical_url, content_hash, exclude) or (
        _near_duplicate(session, fingerprint, band_keys, matcher, exclude)
    )


def link_story(
    session: Session,
    item: Item,
    band_keys: Sequence[int],
    matcher: StoryMatcher | None,
    now: datetime,
) -> bool:
    """Give a stored item without a story its story; True when it joined an existing one."""
    story_id = find_story(
        session,
        canonical_url=item.canonical_url,
        content_hash=item.content_hash,
        fingerprint=item.fingerprint,
        band_keys=band_keys,
        matcher=matcher,
        exclude=item.id,
    )
    if story_id is None:
        story = Story(first_seen_at=now, lead_item_id=item.id)
        session.add(story)
        session.flush()
        item.story_id = story.id
        return False
    item.story_id = story_id
    return True


def add_bands(session: Session, item_id: int, band_keys: Sequence[int]) -> None:
    """Index a new item's band keys (one multi-row statement, no ORM objects)."""
    if band_keys:
        rows = [{"band_key": key, "item_id": item_id} for key in dict.fromkeys(band_keys)]
        session.execute(insert(ItemBand), rows)


def replace_bands(session: Session, item_id: int, band_keys: Sequence[int]) -> None:
    session.execute(delete(ItemBand).where(ItemBand.item_id == item_id))
    add_bands(session, item_id, band_keys)


def _same_url_or_content(
    session: Session, canonical_url: str | None, content_hash: str, exclude: int | None
) -> int | None:
    same = Item.content_hash == content_hash
    if canonical_url:
        same = or_(Item.canonical_url == canonical_url, same)
    query = select(Item.story_id).where(same, Item.story_id.is_not(None))
    if exclude is not None:
        query = query.where(Item.id != exclude)
    return session.scalar(query.order_by(Item.id).limit(1))


def _near_duplicate(
    session: Session,
    fingerprint: bytes | None,
    band_keys: Sequence[int],
    matcher: StoryMatcher | None,
    exclude: int | None,
) -> int | None:
    if not band_keys or matcher is None or fingerprint is None:
        return None
    candidates = select(ItemBand.item_id).where(ItemBand.band_key.in_(list(band_keys)))
    if exclude is not None:
        candidates = candidates.where(ItemBand.item_id != exclude)
    found = candidates.distinct().limit(MAX_CANDIDATES).subquery()
    rows = session.execute(
        select(Item.story_id, Item.fingerprint).where(
            Item.id.in_(select(found.c.item_id)),
            Item.story_id.is_not(None),
            Item.fingerprint.is_not(None),
        )
    )
    best: tuple[float, int] | None = None
    for story_id, candidate in rows:
        score = matcher(fingerprint, candidate)
        if score is not None and (best is None or score > best[0]):
            best = (score, story_id)
    return None if best is None else best[1]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
