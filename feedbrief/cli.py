"""The ``feedbrief`` command."""

import json
import os
import socket
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from feedbrief import collector
from feedbrief.cli_common import (
    ConfigOption,
    LogLevel,
    check_config,
    err,
    fail,
    open_app,
    out,
    print_table,
)
from feedbrief.cli_feeds import feeds_app, status
from feedbrief.cli_search import SEARCH_CONTEXT, search
from summarise.algorithms import ALGORITHMS

if TYPE_CHECKING:
    from feedbrief.app import App
    from feedbrief.pipeline import ReplayRow
    from storage import StoredItem
    from summarise.summarisers import Length

# Every command imports what it uses in its body: see feedbrief.cli_common.

app = typer.Typer(
    help="feedbrief: news feeds and seed documents in, a daily digest out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Above this many files the replay shows a progress bar.
PROGRESS_THRESHOLD = 20


def _print_version(value: bool) -> None:
    if value:
        from importlib import metadata

        print(f"feedbrief {metadata.version('feedbrief')}")
        raise typer.Exit()


@app.callback()
def _options(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the installed version and exit.",
        ),
    ] = False,
) -> None:
    # No docstring: the Typer's own help stays the program's description.
    if ctx.invoked_subcommand != "run":
        # run resumes the collector itself, once the service is set up.
        collector.resume()


def _length(sentences: int | None, ratio: float | None, words: int | None) -> "Length":
    from summarise.summarisers import Length

    given = [v for v in (sentences, ratio, words) if v is not None]
    if len(given) > 1:
        raise typer.BadParameter("give only one of --sentences, --ratio and --words")
    if ratio is not None and not 0 < ratio <= 1:
        raise typer.BadParameter("--ratio must be in (0, 1]")
    if not given:
        return Length(sentences=3)
    return Length(sentences=sentences, ratio=ratio, words=words)


def _algorithm(name: str) -> str:
    if name not in ALGORITHMS:
        raise typer.BadParameter(f"unknown algorithm {name!r}; choose from {', '.join(ALGORITHMS)}")
    return name


@app.command()
def run(
    once: Annotated[
        bool, typer.Option("--once", help="One pass of everything due, then exit.")
    ] = False,
    config: ConfigOption = None,
    log_level: LogLevel = "INFO",
) -> None:
    """Run the service: ingest seeds (and feeds), summarise, write daily digests."""
    from feedbrief.metrics import setup_metrics
    from feedbrief.runlock import RunLocked, run_lock
    from feedbrief.service import Service

    with open_app(config, log_level) as application:
        if not once:
            # The service forks its workers now: they must not inherit the pause.
            collector.resume()
        # A single pass forks its workers only if it finds something to parse; the
        # service forks them at once, while it has no thread.
        application.start_processes(when_needed=once)
        try:
            with run_lock(application.settings.database.url):
                setup_metrics(application.settings.metrics.dir)
                # What no pass could work without stops the start, in one line.
                application.check_directories()
                application.storage.ping()
                service = Service(application)
                collector.resume()
                if once:
                    failed = service.run_once_until_stopped()
                    if failed:
                        # A feed's or a seed's failure is its own; a job's is the run's.
                        why = "; ".join(f"{job}: {reason}" for job, reason in failed.items())
                        err.print(f"run --once failed: {why}", markup=False, highlight=False)
                        raise typer.Exit(1)
                else:
                    service.run_forever()
        except RunLocked as exc:
            err.print(str(exc), markup=False, highlight=False)
            raise typer.Exit(1) from exc


@app.command()
def replay(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Seed files (default: the seeds directory).")
    ] = None,
    config: ConfigOption = None,
    log_level: LogLevel = "WARNING",
) -> None:
    """Run seed documents through the whole pipeline and print what happened to each."""
    from rich.progress import track

    with open_app(config, log_level) as application:
        files = _expand(paths) if paths else None
        if files is not None and len(files) > PROGRESS_THRESHOLD:
            rows: list[ReplayRow] = []
            for path in track(files, description="Replaying", console=err):
                rows.extend(application.pipeline.replay_seeds([path], application.seeds_dir))
            application.digests.write_days(application.touched_days(rows))
        else:
            rows = application.replay(files)
        _print_replay(rows)


