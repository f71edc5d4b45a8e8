"""The front page: which of a day's ranked stories it shows, where, and how much of each.

The page opens with **Top stories**, the best ``top_stories`` of any category with their
summaries, then one section per category (the shown item's feed category) in
alphabetical order, uncategorised feeds last under "Other". A section shows its best
``section_stories`` stories with summaries, up to ``section_headlines`` more as one-line
headlines, and counts the rest as "and N more", a link to the day's full list.

The page must stay readable in ``reading_minutes`` at 230 words a minute, and under
``max_page_bytes`` of HTML (mail clients clip larger messages). When it would not, it
gives way in this order, one step at a time until it fits:

1. summaries shorten by a sentence at a time, down to one: all stories below the top
   first (sections lower on the page first at each length), Top stories last;
2. stories below the top become headlines, the lowest ranked first;
3. those headlines go into "and N more", the lowest ranked first;
4. sections that show nothing but "and N more" go, lowest on the page first;
5. only then do Top stories become headlines and go, so that the page always opens
   with its best stories and their summaries unless they alone overflow it.

``place`` decides where each story goes before any budget, ``fit`` applies the steps,
and ``front_page`` reads the page back from a digest, for the renderers: the page is a
function of the digest alone, so a digest read back from its JSON renders the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from functools import cache
from math import ceil
from typing import NamedTuple

from digest.display import other_sources, plain, story_title
from digest.model import Digest, DigestStory

TOP_STORIES = "Top stories"
OTHER = "Other"
# An adult's silent reading speed for non-fiction (Brysbaert 2019: 238 words a minute);
# rounded down, as a front page is skimmed in pieces.
WORDS_PER_MINUTE = 230
# Gmail clips a message after 102 KB of HTML; the page must stay well within that.
MAX_PAGE_BYTES = 100_000
# "and N more" reads as three words.
MORE_WORDS = 3
# Kana and CJK ideographs: Japanese and Chinese put no spaces between words, and a reader
# takes about two such characters in the time of one word.
_WIDE = "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"


@dataclass(frozen=True, slots=True)
class Layout:
    top_stories: int = 10
    top_per_source: int = 2
    section_stories: int = 5
    section_headlines: int = 10
    reading_minutes: float = 10.0
    max_page_bytes: int = MAX_PAGE_BYTES

    @property
    def word_budget(self) -> int:
        return int(self.reading_minutes * WORDS_PER_MINUTE)


class Placement(NamedTuple):
    """Where a story goes before the budget: its section, and whether it is on the page
    at all and as a headline only."""

    section: str
    front_page: bool
    headline_only: bool


class SectionView(NamedTuple):
    """One section of the page as the renderers lay it out."""

    title: str
    stories: list[DigestStory]  # with summaries
    headlines: list[DigestStory]
    more: int  # the section's stories on the full list only


# The page as the renderers see it


def front_page(digest: Digest) -> list[SectionView]:
    """The digest's sections in page order, each with what it shows."""
    views = {title: SectionView(title, [], [], 0) for title in digest.sections or ()}
    more: dict[str, int] = dict.fromkeys(views, 0)
    for story in digest.stories:
        if story.section not in views:
            continue
        if not story.front_page:
            more[story.section] += 1
        elif story.headline_only:
            views[story.section].headlines.append(story)
        else:
            views[story.section].stories.append(story)
    return [view._replace(more=more[title]) for title, view in views.items()]


@cache
def _wide_characters() -> re.Pattern[str]:
    # Compiled at the first story counted, not at import: its ranges take milliseconds
    # to compile, and a day without stories never needs it.
    return re.compile(_WIDE)


def words(text: str) -> int:
    """How many words ``text`` reads as."""
    wide = len(_wide_characters().findall(text))
    return len(text.split()) + wide // 2


def heading_words(title: str) -> int:
    return words(title)


def byline_words(story: DigestStory) -> int:
    """The title, the source with its time, and the other sources' names."""
    count = words(story_title(story)) + words(plain(story.source) or "unknown source")
    if story.published is not None:
        count += 2  # date and time
    others = other_sources(story)
    if others:
        count += 2 + sum(words(plain(ref.name)) for ref in others)  # "Also in: ..."
    return count


def headline_words(story: DigestStory) -> int:
    count = words(story_title(story)) + words(plain(story.source) or "unknown source")
    if story.coverage is not None and story.coverage > 1:
        count += 2  # "N sources"
    return count


def sentence_words(story: DigestStory) -> list[int]:
    return [words(sentence) for sentence in story.summary]


def visible_words(digest: Digest) -> int:
    """The words a reader of the front page reads: headings, titles, source lines,
    summaries, headlines and the "and N more" lines."""
    total = 0
    for view in front_page(digest):
        total += heading_words(view.title) + (MORE_WORDS if view.more else 0)
        total += sum(headline_words(story) for story in view.headlines)
        for story in view.stories:
            total += byline_words(story) + sum(map(words, story.shown_summary))
    return total


