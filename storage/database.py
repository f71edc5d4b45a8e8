"""Engine set-up and schema migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).parent / "migrations"

# A second writer waits this long for SQLite's lock instead of failing at once;
# digests and replays hold it only for one item at a time.
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control from the sqlite3 module (see _sqlite_begin): its own
    # implicit BEGIN breaks SAVEPOINTs, which idempotent inserts rely on.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets `export` or `status` read while the service writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


READ_ONLY = "feedbrief_read_only"
"""Execution option of an engine whose transactions only read (see ``_sqlite_begin``)."""


def _sqlite_begin(connection: Any) -> None:
    # A writer's IMMEDIATE takes the write lock up front, so two writers queue on
    # busy_timeout instead of one failing with "database is locked" when it upgrades a
    # read lock. A reader's plain BEGIN never waits: WAL gives it a snapshot.
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def create_database_engine(url: str) -> Engine:
    """An engine for *url*; for a SQLite file, its directory is created first."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (a no-op when it is already there)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
