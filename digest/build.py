"""Build a day's digest from storage and write it, with the Atom feed of all digests.

``day_story`` turns storage's rows into plain data; ``compose`` is the pure build over it
(select the stories that count, rank them, lay out the front page); ``DigestWriter``
queries, composes and publishes.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path

import structlog
from sqlalchemy.exc import SQLAlchemyError

from digest.atomicfile import remove_abandoned
from digest.display import language_tag
from digest.model import (
    Digest,
    DigestStory,
    SourceRef,
    load_digest_json,
    load_recent_digests,
)
from digest.publish import write_digest, write_feed
from digest.rank import Ranked, rank
from digest.render_html import render_html, render_html_body
from digest.sections import Layout, Placement, fit, place
from digest.select import DayItem, DayStory, Rules, compile_rule, eligible
from storage import Storage, StoryItem, StoryRow

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]

# The Atom feed carries the most recent digests only; older ones stay on disk.
FEED_DIGESTS = 30
DEFAULT_RULES = Rules()
DEFAULT_LAYOUT = Layout()


def day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """The UTC-comparable start and end of *day* in *tz* (DST days are 23 or 25 hours)."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start, end


def local_day(moment: datetime, tz: tzinfo) -> date:
    return moment.astimezone(tz).date()


def source_name(item: StoryItem) -> str:
    return item.source_title or item.source


# A feed's own keep or block pattern, compiled once per build; None when it has none.
Patterns = dict[str, re.Pattern[str] | None]
# When an item was first seen, for a row that does not say (storage always does): it then
# counts as fresh and ranks below every dated item.
_UNKNOWN_FIRST_SEEN = datetime(1970, 1, 1, tzinfo=UTC)


def day_story(row: StoryRow, patterns: Patterns) -> DayStory:
    items = {item.id: day_item(item, patterns) for item in row.items}
    lead = items.get(row.lead.id) or day_item(row.lead, patterns)
    return DayStory(row.id, lead, tuple(items.values()))


def day_item(item: StoryItem, patterns: Patterns) -> DayItem:
    """What the digest needs of one item, its feed's category, weight and rules with it."""
    return DayItem(
        id=item.id,
        source=item.source,
        source_name=source_name(item),
        title=item.title,
        url=item.url,
        published_at=item.published_at,
        first_seen_at=item.first_seen_at or item.published_at or _UNKNOWN_FIRST_SEEN,
        summary=item.summary,
        language=item.language,
        category=item.category,
        weight=item.weight,
        block=_feed_pattern(item, item.block, "block", patterns),
        keep=_feed_pattern(item, item.keep, "keep", patterns),
        text=item.text,
    )


def _feed_pattern(
    item: StoryItem, pattern: str | None, rule: str, patterns: Patterns
) -> re.Pattern[str] | None:
    if not pattern:
        return None
    if pattern not in patterns:
        try:
            patterns[pattern] = compile_rule(pattern)
        except re.error as exc:
            # Settings and the CLI refuse bad patterns, so only a database edited by
            # hand holds one: the day's digest is still written, without that rule.
            log.warning(
                "feed.rule_ignored", feed=item.source, rule=rule, pattern=pattern, error=str(exc)
            )
            patterns[pattern] = None
    return patterns[pattern]


def compose(
    stories: Sequence[DayStory],
    *,
    day: date,
    generated_at: datetime,
    timezone: str,
    base_url: str | None,
    rules: Rules,
    layout: Layout,
) -> Digest:
    """The day's digest from its stories (pure): every story that counts, best first,
    laid out as a front page within the layout's budgets."""
    ranked = rank(eligible(stories, rules))
    sections, placements = place(
        [entry.story.shown.category for entry in ranked],
        layout,
        # By the name the reader sees: one publisher's feeds often share it.
        [entry.story.shown.source_name for entry in ranked],
    )
    laid_out = tuple(map(digest_story, ranked, placements))
    base = Digest(
        date=day,
        generated_at=generated_at,
        timezone=timezone,
        stories=laid_out,
        sections=sections,
        base_url=base_url,
    )

    def page_bytes(stories: tuple[DigestStory, ...], sections: tuple[str, ...]) -> int:
        return len(render_html(replace(base, stories=stories, sections=sections)).encode())

    fitted, shown = fit(laid_out, sections, layout, page_bytes)
    return replace(base, stories=fitted, sections=shown)


