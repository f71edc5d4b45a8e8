"""Which items and stories count for a day's digest: a pure rule over plain data.

An item counts for the digest of the day it was first seen only if

- it is fresh: published at most ``max_age`` before it was first seen, or undated. A new
  subscription's backlog, an OPML import and a feed that re-publishes old items under new
  guids are stored like anything else but reach no digest;
- it passes the keep and block rules, the global ones of ``[digest]`` and its feed's own:
  regular expressions matched case-insensitively against the title and the text (the
  summary when the text was not loaded). A blocked item is out; where a keep rule exists,
  only items it matches are in.

A story is in the day's digest when at least one of its items counts. Only the items
that count are shown, counted or listed as its sources; the story is shown as its lead
item when that counts, else as the first item that does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

DEFAULT_MAX_AGE = timedelta(days=2)


def compile_rule(pattern: str) -> re.Pattern[str]:
    """A keep/block rule as matched against items; raises ``re.error`` for a bad pattern."""
    return re.compile(pattern, re.IGNORECASE)


class DayItem(NamedTuple):
    """One item of a story, as the digest decides about it.

    A NamedTuple rather than a frozen dataclass: a busy day has tens of thousands of
    items, and a frozen dataclass's constructor sets each field through
    ``object.__setattr__``, where a NamedTuple is built as one tuple.
    """

    id: int
    source: str  # the source's key (feed URL or seed:path); coverage counts distinct ones
    source_name: str  # what the reader sees: the feed's title, or the key
    title: str
    url: str | None
    published_at: datetime | None
    first_seen_at: datetime
    summary: tuple[str, ...]
    language: str | None = None
    category: str | None = None  # the feed's
    weight: float = 1.0  # the feed's
    block: re.Pattern[str] | None = None  # the feed's own rules
    keep: re.Pattern[str] | None = None
    # The item's text when some keep or block rule needs it; None when it was not loaded.
    text: str | None = None


class DayStory(NamedTuple):
    """A story first seen on the day, with every item that carried it (storage order)."""

    id: int
    lead: DayItem
    items: tuple[DayItem, ...]


class Eligible(NamedTuple):
    """A story that is in the day's digest, with only the items that count."""

    id: int
    shown: DayItem
    items: tuple[DayItem, ...]


@dataclass(frozen=True, slots=True)
class Rules:
    """The day-wide part of the rule: freshness and the global keep/block patterns."""

    max_age: timedelta = DEFAULT_MAX_AGE
    block: tuple[re.Pattern[str], ...] = ()
    keep: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def compile(
        cls, max_age: timedelta, block: Iterable[str] = (), keep: Iterable[str] = ()
    ) -> Rules:
        return cls(max_age, tuple(map(compile_rule, block)), tuple(map(compile_rule, keep)))

    @property
    def filters(self) -> bool:
        return bool(self.block or self.keep)


def is_fresh(item: DayItem, max_age: timedelta) -> bool:
    # A difference of two dates, never a date minus an age: feeds date items in the
    # year 1 or 9999, and datetime arithmetic past either end raises.
    return item.published_at is None or item.first_seen_at - item.published_at <= max_age


def passes(item: DayItem, rules: Rules) -> bool:
    """Whether the keep and block rules (global and the feed's) let ``item`` through."""
    if not (rules.filters or item.block or item.keep):
        return True
    body = item.text if item.text is not None else " ".join(item.summary)
    haystack = f"{item.title}\n{body}"
    if item.block is not None and item.block.search(haystack):
        return False
    if any(pattern.search(haystack) for pattern in rules.block):
        return False
    if item.keep is not None and not item.keep.search(haystack):
        return False
    return not rules.keep or any(pattern.search(haystack) for pattern in rules.keep)


def counts(item: DayItem, rules: Rules) -> bool:
    return is_fresh(item, rules.max_age) and passes(item, rules)


def eligible(stories: Iterable[DayStory], rules: Rules) -> list[Eligible]:
    """The day's stories that have at least one item that counts, in the order given."""
    chosen: list[Eligible] = []
    for story in stories:
        if len(story.items) == 1:  # most stories: no new tuple to make
            if counts(story.items[0], rules):
                chosen.append(Eligible(story.id, story.items[0], story.items))
            continue
        items = tuple(item for item in story.items if counts(item, rules))
        if items:
            chosen.append(Eligible(story.id, _shown(story.lead, items), items))
    return chosen


def _shown(lead: DayItem, items: Sequence[DayItem]) -> DayItem:
    return lead if any(item.id == lead.id for item in items) else items[0]
