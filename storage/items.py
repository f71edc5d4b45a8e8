"""Items: saving a source's batch with its summaries (and the source's new state) in one
transaction, the stored content hashes and first-seen times, reading items back for
export, and pruning.

A save goes through the group commit (``storage.group_commit``); the set-based writes
themselves are in ``storage.batch``, and which story a new item joins is the
``StoryLinker``'s decision.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, joinedload, sessionmaker

from storage import batch, tombstones
from storage.group_commit import GroupCommit, Save
from storage.linker import StoryLinker
from storage.models import Item, Source, Story
from storage.records import ItemData, SaveResult, SourceUpdate, StoredItem, SummaryData
from storage.sources import write_update

_SOURCE_URL = select(Source.url).where(Source.id == bindparam("id"))
# Items with their summary and source, loaded in the same query.
_WITH_SUMMARY = select(Item).options(joinedload(Item.summary), joinedload(Item.source))


class ItemsMixin:
    """The items part of ``Storage``."""

    # Set up by Storage.__init__.
    dialect: str
    linker: StoryLinker
    _saves: GroupCommit
    _reader: sessionmaker[Session]
    _write: Callable[[], AbstractContextManager[Session]]

    def content_hashes(self, source_id: int, guids: Sequence[str]) -> dict[str, str]:
        """Stored hashes by guid, so callers summarise only what changed."""
        return self._by_guid(Item.content_hash, source_id, guids)

    def first_seen_times(self, source_id: int, guids: Sequence[str]) -> dict[str, datetime]:
        """Stored first-seen times by guid, so a caller knows the digest days of items
        it did not save again."""
        return self._by_guid(Item.first_seen_at, source_id, guids)

    def _by_guid(self, column: Any, source_id: int, guids: Sequence[str]) -> dict[str, Any]:
        """One column of the source's stored items among *guids*, by guid."""
        found: dict[str, Any] = {}
        with self._reader() as session:
            for start in range(0, len(guids), batch.IN_BATCH):
                chunk = guids[start : start + batch.IN_BATCH]
                query = select(Item.guid, column).where(
                    Item.source_id == source_id, Item.guid.in_(chunk)
                )
                found.update((guid, value) for guid, value in session.execute(query))
        return found

    def save_items(
        self,
        source_id: int,
        items: Sequence[tuple[ItemData, SummaryData]],
        update: SourceUpdate | None = None,
        now: datetime | None = None,
    ) -> list[SaveResult]:
        """Insert or update items with their summaries, and the source's new state, in
        one transaction: a crash leaves all of it or none of it.

        Returns, per item, the outcome, the item's first-seen time (the day whose
        digest shows it) and its story. Threads saving at the same time share one
        transaction (see ``storage.group_commit``).
        """
        now = now or (update.checked_at if update else None)
        if now is None:
            raise ValueError("save_items needs now= or an update")
        return self._saves.submit(Save(source_id, items, update, now))

    def _save_group(self, saves: Sequence[Save]) -> list[list[SaveResult]]:
        """Several sources' saves in one transaction, in order: each sees the items of
        those before it, exactly as if they had been committed one by one."""
        with self._write() as session:
            if any(save.items for save in saves):
                # Taking turns costs little: summaries are made before this.
                batch.lock_stories(session, self.dialect)
            connection = session.connection()
            results = []
            for save in saves:
                results.append(self._save_batch(connection, save.source_id, save.items, save.now))
                if save.update is not None:
                    write_update(connection, save.source_id, save.update)
            return results

    def _save_batch(
        self,
        connection: Connection,
        source_id: int,
        items: Sequence[tuple[ItemData, SummaryData]],
        now: datetime,
    ) -> list[SaveResult]:
        """New guids in one set-based insert; known guids (and a guid repeated in the
        batch, or stored by another writer a moment ago) compared and updated in place."""
        source_url = connection.execute(_SOURCE_URL, {"id": source_id}).scalar_one()
        stored = batch.existing(connection, source_id, [data.guid for data, _ in items])
        fresh: dict[str, tuple[ItemData, SummaryData]] = {}
        for data, summary in items:
            if data.guid not in stored:
                fresh.setdefault(data.guid, (data, summary))
        buried, placed = batch.insert_new(
            connection, source_id, source_url, list(fresh.values()), now, self.linker
        )
        results: list[SaveResult] = []
        first = {guid: pair[0] for guid, pair in fresh.items()}
        for data, summary in items:
            if data.guid in buried:
                results.append(SaveResult("buried", now))
            elif first.get(data.guid) is data and data.guid in placed:
                new = placed[data.guid]
                stored[data.guid] = batch.Stored(new.item_id, data.content_hash, now, new.story_id)
                results.append(SaveResult("new", now, new.story_id, new.linked))
            else:
                if data.guid not in stored:  # another writer stored it a moment ago
                    stored.update(batch.existing(connection, source_id, [data.guid]))
                results.append(_compare(connection, stored, data, summary, now))
        return results

    def iter_items(self, since: datetime | None = None, batch: int = 500) -> Iterator[StoredItem]:
        """Every item (first seen at or after *since*), by id, in batches of *batch*."""
        last_id = 0
        while True:
            query = _WITH_SUMMARY.where(Item.id > last_id).order_by(Item.id).limit(batch)
            if since is not None:
                query = query.where(Item.first_seen_at >= since)
            with self._reader() as session:
                rows = [_stored(item) for item in session.scalars(query)]
            if not rows:
                return
            yield from rows
            last_id = rows[-1].id

    def prune(self, before: datetime, now: datetime, batch: int = 1000) -> int:
        """Delete items first seen before *before*, with their summaries, in batches of
        *batch* (one transaction each), leaving tombstones so they never come back.
        Stories left without items go too; digest files on disk are not touched."""
        deleted = 0
        while True:
            with self._write() as session:
                rows = session.execute(
                    select(Item.id, Source.url, Item.guid, Item.canonical_url)
                    .join(Source, Item.source_id == Source.id)
                    .where(Item.first_seen_at < before)
                    .order_by(Item.id)
                    .limit(batch)
                ).all()
                if not rows:
                    break
                keys = [
                    key
                    for _, url, guid, canonical in rows
                    for key in tombstones.tombstone_keys(url, guid, canonical)
                ]
                tombstones.bury(session, keys, now)
                session.execute(delete(Item).where(Item.id.in_([row[0] for row in rows])))
                deleted += len(rows)
        with self._write() as session:
            orphan = ~select(Item.id).where(Item.story_id == Story.id).exists()
            session.execute(delete(Story).where(Story.first_seen_at < before, orphan))
        return deleted

    def count_items(self) -> int:
        with self._reader() as session:
            return session.scalar(select(func.count(Item.id))) or 0


def _compare(
    connection: Connection,
    stored: dict[str, batch.Stored],
    data: ItemData,
    summary: SummaryData,
    now: datetime,
) -> SaveResult:
    """A known guid: unchanged, or updated in place to a new version."""
    item = stored[data.guid]
    if item.content_hash == data.content_hash:
        return SaveResult("unchanged", item.first_seen_at, item.story_id)
    batch.update_in_place(connection, item, data, summary, now)
    stored[data.guid] = replace(item, content_hash=data.content_hash)
    return SaveResult("updated", item.first_seen_at, item.story_id)


def _stored(item: Item) -> StoredItem:
    return StoredItem(
        id=item.id,
        source=item.source.url,
        source_title=item.source.title,
        guid=item.guid,
        url=item.url,
        title=item.title,
        author=item.author,
        published_at=item.published_at,
        first_seen_at=item.first_seen_at,
        updated_at=item.updated_at,
        language=item.language,
        text=item.text,
        content_hash=item.content_hash,
        version=item.version,
        summary=tuple(item.summary.sentences) if item.summary else (),
        canonical_url=item.canonical_url,
        story_id=item.story_id,
    )
