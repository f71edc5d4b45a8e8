"""Stories (near-duplicates across sources), canonical URLs, LSH band keys, tombstones,
and feed leases for several workers.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stories",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("first_seen_at", UTCDateTime, nullable=False),
        sa.Column("lead_item_id", sa.Integer),
    )
    op.create_index("ix_stories_first_seen_at", "stories", ["first_seen_at"])
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("canonical_url", sa.Text))
        batch.add_column(sa.Column("fingerprint", sa.LargeBinary))
        batch.add_column(
            sa.Column(
                "story_id",
                sa.Integer,
                sa.ForeignKey("stories.id", name="fk_items_story_id", ondelete="SET NULL"),
            )
        )
    op.create_index("ix_items_canonical_url", "items", ["canonical_url"])
    op.create_index("ix_items_content_hash", "items", ["content_hash"])
    op.create_index("ix_items_story_id", "items", ["story_id"])
    op.create_table(
        "item_bands",
        sa.Column("band_key", sa.BigInteger, primary_key=True),
        sa.Column(
            "item_id",
            sa.Integer,
            sa.ForeignKey("items.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_index("ix_item_bands_item_id", "item_bands", ["item_id"])
    op.create_table(
        "tombstones",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(200)))
        batch.add_column(sa.Column("lease_until", UTCDateTime))
    _backfill_stories()


def _backfill_stories() -> None:
    """Items stored before stories existed each become a story of their own."""
    op.execute(
        "INSERT INTO stories (id, first_seen_at, lead_item_id) "
        "SELECT id, first_seen_at, id FROM items"
    )
    op.execute("UPDATE items SET story_id = id")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "SELECT setval(pg_get_serial_sequence('stories', 'id'), "
            "COALESCE((SELECT MAX(id) FROM stories), 0) + 1, false)"
        )


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("lease_owner")
    op.drop_table("tombstones")
    op.drop_index("ix_item_bands_item_id", table_name="item_bands")
    op.drop_table("item_bands")
    op.drop_index("ix_items_story_id", table_name="items")
    op.drop_index("ix_items_content_hash", table_name="items")
    op.drop_index("ix_items_canonical_url", table_name="items")
    with op.batch_alter_table("items") as batch:
        batch.drop_constraint("fk_items_story_id", type_="foreignkey")
        batch.drop_column("story_id")
        batch.drop_column("fingerprint")
        batch.drop_column("canonical_url")
    op.drop_index("ix_stories_first_seen_at", table_name="stories")
    op.drop_table("stories")
