"""What one pass did to an item, a seed file or a feed: one enum, one spelling of each.

The pipeline, the service, the metrics and the CLI all speak of outcomes in these words,
and the values are what users and scrapers see: the result column of ``feedbrief feeds
refresh`` and ``feedbrief replay``, and the ``outcome`` label of
``feedbrief_fetches_total``. A value is therefore never renamed lightly.

Storage reports an item's outcome as the same strings (``"new"``, ``"updated"``, ...),
so a stored item's outcome compares equal to the member here whichever enum it came in.
"""

from __future__ import annotations

import enum


class Outcome(enum.StrEnum):
    # An item stored, or a seed file replayed (the most telling of its items' outcomes).
    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    BURIED = "buried"  # deleted or pruned before: its tombstone keeps it out
    # A feed refreshed.
    OK = "ok"
    NOT_MODIFIED = "not_modified"  # a 304: nothing to parse
    GONE = "gone"  # a 410: the feed is retired
    # Any of them.
    ERROR = "error"
    SKIPPED = "skipped"  # a seed file of a kind that is not read
    STOPPED = "stopped"  # a stop cut the work short: nothing recorded, done on the next run


FEED_OUTCOMES: tuple[Outcome, ...] = (
    Outcome.OK,
    Outcome.NOT_MODIFIED,
    Outcome.ERROR,
    Outcome.GONE,
)
"""The outcomes of refreshing a feed (and of fetching one, which the metrics count)."""
