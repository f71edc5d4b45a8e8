"""``feedbrief bench``: measurements of the summarisers on evaluation files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from summarise.bench import format_table, load_articles, run_benchmark, run_peer
from summarise.summarisers import ALGORITHMS, Length

bench_app = typer.Typer(no_args_is_help=True)


@bench_app.callback()
def bench() -> None:
    """Measure summary quality and speed."""


@bench_app.command("summarise")
def summarise(
    data: Annotated[
        Path,
        typer.Option(exists=True, dir_okay=False, help='JSONL of {"id","title","text","summary"}.'),
    ],
    sentences: Annotated[int | None, typer.Option(min=1, help="Sentences per summary.")] = None,
    ratio: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="Share of sentences kept.")
    ] = None,
    algorithms: Annotated[str, typer.Option(help="Comma-separated summarisers to run.")] = ",".join(
        ALGORITHMS
    ),
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N articles.")] = None,
    peer: Annotated[bool, typer.Option(help="Also time sumy LexRank with pysbd.")] = True,
) -> None:
    """Print R-1/R-2/R-L and ms per article for each summariser on DATA."""
    if sentences is not None and ratio is not None:
        raise typer.BadParameter("give --sentences or --ratio, not both")
    length = Length(ratio=ratio) if ratio is not None else Length(sentences=sentences or 3)
    names = [n.strip() for n in algorithms.split(",") if n.strip()]
    unknown = sorted(set(names) - set(ALGORITHMS))
    if unknown:
        raise typer.BadParameter(
            f"unknown {', '.join(unknown)}; choose from {', '.join(ALGORITHMS)}",
            param_hint="--algorithms",
        )
    articles = load_articles(data, limit)
    results = run_benchmark(articles, length, names)
    peer_result = run_peer(articles, length) if peer else None
    typer.echo(f"{data.name}: {len(articles)} articles, {_describe(length)}\n")
    typer.echo(format_table(results, peer_result))


def _describe(length: Length) -> str:
    if length.ratio is not None:
        return f"ratio {length.ratio:g} of sentences"
    return f"{length.sentences} sentence(s)"
