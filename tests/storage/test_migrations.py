"""Opening a database: one at the newest migration without Alembic, an older one
upgraded, a new one created (a new SQLite one: tests/storage/test_sqlite_schema.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from storage import Storage
from storage.database import (
    HEAD_REVISION,
    alembic_config,
    schema_revisions,
)
from tests.conftest import REPO, at_revision


def test_the_head_revision_constant_is_alembics_head() -> None:
    # A new migration that does not update HEAD_REVISION would never be applied to a
    # database at the previous head: this is what stops that.
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_heads() == [HEAD_REVISION]


def test_a_new_database_is_created_at_the_head(database_url: str) -> None:
    storage = Storage.open(database_url)
    try:
        with storage.engine.connect() as connection:
            assert schema_revisions(connection) == {HEAD_REVISION}
    finally:
        storage.close()


def test_a_database_at_an_older_revision_is_upgraded_on_open(database_url: str) -> None:
    with at_revision(database_url, "0005") as connection:
        assert "email_deliveries" not in inspect(connection).get_table_names()
    storage = Storage.open(database_url)
    try:
        with storage.engine.connect() as connection:
            assert schema_revisions(connection) == {HEAD_REVISION}
        assert "email_deliveries" in inspect(storage.engine).get_table_names()
    finally:
        storage.close()


def test_deliveries_of_an_older_release_keep_their_rows_with_nothing_refused(
    database_url: str,
) -> None:
    with at_revision(database_url, "0008") as connection:
        connection.execute(
            text(
                "INSERT INTO email_deliveries (day, recipients, state, attempts, claimed_at,"
                " claimed_by, sent_at, message_id) VALUES ('2026-12-05', :list, 'sent', 1,"
                " '2026-12-06 07:00:00', 'w', '2026-12-06 07:00:01', '<m@x>')"
            ),
            {"list": "a" * 64},
        )
    storage = Storage.open(database_url)
    try:
        delivery = storage.delivery(date(2026, 12, 5), "a" * 64)
        assert delivery is not None
        assert (delivery.state, delivery.message_id, delivery.refused) == ("sent", "<m@x>", {})
    finally:
        storage.close()


def test_items_dated_after_they_were_first_seen_take_their_first_seen_time(
    database_url: str,
) -> None:
    seen = "2026-12-01 08:00:00"
    with at_revision(database_url, "0009") as connection:
        connection.execute(
            text(
                "INSERT INTO sources (id, kind, url, added_at, error_count, full_text, weight)"
                " VALUES (1, 'feed', 'http://x/', :seen, 0, false, 1)"
            ),
            {"seen": seen},
        )
        for guid, published in [
            ("future", "2035-08-19 00:00:00"),  # a feed's mistake
            ("tomorrow", "2026-12-02 07:00:00"),  # within the day's tolerance
            ("past", "2026-11-30 12:00:00"),
            ("undated", None),
        ]:
            connection.execute(
                text(
                    "INSERT INTO items (source_id, guid, title, published_at, first_seen_at,"
                    " updated_at, text, content_hash, version) VALUES (1, :guid, :guid,"
                    " :published, :seen, :seen, 'Text.', 'h', 1)"
                ),
                {"guid": guid, "published": published, "seen": seen},
            )
    storage = Storage.open(database_url)
    try:
        with storage.engine.connect() as connection:
            rows = connection.execute(text("SELECT guid, published_at FROM items")).all()
        dates = {guid: str(published)[:19] if published else None for guid, published in rows}
        assert dates == {
            "future": seen,
            "tomorrow": "2026-12-02 07:00:00",
            "past": "2026-11-30 12:00:00",
            "undated": None,
        }
    finally:
        storage.close()


_OPEN = """
import json, sys
from storage import Storage
Storage.open(sys.argv[1]).close()
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] == "alembic")))
"""


def _alembic_modules_after_opening(url: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDBRIEF_")}
    env["PYTHONPATH"] = str(REPO)
    result = subprocess.run(
        [sys.executable, "-c", _OPEN, url],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_database_at_the_head_opens_without_importing_alembic(database_url: str) -> None:
    created = _alembic_modules_after_opening(database_url)
    if database_url.startswith("sqlite"):
        assert created == []  # made from storage/sqlite_schema.sql
    else:
        assert created != []  # a new PostgreSQL database is made by the migrations
    assert _alembic_modules_after_opening(database_url) == []
