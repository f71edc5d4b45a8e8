"""The one line an operator is told, as a pure function of the exception (issue 16)."""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from feedbrief.operator_errors import OperatorError, database_error, describe, safe_url

URL = "postgresql+psycopg://feedbrief:s3cret@db.example:5432/feedbrief"


def test_a_database_error_names_the_database_without_its_password() -> None:
    exc = OperationalError("SELECT 1", {}, sqlite3.OperationalError("file is not a database"))
    line = describe(exc, URL)
    assert (
        line == "database postgresql+psycopg://feedbrief:***@db.example:5432/feedbrief: "
        "file is not a database"
    )
    assert "\n" not in line and "s3cret" not in line


def test_each_kind_of_database_failure() -> None:
    dialect = NoSuchModuleError("Can't load plugin: sqlalchemy.dialects:nosuch")
    assert str(database_error("nosuch://x/y", dialect)).endswith(
        "unknown database dialect 'nosuch'"
    )
    missing = ModuleNotFoundError("No module named 'pg8000'", name="pg8000")
    assert "driver is not installed (no module 'pg8000')" in str(database_error(URL, missing))
    argument = ArgumentError("Could not parse SQLAlchemy URL from string 'x'")
    assert describe(argument, "x") == "database x: Could not parse SQLAlchemy URL from string 'x'"
    assert safe_url("not a url at all") == "not a url at all"


def test_a_multi_line_reason_is_one_line() -> None:
    refused = sqlite3.OperationalError("connection refused\n\tIs the server running?")
    line = describe(OperationalError("connect", {}, refused), "sqlite:///x.db")
    assert line == "database sqlite:///x.db: connection refused; Is the server running?"


def test_paths() -> None:
    assert describe(PermissionError(13, "Permission denied", "/srv/digests"), URL) == (
        "/srv/digests: Permission denied"
    )
    temporary = "/missing/.x.jsonl.ab12cd_9.tmp"
    assert describe(FileNotFoundError(2, "No such file or directory", temporary), URL) == (
        "cannot write in /missing: No such file or directory"
    )
    renamed = IsADirectoryError(21, "Is a directory", temporary, None, "/missing/x.jsonl")
    assert describe(renamed, URL) == "cannot write /missing/x.jsonl: Is a directory"


def test_anything_else_is_an_internal_error_in_one_line() -> None:
    assert describe(OperatorError("seeds directory seeds does not exist"), URL) == (
        "seeds directory seeds does not exist"
    )
    assert describe(OverflowError("date value\nout of range"), URL) == (
        "internal error: OverflowError: date value; out of range"
    )
