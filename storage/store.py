"""The one class through which the rest of feedbrief reads and writes the database."""

from __future__ import annotations

import enum
import hashlib
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Engine, bindparam, delete, func, null, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, NoResultFound
from sqlalchemy.orm import Session, joinedload, sessionmaker

from storage import batch, database, tombstones
from storage.linker import StoryLinker, Unlinked
from storage.models import Digest, Item, Source, Story, Summary, Worker


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


class Outcome(enum.StrEnum):
    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    BURIED = "buried"  # deleted or pruned before: its tombstone keeps it out


class SaveResult(NamedTuple):
    outcome: Outcome
    first_seen: datetime
    story_id: int | None = None
    linked: bool = False  # joined a story that other items already carry


@dataclass(frozen=True, slots=True)
class StoryItem:
    """What a digest shows of one item: no body, no fingerprint (they cost a busy day
    seconds to load and are never shown)."""

    id: int
    guid: str
    title: str
    url: str | None
    published_at: datetime | None
    source: str
    source_title: str | None
    summary: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StoryRow:
    """One digest entry: the story's lead item and every item that carried it."""

    id: int
    lead: StoryItem
    items: tuple[StoryItem, ...]


class Storage:
    """Typed access to sources, items, summaries and digests.

    Every write method is one transaction: an item and its summary are stored together
    or not at all, so a crash never leaves an item without its summary.
    """

    def __init__(self, engine: Engine, *, linker: StoryLinker | None = None) -> None:
        self.engine = engine
        # Without a linker every new item starts its own story.
        self.linker: StoryLinker = linker or Unlinked()
        self._session = sessionmaker(engine, expire_on_commit=False)
        self._reader = sessionmaker(
            engine.execution_options(**{database.READ_ONLY: True}), expire_on_commit=False
        )
        # SQLite has one writer at a time. Threads of this process queue here and take
        # turns at once; left to SQLite's busy handler they would poll with sleeps of up
        # to 100 ms, and a pass of many small feed transactions spent most of its time
        # asleep. (Other processes still queue on the busy handler.)
        self._write_turn = threading.RLock() if engine.dialect.name == "sqlite" else None
        self._saves = _GroupCommit(self._save_group)

    @classmethod
    def open(cls, url: str, *, migrate: bool = True, linker: StoryLinker | None = None) -> Storage:
        engine = database.create_database_engine(url)
        if migrate:
            database.upgrade(engine)
        return cls(engine, linker=linker)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    # -- sources ---------------------------------------------------------------------

    def ensure_source(self, kind: str, url: str, title: str | None, now: datetime) -> int:
        with self._write() as session:
            source = session.scalar(select(Source).where(Source.url == url))
            if source is None:
                source = Source(kind=kind, url=url, title=title, added_at=now, error_count=0)
                session.add(source)
                session.flush()
            elif title and source.title != title:
                source.title = title
            return source.id

    def add_feed(
        self, url: str, now: datetime, *, interval: int | None = None, full_text: bool = False
    ) -> tuple[int, bool]:
        """Register a feed (due at once); for a known URL, update its options.

        Returns the source id and whether it was new.
        """
        with self._write() as session:
            source = session.scalar(select(Source).where(Source.url == url))
            created = source is None
            if source is None:
                source = Source(kind="feed", url=url, added_at=now, error_count=0)
                source.next_check_at = now
                session.add(source)
            source.interval_seconds = interval
            source.full_text = full_text
            session.flush()
            return source.id, created

    def remove_source(self, url: str) -> bool:
        """Forget a source and everything stored from it."""
        with self._write() as session:
            source = session.scalar(select(Source).where(Source.url == url))
            if source is None:
                return False
            session.delete(source)
            return True

    def source(self, url: str) -> SourceState | None:
        return next((s for s in self._states(Source.url == url)), None)

    def claim_due_feeds(
        self, worker: str, now: datetime, lease: timedelta, limit: int
    ) -> list[SourceState]:
        """Lease up to *limit* due feeds to *worker* until ``now + lease``.

        On PostgreSQL, ``FOR UPDATE SKIP LOCKED`` lets several workers claim at once
        without waiting on or taking each other's rows; a worker that dies keeps its
        feeds only until the lease runs out. Storing the feed's new state ends the lease.
        """
        query = (
            select(Source)
            .where(
                Source.kind == "feed",
                Source.retired_at.is_(None),
                (Source.next_check_at.is_(None)) | (Source.next_check_at <= now),
                (Source.lease_until.is_(None)) | (Source.lease_until <= now),
            )
            .order_by(Source.next_check_at, Source.id)
            .limit(limit)
        )
        if self.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        with self._write() as session:
            claimed = list(session.scalars(query))
            for source in claimed:
                source.lease_owner = worker
                source.lease_until = now + lease
            return [_state(source, None) for source in claimed]

    def release_leases(self, source_id: int | None = None) -> None:
        """End the leases of one feed, or of all feeds (when the caller knows that no
        other worker is alive, as under SQLite's run lock)."""
        query = update(Source).values(lease_owner=None, lease_until=None)
        if source_id is not None:
            query = query.where(Source.id == source_id)
        with self._write() as session:
            session.execute(query)

    @contextmanager
    def exclusive(self, name: str, *, wait: bool = False) -> Iterator[bool]:
        """Whether this process holds the cluster-wide lock *name* (PostgreSQL advisory
        lock), waiting for it if *wait*; always True on SQLite, where only one ``run``
        can hold the database."""
        if self.dialect != "postgresql":
            yield True
            return
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        with self.engine.connect() as connection:
            if wait:
                connection.scalar(select(func.pg_advisory_lock(key)))
                held = True
            else:
                held = bool(connection.scalar(select(func.pg_try_advisory_lock(key))))
            try:
                yield held
            finally:
                if held:
                    connection.scalar(select(func.pg_advisory_unlock(key)))
                connection.commit()

    def digest_days(self) -> list[date]:
        """Days whose digest has been written, oldest first."""
        with self._reader() as session:
            return list(session.scalars(select(Digest.day).order_by(Digest.day)))

    def digest_generated_at(self, day: date) -> datetime | None:
        with self._reader() as session:
            return session.scalar(select(Digest.generated_at).where(Digest.day == day))

    def recent_published(self, source_id: int, since: datetime) -> list[datetime]:
        """When the source's recent items were published (or first seen), for its
        adaptive polling interval."""
        moment = func.coalesce(Item.published_at, Item.first_seen_at)
        with self._reader() as session:
            return list(
                session.scalars(select(moment).where(Item.source_id == source_id, moment >= since))
            )

    def update_source(self, source_id: int, update: SourceUpdate) -> None:
        with self._write() as session:
            _apply(session.connection(), source_id, update)

    def sources(self, kind: str | None = None) -> list[SourceState]:
        """Every source (of *kind*), with its item count."""
        return self._states(*([Source.kind == kind] if kind else []), count=True)

    def _states(self, *where: Any, count: bool = False) -> list[SourceState]:
        """Source states; item counts only when asked, as they cost a scan of items."""
        if count:
            counts = (
                select(Item.source_id, func.count(Item.id).label("n"))
                .group_by(Item.source_id)
                .subquery()
            )
            query = select(Source, func.coalesce(counts.c.n, 0)).outerjoin(
                counts, counts.c.source_id == Source.id
            )
        else:
            query = select(Source, null())
        query = query.where(*where).order_by(Source.url, Source.id)
        with self._reader() as session:
            return [_state(source, n) for source, n in session.execute(query)]

    # -- items -----------------------------------------------------------------------

    def content_hashes(self, source_id: int, guids: Sequence[str]) -> dict[str, str]:
        """Stored hashes by guid, so callers summarise only what changed."""
        found: dict[str, str] = {}
        with self._reader() as session:
            for start in range(0, len(guids), batch.IN_BATCH):
                chunk = guids[start : start + batch.IN_BATCH]
                query = select(Item.guid, Item.content_hash).where(
                    Item.source_id == source_id, Item.guid.in_(chunk)
                )
                found.update((guid, digest) for guid, digest in session.execute(query))
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
        transaction (see ``_GroupCommit``).
        """
        now = now or (update.checked_at if update else None)
        if now is None:
            raise ValueError("save_items needs now= or an update")
        return self._saves.submit(_Save(source_id, items, update, now))

    def _save_group(self, saves: Sequence[_Save]) -> list[list[SaveResult]]:
        """Several sources' saves in one transaction, in order: each sees the items of
        those before it, exactly as if they had been committed one by one."""
        with self._write() as session:
            if self.dialect == "postgresql" and any(save.items for save in saves):
                # Story linking reads other items to decide; two workers linking copies of
                # one story at once would each miss the other's uncommitted rows. Taking
                # turns (until commit) costs little: summaries are made before this.
                session.execute(select(func.pg_advisory_xact_lock(_STORY_LOCK)))
            connection = session.connection()
            results = []
            for save in saves:
                results.append(self._save_batch(connection, save.source_id, save.items, save.now))
                if save.update is not None:
                    _apply(connection, save.source_id, save.update)
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
                results.append(SaveResult(Outcome.BURIED, now))
            elif first.get(data.guid) is data and data.guid in placed:
                new = placed[data.guid]
                stored[data.guid] = batch.Stored(new.item_id, data.content_hash, now, new.story_id)
                results.append(SaveResult(Outcome.NEW, now, new.story_id, new.linked))
            else:
                if data.guid not in stored:  # another writer stored it a moment ago
                    stored.update(batch.existing(connection, source_id, [data.guid]))
                results.append(_compare(connection, stored, data, summary, now))
        return results

    def save_item(
        self, source_id: int, data: ItemData, summary: SummaryData, now: datetime
    ) -> SaveResult:
        [result] = self.save_items(source_id, [(data, summary)], now=now)
        return result

    def stories_first_seen(self, start: datetime, end: datetime) -> list[StoryRow]:
        """Stories whose first item arrived in ``[start, end)``, oldest first, each with
        its lead item and every item (from any source, at any time) that carried it.

        One column query: a busy day is tens of thousands of items, and loading them as
        full ORM entities took seconds where this takes a fraction of one.
        """
        query = (
            select(
                Story.id,
                Story.lead_item_id,
                Item.id,
                Item.guid,
                Item.title,
                Item.url,
                Item.published_at,
                Source.url,
                Source.title,
                Summary.sentences,
            )
            .join(Item, Item.story_id == Story.id)
            .join(Source, Source.id == Item.source_id)
            .outerjoin(Summary, Summary.item_id == Item.id)
            .where(Story.first_seen_at >= start, Story.first_seen_at < end)
            .order_by(Story.first_seen_at, Story.id, Item.first_seen_at, Item.id)
        )
        grouped: dict[int, tuple[int | None, list[StoryItem]]] = {}
        with self._reader() as session:
            for story_id, lead_id, *fields, sentences in session.execute(query):
                item = StoryItem(*fields, summary=tuple(sentences or ()))
                grouped.setdefault(story_id, (lead_id, []))[1].append(item)
        return [
            StoryRow(
                id=story_id,
                lead=next((i for i in items if i.id == lead_id), items[0]),
                items=tuple(items),
            )
            for story_id, (lead_id, items) in grouped.items()
        ]

    def iter_items(self, since: datetime | None = None, batch: int = 500) -> Iterator[StoredItem]:
        """Every item (first seen at or after *since*), by id, in batches of *batch*."""
        last_id = 0
        while True:
            query = self._item_query().where(Item.id > last_id).order_by(Item.id).limit(batch)
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

    @staticmethod
    def _item_query():  # type: ignore[no-untyped-def]
        return select(Item).options(joinedload(Item.summary), joinedload(Item.source))

    # -- digests ---------------------------------------------------------------------

    def record_digest(self, day: date, generated_at: datetime, tz: str, stories: int) -> None:
        """Note that *day*'s digest was written; two workers may race to note it first."""
        with self._write() as session:
            digest = session.get(Digest, day)
            if digest is None:
                try:
                    with session.begin_nested():
                        digest = Digest(day=day, generated_at=generated_at, timezone=tz)
                        digest.story_count = stories
                        session.add(digest)
                        return
                except IntegrityError:
                    digest = session.get_one(Digest, day, populate_existing=True)
            digest.generated_at = generated_at
            digest.timezone = tz
            digest.story_count = stories

    # -- workers ---------------------------------------------------------------------

    def record_tick(self, worker: str, now: datetime) -> None:
        """Note that *worker*'s ticker fired; ``serve``'s health check reads it."""
        with self._write() as session:
            row = session.get(Worker, worker)
            if row is None:
                session.add(Worker(name=worker, started_at=now, last_tick_at=now))
            else:
                row.last_tick_at = now

    def last_tick(self) -> datetime | None:
        """The most recent tick of any worker."""
        with self._reader() as session:
            return session.scalar(select(func.max(Worker.last_tick_at)))

    def ping(self) -> None:
        """Raise if the database does not answer."""
        with self.engine.connect() as connection:
            connection.execute(select(1))

    def session(self) -> Session:
        """A raw session, for tests and one-off maintenance only."""
        return self._session()

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """One write transaction: committed on leaving, rolled back on an exception."""
        with self._write_turn or nullcontext(), self._session.begin() as session:
            yield session


