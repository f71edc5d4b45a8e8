"""Sources: registering feeds and seeds, reading their state, leasing due feeds to workers
and writing a source's state after a pass."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any, Unpack

from sqlalchemy import ColumnElement, delete, func, insert, null, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import Session, sessionmaker

from storage.models import FeedBoilerplate, Item, Source
from storage.records import FeedOptions, SourceState, SourceUpdate

# FeedOptions keys whose column has another name.
_OPTION_COLUMNS = {"interval": "interval_seconds"}


class SourcesMixin:
    """The sources part of ``Storage``."""

    # Set up by Storage.__init__.
    dialect: str
    _reader: sessionmaker[Session]
    _write: Callable[[], AbstractContextManager[Session]]

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

    def add_feed(self, url: str, now: datetime, **options: Unpack[FeedOptions]) -> tuple[int, bool]:
        """Register a feed (due at once); for a known URL, update the options given and
        leave the others as they are.

        Returns the source id and whether it was new.
        """
        with self._write() as session:
            source = session.scalar(select(Source).where(Source.url == url))
            created = source is None
            if source is None:
                source = Source(kind="feed", url=url, added_at=now, error_count=0, weight=1.0)
                source.next_check_at = now
                session.add(source)
            for name, value in options.items():
                setattr(source, _OPTION_COLUMNS.get(name, name), value)
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
            .where(*_due_feeds(now))
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

    def any_feed_due(self, now: datetime) -> bool:
        """Whether :meth:`claim_due_feeds` would find a feed now: a pass with none to
        claim need not set up fetching and parsing at all."""
        with self._reader() as session:
            return session.scalar(select(Source.id).where(*_due_feeds(now)).limit(1)) is not None

    def release_leases(self, source_id: int | None = None) -> None:
        """End the leases of one feed, or of all feeds (when the caller knows that no
        other worker is alive, as under SQLite's run lock)."""
        query = update(Source).values(lease_owner=None, lease_until=None)
        if source_id is not None:
            query = query.where(Source.id == source_id)
        with self._write() as session:
            session.execute(query)

    def recent_published(self, source_id: int, since: datetime) -> list[datetime]:
        """When the source's recent items were published (or first seen), for its
        adaptive polling interval."""
        moment = func.coalesce(Item.published_at, Item.first_seen_at)
        with self._reader() as session:
            return list(
                session.scalars(select(moment).where(Item.source_id == source_id, moment >= since))
            )

    def boilerplate(self, source_id: int) -> frozenset[int]:
        """The keys of the paragraphs the source repeated in most of its items, as last
        recorded (see ``SourceUpdate.boilerplate``)."""
        query = select(FeedBoilerplate.paragraph_key).where(FeedBoilerplate.source_id == source_id)
        with self._reader() as session:
            return frozenset(session.scalars(query))

    def set_boilerplate(self, source_id: int, keys: frozenset[int]) -> None:
        """Replace the source's record of boilerplate paragraphs."""
        with self._write() as session:
            write_boilerplate(session.connection(), source_id, keys)

    def update_source(self, source_id: int, update: SourceUpdate) -> None:
        with self._write() as session:
            write_update(session.connection(), source_id, update)

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


def write_update(connection: Connection, source_id: int, state: SourceUpdate) -> None:
    """Write a source's new state, ending its lease: one UPDATE, no ORM object loaded and
    flushed. Raises ``NoResultFound`` when the source is gone."""
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
    if state.boilerplate is not None:
        write_boilerplate(connection, source_id, state.boilerplate)


def write_boilerplate(connection: Connection, source_id: int, keys: frozenset[int]) -> None:
    """Replace the source's record of boilerplate paragraphs."""
    connection.execute(delete(FeedBoilerplate).where(FeedBoilerplate.source_id == source_id))
    if keys:
        rows = [{"source_id": source_id, "paragraph_key": key} for key in sorted(keys)]
        connection.execute(insert(FeedBoilerplate), rows)


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
        category=source.category,
        weight=source.weight,
        block=source.block,
        keep=source.keep,
    )


def _due_feeds(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """The feeds to fetch at *now*: subscribed, their time come, leased to no one."""
    return (
        Source.kind == "feed",
        Source.retired_at.is_(None),
        (Source.next_check_at.is_(None)) | (Source.next_check_at <= now),
        (Source.lease_until.is_(None)) | (Source.lease_until <= now),
    )
