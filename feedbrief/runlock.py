"""One ``feedbrief run`` per SQLite database.

SQLite has one writer at a time and no row locks to share feeds between workers, so a
second service on the same file would only fight the first for the write lock. Several
workers are for PostgreSQL, where leases share the feeds; there no lock is taken.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url


class RunLocked(Exception):
    """Another ``feedbrief run`` holds the database; the message names the lock."""


def lock_path(database_url: str) -> Path | None:
    """The lock file of a SQLite database file, or None where no lock is needed."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(f"{url.database}.run.lock")


@contextmanager
def run_lock(database_url: str) -> Iterator[None]:
    path = lock_path(database_url)
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise RunLocked(
                f"another feedbrief run (pid {holder}) holds the lock {path}; "
                "SQLite takes one service at a time (use PostgreSQL for several workers)"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
