"""What an operator is told when a command cannot go on: one line naming the thing.

A database that cannot be opened or read, a directory that cannot be written, a driver
that is not installed: none is a bug, and a traceback would bury the one fact the operator
needs. :func:`describe` turns such an exception into that line; the CLI prints it and
exits 1, and logs the traceback at debug level for whoever wants it.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

# digest.atomicfile's temporary names: an error on one is an error writing its directory.
_TEMPORARY = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")


class OperatorError(Exception):
    """A condition the operator must fix (not a bug); the message is the whole story."""


def database_error(url: str, exc: BaseException) -> OperatorError:
    """*exc*, raised while opening or using the database at *url*, as one line."""
    return OperatorError(f"database {safe_url(url)}: {_database_reason(exc)}")


def describe(exc: BaseException, database_url: str) -> str:
    """One line for the operator: what failed, and on which thing."""
    if isinstance(exc, OperatorError):
        return str(exc)
    if isinstance(exc, SQLAlchemyError):
        return str(database_error(database_url, exc))
    if isinstance(exc, OSError):
        return _os_error(exc)
    return f"internal error: {type(exc).__name__}: {_first_line(str(exc))}"


def safe_url(url: str) -> str:
    """The database URL without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _database_reason(exc: BaseException) -> str:
    if isinstance(exc, NoSuchModuleError):
        dialect = str(exc).rpartition(":")[2].strip()
        return f"unknown database dialect {dialect!r}"
    if isinstance(exc, ModuleNotFoundError):
        return f"its driver is not installed (no module {exc.name!r})"
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return _first_line(str(exc.orig)) or type(exc.orig).__name__
    if isinstance(exc, OSError):
        return _os_error(exc)
    if isinstance(exc, SQLAlchemyError):
        # SQLAlchemy's own text ends with a link to its error catalogue, on a line of its
        # own; the first line says what happened.
        return _first_line(str(exc).split("(Background on this error")[0])
    return f"{type(exc).__name__}: {_first_line(str(exc))}"


def _os_error(exc: OSError) -> str:
    reason = exc.strerror or _first_line(str(exc)) or type(exc).__name__
    if exc.filename is None:
        return reason
    path = Path(exc.filename)
    if _TEMPORARY.fullmatch(path.name):
        # Renaming it over the file failed (filename2), or creating it in the directory.
        if exc.filename2 is not None:
            return f"cannot write {exc.filename2}: {reason}"
        return f"cannot write in {path.parent}: {reason}"
    return f"{exc.filename}: {reason}"


def _first_line(text: str) -> str:
    """Several lines joined into one (PostgreSQL's client puts its hint on a second)."""
    return "; ".join(line.strip() for line in text.strip().splitlines() if line.strip())
