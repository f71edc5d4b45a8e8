"""Email deliveries: which day's digest was mailed to which recipient list, and the
claim a worker holds while it sends.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "email_deliveries",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("recipients", sa.String(64), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("claimed_at", UTCDateTime, nullable=False),
        sa.Column("claimed_by", sa.String(200), nullable=False),
        sa.Column("sent_at", UTCDateTime),
        sa.Column("message_id", sa.Text),
        sa.Column("last_error", sa.Text),
        sa.Column("next_attempt_at", UTCDateTime),
    )


def downgrade() -> None:
    op.drop_table("email_deliveries")
