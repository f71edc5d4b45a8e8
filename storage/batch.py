"""Writing one source's batch of items: set-based statements, not one ORM object per row.

A feed refresh brings a dozen items or more, each with a summary and 32 band keys. Through
the ORM that would be hundreds of statements and object flushes per feed, each paying
SQLAlchemy's per-object overhead; here a batch of new items costs a fixed handful of
statements whatever its size: read what is stored, look up tombstones and story
candidates, insert stories, items, summaries and band keys. Updates in place are rare and
keep a simple per-item path.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import zip_longest
from typing import Any

from sqlalchemy import BigInteger, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from storage import tombstones
from storage.linker import StoryCandidates, StoryLinker
from storage.models import Item, ItemBand, Story, Summary, Tombstone
from storage.records import ItemData, SummaryData

# Bound on the number of values in one IN (...) list; SQLite allows 32,766 variables.
IN_BATCH = 500

_ITEMS = Item.__table__
_SUMMARIES = Summary.__table__
_BANDS = ItemBand.__table__
_STORIES = Story.__table__
# The reads of the write path, built once: each names its lists as expanding parameters, so
# a call binds the list as it is instead of building the statement again around one bound
# parameter per value (hundreds per feed, among them 32 band keys per item).
_EXISTING = select(Item.guid, Item.id, Item.content_hash, Item.first_seen_at, Item.story_id).where(
    Item.source_id == bindparam("source_id"), Item.guid.in_(bindparam("guids", expanding=True))
)
_TOMBSTONES = select(Tombstone.key).where(Tombstone.key.in_(bindparam("keys", expanding=True)))
_SAME_PAGE_OR_TEXT = (
    select(
        Item.canonical_url,
        Item.content_hash,
        Item.id,
        Item.story_id,
        Item.source_id,
        Item.guid,
        Item.title,
    )
    .where(
        or_(
            Item.canonical_url.in_(bindparam("urls", expanding=True)),
            Item.content_hash.in_(bindparam("hashes", expanding=True)),
        ),
        Item.story_id.is_not(None),
        Item.id < bindparam("before", type_=BigInteger),
    )
    .order_by(Item.id)
)
_SHARING_BANDS = select(ItemBand.band_key, ItemBand.item_id).where(
    ItemBand.band_key.in_(bindparam("keys", expanding=True)),
    ItemBand.item_id < bindparam("before", type_=BigInteger),
)
_FINGERPRINTS = select(
    Item.id, Item.story_id, Item.fingerprint, Item.source_id, Item.guid, Item.title
).where(
    Item.id.in_(bindparam("ids", expanding=True)),
    Item.story_id.is_not(None),
    Item.fingerprint.is_not(None),
)
# Exact matches rank stored items by id, before every item of the batch in hand.
BATCH_RANK = 1 << 62
# Above every item id: a save's candidates are all stored items (a relink's, those
# stored before the item it decides).
_ALL_STORED = 1 << 62
_STORY_LOCK = int.from_bytes(hashlib.sha256(b"feedbrief:stories").digest()[:8], "big", signed=True)


@dataclass(frozen=True, slots=True)
class Stored:
    """What the write path needs of an item already stored."""

    id: int
    content_hash: str
    first_seen_at: datetime
    story_id: int | None


@dataclass(frozen=True, slots=True)
class Placed:
    """Where a new item went: its row, its story, and whether other items carried that
    story already."""

    item_id: int
    story_id: int
    linked: bool


def lock_stories(session: Session, dialect: str) -> None:
    """Take turns at story linking until the transaction ends (PostgreSQL; SQLite has one
    writer anyway). Linking reads other items to decide; two writers linking copies of
    one story at once would each miss the other's uncommitted rows."""
    if dialect == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_STORY_LOCK)))


def existing(connection: Connection, source_id: int, guids: Iterable[str]) -> dict[str, Stored]:
    """The stored items among *guids*, a few columns each."""
    found: dict[str, Stored] = {}
    for chunk in chunks(list(dict.fromkeys(guids))):
        rows = connection.execute(_EXISTING, {"source_id": source_id, "guids": chunk})
        found.update((guid, Stored(*rest)) for guid, *rest in rows)
    return found


