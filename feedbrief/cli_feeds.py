"""``feedbrief feeds ...`` and ``feedbrief status``."""

import json
import sys
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from feedbrief.cli_common import (
    ConfigOption,
    JsonOption,
    LogLevel,
    err,
    open_app,
    out,
    print_table,
)

if TYPE_CHECKING:
    from feedbrief.app import App
    from ingest.opml import OpmlFeed
    from storage import Delivery, FeedOptions, SourceState

feeds_app = typer.Typer(help="Manage feed subscriptions.", no_args_is_help=True)

# Status shows the start of an error only; the log has the whole of it.
SHORT_ERROR = 60
# The days of digest email that status shows.
EMAIL_DAYS = 3


def _checked(check: Callable[[Any], Any], value: Any) -> Any:
    try:
        return check(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


def _digest_options(
    category: str | None, weight: float | None, block: str | None, keep: str | None
) -> "FeedOptions":
    """The digest options given on the command line, checked as the config file's are."""
    from feedbrief.settings import check_pattern, check_weight

    options: FeedOptions = {}
    if category is not None:
        options["category"] = category.strip() or None
    if weight is not None:
        options["weight"] = _checked(check_weight, weight)
    if block is not None:
        options["block"] = _checked(check_pattern, block) if block else None
    if keep is not None:
        options["keep"] = _checked(check_pattern, keep) if keep else None
    return options


def _interval(value: str | None) -> int | None:
    if value is None:
        return None
    from feedbrief.settings import parse_duration

    try:
        return int(parse_duration(value))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--interval'") from exc


@feeds_app.command("add")
def add(
    url: str,
    interval: Annotated[str | None, typer.Option(help="Own polling interval, e.g. 30m.")] = None,
    full_text: Annotated[
        bool,
        typer.Option("--full-text", help="Fetch each new item's page when the feed has teasers."),
    ] = False,
    category: Annotated[
        str | None, typer.Option(help="The digest section for its stories ('' for none).")
    ] = None,
    weight: Annotated[
        float | None, typer.Option(help="Ranks its stories above lighter feeds' (default 1).")
    ] = None,
    block: Annotated[
        str | None, typer.Option(help="Leave items matching this regex out of the digest.")
    ] = None,
    keep: Annotated[
        str | None, typer.Option(help="Show only items matching this regex in the digest.")
    ] = None,
    config: ConfigOption = None,
    log_level: LogLevel = "WARNING",
) -> None:
    """Subscribe to a feed (a web page's announced feed is found for you)."""
    from feedbrief.feeds import discover

    seconds = _interval(interval)
    options = _digest_options(category, weight, block, keep)
    with open_app(config, log_level) as application:
        try:
            feed_url, note = discover(application.fetcher, url)
        except ValueError as exc:
            err.print(str(exc), markup=False, highlight=False)
            raise typer.Exit(1) from exc
        if note:
            err.print(note, markup=False, highlight=False)
        _, created = application.storage.add_feed(
            feed_url, application.now(), interval=seconds, full_text=full_text, **options
        )
        out.print(f"{'added' if created else 'updated'} {feed_url}", markup=False, highlight=False)


@feeds_app.command("remove")
def remove(url: str, config: ConfigOption = None, log_level: LogLevel = "WARNING") -> None:
    """Unsubscribe and forget the feed's items."""
    with open_app(config, log_level) as application:
        if not application.storage.remove_source(url):
            err.print(f"not subscribed: {url}", markup=False, highlight=False)
            raise typer.Exit(1)
        out.print(f"removed {url}", markup=False, highlight=False)


@feeds_app.command("list")
def list_feeds(
    config: ConfigOption = None, log_level: LogLevel = "WARNING", as_json: JsonOption = False
) -> None:
    """One line per feed: URL, title, then category, tab-separated (--json: a JSON array)."""
    with open_app(config, log_level) as application:
        feeds = application.storage.sources("feed")
        if as_json:
            from feedbrief.feed_report import feed_listing

            print(json.dumps(feed_listing(feeds), ensure_ascii=False, indent=2))
            return
        for feed in feeds:
            print(f"{feed.url}\t{feed.title or ''}\t{feed.category or ''}")


@feeds_app.command("import")
def import_opml(path: Path, config: ConfigOption = None, log_level: LogLevel = "WARNING") -> None:
    """Subscribe to every feed of an OPML file (fetching is the workers' job); its
    top-level folders become the feeds' categories."""
    from ingest.opml import OpmlError, read_opml

    try:
        feeds = read_opml(path.read_bytes())
    except (OSError, OpmlError) as exc:
        err.print(f"{path}: {exc}", markup=False, highlight=False)
        raise typer.Exit(1) from exc
    with open_app(config, log_level) as application:
        added = sum(
            application.storage.add_feed(feed.url, application.now(), **_from_opml(feed))[1]
            for feed in feeds
        )
    out.print(f"{added} added, {len(feeds) - added} already subscribed", highlight=False)


def _from_opml(feed: "OpmlFeed") -> "FeedOptions":
    """What an OPML entry says of a feed: its folder and weight, where it has them (a file
    without folders leaves categories set by hand alone)."""
    options: FeedOptions = {}
    if feed.category:
        options["category"] = feed.category
    if feed.weight is not None:
        options["weight"] = feed.weight
    return options


@feeds_app.command("export")
def export_opml(config: ConfigOption = None, log_level: LogLevel = "WARNING") -> None:
    """Print the subscriptions as OPML 2.0."""
    from ingest.opml import OpmlFeed, write_opml

    with open_app(config, log_level) as application:
        feeds = [
            OpmlFeed(f.url, f.title, category=f.category, weight=f.weight)
            for f in application.storage.sources("feed")
        ]
        sys.stdout.write(write_opml(feeds, created=application.now()))


@feeds_app.command("refresh")
def refresh(
    urls: Annotated[list[str] | None, typer.Argument(help="Feeds to fetch (default: all).")] = None,
    config: ConfigOption = None,
    log_level: LogLevel = "WARNING",
) -> None:
    """Fetch feeds now, whatever their schedule."""
    from rich.table import Table

    with open_app(config, log_level) as application:
        application.start_processes(when_needed=True)
        feeds = [f for f in application.storage.sources("feed") if f.retired_at is None]
        if urls:
            known = {f.url: f for f in feeds}
            missing = [url for url in urls if url not in known]
            if missing:
                err.print(f"not subscribed: {', '.join(missing)}", markup=False, highlight=False)
                raise typer.Exit(1)
            feeds = [known[url] for url in urls]
        table = Table("feed", "result", "new", "updated", "error")
        for result in application.refresh_feeds(feeds):
            table.add_row(
                result.url, result.status, str(result.new), str(result.updated), result.error or ""
            )
        print_table(table)


def status(
    config: ConfigOption = None, log_level: LogLevel = "WARNING", as_json: JsonOption = False
) -> None:
    """One row per feed, and a summary line (--json: one JSON object). Exits 0 whatever
    the feeds' state: it is a report; 1, with one line saying why, only when the database
    cannot be read."""
    from rich.table import Table

    with open_app(config, log_level) as application:
        feeds = application.storage.sources("feed")
        if as_json:
            from feedbrief.feed_report import status_document

            document = status_document(feeds, application.storage.count_items())
            document["email"] = _email_document(application)
            print(json.dumps(document, ensure_ascii=False, indent=2))
            return
        now = application.now()
        table = Table(
            "feed",
            "title",
            "category",
            "items",
            "last success",
            "last error",
            "errors",
            "next check",
        )
        for feed in feeds:
            table.add_row(
                feed.url,
                feed.title or "",
                feed.category or "",
                str(feed.items or 0),
                _ago(feed.last_success_at, now),
                _short(feed.last_error),
                str(feed.error_count),
                _next(feed, now),
            )
        print_table(table)
        out.print(_summary(feeds, application.storage.count_items()), highlight=False)
        email = application.settings.email
        if email.enabled:
            mailer = application.mailer
            deliveries = application.storage.deliveries(mailer.recipients, limit=EMAIL_DAYS)
            out.print(
                f"email to {', '.join(email.to)} via {mailer.server_address} ({email.security}):",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
            lines = _email_lines(deliveries, now, recipients=len(email.to))
            for line in lines or ["  nothing sent yet"]:
                out.print(line, markup=False, highlight=False, soft_wrap=True)


def _email_document(application: "App") -> dict[str, Any] | None:
    """``status --json``'s ``email``: the list, its server, and its last days; null
    without recipients."""
    from feedbrief.feed_report import email_status

    email = application.settings.email
    if not email.enabled:
        return None
    mailer = application.mailer
    deliveries = application.storage.deliveries(mailer.recipients, limit=EMAIL_DAYS)
    return email_status(
        email.to, server=mailer.server_address, security=email.security, deliveries=deliveries
    )


def _summary(feeds: list["SourceState"], items: int) -> str:
    from feedbrief.metrics import feed_state

    states = Counter(feed_state(feed) for feed in feeds)
    return (
        f"{len(feeds)} feeds: {states['healthy']} healthy, {states['failing']} failing "
        f"(in backoff), {states['retired']} retired; {items} items stored"
    )


def _email_lines(deliveries: list["Delivery"], now: datetime, *, recipients: int) -> list[str]:
    """One line per day, newest first: sent (and to how many of the *recipients* not),
    being sent, or failed and when it is tried again (the service's log has every
    attempt)."""
    lines = []
    for delivery in deliveries:
        day = delivery.day.isoformat()
        if delivery.state == "sent":
            line = f"  {day} sent {_ago(delivery.sent_at, now)}"
            if delivery.refused:
                replies = "; ".join(f"{to}: {reply}" for to, reply in delivery.refused.items())
                line += f", {len(delivery.refused)} of {recipients} refused ({replies})"
            lines.append(line)
        elif delivery.state == "sending":
            since = _ago(delivery.claimed_at, now)
            lines.append(f"  {day} being sent by {delivery.claimed_by} (claimed {since})")
        else:
            retry = delivery.next_attempt_at
            when = (
                "not retried: run digest --send"
                if retry is None
                else ("retry due now" if retry <= now else f"retry in {_span(retry - now)}")
            )
            lines.append(
                f"  {day} failed ({delivery.attempts} attempts, {when}): {delivery.last_error}"
            )
    return lines


def _short(error: str | None) -> str:
    if not error:
        return ""
    line = error.splitlines()[0]
    return line if len(line) <= SHORT_ERROR else line[: SHORT_ERROR - 1] + "…"


def _ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    return f"{_span(now - moment)} ago"


def _next(feed: "SourceState", now: datetime) -> str:
    if feed.retired_at:
        return f"retired ({feed.retired_reason})"
    if feed.next_check_at is None or feed.next_check_at <= now:
        return "due now"
    return f"in {_span(feed.next_check_at - now)}"


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"
