"""A feed's boilerplate: the keys of the paragraphs it repeats in most of its items,
left out of what is fingerprinted.

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feed_boilerplate",
        sa.Column(
            "source_id",
            sa.Integer,
            sa.ForeignKey("sources.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("paragraph_key", sa.BigInteger, primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("feed_boilerplate")
