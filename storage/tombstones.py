"""Tombstones: the keys that keep deleted items away when their feed still lists them.

An item's key is its source and guid, and its canonical URL; a pruned or deleted item
leaves both behind, so neither the feed nor a copy at the same address brings it back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Tombstone


def tombstone_keys(source_url: str, guid: str, canonical_url: str | None) -> list[str]:
    keys = [_digest(f"item\0{source_url}\0{guid}")]
    if canonical_url:
        keys.append(_digest(f"url\0{canonical_url}"))
    return keys


def bury(session: Session, keys: Sequence[str], now: datetime) -> None:
    known = set(session.scalars(select(Tombstone.key).where(Tombstone.key.in_(keys))))
    session.add_all(
        Tombstone(key=key, created_at=now) for key in dict.fromkeys(keys) if key not in known
    )


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
