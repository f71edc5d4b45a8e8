"""Fixtures shared by the whole suite: real databases and the shared real-world data."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from sqlalchemy import Connection

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SEEDS = REPO / "seeds"
SEED = SEEDS / "000_5e72854a3612335b.txt"

POSTGRES_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test with the reason."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: this test reads the shared real-world data")
    return path


def _postgres_unavailable() -> str | None:
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install -e '.[postgres]')"
    try:
        psycopg.connect(POSTGRES_ADMIN).close()
    except psycopg.OperationalError as exc:
        return f"no PostgreSQL answers at 127.0.0.1:5432 ({str(exc).strip()[:120]})"
    return None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A database created for this test run and dropped after it; its SQLAlchemy URL.

    CI sets FEEDBRIEF_REQUIRE_POSTGRES=1 so that a missing server fails the run
    instead of silently skipping half the storage tests.
    """
    reason = _postgres_unavailable()
    if reason:
        if os.environ.get("FEEDBRIEF_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required here but {reason}")
        pytest.skip(reason)
    import psycopg

    name = f"feedbrief_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file on disk, or a fresh schema on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'feedbrief.db'}"
    url = request.getfixturevalue("postgres_server")
    _reset_postgres(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'feedbrief.db'}"


@contextmanager
def at_revision(url: str, revision: str) -> Iterator[Connection]:
    """The database at *url* migrated by Alembic to *revision*, as an older release left
    it; the connection, inside that transaction, adds the rows of that time."""
    from alembic import command

    from storage.database import alembic_config, create_database_engine

    engine = create_database_engine(url)
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            yield connection
    finally:
        engine.dispose()