def insert_new(
    connection: Connection,
    source_id: int,
    source_url: str,
    items: Sequence[tuple[ItemData, SummaryData]],
    now: datetime,
    linker: StoryLinker,
) -> tuple[set[str], dict[str, Placed]]:
    """Insert items whose guids this source has not stored (each guid once), with their
    summaries, band keys and stories.

    Returns the guids kept out by a tombstone, and where each inserted item went. A guid
    in neither was stored a moment ago by another writer: the caller updates that item.
    """
    buried = _tombstoned(connection, source_url, [data for data, _ in items])
    live = [(data, summary) for data, summary in items if data.guid not in buried]
    candidates = stored_candidates(connection, source_id, [data for data, _ in live], linker)
    stories_of: list[int | None] = []  # a stored story, a placeholder, or None: a new one
    for position, (data, _) in enumerate(live):
        story = candidates.story_for(data)
        stories_of.append(story)
        placeholder = -1 - position
        rank = BATCH_RANK + position
        candidates.add(rank, placeholder, placeholder if story is None else story, data)
    new_story_ids = _insert_stories(connection, stories_of.count(None), now)
    story_ids = _resolve(stories_of, new_story_ids)
    inserted = _insert_items(connection, source_id, live, story_ids, now)
    _insert_summaries(connection, live, inserted, now)
    _insert_bands(connection, live, inserted)

    placed: dict[str, Placed] = {}
    orphans = []
    for (data, _), story_id, story in zip(live, story_ids, stories_of, strict=True):
        if data.guid in inserted:
            placed[data.guid] = Placed(inserted[data.guid], story_id, story is not None)
        elif story is None:
            orphans.append(story_id)
    if orphans:
        connection.execute(delete(Story).where(Story.id.in_(orphans)))
    return buried, placed


def update_in_place(
    connection: Connection, stored: Stored, data: ItemData, summary: SummaryData, now: datetime
) -> None:
    """New content under a known guid: a new version, its summary and band keys."""
    connection.execute(
        update(Item)
        .where(Item.id == stored.id)
        .values(**_item_fields(data, now), version=Item.version + 1)
    )
    connection.execute(delete(Summary).where(Summary.item_id == stored.id))
    connection.execute(insert(_SUMMARIES), [_summary_row(stored.id, data, summary, now)])
    _replace_bands(connection, stored.id, data.band_keys)


def _tombstoned(connection: Connection, source_url: str, items: Sequence[ItemData]) -> set[str]:
    """Guids of the items whose identity or canonical URL was deleted before."""
    keys = {
        key: data.guid
        for data in items
        for key in tombstones.tombstone_keys(source_url, data.guid, data.canonical_url)
    }
    found: set[str] = set()
    for chunk in chunks(list(keys)):
        found.update(connection.scalars(_TOMBSTONES, {"keys": chunk}))
    return {keys[key] for key in found}


def stored_candidates(
    connection: Connection,
    source_id: int,
    items: Sequence[ItemData],
    linker: StoryLinker,
    *,
    before: int = _ALL_STORED,
) -> StoryCandidates:
    """Stored items (with ids below *before*) that may carry the stories of
    *source_id*'s batch, in three indexed reads: same canonical URL or content, shared
    band keys, then the fingerprints of those. Which of them an item joins is the
    linker's decision."""
    found = linker.candidates(source_id)
    urls = list({data.canonical_url for data in items if data.canonical_url})
    hashes = list({data.content_hash for data in items})
    for url_chunk, hash_chunk in _pairs(chunks(urls), chunks(hashes)):
        parameters = {"urls": url_chunk, "hashes": hash_chunk, "before": before}
        rows = connection.execute(_SAME_PAGE_OR_TEXT, parameters)
        wanted_urls, wanted_hashes = set(url_chunk), set(hash_chunk)
        for url, content_hash, item_id, story_id, source, guid, title in rows:
            if url in wanted_urls:
                found.add_stored_page(url, item_id, story_id, source, guid)
            if content_hash in wanted_hashes:
                found.add_stored_text(content_hash, item_id, story_id, source, guid, title)
    keys = list({key for data in items if data.fingerprint is not None for key in data.band_keys})
    ids: dict[int, None] = {}
    for chunk in chunks(keys):
        for key, item_id in connection.execute(_SHARING_BANDS, {"keys": chunk, "before": before}):
            found.add_stored_band(key, item_id)
            ids[item_id] = None
    for chunk in chunks(list(ids)):
        for row in connection.execute(_FINGERPRINTS, {"ids": chunk}):
            found.add_stored_fingerprint(*row)
    return found


def _insert_stories(connection: Connection, count: int, now: datetime) -> list[int]:
    """*count* new stories. They are alike until items join them, so which id goes to
    which item does not matter: the ids need not come back in any order, and that lets
    SQLAlchemy send one multi-row INSERT instead of one INSERT per row (what ordered
    ``RETURNING`` costs on SQLite)."""
    if not count:
        return []
    statement = insert(_STORIES).returning(_STORIES.c.id)
    return list(connection.execute(statement, [{"first_seen_at": now}] * count).scalars())


