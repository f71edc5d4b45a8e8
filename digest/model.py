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

from ingest.dates import as_utc

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
    summary: tuple[str, ...]
    sources: tuple[SourceRef, ...] = ()


@dataclass(frozen=True, slots=True)
class Digest:
    """One day's digest. Stories keep the order the caller gave them.

    ``timezone`` is an IANA zone name: the day ``date`` refers to and the clock times shown
    to the reader are in that zone. ``generated_at`` must be timezone-aware because it
    becomes the Atom entry's ``updated`` stamp, which feed readers compare across days.
    """

    date: dt.date
    generated_at: dt.datetime
    timezone: str
    stories: tuple[DigestStory, ...]
    title: str = DEFAULT_TITLE

    def __post_init__(self) -> None:
        if self.generated_at.utcoffset() is None:
            raise ValueError(f"generated_at must be timezone-aware, got {self.generated_at}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            # ValueError, not KeyError, so that JSON validation reports it like any other
            # bad field.
            raise ValueError(f"unknown timezone {self.timezone!r}") from exc

    def local_time(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` on the digest's clock; naive times are UTC, as storage keeps them."""
        return as_utc(moment).astimezone(ZoneInfo(self.timezone))


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
