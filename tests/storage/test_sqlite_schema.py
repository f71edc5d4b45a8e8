"""A new SQLite database is made from ``storage/sqlite_schema.sql``: the file must be what
the migrations build, and a database made from it must equal one Alembic made."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from sqlalchemy import text

from storage import Storage, sqlite_schema
from storage.database import (
    HEAD_REVISION,
    create_database_engine,
    schema_revisions,
    upgrade_with_alembic,
)


def test_the_shipped_schema_file_is_what_the_migrations_build() -> None:
    assert sqlite_schema.SCHEMA_FILE.read_text(encoding="utf-8") == sqlite_schema.generated(), (
        "storage/sqlite_schema.sql is out of date: run `python -m storage.sqlite_schema --write`"
    )


def test_the_schema_file_records_the_head_revision() -> None:
    statements = list(sqlite_schema.read_statements(sqlite_schema.SCHEMA_FILE.read_text()))
    assert statements[-1] == (
        f"INSERT INTO alembic_version (version_num) VALUES ('{HEAD_REVISION}');"
    )


def _snapshot(path: Path) -> dict[str, object]:
    """Everything a database holds: every schema object (FTS5's shadow tables and
    SQLite's automatic indexes included) and every row of every table."""
    connection = sqlite3.connect(path)
    try:
        master = sorted(
            connection.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"),
            key=repr,
        )
        tables = [
            name
            for kind, name, _table, sql in master
            if kind == "table" and not (sql or "").startswith("CREATE VIRTUAL")
        ]
        rows = {
            name: sorted(connection.execute(f'SELECT * FROM "{name}"'), key=repr) for name in tables
        }
        return {"master": master, "rows": rows}
    finally:
        connection.close()


def test_a_database_made_from_the_file_equals_one_alembic_made(tmp_path: Path) -> None:
    by_alembic = tmp_path / "alembic.db"
    engine = create_database_engine(f"sqlite:///{by_alembic}")
    upgrade_with_alembic(engine)
    engine.dispose()

    by_file = tmp_path / "file.db"
    Storage.open(f"sqlite:///{by_file}").close()

    made_by_file = _snapshot(by_file)
    assert made_by_file == _snapshot(by_alembic)
    assert "items_fts_data" in made_by_file["rows"]  # shadow tables were compared too


def test_a_database_made_from_the_file_searches_and_checks_out(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'feedbrief.db'}"
    storage = Storage.open(url)
    try:
        with storage.engine.begin() as connection:
            assert schema_revisions(connection) == {HEAD_REVISION}
            assert connection.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            assert connection.execute(text("PRAGMA foreign_key_check")).all() == []
            # The FTS5 triggers exist: an item row is searchable without any other step.
            connection.execute(
                text(
                    "INSERT INTO sources (id, kind, url, added_at) "
                    "VALUES (1, 'feed', 'http://x/', '2026-01-01')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO items (id, source_id, guid, title, first_seen_at, "
                    "updated_at, text, content_hash) VALUES (1, 1, 'g', 'Harbour fire', "
                    "'2026-01-01', '2026-01-01', 'Boats burned.', 'h')"
                )
            )
            found = connection.execute(
                text("SELECT rowid FROM items_fts WHERE items_fts MATCH 'harbour'")
            ).scalars()
            assert list(found) == [1]
    finally:
        storage.close()


def test_processes_creating_one_database_at_once_all_find_it_made(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'feedbrief.db'}"
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def open_it() -> None:
        try:
            start.wait()
            Storage.open(url).close()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    engine = create_database_engine(url)
    with engine.connect() as connection:
        assert schema_revisions(connection) == {HEAD_REVISION}
        tables = connection.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE name = 'items'"
        ).scalar()
    engine.dispose()
    assert tables == 1


def test_a_script_statement_that_is_cut_short_is_refused() -> None:
    script = "-- header\n\nCREATE TABLE a (x INTEGER);\n\nCREATE TABLE b (\n"
    statements = sqlite_schema.read_statements(script)
    assert next(statements) == "CREATE TABLE a (x INTEGER);"
    try:
        next(statements)
    except ValueError as exc:
        assert "incomplete statement" in str(exc)
    else:
        raise AssertionError("an incomplete statement was accepted")
