"""Relinking a database's stories with the current rules: ``feedbrief relink``.

Stories are decided when an item is saved, so a database keeps the links the rules of
its day made (one feed's episodes merged by a shared footer, say). Relinking first gives
every item from the chosen day on the fingerprint the current rules make (its feed's
boilerplate left out, decided from the feed's last stored items), then decides every
such item's story again in the order the items were stored (``storage.relink``). Items
are never added or removed; only their stories change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog

from dedup import boilerplate
from dedup.fingerprint import encode, fingerprint
from storage import Storage
from storage.relink import Fingerprinted, ItemText

log = structlog.get_logger(__name__)

RECENT_ITEMS = 50
"""A feed's last stored items that say what it repeats: about two or three documents'
worth of a typical feed, as a refresh decides from one document."""


@dataclass(frozen=True, slots=True)
class RelinkReport:
    items_before: int
    items_after: int
    relinked: int  # items whose story was decided again
    moved: int  # of those, items now in another story
    split: int  # stories whose items are now in several
    merged: int  # stories now holding items of several

    def line(self) -> str:
        return (
            f"{self.relinked} items relinked: {self.split} stories split, {self.merged} "
            f"merged, {self.moved} items moved; {self.items_before} items before, "
            f"{self.items_after} after"
        )


def relink_database(
    storage: Storage, since: datetime | None = None, batch: int = 500
) -> RelinkReport:
    """New fingerprints and stories for the items first seen at or after *since* (all
    items without it), *batch* items per transaction."""
    before = storage.count_items()
    start = storage.first_item_since(since)
    if start is None:
        return RelinkReport(before, before, 0, 0, 0, 0)
    lines_of: dict[int, frozenset[int]] = {}
    for texts in storage.item_texts(start, batch):
        storage.write_fingerprints(
            [
                _fingerprinted(item, _boilerplate(storage, item.source_id, lines_of))
                for item in texts
            ]
        )
    relinked = storage.relink_stories(start, batch)
    report = RelinkReport(
        before,
        storage.count_items(),
        relinked.items,
        relinked.moved,
        relinked.split,
        relinked.merged,
    )
    log.info(
        "stories.relinked",
        since=since,
        items=report.relinked,
        moved=report.moved,
        split=report.split,
        merged=report.merged,
        items_before=report.items_before,
        items_after=report.items_after,
    )
    return report


def _boilerplate(
    storage: Storage, source_id: int, known: dict[int, frozenset[int]]
) -> frozenset[int]:
    """The source's boilerplate from its last stored items, decided once per relink and
    written as its record."""
    if source_id not in known:
        record = storage.boilerplate(source_id)
        lines = boilerplate.decide(storage.recent_texts(source_id, RECENT_ITEMS), record)
        if lines != record:
            storage.set_boilerplate(source_id, lines)
        known[source_id] = lines
    return known[source_id]


def _fingerprinted(item: ItemText, lines: frozenset[int]) -> Fingerprinted:
    fp = fingerprint(boilerplate.strip(item.text, lines))
    return Fingerprinted(item.id, encode(fp) if fp else None, fp.band_keys if fp else ())