def reading_minutes(digest: Digest) -> int:
    """The front page's estimated reading time, in whole minutes (at least one)."""
    return max(1, ceil(visible_words(digest) / WORDS_PER_MINUTE))


# Placing the stories


def section_title(category: str | None) -> str:
    """The section a category's stories go to. A category spelt like the top section's
    title gets a section of its own rather than joining Top stories."""
    name = " ".join(category.split()) if category else ""
    if not name:
        return OTHER
    if name.casefold() == TOP_STORIES.casefold():
        return f"{name} (category)"
    return name


def section_order(titles: Iterable[str]) -> list[str]:
    """Alphabetical regardless of case, "Other" last."""
    return sorted(set(titles), key=lambda t: (t.casefold() == OTHER.casefold(), t.casefold(), t))


def place(
    categories: Sequence[str | None],
    layout: Layout,
    sources: Sequence[str] | None = None,
) -> tuple[tuple[str, ...], list[Placement]]:
    """Sections in page order, and where each story goes before the budget.

    ``categories`` are the stories' categories, best-ranked story first, and ``sources``
    the names of the feeds their shown items come from. Top stories take the best-ranked
    stories, but at most ``top_per_source`` from one feed: on a quiet day many stories
    tie, and one prolific feed would otherwise fill the top of the page. A story passed
    over goes to its category's section.
    """
    on_top = _top_stories(len(categories), layout, sources)
    headlines_from = layout.section_stories
    more_from = layout.section_stories + layout.section_headlines
    top = Placement(TOP_STORIES, True, False)
    placements: list[Placement] = []
    # Three shared placements per section: a busy day has tens of thousands of stories.
    kinds: dict[str, tuple[Placement, Placement, Placement]] = {}
    seen: dict[str, int] = {}
    for index, category in enumerate(categories):
        if index in on_top:
            placements.append(top)
            continue
        title = section_title(category)
        kind = kinds.get(title)
        if kind is None:
            kind = (
                Placement(title, True, False),
                Placement(title, True, True),
                Placement(title, False, False),
            )
            kinds[title] = kind
        n = seen.get(title, 0)
        seen[title] = n + 1
        placements.append(kind[0] if n < headlines_from else kind[1] if n < more_from else kind[2])
    order = ([TOP_STORIES] if on_top else []) + section_order(kinds)
    return tuple(order), placements


def _top_stories(count: int, layout: Layout, sources: Sequence[str] | None) -> set[int]:
    """Indexes of the stories in Top stories: the best ranked, a feed's beyond its
    ``top_per_source`` passed over."""
    wanted = min(layout.top_stories, count)
    if sources is None:
        return set(range(wanted))
    chosen: set[int] = set()
    per_source: dict[str, int] = {}
    for index, source in enumerate(sources):
        if len(chosen) == wanted:
            break
        if per_source.get(source, 0) < layout.top_per_source:
            per_source[source] = per_source.get(source, 0) + 1
            chosen.add(index)
    return chosen


# Fitting the page to the budget


class Step(Enum):
    SHORTEN = "shorten"
    HEADLINE = "headline"
    MORE = "more"
    HIDE = "hide"


class _Move(NamedTuple):
    step: Step
    index: int  # of the story; for HIDE, of the section in page order
    sentences: int = 0  # for SHORTEN: how many the story keeps


PageBytes = Callable[[tuple[DigestStory, ...], tuple[str, ...]], int]


def fit(
    stories: Sequence[DigestStory],
    sections: tuple[str, ...],
    layout: Layout,
    page_bytes: PageBytes,
) -> tuple[tuple[DigestStory, ...], tuple[str, ...]]:
    """The placed ``stories`` (best first) and ``sections`` after as few steps as make the
    page fit: first within the reading budget, then, measured by ``page_bytes`` (the
    rendered page's size), within the byte budget."""
    plan = _Plan(stories, sections)
    first = plan.within_words(layout.word_budget)
    fitted = plan.apply(first)
    if page_bytes(*fitted) <= layout.max_page_bytes:
        return fitted
    # Every step takes something off the page, so the size falls (but for a digit of an
    # "and N more") with the number of steps: bisect for the fewest steps that fit. Only
    # measured states are returned, but the last, which shows no story at all.
    over, fits = first, len(plan.moves)
    fitted_at_fits: tuple[tuple[DigestStory, ...], tuple[str, ...]] | None = None
    while fits - over > 1:
        middle = (over + fits) // 2
        candidate = plan.apply(middle)
        if page_bytes(*candidate) <= layout.max_page_bytes:
            fits, fitted_at_fits = middle, candidate
        else:
            over = middle
    return fitted_at_fits if fitted_at_fits is not None else plan.apply(fits)


