"""The daily digest as plain data, and the JSON form it is kept in on disk.

The composition layer queries storage and hands these dataclasses over, so nothing here
knows about the database. The JSON file written for each day is the digest's record: the
Atom feed is rebuilt from those files rather than from the database, which lets a feed be
regenerated after the stories themselves have been pruned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import structlog
from pydantic import TypeAdapter, ValidationError

from ingest.dates import as_utc, in_range

log = structlog.get_logger(__name__)

DEFAULT_TITLE = "feedbrief"
DIGEST_FILE_GLOB = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9].json"


@dataclass(frozen=True, slots=True)
class SourceRef:
    """One place a story was seen: a feed title or ``seed:<path>``, and the item's URL there."""

    name: str
    url: str | None


@dataclass(frozen=True, slots=True)
class DigestStory:
    """A story as the reader sees it: text straight from outside, not yet escaped.

    ``sources`` lists every source that carried the story once cross-feed deduplication
    merges them; it may be empty, and may or may not repeat ``source``.
    """

    id: int
    title: str
    url: str | None
    source: str
    published: dt.datetime | None
    summary: tuple[str, ...]  # the whole stored summary, whatever the front page shows
    sources: tuple[SourceRef, ...] = ()
    # Where the story stands in the day (None in digests written before ranking).
    rank: int | None = None  # 1 = best
    coverage: int | None = None  # distinct sources that carried it
    section: str | None = None  # the front-page section it belongs to
    category: str | None = None  # its feed's category; None: uncategorised
    language: str | None = None  # a language tag such as "he" or "en-GB"
    # How the front page shows it: with the first ``shown_sentences`` sentences of its
    # summary (None: all of them), as a one-line headline, or not at all (it is then
    # counted in its section's "and N more" and listed on the day's full list).
    front_page: bool = True
    headline_only: bool = False
    shown_sentences: int | None = None

    def __post_init__(self) -> None:
        # Ingest drops such dates; a story built from an older database or digest file
        # may still carry one, and a clock time near year 9999 cannot be shown east of
        # UTC. Undated is what the story then is.
        if self.published is not None and not _showable(self.published):
            object.__setattr__(self, "published", None)

    @property
    def shown_summary(self) -> tuple[str, ...]:
        if self.shown_sentences is None:
            return self.summary
        return self.summary[: self.shown_sentences]


@dataclass(frozen=True, slots=True)
class Digest:
    """One day's digest. Stories keep the order the caller gave them (best first).

    ``timezone`` is an IANA zone name: the day ``date`` refers to and the clock times shown
    to the reader are in that zone. ``generated_at`` must be timezone-aware because it
    becomes the Atom entry's ``updated`` stamp, which feed readers compare across days.

    ``sections`` are the front page's sections in page order; each story names its own.
    ``None`` (digests written before the front page existed) shows every story in order,
    without sections. ``base_url`` is where the day's pages are published, for the link
    from the front page to the day's full list.
    """

    date: dt.date
    generated_at: dt.datetime
    timezone: str
    stories: tuple[DigestStory, ...]
    title: str = DEFAULT_TITLE
    sections: tuple[str, ...] | None = None
    base_url: str | None = None

    def __post_init__(self) -> None:
        if self.generated_at.utcoffset() is None:
            raise ValueError(f"generated_at must be timezone-aware, got {self.generated_at}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            # ValueError, not KeyError, so that JSON validation reports it like any other
            # bad field.
            raise ValueError(f"unknown timezone {self.timezone!r}") from exc

    def published_url(self, name: str) -> str | None:
        """The absolute URL of the file ``name`` published beside this digest; pages
        link each other by absolute URL, as only http(s) URLs become links."""
        if self.base_url is None:
            return None
        return self.base_url.rstrip("/") + "/" + name

    @property
    def full_list_url(self) -> str | None:
        return self.published_url(full_list_name(self.date))

    def local_time(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` on the digest's clock; naive times are UTC, as storage keeps them.
        A moment the clock cannot show (the edge of datetime's range) is shown as it is,
        so that rendering never fails on one date."""
        try:
            return as_utc(moment).astimezone(ZoneInfo(self.timezone))
        except OverflowError:
            return moment


def _showable(moment: dt.datetime) -> bool:
    try:
        return in_range(as_utc(moment))
    except OverflowError:
        return False


def page_name(day: dt.date) -> str:
    """The day's front page."""
    return f"{day.isoformat()}.html"


def record_name(day: dt.date) -> str:
    """The day's digest as JSON, the record the feed and the email are made from."""
    return f"{day.isoformat()}.json"


def full_list_name(day: dt.date) -> str:
    """The page listing every story of the day."""
    return f"{day.isoformat()}-all.html"


_DIGEST_JSON = TypeAdapter(Digest)


class DigestFileError(ValueError):
    """A file that should hold a digest's JSON does not."""


def render_json(digest: Digest) -> str:
    """The digest as indented UTF-8 JSON with ISO 8601 dates.

    Keys come in field order, so the same digest always gives the same text.
    """
    return _DIGEST_JSON.dump_json(digest, indent=2).decode("utf-8") + "\n"


def load_digest_json(path: Path) -> Digest:
    """Read back a file written by ``render_json``.

    Validation is strict (no numbers from strings and the like): these files are only ever
    written by us, so anything unexpected means damage, not a dialect. Raises
    ``DigestFileError`` naming the file.
    """
    try:
        return _DIGEST_JSON.validate_json(path.read_bytes(), strict=True)
    except ValidationError as exc:
        raise DigestFileError(f"{path}: not a feedbrief digest: {exc}") from exc


def load_recent_digests(
    directory: Path, limit: int, load: Callable[[Path], Digest] = load_digest_json
) -> list[Digest]:
    """The newest ``limit`` digests in ``directory``, newest first, for rebuilding the feed.

    A damaged file is logged and skipped: one bad day should not take the whole feed down.
    ``load`` reads one file (``load_digest_json``, or a caller's cache in front of it).
    """
    paths = sorted(directory.glob(DIGEST_FILE_GLOB), reverse=True)
    digests: list[Digest] = []
    for path in paths:
        if len(digests) >= limit:
            break
        try:
            digests.append(load(path))
        except DigestFileError as exc:
            log.warning("digest.file_skipped", path=str(path), error=str(exc))
    return digests


def newest_per_date(digests: Sequence[Digest]) -> list[Digest]:
    """One digest per date, the most recently generated, newest date first."""
    latest: dict[dt.date, Digest] = {}
    for digest in digests:
        kept = latest.get(digest.date)
        if kept is None or digest.generated_at > kept.generated_at:
            latest[digest.date] = digest
    return sorted(latest.values(), key=lambda d: d.date, reverse=True)
