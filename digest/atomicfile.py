"""Replace a file's contents all at once, so readers never see half of it.

Digests and the feed are served straight from disk (a web server, a feed reader polling
``feed.xml``); a crash or a full disk while writing must leave the previous version in
place rather than a truncated one.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

# mkstemp creates files readable by the owner only; published files are meant to be read
# by a web server running as someone else.
NEW_FILE_MODE = 0o644

ABANDONED_AFTER_SECONDS = 3600.0
"""A temporary file this old was left by a writer killed before its rename (SIGKILL, a
power loss): a write takes milliseconds, so no live writer still owns it."""

# ``_replace``'s temporary names: ".{name}." + mkstemp's 8 random characters + ".tmp".
_TEMPORARY = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``data`` (text is UTF-8 encoded) to ``path``, replacing it atomically.

    The data goes to a temporary file in the same directory (``os.replace`` is only atomic
    within one file system), is flushed and fsynced, then renamed over ``path``; the
    directory is fsynced so the rename itself survives a power loss. On any error the
    temporary file is removed and ``path`` is left as it was. An existing file keeps its
    permission bits; a new one gets ``NEW_FILE_MODE``.
    """
    write_all_atomic([(path, data)])


def write_all_atomic(files: Iterable[tuple[Path, str | bytes]]) -> None:
    """``write_atomic`` for each ``(path, data)`` in turn, fsyncing each directory once.

    A directory fsync costs a journal commit; a day's digest is three files in one
    directory, so its renames are made durable together, after the last one (also when
    a later file fails, so that the files already replaced stay replaced). Each file is
    replaced atomically; the files together are not.
    """
    directories: dict[Path, None] = {}  # an ordered set
    try:
        for path, data in files:
            _replace(path, data)
            directories[path.parent] = None
    finally:
        for directory in directories:
            _fsync_directory(directory)


def remove_abandoned(directory: Path) -> list[Path]:
    """Delete the temporary files killed writers left in *directory*; the deleted paths.

    Only names ``_replace`` makes and only files older than ``ABANDONED_AFTER_SECONDS``:
    another process may be writing into the same directory right now.
    """
    now = time.time()
    removed = []
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(directory):
            if not (_TEMPORARY.fullmatch(entry.name) and entry.is_file(follow_symlinks=False)):
                continue
            with contextlib.suppress(FileNotFoundError):  # removed by another process
                if now - entry.stat(follow_symlinks=False).st_mtime > ABANDONED_AFTER_SECONDS:
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


def _replace(path: Path, data: str | bytes) -> None:
    payload = data.encode("utf-8") if isinstance(data, str) else data
    mode = _mode_for(path)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(payload)
            tmp.flush()
            os.fchmod(tmp.fileno(), mode)
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        # BaseException too: a KeyboardInterrupt mid-write must not leave litter either.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def _mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        return NEW_FILE_MODE


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
