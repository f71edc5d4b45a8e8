"""Plain data passed from ingest to the composition layer, and the cap on its size."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

import structlog

from ingest.dates import believable
from ingest.text import strip_control_characters

log = structlog.get_logger(__name__)

MAX_CONTENT_CHARS = 1_000_000
"""An article's content (feed entry, seed or full-text page) beyond this is cut before
cleaning and summarising: a long news feature is ~50,000 characters of HTML, and a 20 MB
item would otherwise be cleaned, fingerprinted and summarised whole (~900 MB of memory).
:class:`Article` holds its text to it too, whichever way the text was made."""


def cap_content(content: str, **context: object) -> str:
    """``content`` cut to :data:`MAX_CONTENT_CHARS`, with a warning (carrying ``context``,
    such as the page's URL) when that cuts it."""
    if len(content) <= MAX_CONTENT_CHARS:
        return content
    log.warning("entry.content_truncated", **context, chars=len(content), kept=MAX_CONTENT_CHARS)
    return content[:MAX_CONTENT_CHARS]


def cap_paragraphs(paragraphs: Sequence[str], **context: object) -> list[str]:
    """Paragraphs (without blank lines inside them) cut as :func:`cap_content` cuts the
    text they make when joined by blank lines."""
    if sum(map(len, paragraphs)) + 2 * (len(paragraphs) - 1) <= MAX_CONTENT_CHARS:
        return list(paragraphs)
    capped = cap_content("\n\n".join(paragraphs), **context)
    return [p for p in capped.split("\n\n") if p]


@dataclass(frozen=True, slots=True)
class Article:
    """One cleaned article, from a feed entry or a seed document.

    ``text`` is the cleaned body: paragraphs separated by one blank line, no title, at
    most :data:`MAX_CONTENT_CHARS` long.
    ``guid`` identifies the article within its source; together with the source it is
    the item's identity across re-runs, so it must not depend on the article's content
    unless the source offers nothing better.
    """

    guid: str
    title: str
    text: str
    url: str | None = None
    author: str | None = None
    published: datetime | None = None
    language: str | None = None
    content_hash: str = field(init=False)

    def __post_init__(self) -> None:
        # Whichever parser made the text, its size is capped and control characters (never
        # content, and PostgreSQL refuses NUL in text) are gone from every field.
        if len(self.text) > MAX_CONTENT_CHARS:
            object.__setattr__(self, "text", self.text[:MAX_CONTENT_CHARS].rstrip())
        for name in ("guid", "title", "text", "url", "author", "language"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, strip_control_characters(value))
        # The hash covers what a reader sees, so an edited title or body is an update
        # while a re-fetch of identical content is not.
        digest = hashlib.sha256(f"{self.title}\n\n{self.text}".encode()).hexdigest()
        object.__setattr__(self, "content_hash", digest)

    @property
    def paragraphs(self) -> list[str]:
        return [p for p in self.text.split("\n\n") if p]


@dataclass(frozen=True, slots=True)
class Redated:
    """Articles with their dates made believable (see :func:`redate`). ``replaced`` holds
    the dates given up, by guid: of a repeated guid, that of its last article, as
    :func:`ingest.refresh.changed_entries` keeps the last."""

    articles: tuple[Article, ...]
    replaced: dict[str, datetime]


def redate(articles: Iterable[Article], *, fetched: datetime) -> Redated:
    """``articles`` as fetched (first seen) at ``fetched``, each dated by
    :func:`ingest.dates.believable`: a date more than a day after ``fetched`` becomes
    ``fetched``."""
    result = []
    replaced: dict[str, datetime] = {}
    for article in articles:
        date = believable(article.published, fetched)
        if article.published is not None and date != article.published:
            replaced[article.guid] = article.published
            article = replace(article, published=date)
        else:
            replaced.pop(article.guid, None)
        result.append(article)
    return Redated(tuple(result), replaced)


def warn_future_dates(
    replaced: Mapping[str, datetime], fetched: datetime, **context: object
) -> None:
    """One warning for the articles of one fetch (or seed) that :func:`redate` dated by
    ``fetched``; ``context`` names the feed or seed. Nothing when there were none."""
    if replaced:
        log.warning(
            "date.future_replaced",
            **context,
            items=len(replaced),
            latest=max(replaced.values()).isoformat(),
            replaced_by=fetched.isoformat(),
        )
