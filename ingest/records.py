"""Plain data passed from ingest to the composition layer."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime

MAX_CONTENT_CHARS = 1_000_000
"""An article's content (feed entry or seed) beyond this is cut before cleaning and
summarising: a long news feature is ~50,000 characters of HTML, and a 20 MB item would
otherwise be cleaned, fingerprinted and summarised whole (~900 MB of memory)."""

# C0 controls and DEL, but tab, newline and carriage return.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])


def has_control_characters(text: str) -> bool:
    """Whether ``text`` holds a C0 control (but tab, newline and carriage return) or DEL.

    UTF-8 encodes every non-ASCII character (lone surrogates too, with "surrogatepass") in
    bytes of 0x80 and above, so the control bytes of the encoded text are its control
    characters; deleting them is a C loop, a quarter of what searching with the regex
    costs on an article's text.
    """
    encoded = text.encode("utf-8", "surrogatepass")
    return len(encoded.translate(None, _CONTROL_BYTES)) != len(encoded)


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
        # Control characters are never content, and PostgreSQL refuses NUL in text:
        # strip them from every field, whichever parser let them through.
        for name in ("guid", "title", "text", "url", "author", "language"):
            value = getattr(self, name)
            if value is not None and has_control_characters(value):
                object.__setattr__(self, name, _CONTROL.sub("", value))
        # The hash covers what a reader sees, so an edited title or body is an update
        # while a re-fetch of identical content is not.
        digest = hashlib.sha256(f"{self.title}\n\n{self.text}".encode()).hexdigest()
        object.__setattr__(self, "content_hash", digest)

    @property
    def paragraphs(self) -> list[str]:
        return [p for p in self.text.split("\n\n") if p]
