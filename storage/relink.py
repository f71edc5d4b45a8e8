"""Relinking stored items: new fingerprints, then every story decided again, in batches.

When the linking rules change, stories already stored keep the links the old rules made.
Relinking replays the items in the order they were stored (by id, from a first id on):
each batch's items are handed to the ``StoryLinker`` with the candidates a save would have
read, except that only items stored before them count (later ones have not been decided
again yet). Items are never deleted or inserted, only their ``story_id`` changes.

An item starting a story of its own keeps its old story id unless an earlier item kept it
already (that story was split); then it gets a new story. Each batch is one transaction,
so a relink stopped half way leaves every item in some story, and running it again
finishes it. Stories left without items are deleted at the end, and the stories that
gained or lost items get their first-seen time (their earliest item's) and lead again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Row, and_, bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from storage import batch
from storage.linker import StoryLinker
from storage.models import Item, ItemBand, Story
from storage.records import ItemData

_RELINKED = select(
    Item.id,
    Item.source_id,
    Item.guid,
    Item.title,
    Item.text,
    Item.content_hash,
    Item.canonical_url,
    Item.fingerprint,
    Item.story_id,
    Item.first_seen_at,
).order_by(Item.id)
_BANDS_OF = select(ItemBand.item_id, ItemBand.band_key).where(
    ItemBand.item_id.in_(bindparam("ids", expanding=True))
)
_STORIES = Story.__table__
_MOVE = update(Item).where(Item.id == bindparam("item_id")).values(story_id=bindparam("story"))


class ItemText(NamedTuple):
    """What new fingerprints are made from."""

    id: int
    source_id: int
    text: str


class Fingerprinted(NamedTuple):
    """An item's new fingerprint (None: too short) and its band keys."""

    id: int
    fingerprint: bytes | None
    band_keys: tuple[int, ...]


@dataclass(slots=True)
class Relinked:
    """What a relink changed: items given another story, stories split (their items now
    in several) and stories merged (items of several now in one)."""

    items: int = 0
    moved: int = 0
    _new_of: dict[int | None, set[int]] = field(default_factory=lambda: defaultdict(set))
    _old_of: dict[int, set[int | None]] = field(default_factory=lambda: defaultdict(set))

    def carries(self, story: int) -> bool:
        """Whether an item relinked so far is in *story*."""
        return story in self._old_of

    def record(self, old: int | None, new: int, *, earlier: bool = False) -> None:
        """An item moved from story *old* to *new* (maybe the same); *earlier*: *new* is
        a story of items before the relinked ones, which stays theirs too."""
        self.items += 1
        self.moved += old != new
        self._new_of[old].add(new)
        self._old_of[new].add(old)
        if earlier:
            self._old_of[new].add(new)

    @property
    def split(self) -> int:
        return sum(len(new) > 1 for old, new in self._new_of.items() if old is not None)

    @property
    def merged(self) -> int:
        return sum(len(old) > 1 for old in self._old_of.values())


