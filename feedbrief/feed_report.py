"""What ``feedbrief status --json`` and ``feedbrief feeds list --json`` print.

Scripts depend on these keys: they are documented in docs/operations.md ("Output for
scripts") and only ever added to, never renamed or removed. Times are ISO 8601 in UTC,
durations seconds; a value that is not known is null, never left out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from feedbrief.metrics import feed_state
from storage import Delivery, SourceState


def status_document(feeds: list[SourceState], items: int) -> dict[str, Any]:
    """One object: ``feeds`` (one object per feed) and ``summary`` (the counts)."""
    states = Counter(feed_state(feed) for feed in feeds)
    return {
        "feeds": [_feed_status(feed) for feed in feeds],
        "summary": {
            "feeds": len(feeds),
            "healthy": states["healthy"],
            "failing": states["failing"],
            "retired": states["retired"],
            "items": items,
        },
    }


def _feed_status(feed: SourceState) -> dict[str, Any]:
    return {
        "url": feed.url,
        "title": feed.title,
        "category": feed.category,
        "state": feed_state(feed),
        "items": feed.items,
        "last_success": _iso(feed.last_success_at),
        "last_checked": _iso(feed.last_checked_at),
        "last_status": feed.last_status,
        "last_error": feed.last_error,
        "error_count": feed.error_count,
        "next_check": _iso(feed.next_check_at),
        "retired": _iso(feed.retired_at),
        "retired_reason": feed.retired_reason,
    }


def email_status(
    to: Sequence[str], *, server: str, security: str, deliveries: list[Delivery]
) -> dict[str, Any]:
    """``status --json``'s ``email``: the recipients, the server, and the list's last
    days, newest first."""
    return {
        "to": list(to),
        "server": server,
        "security": security,
        "days": [_delivery_status(delivery) for delivery in deliveries],
    }


def _delivery_status(delivery: Delivery) -> dict[str, Any]:
    return {
        "day": delivery.day.isoformat(),
        "state": delivery.state,
        "attempts": delivery.attempts,
        "sent_at": _iso(delivery.sent_at),
        "message_id": delivery.message_id,
        "refused": dict(delivery.refused),
        "last_error": delivery.last_error,
        "next_attempt": _iso(delivery.next_attempt_at),
        "claimed_by": delivery.claimed_by if delivery.state == "sending" else None,
    }


def feed_listing(feeds: list[SourceState]) -> list[dict[str, Any]]:
    """One object per subscription: the URL and the feed's own options."""
    return [
        {
            "url": feed.url,
            "title": feed.title,
            "category": feed.category,
            "interval": feed.interval_seconds,
            "full_text": feed.full_text,
            "weight": feed.weight,
            "block": feed.block,
            "keep": feed.keep,
            "retired": feed.retired_at is not None,
        }
        for feed in feeds
    ]


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()
