"""The one class through which the rest of feedbrief reads and writes the database."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, func, null, select
from sqlalchemy.orm import Session, joinedload, sessionmaker

from storage import database
from storage.models import Digest, Item, Source, Summary, Worker


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


class Storage:
    """Typed access to sources, items, summaries and digests.

    Every write method is one transaction: an item and its summary are stored together
    or not at all, so a crash never leaves an item without its summary.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._session = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> Storage:
        engine = database.create_database_engine(url)
        if migrate:
            database.upgrade(engine)
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    # -- sources ---------------------------------------------------------------------

    def ensure_source(self, kind: str, url: str, title: str | None, now: datetime) -> int:
        with self._session.begin() as session:
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
        with self._session.begin() as session:
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
        with self._session.begin() as session:
            source = session.scalar(select(Source).where(Source.url == url))
            if source is None:
                return False
            session.delete(source)
            return True

    def source(self, url: str) -> SourceState | None:
        return next((s for s in self._states(Source.url == url)), None)

    def due_feeds(self, now: datetime, limit: int = 1000) -> list[SourceState]:
        """Feeds whose next check has come, oldest due first; retired feeds never."""
        return self._states(
            Source.kind == "feed",
            Source.retired_at.is_(None),
            (Source.next_check_at.is_(None)) | (Source.next_check_at <= now),
            order=Source.next_check_at,
            limit=limit,
        )

    def recent_published(self, source_id: int, since: datetime) -> list[datetime]:
        """When the source's recent items were published (or first seen), for its
        adaptive polling interval."""
        moment = func.coalesce(Item.published_at, Item.first_seen_at)
        with self._session() as session:
            return list(
                session.scalars(
                    select(moment).where(Item.source_id == source_id, moment >= since)
                )
            )

    def update_source(self, source_id: int, update: SourceUpdate) -> None:
        with self._session.begin() as session:
            _apply(session.get_one(Source, source_id), update)

    def sources(self, kind: str | None = None) -> list[SourceState]:
        """Every source (of *kind*), with its item count."""
        return self._states(*([Source.kind == kind] if kind else []), count=True)

    def _states(
        self, *where: Any, order: Any = None, limit: int | None = None, count: bool = False
    ) -> list[SourceState]:
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
        query = (
            query.where(*where)
            .order_by(order if order is not None else Source.url, Source.id)
            .limit(limit)
        )
        with self._session() as session:
            return [_state(source, n) for source, n in session.execute(query)]

    # -- items -----------------------------------------------------------------------

    def content_hashes(self, source_id: int, guids: Sequence[str]) -> dict[str, str]:
        """Stored hashes by guid, so callers summarise only what changed."""
        found: dict[str, str] = {}
        with self._session() as session:
            for start in range(0, len(guids), _IN_BATCH):
                chunk = guids[start : start + _IN_BATCH]
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
    ) -> list[tuple[Outcome, datetime]]:
        """Insert or update items with their summaries, and the source's new state, in
        one transaction: a crash leaves all of it or none of it.

        Returns, per item, the outcome and the item's first-seen time (the day whose
        digest shows it).
        """
        now = now or (update.checked_at if update else None)
        if now is None:
            raise ValueError("save_items needs now= or an update")
        with self._session.begin() as session:
            results = [_save(session, source_id, data, summary, now) for data, summary in items]
            if update is not None:
                _apply(session.get_one(Source, source_id), update)
            return results

    def save_item(
        self, source_id: int, data: ItemData, summary: SummaryData, now: datetime
    ) -> tuple[Outcome, datetime]:
        [result] = self.save_items(source_id, [(data, summary)], now=now)
        return result

    def items_first_seen(self, start: datetime, end: datetime) -> list[StoredItem]:
        """Items first seen in ``[start, end)``, oldest first (ties by id: deterministic)."""
        query = (
            self._item_query()
            .where(Item.first_seen_at >= start, Item.first_seen_at < end)
            .order_by(Item.first_seen_at, Item.id)
        )
        with self._session() as session:
            return [_stored(item) for item in session.scalars(query)]

    def iter_items(self, since: datetime | None = None, batch: int = 500) -> Iterator[StoredItem]:
        """Every item (first seen at or after *since*), by id, in batches of *batch*."""
        last_id = 0
        while True:
            query = self._item_query().where(Item.id > last_id).order_by(Item.id).limit(batch)
            if since is not None:
                query = query.where(Item.first_seen_at >= since)
            with self._session() as session:
                rows = [_stored(item) for item in session.scalars(query)]
            if not rows:
                return
            yield from rows
            last_id = rows[-1].id

    def count_items(self) -> int:
        with self._session() as session:
            return session.scalar(select(func.count(Item.id))) or 0

    @staticmethod
    def _item_query():  # type: ignore[no-untyped-def]
        return select(Item).options(joinedload(Item.summary), joinedload(Item.source))

    # -- digests ---------------------------------------------------------------------

    def record_digest(self, day: date, generated_at: datetime, tz: str, stories: int) -> None:
        with self._session.begin() as session:
            digest = session.get(Digest, day) or Digest(day=day)
            digest.generated_at = generated_at
            digest.timezone = tz
            digest.story_count = stories
            session.add(digest)

    def digest_days(self) -> list[date]:
        with self._session() as session:
            return list(session.scalars(select(Digest.day).order_by(Digest.day)))

    # -- workers ---------------------------------------------------------------------

    def record_tick(self, worker: str, now: datetime) -> None:
        """Note that *worker*'s ticker fired; ``serve``'s health check reads it."""
        with self._session.begin() as session:
            row = session.get(Worker, worker)
            if row is None:
                session.add(Worker(name=worker, started_at=now, last_tick_at=now))
            else:
                row.last_tick_at = now

    def last_tick(self) -> datetime | None:
        """The most recent tick of any worker."""
        with self._session() as session:
            return session.scalar(select(func.max(Worker.last_tick_at)))

    def ping(self) -> None:
        """Raise if the database does not answer."""
        with self.engine.connect() as connection:
            connection.execute(select(1))

    def session(self) -> Session:
        """A raw session, for tests and one-off maintenance only."""
        return self._session()


