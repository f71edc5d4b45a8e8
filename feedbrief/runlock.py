"""One ``feedbrief run`` per SQLite database.

SQLite has one writer at a time and no row locks to share feeds between workers, so a
second service on the same file would only fight the first for the write lock (and, as
each takes the other's leases for stale, release them). Several workers are for
PostgreSQL, where leases share the feeds; there no lock is taken.

The lock belongs to the database *file*, not to the path a configuration spells: a
symlink, a relative path or ``..`` resolves to the same lock, and a hard link beside it
(another name for the same device and inode) meets a second lock named by device and
inode. A hard link in another directory is not caught: SQLite names its journal after
the path, so to SQLite that is a second database, and using both corrupts the file
(https://www.sqlite.org/howtocorrupt.html, "multiple links to the same file").
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url


class RunLocked(Exception):
    """Another ``feedbrief run`` holds the database; the message names the lock."""


def database_file(database_url: str) -> Path | None:
    """The real path of a SQLite database file, or None where no lock is needed."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(os.path.realpath(url.database))


def lock_path(database_url: str) -> Path | None:
    """The lock file of a SQLite database file, named after its real path."""
    database = database_file(database_url)
    return None if database is None else Path(f"{database}.run.lock")


def inode_lock_path(database: Path) -> Path:
    """The lock every name of *database* (an existing file) shares: its device and inode."""
    stat = database.stat()
    return database.parent / f".feedbrief-{stat.st_dev:x}-{stat.st_ino:x}.run.lock"


@contextmanager
def run_lock(database_url: str) -> Iterator[None]:
    database = database_file(database_url)
    if database is None:
        yield
        return
    database.parent.mkdir(parents=True, exist_ok=True)
    # An empty file is a valid new SQLite database; creating it now gives the file its
    # inode before anyone can link a second name to it.
    with database.open("ab"):
        pass
    with ExitStack() as held:
        for path in (Path(f"{database}.run.lock"), inode_lock_path(database)):
            held.enter_context(_flock(path))
        yield


# The descriptors of the locks this process holds. A child forked meanwhile (a worker
# process) gets copies of them, which would keep a lock held after this process dies,
# until the child exits too; in the child they are pointed at /dev/null instead.
_held: set[int] = set()


def _let_go_of_inherited_locks() -> None:
    if not _held:
        return
    null = os.open(os.devnull, os.O_RDONLY)
    for descriptor in _held:
        os.dup2(null, descriptor, inheritable=False)
    os.close(null)
    _held.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_let_go_of_inherited_locks)


@contextmanager
def _flock(path: Path) -> Iterator[None]:
    with path.open("a+") as handle:
        _take(handle, path)
        _held.add(handle.fileno())
        try:
            yield
        finally:
            _held.discard(handle.fileno())
            fcntl.flock(handle, fcntl.LOCK_UN)


def _take(handle: IO[str], path: Path) -> None:
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
