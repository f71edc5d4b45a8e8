"""Persistence: SQLAlchemy models, engine set-up, migrations and the ``Storage`` class.

This package imports nothing from ``ingest`` or ``summarise``: it stores plain data.
``Storage`` (``store.py``) is composed of one mixin per domain: ``sources.py`` (sources
and leases), ``items.py`` (saving, export, pruning), ``stories.py`` (story reads),
``digests.py``, ``deliveries.py`` (email deliveries and their claims), ``workers.py``
(ticks and cluster-wide locks), ``relink.py`` (stories decided again) and ``search.py``
(full-text search, whose query language is ``fulltext.py``); ``group_commit.py`` shares
one transaction among threads saving at once, ``batch.py`` holds the set-based writes of
a save, and ``records.py`` the plain data that goes in and out.
"""

from storage.records import (
    Claim,
    Delivery,
    FeedOptions,
    ItemData,
    SaveOutcome,
    SaveResult,
    SearchHit,
    SourceState,
    SourceUpdate,
    StoredItem,
    StoryItem,
    StoryRow,
    SummaryData,
)
from storage.store import Storage

__all__ = [
    "Claim",
    "Delivery",
    "FeedOptions",
    "ItemData",
    "SaveOutcome",
    "SaveResult",
    "SearchHit",
    "SourceState",
    "SourceUpdate",
    "Storage",
    "StoredItem",
    "StoryItem",
    "StoryRow",
    "SummaryData",
]
