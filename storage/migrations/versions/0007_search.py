"""Full-text search over items' titles and texts: an FTS5 table kept in step by
triggers on SQLite, a stored tsvector column with a GIN index on PostgreSQL. Existing
items are indexed here.

SQLite: a later migration that rebuilds the items table (batch mode copies it) drops
its triggers with it, and must create them again (``_SQLITE_TRIGGERS``).

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.fulltext import (
    FTS5_TABLE,
    PG_CONFIG_FUNCTION,
    PG_VECTOR_COLUMN,
    PG_VECTOR_INDEX,
    pg_config_function,
    pg_search_vector,
)

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# porter: "elections" finds "election"; remove_diacritics 2: "cafe" finds "café".
_SQLITE_TABLE = f"""
CREATE VIRTUAL TABLE {FTS5_TABLE} USING fts5(
  title, text, content='items', content_rowid='id',
  tokenize='porter unicode61 remove_diacritics 2'
)"""
_DELETE_OLD = (
    f"INSERT INTO {FTS5_TABLE}({FTS5_TABLE}, rowid, title, text) "
    "VALUES ('delete', old.id, old.title, old.text);"
)
_INSERT_NEW = f"INSERT INTO {FTS5_TABLE}(rowid, title, text) VALUES (new.id, new.title, new.text);"
_SQLITE_TRIGGERS = {
    f"{FTS5_TABLE}_insert": f"AFTER INSERT ON items BEGIN {_INSERT_NEW} END",
    f"{FTS5_TABLE}_delete": f"AFTER DELETE ON items BEGIN {_DELETE_OLD} END",
    f"{FTS5_TABLE}_update": (
        f"AFTER UPDATE OF title, text ON items BEGIN {_DELETE_OLD} {_INSERT_NEW} END"
    ),
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
        return
    op.execute(_SQLITE_TABLE)
    for name, body in _SQLITE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")
    op.execute(f"INSERT INTO {FTS5_TABLE}({FTS5_TABLE}) VALUES ('rebuild')")


def _upgrade_postgresql() -> None:
    available = set(op.get_bind().execute(sa.text("SELECT cfgname FROM pg_ts_config")).scalars())
    op.execute(pg_config_function(available))
    # A stored generated column: computed for every existing item here, and by the
    # database on every insert and update after.
    op.execute(
        f"ALTER TABLE items ADD COLUMN {PG_VECTOR_COLUMN} tsvector "
        f"GENERATED ALWAYS AS ({pg_search_vector()}) STORED"
    )
    op.execute(f"CREATE INDEX {PG_VECTOR_INDEX} ON items USING gin ({PG_VECTOR_COLUMN})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX {PG_VECTOR_INDEX}")
        op.execute(f"ALTER TABLE items DROP COLUMN {PG_VECTOR_COLUMN}")
        op.execute(f"DROP FUNCTION {PG_CONFIG_FUNCTION}(text)")
        return
    for name in _SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER {name}")
    op.execute(f"DROP TABLE {FTS5_TABLE}")