_SOURCE_URL = select(Source.url).where(Source.id == bindparam("id"))
_STORY_LOCK = int.from_bytes(hashlib.sha256(b"feedbrief:stories").digest()[:8], "big", signed=True)


@dataclass(slots=True, eq=False)
class _Save:
    """One source's batch waiting to be written, and what became of it."""

    source_id: int
    items: Sequence[tuple[ItemData, SummaryData]]
    update: SourceUpdate | None
    now: datetime
    results: list[SaveResult] | None = None
    error: BaseException | None = None

    @property
    def done(self) -> bool:
        return self.results is not None or self.error is not None


class _GroupCommit:
    """Saves from several threads written in one transaction (a group commit).

    Feed threads finish their parsing at about the same time and then queue for the one
    writer SQLite allows. Committed one by one, each feed paid for its own transaction:
    the commit itself, and every index page it touched written to the WAL again (a
    feed's 384 LSH band keys land on pages all over their index). Here the thread whose
    turn comes writes every save queued so far in one transaction; the others find
    theirs done when their turn comes. Nobody waits longer than before: a save is
    written by the first writer free after it was queued.

    A group that fails is retried one save at a time, so a bad batch fails alone, with
    its own error, and the others are stored.
    """

    def __init__(self, write: Callable[[Sequence[_Save]], list[list[SaveResult]]]) -> None:
        self._write = write
        self._queued: list[_Save] = []
        self._queue_lock = threading.Lock()
        self._turn = threading.Lock()

    def submit(self, save: _Save) -> list[SaveResult]:
        with self._queue_lock:
            self._queued.append(save)
        with self._turn:
            if not save.done:
                with self._queue_lock:
                    group, self._queued = self._queued, []
                self._run(group)
        if save.error is not None:
            raise save.error
        assert save.results is not None
        return save.results

    def _run(self, group: list[_Save]) -> None:
        try:
            if len(group) == 1 or not self._together(group):
                for save in group:
                    self._alone(save)
        finally:
            for save in group:  # interrupted (KeyboardInterrupt, SystemExit): not written
                if not save.done:
                    save.error = RuntimeError("the save was interrupted before its commit")

    def _together(self, group: list[_Save]) -> bool:
        try:
            written = self._write(group)
        except Exception:  # noqa: BLE001 - retried one by one: the faulty save raises its own
            return False
        for save, results in zip(group, written, strict=True):
            save.results = results
        return True

    def _alone(self, save: _Save) -> None:
        try:
            [save.results] = self._write([save])
        except Exception as exc:  # noqa: BLE001 - raised again in the thread that submitted it
            save.error = exc


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
        return SaveResult(Outcome.UNCHANGED, item.first_seen_at, item.story_id)
    batch.update_in_place(connection, item, data, summary, now)
    stored[data.guid] = replace(item, content_hash=data.content_hash)
    return SaveResult(Outcome.UPDATED, item.first_seen_at, item.story_id)