def _expand(paths: list[Path]) -> list[Path]:
    from ingest.seeds import find_seeds

    files: list[Path] = []
    for path in paths:
        files.extend(find_seeds(path) if path.is_dir() else [path])
    return files


def _print_replay(rows: list["ReplayRow"]) -> None:
    from rich.table import Table

    from ingest.outcome import Outcome

    table = Table("file", "status", "title")
    for row in rows:
        failed = row.status in (Outcome.ERROR, Outcome.SKIPPED)
        detail = (row.error or "") if failed else row.title
        table.add_row(row.file, row.status, detail)
    print_table(table)


@app.command()
def clean(
    paths: Annotated[list[Path], typer.Argument(help="Documents to clean.")],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Write DIR/<file name> for each.")
    ] = None,
    config: ConfigOption = None,
    log_level: LogLevel = "WARNING",
) -> None:
    """Print the cleaned article: title, blank line, paragraphs separated by blank lines."""
    # No setting changes the cleaning, but a bad configuration file is reported here
    # as by every other command rather than noticed by the next one.
    from digest.atomicfile import write_atomic
    from ingest.clean import format_article
    from ingest.seeds import SeedError, load_seed

    check_config(config, log_level)
    failed = False
    for path in paths:
        try:
            document = load_seed(path, path.parent)
        except SeedError as exc:
            err.print(f"{path}: {exc}", markup=False, highlight=False)
            failed = True
            continue
        text = "\n".join(
            format_article(article.title, article.paragraphs) for article in document.articles
        )
        if out_dir is None:
            sys.stdout.write(text)
        else:
            out_dir.mkdir(parents=True, exist_ok=True)
            write_atomic(out_dir / path.name, text)
    if failed:
        raise typer.Exit(1)


@app.command()
def summarise(
    path: Annotated[str | None, typer.Argument(help="A document, or - for standard input.")] = None,
    sentences: Annotated[int | None, typer.Option(min=1)] = None,
    ratio: Annotated[float | None, typer.Option(help="round(R x sentences), at least 1.")] = None,
    words: Annotated[
        int | None, typer.Option(min=1, help="At most W words, whole sentences.")
    ] = None,
    algorithm: Annotated[str, typer.Option(help=f"One of: {', '.join(ALGORITHMS)}.")] = "default",
    jsonl: Annotated[
        Path | None, typer.Option(help="Batch input: lines of {id, text, title?}.")
    ] = None,
    out_path: Annotated[Path | None, typer.Option("--out", help="Batch output file.")] = None,
    config: ConfigOption = None,
    log_level: LogLevel = "WARNING",
) -> None:
    """Clean a document and print its summary, one sentence per line, in article order."""
    # Batch mode reads feeds.processes; the configuration is checked as by every command.
    settings = check_config(config, log_level)
    length = _length(sentences, ratio, words)
    algorithm = _algorithm(algorithm)
    if jsonl is not None:
        if out_path is None or path is not None:
            raise typer.BadParameter("batch mode takes --jsonl IN --out OUT and no PATH")
        from feedbrief.processes import default_processes

        processes = settings.feeds.processes or default_processes()
        _summarise_batch(jsonl, out_path, length, algorithm, processes)
        return
    if path is None:
        raise typer.BadParameter("give a PATH, - for standard input, or --jsonl IN --out OUT")
    from summarise.summarisers import summarise_text

    for title, body, language in _documents(path):
        for sentence in summarise_text(
            body, length=length, algorithm=algorithm, language=language, title=title
        ):
            print(sentence)


def _documents(path: str) -> Iterator[tuple[str, str, str | None]]:
    from ingest.clean import clean_paragraphs, split_paragraphs
    from ingest.seeds import SeedError, load_seed

    if path == "-":
        first, _, rest = sys.stdin.read().strip().partition("\n")
        yield first.strip(), "\n\n".join(clean_paragraphs(split_paragraphs(rest))), None
        return
    try:
        document = load_seed(Path(path), Path(path).parent)
    except SeedError as exc:
        err.print(f"{path}: {exc}", markup=False, highlight=False)
        raise typer.Exit(1) from exc
    for article in document.articles:
        yield article.title, article.text, article.language


