"""What tests read and write around ``Storage``'s API: one item saved at a time, raw
reads of the tables, the days with a digest."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import ItemData, SaveResult, Storage, SummaryData
from storage.models import Digest


def save_item(
    storage: Storage, source_id: int, data: ItemData, summary: SummaryData, now: datetime
) -> SaveResult:
    """Save one item, as a feed's pass saves its batch."""
    [result] = storage.save_items(source_id, [(data, summary)], now=now)
    return result


def raw_session(storage: Storage) -> Session:
    """A session on *storage*'s database, for reading what the API does not show."""
    return Session(storage.engine, expire_on_commit=False)


def digest_days(storage: Storage) -> list[date]:
    """Days whose digest has been written, oldest first."""
    with raw_session(storage) as reading:
        return list(reading.scalars(select(Digest.day).order_by(Digest.day)))
