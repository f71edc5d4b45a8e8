"""A feed's boilerplate: the paragraphs it repeats in most of its items.

A newsletter footer, a video channel's list of links, a changelog's template, a podcast's
sign-off: one feed puts the same paragraphs under every item, and two of its different
items then look alike to fingerprints. The classic remedy for web templates works for
feeds too: a paragraph that recurs across most of a feed's recent items is not what tells
them apart, so it is left out of what is fingerprinted (the stored text keeps it).

The decision is made from the feed's current document (its entries are its recent items)
and, when the document holds too few items to tell, from the record kept of the last
decision; a single item arriving later is stripped of what its feed repeated before.

Everything here is pure: texts in, paragraph keys out. A paragraph is a line of the
cleaned text; its key is the CRC-32 of its casefolded words, so whitespace and case do
not make two copies differ, and a key fits a BIGINT column.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Collection, Iterable, Sequence

MIN_ITEMS = 4
"""Items a document needs for its repeats to say anything: with three, two items sharing
a paragraph (a two-part story quoting one statement) would be a majority."""

RECURRING_SHARE = 0.5
"""A paragraph in more than this share of a feed's items is its boilerplate. A footer or
template is in all or nearly all of them; a quote or a stock sentence two articles happen
to share is in two."""


def paragraph_key(paragraph: str) -> int | None:
    """The key of one paragraph, None for a paragraph without words (a blank line)."""
    words = paragraph.casefold().split()
    return zlib.crc32(" ".join(words).encode()) if words else None


def paragraph_keys(text: str) -> set[int]:
    """The keys of the distinct paragraphs of *text*."""
    return {key for line in text.splitlines() if (key := paragraph_key(line)) is not None}


def recurring(texts: Sequence[str]) -> frozenset[int]:
    """The paragraphs in more than ``RECURRING_SHARE`` of *texts* (one feed's items),
    nothing when there are fewer than ``MIN_ITEMS`` texts."""
    if len(texts) < MIN_ITEMS:
        return frozenset()
    counts = Counter(key for text in texts for key in paragraph_keys(text))
    return frozenset(key for key, count in counts.items() if count > RECURRING_SHARE * len(texts))


def decide(texts: Sequence[str], known: Collection[int]) -> frozenset[int]:
    """A feed's boilerplate given its current items' *texts* and the record of its last
    decision: what the items repeat, if there are enough of them to tell; otherwise
    what the record says. The result is the feed's new record."""
    if len(texts) < MIN_ITEMS:
        return frozenset(known)
    return recurring(texts)


def strip(text: str, boilerplate: Collection[int]) -> str:
    """*text* without its boilerplate paragraphs (all of it when there is none)."""
    if not boilerplate:
        return text
    return "\n".join(_kept(text.splitlines(), boilerplate))


def _kept(lines: Iterable[str], boilerplate: Collection[int]) -> Iterable[str]:
    for line in lines:
        if paragraph_key(line) not in boilerplate:
            yield line
