"""Full-text search over items' titles and texts: an FTS5 table kept in step by
triggers on SQLite; on PostgreSQL a narrow table of each item's tsvector with a GIN
index, kept in step by a trigger. Existing items are indexed here.

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
    FTS5_VOCAB_TABLE,
    PG_CONFIG_FUNCTION,
    PG_CONFIG_INDEX,
    PG_INDEX_FUNCTION,
    PG_SEARCH_TABLE,
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
    op.execute(f"CREATE VIRTUAL TABLE {FTS5_VOCAB_TABLE} USING fts5vocab({FTS5_TABLE}, row)")


# The vectors live apart from the items, in a table whose rows hold only an item's id,
# its configuration and a pointer to its vector: finding the newest matches of a word
# visits these rows, which are packed a hundred to a page, and reads the vectors of the
# ranked ones only. toast_tuple_target = 128 moves every vector out of line (by default
# only rows over 2 kB are), and STORAGE EXTERNAL stores it uncompressed, so ranking one
# reads it without decompressing it.
_PG_TABLE = f"""
CREATE TABLE {PG_SEARCH_TABLE} (
  item_id integer PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE,
  config regconfig NOT NULL,
  vector tsvector NOT NULL
) WITH (toast_tuple_target = 128)"""
_PG_INDEX_FUNCTION = f"""
CREATE FUNCTION {PG_INDEX_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO {PG_SEARCH_TABLE} (item_id, config, vector)
  VALUES (NEW.id, {PG_CONFIG_FUNCTION}(NEW.language), {pg_search_vector("NEW.")})
  ON CONFLICT (item_id) DO UPDATE SET config = excluded.config, vector = excluded.vector;
  RETURN NULL;
END
$$"""


def _upgrade_postgresql() -> None:
    available = set(op.get_bind().execute(sa.text("SELECT cfgname FROM pg_ts_config")).scalars())
    op.execute(pg_config_function(available))
    op.execute(_PG_TABLE)
    op.execute(f"ALTER TABLE {PG_SEARCH_TABLE} ALTER COLUMN vector SET STORAGE EXTERNAL")
    op.execute(_PG_INDEX_FUNCTION)
    op.execute(
        f"CREATE TRIGGER {PG_SEARCH_TABLE}_index AFTER INSERT OR UPDATE OF title, text, "
        f"language ON items FOR EACH ROW EXECUTE FUNCTION {PG_INDEX_FUNCTION}()"
    )
    # As a generated column would be, the index is computed wherever items are written,
    # replicas and bulk loads (session_replication_role = replica) included.
    op.execute(f"ALTER TABLE items ENABLE ALWAYS TRIGGER {PG_SEARCH_TABLE}_index")
    op.execute(
        f"INSERT INTO {PG_SEARCH_TABLE} (item_id, config, vector) "
        f"SELECT id, {PG_CONFIG_FUNCTION}(language), {pg_search_vector()} FROM items ORDER BY id"
    )
    op.execute(f"CREATE INDEX {PG_VECTOR_INDEX} ON {PG_SEARCH_TABLE} USING gin (vector)")
    # Which configurations items have: a query is read only in those.
    op.execute(f"CREATE INDEX {PG_CONFIG_INDEX} ON {PG_SEARCH_TABLE} (config)")
    # The planner's estimate of how many items a word matches comes from these.
    op.execute(f"ANALYZE {PG_SEARCH_TABLE}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER {PG_SEARCH_TABLE}_index ON items")
        op.execute(f"DROP FUNCTION {PG_INDEX_FUNCTION}()")
        op.execute(f"DROP TABLE {PG_SEARCH_TABLE}")
        op.execute(f"DROP FUNCTION {PG_CONFIG_FUNCTION}(text)")
        return
    op.execute(f"DROP TABLE {FTS5_VOCAB_TABLE}")
    for name in _SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER {name}")
    op.execute(f"DROP TABLE {FTS5_TABLE}")
