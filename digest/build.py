"""Build a day's digest from storage and write it, with the Atom feed of all digests."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path

import structlog

from digest.atomicfile import remove_abandoned
from digest.model import (
    Digest,
    DigestStory,
    SourceRef,
    load_digest_json,
    load_recent_digests,
)
from digest.publish import write_digest, write_feed
from digest.render_html import render_html_body
from storage import Storage, StoryItem, StoryRow

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]

# The Atom feed carries the most recent digests only; older ones stay on disk.
FEED_DIGESTS = 30


def day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """The UTC-comparable start and end of *day* in *tz* (DST days are 23 or 25 hours)."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start, end


def local_day(moment: datetime, tz: tzinfo) -> date:
    return moment.astimezone(tz).date()


def source_name(item: StoryItem) -> str:
    return item.source_title or item.source


def story(row: StoryRow) -> DigestStory:
    """A story is shown once, as its lead item, with every source that carried it."""
    lead = row.lead
    return DigestStory(
        id=row.id,
        title=lead.title,
        url=lead.url,
        source=source_name(lead),
        published=lead.published_at,
        summary=lead.summary,
        sources=tuple(SourceRef(name=source_name(item), url=item.url) for item in row.items),
    )


class DigestWriter:
    def __init__(
        self,
        storage: Storage,
        directory: Path,
        *,
        tz: tzinfo,
        tz_name: str,
        base_url: str,
        clock: Clock,
    ) -> None:
        self.storage = storage
        self.directory = directory
        self.tz = tz
        self.tz_name = tz_name
        self.base_url = base_url.rstrip("/") + "/"
        self.clock = clock
        # HTML bodies of the feed's entries by (day, generated at), each with the digest
        # it was rendered from: feed.xml is rebuilt on every digest write, and
        # re-rendering thirty busy days took over a second each time although only
        # today's had changed. A body is reused only for an equal digest (rendering
        # depends on nothing else), so the page's body serves the day's entry too
        # although the feed reads that digest back from disk.
        self._bodies: dict[tuple[date, datetime], tuple[Digest, str]] = {}
        # And the digests read back from disk, by file and its (inode, mtime, size).
        self._loaded: dict[Path, tuple[tuple[int, int, int], Digest]] = {}
        for path in remove_abandoned(directory):
            log.warning("digest.leftover_removed", path=str(path))

    def build(self, day: date) -> Digest:
        start, end = day_bounds(day, self.tz)
        return Digest(
            date=day,
            generated_at=self.clock(),
            timezone=self.tz_name,
            stories=tuple(story(row) for row in self.storage.stories_first_seen(start, end)),
        )

    def write(self, day: date) -> list[Path]:
        # Workers take turns per day and build inside the lock, so the file left on
        # disk is built from the newest state, never overtaken by an older build.
        with self.storage.exclusive(f"feedbrief:digest:{day.isoformat()}", wait=True):
            digest = self.build(day)
            body = render_html_body(digest)
            self._bodies[(digest.date, digest.generated_at)] = (digest, body)
            self.directory.mkdir(parents=True, exist_ok=True)
            paths = write_digest(digest, self.directory, html_body=body)
            self.storage.record_digest(day, digest.generated_at, self.tz_name, len(digest.stories))
            self._write_feed()
        log.info("digest.published", day=day.isoformat(), stories=len(digest.stories))
        return paths

    def write_days(self, days: Iterable[date]) -> list[Path]:
        return [path for day in sorted(set(days)) for path in self.write(day)]

    def today(self) -> date:
        return local_day(self.clock(), self.tz)

    def _write_feed(self) -> None:
        """Rebuild feed.xml from the digests on disk, so it survives database pruning."""
        digests = load_recent_digests(self.directory, FEED_DIGESTS, load=self._load)
        current = {(digest.date, digest.generated_at) for digest in digests}
        self._bodies = {key: body for key, body in self._bodies.items() if key in current}
        kept = {digest.date for digest in digests}
        self._loaded = {path: v for path, v in self._loaded.items() if v[1].date in kept}
        write_feed(
            digests,
            self.directory,
            feed_url=f"{self.base_url}feed.xml",
            html_base_url=self.base_url,
            content=self._body,
        )

    def _load(self, path: Path) -> Digest:
        stat = path.stat()
        version = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        cached = self._loaded.get(path)
        if cached is None or cached[0] != version:
            cached = (version, load_digest_json(path))
            self._loaded[path] = cached
        return cached[1]

    def _body(self, digest: Digest) -> str:
        key = (digest.date, digest.generated_at)
        cached = self._bodies.get(key)
        if cached is None or cached[0] != digest:
            cached = (digest, render_html_body(digest))
            self._bodies[key] = cached
        return cached[1]