# Bound on the number of values in one IN (...) list; SQLite allows 32,766 variables.
_IN_BATCH = 500


def _save(
    session: Session, source_id: int, data: ItemData, summary: SummaryData, now: datetime
) -> tuple[Outcome, datetime]:
    item = session.scalar(
        select(Item)
        .where(Item.source_id == source_id, Item.guid == data.guid)
        .options(joinedload(Item.summary))
    )
    if item is not None and item.content_hash == data.content_hash:
        return Outcome.UNCHANGED, item.first_seen_at
    if item is None:
        item = Item(source_id=source_id, guid=data.guid, first_seen_at=now, version=1)
        session.add(item)
        outcome = Outcome.NEW
    else:
        item.version += 1
        outcome = Outcome.UPDATED
    item.url = data.url
    item.title = data.title
    item.author = data.author
    item.published_at = data.published_at
    item.language = data.language
    item.text = data.text
    item.content_hash = data.content_hash
    item.updated_at = now
    item.summary = Summary(
        algorithm=summary.algorithm,
        sentences=list(summary.sentences),
        content_hash=data.content_hash,
        created_at=now,
    )
    session.flush()
    return outcome, item.first_seen_at


def _apply(source: Source, update: SourceUpdate) -> None:
    source.last_checked_at = update.checked_at
    if update.error is None:
        source.last_success_at = update.checked_at
        source.error_count = 0
    else:
        source.error_count += 1
    if update.error or update.warning:
        source.last_error = update.error or update.warning
        source.last_error_at = update.checked_at
    if update.title:
        source.title = update.title
    if update.site_url:
        source.site_url = update.site_url
    if update.moved_to:
        source.url = update.moved_to
    if update.validators:
        source.etag = update.etag
        source.last_modified = update.last_modified
    if update.status is not None:
        source.last_status = update.status
    if update.next_check_at is not None:
        source.next_check_at = update.next_check_at
    if update.retired_reason is not None:
        source.retired_at = update.checked_at
        source.retired_reason = update.retired_reason


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
    )