def _summarise_batch(
    source: Path, target: Path, length: "Length", algorithm: str, processes: int
) -> None:
    from digest.atomicfile import write_atomic
    from feedbrief.batch import Document, summarise_documents
    from feedbrief.processes import WorkerDied

    idents, documents = [], []
    with source.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                text, ident = record["text"], record["id"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                err.print(f"{source}:{number}: not a {{id, text}} object: {exc}", markup=False)
                raise typer.Exit(1) from exc
            idents.append(ident)
            documents.append(Document(text, record.get("title")))
    try:
        summaries = summarise_documents(
            documents, length=length, algorithm=algorithm, processes=processes
        )
    except WorkerDied as exc:
        err.print(f"{source}: {exc}", markup=False, highlight=False)
        raise typer.Exit(1) from exc
    lines = (
        json.dumps({"id": ident, "summary": summary}, ensure_ascii=False) + "\n"
        for ident, summary in zip(idents, summaries, strict=True)
    )
    write_atomic(target, "".join(lines))


@app.command()
def digest(
    day: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD (default: today).")] = None,
    send: Annotated[
        bool,
        typer.Option("--send", help="Then email its front page to [email] to, once per day."),
    ] = False,
    resend: Annotated[
        bool, typer.Option("--resend", help="With --send: send it even if it was sent.")
    ] = False,
    config: ConfigOption = None,
    log_level: LogLevel = "WARNING",
) -> None:
    """Write the digest of one day as Markdown, HTML and JSON (and refresh feed.xml);
    with --send, email its front page to the [email] recipients."""
    if resend and not send:
        raise typer.BadParameter("--resend goes with --send")
    with open_app(config, log_level) as application:
        if send and not application.settings.email.enabled:
            err.print(
                "config error: email.to: no recipients; --send needs at least one",
                markup=False,
                highlight=False,
            )
            raise typer.Exit(2)
        target = _parse_date(day, "'--date'") if day else application.today()
        for written in application.digests.write(target):
            out.print(str(written), markup=False, highlight=False)
        if send:
            _send_digest(application, target, resend=resend)


def _send_digest(application: "App", day: date, *, resend: bool) -> None:
    """Mail the day's front page and say how it went in one line; exit 1 if it was not
    sent (the day stays unsent, and a running service tries it again with backoff)."""
    from feedbrief.delivery import DeliveryOutcome

    worker = f"digest --send {socket.gethostname()}:{os.getpid()}"
    result = application.mailer.deliver(day, worker=worker, resend=resend)
    delivery = result.delivery
    recipients = ", ".join(application.settings.email.to)
    if result.outcome == DeliveryOutcome.FAILED:
        err.print(f"{day}: not sent: {result.error}", markup=False, highlight=False)
        if delivery.next_attempt_at is not None:
            retry = _iso(delivery.next_attempt_at)
            err.print(
                f"{day}: a running service tries again from {retry} (feedbrief status shows it)",
                markup=False,
                highlight=False,
            )
        raise typer.Exit(1)
    if result.outcome == DeliveryOutcome.SENT:
        line = f"{day}: sent to {recipients} {delivery.message_id}"
    elif result.outcome == DeliveryOutcome.ALREADY_SENT:
        when = _iso(delivery.sent_at)
        line = f"{day}: already sent to {recipients} at {when}; --resend sends it again"
    else:
        line = (
            f"{day}: already being sent by {delivery.claimed_by} since {_iso(delivery.claimed_at)}"
        )
    out.print(line, markup=False, highlight=False, soft_wrap=True)
    if result.refused:
        refused = "; ".join(f"{address}: {reply}" for address, reply in result.refused.items())
        err.print(f"{day}: the server refused {refused}", markup=False, highlight=False)


def _parse_date(value: str, option: str) -> date:
    from ingest.dates import EARLIEST, LATEST

    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(
            f"{value!r} is not a date like 2026-11-25", param_hint=option
        ) from exc
    # The dates ingest keeps (ingest.dates): no item is dated outside them.
    if not EARLIEST.year <= day.year <= LATEST.year:
        raise typer.BadParameter(
            f"{value!r} is not between {EARLIEST.year} and {LATEST.year}", param_hint=option
        )
    return day


@app.command()
def export(
    fmt: Annotated[str, typer.Option("--format", help="Only jsonl for now.")] = "jsonl",
    since: Annotated[str | None, typer.Option(help="Items first seen on or after DATE.")] = None,
    out_path: Annotated[
        Path | None, typer.Option("--out", help="Write to FILE atomically.")
    ] = None,
    config: ConfigOption = None,
    log_level: LogLevel = "WARNING",
) -> None:
    """Export every stored item, one JSON object per line."""
    if fmt != "jsonl":
        raise typer.BadParameter("only --format jsonl is supported")
    from digest.atomicfile import write_atomic

    with open_app(config, log_level) as application:
        start = None
        if since:
            start = datetime.combine(
                _parse_date(since, "'--since'"), time(0), application.settings.digest.tz
            )
        lines = (export_line(item) + "\n" for item in application.storage.iter_items(start))
        if out_path is None:
            sys.stdout.writelines(lines)
        else:
            write_atomic(out_path, "".join(lines))


def export_line(item: "StoredItem") -> str:
    return json.dumps(
        {
            "id": item.id,
            "source": item.source,
            "guid": item.guid,
            "url": item.url,
            "title": item.title,
            "author": item.author,
            "published": _iso(item.published_at),
            "first_seen": _iso(item.first_seen_at),
            "updated": _iso(item.updated_at),
            "version": item.version,
            "story": item.story_id,
            "canonical_url": item.canonical_url,
            "language": item.language,
            "text": item.text,
            "summary": list(item.summary),
        },
        ensure_ascii=False,
    )


@app.command()
def prune(
    days: Annotated[
        int | None,
        typer.Option(min=1, help="Keep this many days (default: retention_days)."),
    ] = None,
    config: ConfigOption = None,
    log_level: LogLevel = "WARNING",
) -> None:
    """Delete items older than the retention period, leaving tombstones (the service
    does this daily)."""
    # Checked here rather than by typer's max=: the limit lives in settings, which --help
    # must not import.
    from feedbrief.settings import MAX_RETENTION_DAYS

    if days is not None and days > MAX_RETENTION_DAYS:
        raise typer.BadParameter(
            f"{days} is more than {MAX_RETENTION_DAYS} days", param_hint="'--days'"
        )
    with open_app(config, log_level) as application:
        pruned = application.prune(days)
        out.print(
            f"{pruned.items} items pruned, {pruned.deliveries} email delivery records",
            highlight=False,
        )


@app.command()
def relink(
    since: Annotated[
        str | None, typer.Option(help="Only items first seen on or after DATE (YYYY-MM-DD).")
    ] = None,
    config: ConfigOption = None,
    log_level: LogLevel = "WARNING",
) -> None:
    """Decide the stories of stored items again with the current linking rules (after
    an upgrade that changed them), in batches; no item is added or removed."""
    with open_app(config, log_level) as application:
        start = None
        if since:
            start = datetime.combine(
                _parse_date(since, "'--since'"), time(0), application.settings.digest.tz
            )
        from feedbrief.relink import relink_database

        report = relink_database(application.storage, start)
        out.print(report.line(), highlight=False, soft_wrap=True)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


app.add_typer(feeds_app, name="feeds")
app.command()(status)
app.command(context_settings=SEARCH_CONTEXT)(search)


def _mount_serve() -> None:
    from feedbrief.cli_serve import register

    register(app)


_mount_serve()


def main() -> None:
    try:
        app()
    except Exception as exc:  # noqa: BLE001 - what no command reported: still one line
        # Commands that open the app report their own failures (open_app); this is for
        # the others, e.g. `clean --out` into a directory that cannot be written.
        try:
            fail(exc, "")
        except typer.Exit as done:
            sys.exit(done.exit_code)
