"""structlog set-up: JSON lines for machines, readable lines for people.

Libraries we use (APScheduler, Alembic, httpx, trafilatura, SQLAlchemy) log through the
standard ``logging`` module; left alone, their records reach stderr as plain text from
Python's last-resort handler, breaking a JSON log stream line by line. So the root
logger gets one handler whose formatter runs those records through the same processors
as our own events (``structlog.stdlib.ProcessorFormatter``): every stderr line is one
JSON object when stderr is not a terminal, with ``event`` (the library's message),
``level``, ``timestamp`` and ``logger`` (the library logger's name). Python warnings
take the same road (``logging.captureWarnings``).
"""

from __future__ import annotations

import logging
import sys

import structlog

# Libraries that log every request they make at INFO (httpx) or every protocol step
# at DEBUG (httpcore): our own fetch.* events already say what happened to each fetch,
# so only their warnings and errors are wanted.
_CHATTY = ("httpx", "httpcore")


def configure_logging(level: str = "INFO", *, json: bool | None = None) -> None:
    """Log to stderr: JSON lines when it is not a terminal (a service, a pipe, CI).

    *level* is a standard level name in any case; another name raises ValueError."""
    levels = logging.getLevelNamesMapping()
    if level.upper() not in levels:
        raise ValueError(f"unknown log level {level!r}; choose from {', '.join(levels)}")
    threshold = levels[level.upper()]
    if json is None:
        json = not sys.stderr.isatty()
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(threshold),
        # Look sys.stderr up at each call, not once: whoever replaced it (a test
        # runner, a daemoniser) may have closed the stream we saw at set-up.
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
    _bridge_standard_logging(threshold, shared, renderer)


def _bridge_standard_logging(
    threshold: int, shared: list[structlog.types.Processor], renderer: structlog.types.Processor
) -> None:
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = _StderrHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    # Configuring again (each CLI command in one test process does) replaces our handler
    # rather than adding a second one; handlers others installed are left alone.
    for old in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(threshold)
    for name in _CHATTY:
        logging.getLogger(name).setLevel(max(threshold, logging.WARNING))
    logging.captureWarnings(True)


class _StderrHandler(logging.Handler):
    """Writes to whatever sys.stderr is at the time of the record, as _stderr_logger."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            stream = sys.stderr
            stream.write(line + "\n")
            stream.flush()
        except Exception:  # noqa: BLE001 - logging must never break the caller
            self.handleError(record)


def _stderr_logger(*_args: object) -> structlog.PrintLogger:
    return structlog.PrintLogger(sys.stderr)
