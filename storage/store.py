"""The one class through which the rest of feedbrief reads and writes the database.

``Storage`` is composed of one mixin per domain (sources and leases, items, stories,
digests, email deliveries, workers and locks, search); this module sets up what they
share: the engine, the read and write sessions, the write turn and the group commit.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from storage import database
from storage.deliveries import DeliveriesMixin
from storage.digests import DigestsMixin
from storage.group_commit import GroupCommit
from storage.items import ItemsMixin
from storage.linker import StoryLinker, Unlinked
from storage.relink import RelinkMixin
from storage.search import SearchMixin
from storage.sources import SourcesMixin
from storage.stories import StoriesMixin
from storage.workers import WorkersMixin


class Storage(
    SourcesMixin,
    ItemsMixin,
    StoriesMixin,
    DigestsMixin,
    DeliveriesMixin,
    WorkersMixin,
    RelinkMixin,
    SearchMixin,
):
    """Typed access to sources, items, summaries and digests.

    Every write method is one transaction: an item and its summary are stored together
    or not at all, so a crash never leaves an item without its summary.
    """

    def __init__(self, engine: Engine, *, linker: StoryLinker | None = None) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name  # "sqlite" or "postgresql"
        # Without a linker every new item starts its own story.
        self.linker = linker or Unlinked()
        self._session = sessionmaker(engine, expire_on_commit=False)
        self._reader = sessionmaker(
            engine.execution_options(**{database.READ_ONLY: True}), expire_on_commit=False
        )
        # SQLite has one writer at a time. Threads of this process queue here and take
        # turns at once; left to SQLite's busy handler they would poll with sleeps of up
        # to 100 ms, and a pass of many small feed transactions would spend most of its
        # time asleep. (Other processes still queue on the busy handler.)
        self._write_turn = threading.RLock() if self.dialect == "sqlite" else None
        self._saves = GroupCommit(self._save_group)
        # Search: how many items hold a word, by word (SearchMixin._items_holding).
        self._word_counts: dict[str, int] = {}

    @classmethod
    def open(cls, url: str, *, migrate: bool = True, linker: StoryLinker | None = None) -> Storage:
        engine = database.create_database_engine(url)
        if migrate:
            database.upgrade(engine)
        return cls(engine, linker=linker)

    def close(self) -> None:
        self.engine.dispose()

    def release_connections(self) -> None:
        """Close the pooled connections, for a process about to fork: its children must
        not share them. New ones are opened on next use. An in-memory database lives
        only in its connection, which is therefore kept."""
        if self.engine.url.database not in (None, "", ":memory:"):
            self.engine.dispose()

    def ping(self) -> None:
        """Raise if the database does not answer."""
        with self.engine.connect() as connection:
            connection.execute(select(1))

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """One write transaction: committed on leaving, rolled back on an exception."""
        with self._write_turn or nullcontext(), self._session.begin() as session:
            yield session
