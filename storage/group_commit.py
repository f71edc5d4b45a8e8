"""Group commit: saves from several threads written in one transaction.

Feed threads finish their parsing at about the same time and then queue for the one
writer SQLite allows. Committed one by one, each feed would pay for its own transaction:
the commit itself, and every index page it touched written to the WAL again (a feed's
band keys, 32 per item, land on pages all over their index). ``GroupCommit`` lets the
thread whose turn comes write every save queued so far in one transaction; the others
find theirs done when their turn comes. No save waits longer than it would alone: it is
written by the first writer free after it was queued.

A group that fails is retried one save at a time, so a bad batch fails alone, with its
own error, and the others are stored. This module knows nothing of the database: it is
handed the function that writes a group.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.records import ItemData, SaveResult, SourceUpdate, SummaryData


@dataclass(slots=True, eq=False)
class Save:
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


class GroupCommit:
    """Saves from several threads written in one transaction (see the module's doc).

    *write* stores a group of saves in one transaction and returns each save's results,
    in order; it raises if the transaction failed.
    """

    def __init__(self, write: Callable[[Sequence[Save]], list[list[SaveResult]]]) -> None:
        self._write = write
        self._queued: list[Save] = []
        self._queue_lock = threading.Lock()
        self._turn = threading.Lock()

    def submit(self, save: Save) -> list[SaveResult]:
        """Queue *save*, see it written (by this thread or another), return its results
        or raise its error."""
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

    def _run(self, group: list[Save]) -> None:
        try:
            if len(group) == 1 or not self._together(group):
                for save in group:
                    self._alone(save)
        finally:
            for save in group:  # interrupted (KeyboardInterrupt, SystemExit): not written
                if not save.done:
                    save.error = RuntimeError("the save was interrupted before its commit")

    def _together(self, group: list[Save]) -> bool:
        try:
            written = self._write(group)
        except Exception:  # noqa: BLE001 - retried one by one: the faulty save raises its own
            return False
        for save, results in zip(group, written, strict=True):
            save.results = results
        return True

    def _alone(self, save: Save) -> None:
        try:
            [save.results] = self._write([save])
        except Exception as exc:  # noqa: BLE001 - raised again in the thread that submitted it
            save.error = exc