def digest_story(entry: Ranked, placement: Placement) -> DigestStory:
    """A story is shown once, as its shown item, with every source that carried it."""
    shown = entry.story.shown
    return DigestStory(
        id=entry.story.id,
        title=shown.title,
        url=shown.url,
        source=shown.source_name,
        published=shown.published_at,
        summary=shown.summary,
        sources=tuple(SourceRef(item.source_name, item.url) for item in _one_per_source(entry)),
        rank=entry.rank,
        coverage=entry.coverage,
        section=placement.section,
        category=shown.category,
        language=language_tag(shown.language),
        front_page=placement.front_page,
        headline_only=placement.headline_only,
    )


def _one_per_source(entry: Ranked) -> Iterable[DayItem]:
    """The story's items, one per source (the shown item for its own): a feed that
    carried a story twice is one source, as coverage counts it."""
    items = entry.story.items
    if len(items) == 1:
        return items
    shown = entry.story.shown
    chosen = {shown.source: shown}
    for item in items:
        chosen.setdefault(item.source, item)
    return sorted(chosen.values(), key=items.index)


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """No cyclic garbage collection inside. A busy day's build makes a few hundred
    thousand objects that all live until it ends, and the collector would walk them over
    and over as they accumulate, finding nothing to free, at a cost that grows with the
    day. Pausing it is process-wide, but only delays collecting cycles by as long."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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
        rules: Rules = DEFAULT_RULES,
        layout: Layout = DEFAULT_LAYOUT,
    ) -> None:
        self.storage = storage
        self.directory = directory
        self.tz = tz
        self.tz_name = tz_name
        self.base_url = base_url.rstrip("/") + "/"
        self.clock = clock
        self.rules = rules
        self.layout = layout
        # HTML bodies of the feed's entries by (day, generated at), each with the digest
        # it was rendered from: feed.xml is rebuilt on every digest write, yet only
        # today's entry changes, so the other days' bodies are rendered once, not on
        # every write. A body is reused only for an equal digest (rendering
        # depends on nothing else), so the page's body serves the day's entry too
        # although the feed reads that digest back from disk.
        self._bodies: dict[tuple[date, datetime], tuple[Digest, str]] = {}
        # And the digests read back from disk, by file and its (inode, mtime, size).
        self._loaded: dict[Path, tuple[tuple[int, int, int], Digest]] = {}
        for path in remove_abandoned(directory):
            log.warning("digest.leftover_removed", path=str(path))

    def build(self, day: date) -> Digest:
        start, end = day_bounds(day, self.tz)
        patterns: Patterns = {}
        with cycle_collection_paused():
            # Items' text costs far more to read than the rest, so it is read only where
            # a rule will match it: every item's for global rules, else only the items
            # of feeds with rules of their own.
            with_text = True if self.rules.filters else self.storage.feeds_with_rules()
            rows = self.storage.stories_first_seen(start, end, with_text=with_text)
            return compose(
                [day_story(row, patterns) for row in rows],
                day=day,
                generated_at=self.clock(),
                timezone=self.tz_name,
                base_url=self.base_url,
                rules=self.rules,
                layout=self.layout,
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
        """Write each day's digest; one day that cannot be built (what its stories hold)
        is logged and the others are written. A failure of the disk or the database is
        every day's, and is raised."""
        paths: list[Path] = []
        for day in sorted(set(days)):
            try:
                paths.extend(self.write(day))
            except (OSError, SQLAlchemyError):
                raise
            except Exception as exc:  # one day's surprise must not cost the other days
                log.error("digest.write_failed", day=day.isoformat(), error=repr(exc)[:500])
                log.debug("digest.write_failed", day=day.isoformat(), exc_info=True)
        return paths

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
