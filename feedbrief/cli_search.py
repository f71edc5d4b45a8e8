"""The ``feedbrief search`` command: stored items matching a query, best first."""

import json
import sys
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from feedbrief.cli_common import ConfigOption, LogLevel, err, open_app, out

if TYPE_CHECKING:
    from rich.table import Table

    from storage import SearchHit

# The CLI imports this module for every command, ``--help`` included: what only a search
# needs (SQLAlchemy, the storage package, rich's tables) is imported when one runs.

# A table printed to a file or a pipe is as wide as its longest row, so that no URL or
# title is cut or folded: whatever reads it gets every character.
UNBOUNDED_WIDTH = 100_000


def search(
    words: Annotated[
        list[str], typer.Argument(help='Words; "a phrase", -word to exclude, OR.', metavar="QUERY")
    ],
    limit: Annotated[int, typer.Option(min=1, help="At most N results.")] = 20,
    since: Annotated[
        str | None, typer.Option(help="Only items first seen on or after DATE (YYYY-MM-DD).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="A JSON array of objects instead of a table.")
    ] = False,
    config: ConfigOption = None,
    log_level: LogLevel = "WARNING",
) -> None:
    """Stored items whose title or text match QUERY, best first: every word, a "quoted
    phrase" as written, no -word, and OR between two terms for either."""
    from rich.console import Console
    from sqlalchemy.exc import SQLAlchemyError

    query = " ".join(words)
    start_day = _parse_date(since) if since else None
    with open_app(config, log_level) as application:
        start = None
        if start_day is not None:
            start = datetime.combine(start_day, time(0), application.settings.digest.tz)
        try:
            hits = application.storage.search(query, limit=limit, since=start)
        except SQLAlchemyError as exc:
            err.print(f"search failed: {exc.__class__.__name__}: {exc.orig or exc}", markup=False)
            raise typer.Exit(1) from exc
    if as_json:
        sys.stdout.write(json.dumps([hit_json(hit) for hit in hits], ensure_ascii=False) + "\n")
    elif not hits:
        err.print("no matches", highlight=False)
    else:
        console = out if out.is_terminal else Console(width=UNBOUNDED_WIDTH)
        console.print(hits_table(hits))


# A -word is part of the query, not an unknown option.
SEARCH_CONTEXT = {"ignore_unknown_options": True}


def _parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not a date like 2026-11-25") from exc


def hit_json(hit: "SearchHit") -> dict[str, Any]:
    return {
        "id": hit.id,
        "guid": hit.guid,
        "title": hit.title,
        "url": hit.url,
        "source": hit.source,
        "source_title": hit.source_title,
        "published": _iso(hit.published_at),
        "first_seen": _iso(hit.first_seen_at),
        "language": hit.language,
        "summary": list(hit.summary),
        "score": round(hit.score, 6),
    }


def hits_table(hits: list["SearchHit"]) -> "Table":
    from rich.table import Table
    from rich.text import Text

    table = Table("title", "source", "date", "url")
    # Text objects: a title like "[bold]" is shown as written, never read as markup.
    for hit in hits:
        moment = hit.published_at or hit.first_seen_at
        table.add_row(
            Text(hit.title),
            Text(hit.source_title or hit.source),
            moment.astimezone(UTC).date().isoformat(),
            Text(hit.url or ""),
        )
    # On a terminal a long URL folds onto more lines rather than ending in an ellipsis.
    table.columns[3].overflow = "fold"
    return table


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()
