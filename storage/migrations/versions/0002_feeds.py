"""Feed state on sources: HTTP validators, schedule, retirement.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("site_url", sa.Text))
        batch.add_column(sa.Column("etag", sa.Text))
        batch.add_column(sa.Column("last_modified", sa.Text))
        batch.add_column(sa.Column("interval_seconds", sa.Integer))
        batch.add_column(
            sa.Column("full_text", sa.Boolean, nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("last_checked_at", UTCDateTime))
        batch.add_column(sa.Column("next_check_at", UTCDateTime))
        batch.add_column(sa.Column("last_status", sa.Integer))
        batch.add_column(sa.Column("retired_at", UTCDateTime))
        batch.add_column(sa.Column("retired_reason", sa.Text))
    op.create_index("ix_sources_kind_next_check_at", "sources", ["kind", "next_check_at"])


def downgrade() -> None:
    op.drop_index("ix_sources_kind_next_check_at", table_name="sources")
    with op.batch_alter_table("sources") as batch:
        for column in (
            "retired_reason",
            "retired_at",
            "last_status",
            "next_check_at",
            "last_checked_at",
            "full_text",
            "interval_seconds",
            "last_modified",
            "etag",
            "site_url",
        ):
            batch.drop_column(column)