class _Plan:
    """The sequence of steps for one day's page, and the words left after each."""

    def __init__(self, stories: Sequence[DigestStory], sections: tuple[str, ...]) -> None:
        self.stories = stories
        self.sections = sections
        position = {title: n for n, title in enumerate(sections)}
        # The stories on the page, by section, best first; and how many are not.
        self.shown: list[list[int]] = [[] for _ in sections]
        self.more = [0] * len(sections)
        for index, story in enumerate(stories):
            n = position.get(story.section) if story.section is not None else None
            if n is None:
                continue
            if story.front_page:
                self.shown[n].append(index)
            else:
                self.more[n] += 1
        top = [position[TOP_STORIES]] if TOP_STORIES in position else []
        below = [n for n in range(len(sections)) if n not in top]
        # Top stories keep a sentence each until the sections below show nothing.
        self.moves = [
            *self._shorten(below),
            *self._shorten(top),
            *self._demote(Step.HEADLINE, below),
            *self._demote(Step.MORE, below),
            *(_Move(Step.HIDE, n) for n in reversed(below)),
            *self._demote(Step.HEADLINE, top),
            *self._demote(Step.MORE, top),
            *(_Move(Step.HIDE, n) for n in top),
        ]
        self.words = self._words_after_each()

    def _full(self, index: int) -> bool:
        return not self.stories[index].headline_only

    def _shorten(self, sections: list[int]) -> list[_Move]:
        """Every full story loses a sentence before any loses a second; at each length,
        the sections lowest on the page first and their lowest ranked stories first."""
        kept = {
            index: len(self.stories[index].shown_summary)
            for n in sections
            for index in self.shown[n]
            if self._full(index)
        }
        moves = []
        for keep in range(max(kept.values(), default=1) - 1, 0, -1):
            for n in reversed(sections):
                moves.extend(
                    _Move(Step.SHORTEN, index, keep)
                    for index in reversed(self.shown[n])
                    if kept.get(index, 0) > keep
                )
        return moves

    def _demote(self, step: Step, sections: list[int]) -> list[_Move]:
        """Full stories to headlines, or any story off the page: lowest ranked first."""
        indices = sorted((i for n in sections for i in self.shown[n]), reverse=True)
        return [_Move(step, i) for i in indices if step is Step.MORE or self._full(i)]

    def _words_after_each(self) -> list[int]:
        stories = self.stories
        section_of = {i: n for n, indices in enumerate(self.shown) for i in indices}
        sentences = {i: sentence_words(stories[i]) for i in section_of}
        headline = {i: headline_words(stories[i]) for i in section_of}
        full = {i: byline_words(stories[i]) for i in section_of if self._full(i)}
        kept = {i: len(stories[i].shown_summary) for i in full}
        more = list(self.more)
        visible = [True] * len(self.sections)

        def section_cost(n: int) -> int:
            if not visible[n]:
                return 0
            return heading_words(self.sections[n]) + (MORE_WORDS if more[n] else 0)

        def story_cost(i: int) -> int:
            if i in full:
                return full[i] + sum(sentences[i][: kept[i]])
            return headline[i]

        total = sum(map(section_cost, range(len(self.sections))))
        total += sum(map(story_cost, section_of))
        after = [total]
        for move in self.moves:
            i = move.index
            if move.step is Step.SHORTEN:
                total -= story_cost(i)
                kept[i] = move.sentences
                total += story_cost(i)
            elif move.step is Step.HEADLINE:
                total -= story_cost(i)
                del full[i]
                total += story_cost(i)
            elif move.step is Step.MORE:
                n = section_of[i]
                total -= story_cost(i) + section_cost(n)
                more[n] += 1
                total += section_cost(n)
            else:
                total -= section_cost(i)
                visible[i] = False
            after.append(total)
        return after

    def within_words(self, budget: int) -> int:
        """The fewest steps after which the page reads within ``budget`` words."""
        return next((k for k, total in enumerate(self.words) if total <= budget), len(self.moves))

    def apply(self, steps: int) -> tuple[tuple[DigestStory, ...], tuple[str, ...]]:
        """The stories and sections after the first ``steps`` steps."""
        # (front_page, headline_only, shown_sentences) of each story a step changed.
        changed: dict[int, tuple[bool, bool, int | None]] = {}
        hidden: set[int] = set()
        for move in self.moves[:steps]:
            if move.step is Step.SHORTEN:
                changed[move.index] = (True, False, move.sentences)
            elif move.step is Step.HEADLINE:
                changed[move.index] = (True, True, None)
            elif move.step is Step.MORE:
                changed[move.index] = (False, False, None)
            else:
                hidden.add(move.index)
        stories = list(self.stories)
        for index, (on_page, headline_only, sentences) in changed.items():
            stories[index] = replace(
                stories[index],
                front_page=on_page,
                headline_only=headline_only,
                shown_sentences=sentences,
            )
        sections = tuple(title for n, title in enumerate(self.sections) if n not in hidden)
        return tuple(stories), sections
