"""Items dated more than a day after they were first seen take their first-seen time.

New items get this at ingest (``ingest.dates.believable``: a date more than a day after
the fetch is a mistake in the feed, not news from tomorrow); items stored before that
rule kept dates such as a feed's "2035-08-19", which the front page would show for
years. The day here must stay equal to ``ingest.dates.FUTURE_TOLERANCE`` (storage
imports nothing of the pipeline).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Both columns hold naive UTC (storage.models.UTCDateTime) on both backends.
_LATER_THAN_A_DAY = {
    "sqlite": "published_at > datetime(first_seen_at, '+1 day')",
    "postgresql": "published_at > first_seen_at + interval '1 day'",
}


def upgrade() -> None:
    condition = _LATER_THAN_A_DAY[op.get_bind().dialect.name]
    op.execute(f"UPDATE items SET published_at = first_seen_at WHERE {condition}")


def downgrade() -> None:
    # The dates replaced were wrong; nothing to put back.
    pass
