"""Digests: which days' digests have been written, when, and with how many stories.

The digest files themselves are written by ``digest``; the row is the record that the
day is done.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage.models import Digest


class DigestsMixin:
    """The digests part of ``Storage``."""

    # Set up by Storage.__init__.
    _reader: sessionmaker[Session]
    _write: Callable[[], AbstractContextManager[Session]]

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

    def digest_generated_at(self, day: date) -> datetime | None:
        """When *day*'s digest was last written, or None if it never was."""
        with self._reader() as session:
            return session.scalar(select(Digest.generated_at).where(Digest.day == day))

    def digest_days(self, after: date | None, until: date) -> list[date]:
        """The days after *after* (None: any) up to and including *until* whose digest
        was written, oldest first."""
        query = select(Digest.day).where(Digest.day <= until).order_by(Digest.day)
        if after is not None:
            query = query.where(Digest.day > after)
        with self._reader() as session:
            return list(session.scalars(query))
