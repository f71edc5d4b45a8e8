"""Engine set-up and schema migrations."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"

HEAD_REVISION = "0010"
"""The newest migration in ``migrations/versions``, which a new migration must update,
regenerating ``sqlite_schema.sql`` too (``tests/storage/test_migrations.py`` and
``test_sqlite_schema.py`` check both). A database already there is opened without
Alembic, whose import and reading of every migration script would cost more than all the
rest of opening it."""

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
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def schema_revisions(connection: Connection) -> set[str]:
    """The migrations Alembic recorded the database to be at; none for a new one."""
    if not inspect(connection).has_table("alembic_version"):
        return set()
    return set(connection.scalars(text("SELECT version_num FROM alembic_version")))


def _is_empty_sqlite(connection: Connection) -> bool:
    if connection.dialect.name != "sqlite":
        return False
    return connection.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar() == 0


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (a no-op when it is already there).

    A new SQLite database is made from ``sqlite_schema.sql`` (the migrations' result,
    without importing Alembic); any other database that is not at the head goes through
    Alembic.
    """
    with engine.connect() as connection:
        connection.execution_options(**{READ_ONLY: True})
        if schema_revisions(connection) == {HEAD_REVISION}:
            return
        new = _is_empty_sqlite(connection)
    if new:
        from storage import sqlite_schema

        with engine.begin() as connection:
            # BEGIN IMMEDIATE holds the write lock: a second process creating the same
            # database waits here, then finds it made.
            if _is_empty_sqlite(connection):
                sqlite_schema.create(connection.exec_driver_sql)
                return
    upgrade_with_alembic(engine)


def upgrade_with_alembic(engine: Engine) -> None:
    """Run every migration the database lacks."""
    with engine.connect() as connection:
        connection.execution_options(**{READ_ONLY: True})
        if schema_revisions(connection) == {HEAD_REVISION}:
            return
    from alembic import command

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
