"""Which way PostgreSQL finds a query's newest matches: through the GIN index, or by
walking the items newest first and testing each.

The GIN index hands over every match of a query, which are then ordered by id to keep
the newest ``RANKED_MATCHES``: the cost grows with the matches, and a phrase or an
exclusion, which the index cannot settle, reads each candidate's vector. Walking the
items newest first reads one vector per item visited and stops at the ranked number
of matches: the cost shrinks as the query gets commoner. Which is cheaper is decided
here, from the share of items each word of the query is in (PostgreSQL's statistics of
the vectors), as pure functions over the query's text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

# Cost of one match handed over by the GIN index and ordered, and of reading one vector
# and testing it, relative to each other. At a million items filled by the service both
# were about 3.5 µs (the matches' rows lie on as many pages); the walk is counted dearer
# so that a table whose rows are denser, where a match costs less, leans to the index
# (docs/scale.md, "Search").
INDEX_MATCH_COST = 1.0
VECTOR_READ_COST = 1.5
# A phrase is rarer than its words together by far; taking it as common as them would
# walk the items for phrases that turn up once in thousands.
PHRASE_SHARE = 0.05

_TOKEN = re.compile(r"\s*('(?:[^']|'')*'(?::[*A-D]+)?|<->|<\d+>|[!&|()])")


@dataclass(frozen=True, slots=True)
class Shares:
    """Of the items, the share a query matches, and the share the GIN index hands over
    as candidates (a phrase's words together; an exclusion left out)."""

    matched: float
    candidates: float
    rechecked: bool  # the index's candidates must have their vectors read


def query_shares(tsquery: str, shares: Mapping[str, float], unknown: float) -> Shares:
    """The shares of *tsquery* (PostgreSQL's text of a ``tsquery``) from the share of
    items holding each word (*shares*; *unknown* for a word not in them), words taken
    as independent of each other."""
    tokens = [match.group(1) for match in _TOKEN.finditer(tsquery)]
    if not tokens:
        return Shares(0.0, 0.0, False)
    parser = _Parser(tokens, shares, unknown)
    return parser.parse()


def query_words(tsquery: str) -> list[str]:
    """The words of *tsquery* (PostgreSQL's text of a ``tsquery``), unquoted."""
    words = []
    for match in _TOKEN.finditer(tsquery):
        token = match.group(1)
        if token.startswith("'"):
            words.append(token[1:].rpartition("'")[0].replace("''", "'"))
    return words


def walks_newest_first(query: Shares, items: int, ranked: int) -> bool:
    """Whether walking the newest items is cheaper than the GIN index for *query*,
    with *items* stored and *ranked* matches wanted."""
    if query.matched <= 0 or items <= 0:
        return False
    walked = min(items, ranked / query.matched) * VECTOR_READ_COST
    per_candidate = INDEX_MATCH_COST + (VECTOR_READ_COST if query.rechecked else 0.0)
    return walked < query.candidates * items * per_candidate


@dataclass(slots=True)
class _Parser:
    """Precedence as PostgreSQL's: ``!`` binds tightest, then phrase, ``&``, ``|``."""

    tokens: list[str]
    shares: Mapping[str, float]
    unknown: float
    at: int = 0

    def parse(self) -> Shares:
        return self._or()

    def _peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def _take(self) -> str | None:
        token = self._peek()
        self.at += 1
        return token

    def _or(self) -> Shares:
        left = self._and()
        while self._peek() == "|":
            self._take()
            right = self._and()
            left = Shares(
                _either(left.matched, right.matched),
                _either(left.candidates, right.candidates),
                left.rechecked or right.rechecked,
            )
        return left

    def _and(self) -> Shares:
        left = self._phrase()
        while self._peek() == "&":
            self._take()
            right = self._phrase()
            left = Shares(
                left.matched * right.matched,
                left.candidates * right.candidates,
                left.rechecked or right.rechecked,
            )
        return left

    def _phrase(self) -> Shares:
        left = self._not()
        while (token := self._peek()) is not None and token.startswith("<"):
            self._take()
            right = self._not()
            candidates = left.candidates * right.candidates
            left = Shares(left.matched * right.matched * PHRASE_SHARE, candidates, True)
        return left

    def _not(self) -> Shares:
        if self._peek() == "!":
            self._take()
            inner = self._not()
            # The index cannot list what lacks a word: all items are candidates of it.
            return Shares(1.0 - inner.matched, 1.0, True)
        return self._operand()

    def _operand(self) -> Shares:
        token = self._take()
        if token == "(":
            inner = self._or()
            self._take()  # ")"
            return inner
        if token is None or not token.startswith("'"):
            return Shares(0.0, 0.0, False)
        word, _, flags = token[1:].rpartition("'")
        share = self.shares.get(word.replace("''", "'"), self.unknown)
        # A prefix or a weight is settled by reading the vector.
        return Shares(share, share, bool(flags))


def _either(a: float, b: float) -> float:
    return min(1.0, a + b - a * b)
