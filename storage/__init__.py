"""Persistence: SQLAlchemy models, engine set-up, migrations and the ``Storage`` class.

This package imports nothing from ``ingest`` or ``summarise``: it stores plain data.
"""

from storage.store import (
    ItemData,
    Outcome,
    SaveResult,
    SourceState,
    SourceUpdate,
    Storage,
    StoredItem,
    StoryItem,
    StoryRow,
    SummaryData,
)

__all__ = [
    "ItemData",
    "Outcome",
    "SaveResult",
    "SourceState",
    "SourceUpdate",
    "Storage",
    "StoredItem",
    "StoryItem",
    "StoryRow",
    "SummaryData",
]
