"""What every command shares: consoles, the --config option, and opening the app.

The CLI modules import only typer and rich at the top: every command imports what it
needs when it runs, so ``--help``, ``--version`` and ``status`` do not load the
summarisers, the fetcher or the parsers (docs/startup.md has the figures).

The CLI modules do not postpone the evaluation of annotations: typer reads every
command's signature on every call, and a postponed annotation is compiled from its text
each time it is read (twice per parameter), where an evaluated one costs nothing more.
Names imported only for type checking are therefore written in quotes.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

if TYPE_CHECKING:
    from feedbrief.app import App
    from feedbrief.settings import Settings

out = Console()
# soft_wrap: messages are never folded (a service's stderr has no width, and a wrapped
# path in an error message cannot be copied back).
err = Console(stderr=True, soft_wrap=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", envvar="FEEDBRIEF_CONFIG", help="Configuration file (TOML)."),
]
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _log_level(value: str) -> str:
    # Checked while click parses, so a typo is a usage error (exit 2) naming the
    # levels, never a traceback; a callback rather than a Literal works on typer 0.12.
    if value.upper() not in LOG_LEVELS:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(LOG_LEVELS)}")
    return value.upper()


LogLevel = Annotated[
    str,
    typer.Option(
        "--log-level", callback=_log_level, help="DEBUG, INFO, WARNING or ERROR (any case)."
    ),
]


JsonOption = Annotated[
    bool, typer.Option("--json", help="Print JSON for scripts (keys: docs/operations.md).")
]

# Wider than any table row can be: the width a piped table is measured within.
_UNBOUNDED = 1_000_000


def print_table(table: Table) -> None:
    """On a terminal, the table fits the window; piped or redirected, it is as wide as
    its widest row, so that no URL, path or error is cut or folded for the reader."""
    if out.is_terminal:
        out.print(table)
        return
    options = out.options.update_width(_UNBOUNDED)
    width = Measurement.get(out, options, table).maximum
    Console(width=max(width, 1), no_color=True, highlight=False).print(table)


def check_config(config: Path | None, log_level: str = "INFO") -> "Settings":
    """Set up logging, then load and validate the settings: exit 2 naming the key if
    they are wrong."""
    from feedbrief.logs import configure_logging
    from feedbrief.settings import ConfigError, load_settings

    configure_logging(log_level)
    try:
        return load_settings(config)
    except ConfigError as exc:
        err.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(2) from exc


@contextmanager
def open_app(config: Path | None, log_level: str = "INFO") -> Iterator["App"]:
    """Load and validate the settings (exit 2 naming the key if they are wrong), then
    hand out a wired App that is closed afterwards. Whatever the command raises (a
    database that cannot be used, a directory that cannot be written) is one line on
    stderr and exit 1; the traceback goes to the log at debug level."""
    from feedbrief.app import App

    application = App(check_config(config, log_level))
    try:
        yield application
    except (typer.Exit, typer.Abort, typer.BadParameter):
        raise
    except Exception as exc:  # noqa: BLE001 - each becomes one line and exit 1
        fail(exc, application.settings.database.url)
    finally:
        application.close()


def fail(exc: BaseException, database_url: str) -> NoReturn:
    """Tell the operator what *exc* means, in one line, and exit 1."""
    import structlog

    from feedbrief.operator_errors import describe

    structlog.get_logger(__name__).debug("command.failed", exc_info=True)
    err.print(describe(exc, database_url), markup=False, highlight=False)
    raise typer.Exit(1) from None
