"""Workers: each worker's ticks (what ``serve``'s health check reads) and the
cluster-wide locks that let one process at a time do a job."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from storage.models import Worker


class WorkersMixin:
    """The workers part of ``Storage``."""

    # Set up by Storage.__init__.
    engine: Engine
    dialect: str
    _reader: sessionmaker[Session]
    _write: Callable[[], AbstractContextManager[Session]]

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
