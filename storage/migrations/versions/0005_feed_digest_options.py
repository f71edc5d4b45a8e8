"""A feed's digest options: its category (the front page's section), its ranking weight,
and its own block/keep patterns.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("category", sa.Text))
        batch.add_column(sa.Column("weight", sa.Float, nullable=False, server_default="1"))
        batch.add_column(sa.Column("block", sa.Text))
        batch.add_column(sa.Column("keep", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("keep")
        batch.drop_column("block")
        batch.drop_column("weight")
        batch.drop_column("category")
