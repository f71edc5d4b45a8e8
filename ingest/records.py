"""Plain data passed from ingest to the composition layer."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Article:
    """One cleaned article, from a feed entry or a seed document.

    ``text`` is the cleaned body: paragraphs separated by one blank line, no title.
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
        # The hash covers what a reader sees, so an edited title or body is an update
        # while a re-fetch of identical content is not.
        digest = hashlib.sha256(f"{self.title}\n\n{self.text}".encode()).hexdigest()
        object.__setattr__(self, "content_hash", digest)

    @property
    def paragraphs(self) -> list[str]:
        return [p for p in self.text.split("\n\n") if p]
