"""What story linking and tombstones share: the matcher's type, the candidate bound, and
the keys that keep deleted items away.

Storage does not know how fingerprints are made or compared: the caller injects a
:data:`StoryMatcher`, so the rule lives in ``ingest`` and storage only runs the indexed
candidate lookups (``storage.batch``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Tombstone

StoryMatcher = Callable[[bytes, bytes], float | None]
"""``matcher(new, candidate)`` -> similarity if the fingerprints are the same story, else None."""

# Candidates confirmed per new item. Items sharing a band key are rarely more than a
# handful; boilerplate shared by many (a syndication footer) can raise it, and past this
# bound the best match is almost surely already among the first ones read.
MAX_CANDIDATES = 200


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