def _apply(connection: Connection, source_id: int, state: SourceUpdate) -> None:
    """Write a source's new state: one UPDATE, no ORM object loaded and flushed."""
    values: dict[str, Any] = {
        "last_checked_at": state.checked_at,
        "lease_owner": None,
        "lease_until": None,
    }
    if state.error is None:
        values.update(last_success_at=state.checked_at, error_count=0)
    else:
        values["error_count"] = Source.error_count + 1
    if state.error or state.warning:
        values.update(last_error=state.error or state.warning, last_error_at=state.checked_at)
    if state.title:
        values["title"] = state.title
    if state.site_url:
        values["site_url"] = state.site_url
    if state.moved_to:
        values["url"] = state.moved_to
    if state.validators:
        values.update(etag=state.etag, last_modified=state.last_modified)
    if state.status is not None:
        values["last_status"] = state.status
    if state.next_check_at is not None:
        values["next_check_at"] = state.next_check_at
    if state.retired_reason is not None:
        values.update(retired_at=state.checked_at, retired_reason=state.retired_reason)
    written = connection.execute(update(Source).where(Source.id == source_id).values(values))
    if written.rowcount != 1:
        raise NoResultFound(f"no source with id {source_id}")


def _state(source: Source, items: int | None) -> SourceState:
    return SourceState(
        id=source.id,
        kind=source.kind,
        url=source.url,
        title=source.title,
        items=items,
        last_success_at=source.last_success_at,
        last_error=source.last_error,
        error_count=source.error_count,
        site_url=source.site_url,
        etag=source.etag,
        last_modified=source.last_modified,
        interval_seconds=source.interval_seconds,
        full_text=source.full_text,
        last_checked_at=source.last_checked_at,
        next_check_at=source.next_check_at,
        last_status=source.last_status,
        retired_at=source.retired_at,
        retired_reason=source.retired_reason,
    )


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
