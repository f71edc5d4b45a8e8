"""What every command shares: consoles, the --config option, and opening the app.

The CLI modules import only typer and rich at the top: every command imports what it
needs when it runs, so ``--help``, ``--version`` and ``status`` do not load the
summarisers, the fetcher or the parsers (docs/startup.md has the figures).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

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


def check_config(config: Path | None, log_level: str = "INFO") -> Settings:
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
def open_app(config: Path | None, log_level: str = "INFO") -> Iterator[App]:
    """Load and validate the settings (exit 2 naming the key if they are wrong), then
    hand out a wired App that is closed afterwards."""
    from feedbrief.app import App

    application = App(check_config(config, log_level))
    try:
        yield application
    finally:
        application.close()
