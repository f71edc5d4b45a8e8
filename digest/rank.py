"""The order of a day's stories: a pure, deterministic score.

Best first by

1. coverage: how many distinct sources carried the story (among the items that count),
   as the best news front pages rank a story by how many outlets run it;
2. weight: the heaviest of those sources' feed weights (default 1), so that a reader can
   lift the feeds they care most about above equally covered stories;
3. recency: the newest of those items' dates, an undated item counting from when it was
   first seen;
4. among stories equal on all three, one with something to read (a title or a summary)
   before one with neither, which the page could show only as "(untitled)";
5. then the feeds take turns: each feed's first story
   before any feed's second, so that on a quiet day of undated items (which all tie)
   one prolific feed does not fill the page;
6. the story id, so that two builds of the same state give the same order.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from digest.select import DayItem, Eligible


class Ranked(NamedTuple):
    story: Eligible
    rank: int  # 1 = best
    coverage: int
    weight: float
    recency: datetime


def item_moment(item: DayItem) -> datetime:
    """When the item happened as far as ranking goes. A date after the moment the item
    was first seen (a feed whose clock or time zone is wrong) counts as that moment,
    or such a feed would sit above every equally covered story all day."""
    if item.published_at is None or item.published_at > item.first_seen_at:
        return item.first_seen_at
    return item.published_at


def rank(stories: Iterable[Eligible]) -> list[Ranked]:
    """``stories`` best first, each with its rank (1 = best) and the score behind it."""
    scored = []
    for story in stories:
        if len(story.items) == 1:  # most stories
            coverage, weight, recency = 1, story.shown.weight, item_moment(story.shown)
        else:
            coverage = len({item.source for item in story.items})
            weight = max(item.weight for item in story.items)
            recency = max(map(item_moment, story.items))
        blank = not (story.shown.title.strip() or story.shown.summary)
        key = (-coverage, -weight, -recency.timestamp(), blank, story.id)
        scored.append((key, story, coverage, weight, recency))
    scored.sort(key=lambda entry: entry[0])
    scored = _feeds_take_turns(scored)
    return [
        Ranked(story, position, coverage, weight, recency)
        for position, (_, story, coverage, weight, recency) in enumerate(scored, start=1)
    ]


def _feeds_take_turns(scored: list[Any]) -> list[Any]:
    """Within each run of stories tied on coverage, weight, recency and blankness
    (already in id order), order by how many earlier stories of the run the same feed
    has."""
    result: list[Any] = []
    start = 0
    while start < len(scored):
        end = start + 1
        while end < len(scored) and scored[end][0][:4] == scored[start][0][:4]:
            end += 1
        if end - start > 1:
            turns: dict[str, int] = {}
            run = []
            for entry in scored[start:end]:
                source = entry[1].shown.source
                turn = turns.get(source, 0)
                turns[source] = turn + 1
                run.append((turn, entry))
            run.sort(key=lambda pair: (pair[0], pair[1][0]))
            result.extend(entry for _, entry in run)
        else:
            result.append(scored[start])
        start = end
    return result