class RelinkMixin:
    """The relinking part of ``Storage``."""

    # Set up by Storage.__init__.
    dialect: str
    linker: StoryLinker
    _reader: sessionmaker[Session]
    _write: Callable[[], AbstractContextManager[Session]]

    def first_item_since(self, since: datetime | None) -> int | None:
        """The id of the first item first seen at or after *since* (of any item without
        it), None when there is none."""
        query = select(func.min(Item.id))
        if since is not None:
            query = query.where(Item.first_seen_at >= since)
        with self._reader() as session:
            return session.scalar(query)

    def item_texts(self, start: int, size: int = 500) -> Iterable[list[ItemText]]:
        """The texts of the items from id *start* on, by id, *size* at a time."""
        after = start - 1
        while True:
            query = (
                select(Item.id, Item.source_id, Item.text)
                .where(Item.id > after)
                .order_by(Item.id)
                .limit(size)
            )
            with self._reader() as session:
                rows = [ItemText(*row) for row in session.execute(query)]
            if not rows:
                return
            yield rows
            after = rows[-1].id

    def recent_texts(self, source_id: int, count: int) -> list[str]:
        """The texts of the source's *count* last stored items."""
        query = (
            select(Item.text)
            .where(Item.source_id == source_id)
            .order_by(Item.id.desc())
            .limit(count)
        )
        with self._reader() as session:
            return list(session.scalars(query))

    def write_fingerprints(self, rows: Sequence[Fingerprinted]) -> None:
        """Replace the fingerprints and band keys of the items in *rows*."""
        if not rows:
            return
        with self._write() as session:
            connection = session.connection()
            connection.execute(
                update(Item)
                .where(Item.id == bindparam("item_id"))
                .values(fingerprint=bindparam("fp")),
                [{"item_id": row.id, "fp": row.fingerprint} for row in rows],
            )
            ids = [row.id for row in rows]
            for chunk in batch.chunks(ids):
                connection.execute(delete(ItemBand).where(ItemBand.item_id.in_(chunk)))
            batch.add_bands(
                connection,
                [(key, row.id) for row in rows for key in dict.fromkeys(row.band_keys)],
            )

    def relink_stories(self, start: int, size: int = 500) -> Relinked:
        """Decide the story of every item from id *start* on again, *size* items per
        transaction, in the order they were stored."""
        relinked = Relinked()
        with self._reader() as session:
            claimed = _stories_spanning(session.connection(), start)
        touched: set[int] = set()
        after = start - 1
        while True:
            with self._write() as session:
                batch.lock_stories(session, self.dialect)
                connection = session.connection()
                rows = connection.execute(_RELINKED.where(Item.id > after).limit(size)).all()
                if not rows:
                    break
                moves = self._relink_rows(connection, rows, claimed, relinked)
                touched.update(story for move in moves for story in move[1:] if story is not None)
            after = rows[-1].id
        with self._write() as session:
            _tidy_stories(session.connection(), sorted(touched))
        return relinked

    def _relink_rows(
        self,
        connection: Connection,
        rows: Sequence[Row[Any]],
        claimed: set[int],
        relinked: Relinked,
    ) -> list[tuple[int, int | None, int]]:
        """Decide and write the stories of one batch of rows, one source's run at a time
        (the next run's candidates read this one's new stories); returns the moves
        (item, old story, new story)."""
        bands: dict[int, list[int]] = defaultdict(list)
        for item_id, key in connection.execute(_BANDS_OF, {"ids": [row.id for row in rows]}):
            bands[item_id].append(key)
        moves: list[tuple[int, int | None, int]] = []
        run_moves: list[dict[str, int]] = []
        for run in _runs_by_source(rows):
            items = [_item_data(row, tuple(bands[row.id])) for row in run]
            candidates = batch.stored_candidates(
                connection, run[0].source_id, items, self.linker, before=run[0].id
            )
            for rank, (row, data) in enumerate(zip(run, items, strict=True)):
                story = candidates.story_for(data)
                earlier = story is not None and not relinked.carries(story)
                if story is None:
                    story = _own_story(connection, row, claimed)
                claimed.add(story)
                candidates.add(batch.BATCH_RANK + rank, row.id, story, data)
                relinked.record(row.story_id, story, earlier=earlier)
                if story != row.story_id:
                    moves.append((row.id, row.story_id, story))
                    run_moves.append({"item_id": row.id, "story": story})
            if run_moves:
                connection.execute(_MOVE, run_moves)
                run_moves = []
        return moves


def _stories_spanning(connection: Connection, start: int) -> set[int]:
    """Stories carried both by items before *start* and by items from it on."""
    later = select(Item.story_id).where(Item.id >= start, Item.story_id.is_not(None))
    query = select(Item.story_id).where(Item.id < start, Item.story_id.in_(later)).distinct()
    return set(connection.scalars(query))


def _runs_by_source(rows: Sequence[Row[Any]]) -> list[list[Row[Any]]]:
    """Consecutive rows of one source: the batches their saves were."""
    runs: list[list[Row[Any]]] = []
    for row in rows:
        if runs and runs[-1][0].source_id == row.source_id:
            runs[-1].append(row)
        else:
            runs.append([row])
    return runs


def _own_story(connection: Connection, row: Row[Any], claimed: set[int]) -> int:
    """The item's old story if no earlier item kept it, else a new one."""
    if row.story_id is not None and row.story_id not in claimed:
        return int(row.story_id)
    statement = insert(_STORIES).values(first_seen_at=row.first_seen_at).returning(_STORIES.c.id)
    return int(connection.execute(statement).scalar_one())


def _item_data(row: Row[Any], band_keys: tuple[int, ...]) -> ItemData:
    return ItemData(
        guid=row.guid,
        title=row.title,
        text=row.text,
        content_hash=row.content_hash,
        canonical_url=row.canonical_url,
        fingerprint=row.fingerprint,
        band_keys=band_keys,
    )


def _tidy_stories(connection: Connection, touched: Sequence[int]) -> None:
    """Delete the touched stories left without items; give the others their earliest
    item's first-seen time, and drop a lead that left them."""
    for chunk in batch.chunks(touched):
        carried = select(Item.id).where(Item.story_id == Story.id)
        connection.execute(delete(Story).where(Story.id.in_(chunk), ~carried.exists()))
        earliest = select(func.min(Item.first_seen_at)).where(Item.story_id == Story.id)
        connection.execute(
            update(Story)
            .where(Story.id.in_(chunk))
            .values(first_seen_at=earliest.scalar_subquery())
        )
        lead_left = (
            ~select(Item.id)
            .where(and_(Item.id == Story.lead_item_id, Item.story_id == Story.id))
            .exists()
        )
        connection.execute(
            update(Story)
            .where(Story.id.in_(chunk), Story.lead_item_id.is_not(None), lead_left)
            .values(lead_item_id=None)
        )
