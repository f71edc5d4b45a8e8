"""Alembic environment: runs on the connection handed in by ``storage.database``, or on
``FEEDBRIEF_DATABASE_URL`` when a developer calls the alembic command directly."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine

from storage.fulltext import include_in_models
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        # The search index is made by its migration alone; the models do not describe it.
        include_name=include_in_models,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = create_engine(os.environ.get("FEEDBRIEF_DATABASE_URL", "sqlite:///data/feedbrief.db"))
    with engine.connect() as conn:
        _run(conn)