def _resolve(stories_of: Sequence[int | None], new_ids: Sequence[int]) -> list[int]:
    """Stored story ids as they are; new stories and placeholders to the inserted ids.

    A placeholder ``-1 - p`` is the story of the batch's item ``p``, an earlier one.
    """
    fresh = iter(new_ids)
    resolved: list[int] = []
    for story in stories_of:
        if story is None:
            resolved.append(next(fresh))
        elif story < 0:
            resolved.append(resolved[-1 - story])
        else:
            resolved.append(story)
    return resolved


def _insert_items(
    connection: Connection,
    source_id: int,
    items: Sequence[tuple[ItemData, SummaryData]],
    story_ids: Sequence[int],
    now: datetime,
) -> dict[str, int]:
    """Insert the items; a guid another writer stored first is skipped, not an error."""
    if not items:
        return {}
    rows = [
        {
            "source_id": source_id,
            "guid": data.guid,
            "first_seen_at": now,
            "version": 1,
            "story_id": story_id,
            **_item_fields(data, now),
        }
        for (data, _), story_id in zip(items, story_ids, strict=True)
    ]
    statement = (
        _upsert_dialect(connection)
        .insert(_ITEMS)
        .on_conflict_do_nothing(index_elements=["source_id", "guid"])
    )
    result = connection.execute(statement.returning(_ITEMS.c.guid, _ITEMS.c.id), rows)
    return {guid: item_id for guid, item_id in result}


def _insert_summaries(
    connection: Connection,
    items: Sequence[tuple[ItemData, SummaryData]],
    inserted: dict[str, int],
    now: datetime,
) -> None:
    rows = [
        _summary_row(inserted[data.guid], data, summary, now)
        for data, summary in items
        if data.guid in inserted
    ]
    if rows:
        connection.execute(insert(_SUMMARIES), rows)


def _insert_bands(
    connection: Connection,
    items: Sequence[tuple[ItemData, SummaryData]],
    inserted: dict[str, int],
) -> None:
    add_bands(
        connection,
        [
            (key, inserted[data.guid])
            for data, _ in items
            if data.guid in inserted
            for key in dict.fromkeys(data.band_keys)
        ],
    )


def _replace_bands(connection: Connection, item_id: int, band_keys: Sequence[int]) -> None:
    connection.execute(delete(ItemBand).where(ItemBand.item_id == item_id))
    add_bands(connection, [(key, item_id) for key in dict.fromkeys(band_keys)])


def add_bands(connection: Connection, rows: list[tuple[int, int]]) -> None:
    """Index band keys, ``(key, item id)`` rows: 32 per item, the bulk of what a batch
    writes. They go straight to the driver's ``executemany``: the rows are two integers
    each, and SQLAlchemy's per-row parameter processing costs more than the insert."""
    if rows:
        mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        connection.exec_driver_sql(
            f"INSERT INTO {_BANDS.name} (band_key, item_id) VALUES ({mark}, {mark})", rows
        )


def _item_fields(data: ItemData, now: datetime) -> dict[str, Any]:
    return {
        "url": data.url,
        "canonical_url": data.canonical_url,
        "title": data.title,
        "author": data.author,
        "published_at": data.published_at,
        "language": data.language,
        "text": data.text,
        "content_hash": data.content_hash,
        "fingerprint": data.fingerprint,
        "updated_at": now,
    }


def _summary_row(
    item_id: int, data: ItemData, summary: SummaryData, now: datetime
) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "algorithm": summary.algorithm,
        "sentences": list(summary.sentences),
        "content_hash": data.content_hash,
        "created_at": now,
    }


def _upsert_dialect(connection: Connection) -> Any:
    """The dialect module whose ``insert`` has ``on_conflict_do_nothing``; imported here,
    as the engine imports its own dialect only: a SQLite database never loads
    PostgreSQL's."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql
    from sqlalchemy.dialects import sqlite

    return sqlite


def _pairs(
    left: Iterable[Sequence[Any]], right: Iterable[Sequence[Any]]
) -> Iterable[tuple[Sequence[Any], Sequence[Any]]]:
    """Chunks of two lists side by side, the shorter padded with empty ones."""
    return zip_longest(left, right, fillvalue=())


def chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    """*values* in slices of at most ``IN_BATCH``, for IN (...) lists."""
    for start in range(0, len(values), IN_BATCH):
        yield values[start : start + IN_BATCH]
