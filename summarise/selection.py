"""Which of a summariser's ranked sentences the summary keeps, in article order.

Every summariser, ours and sumy's, takes the summary's length as sumy's do
(``summariser(document, sentences_count)``): a number of sentences, a share of them such
as ``"20%"`` (at least one), or a callable given the rated sentences best first that
returns those to keep, which is sumy's extension point for lengths it does not know,
such as word budgets (miso-belica/sumy#161). Ours rate sentences as
:class:`RatedSentence`, with the fields of what sumy's pass such a callable, so one
callable serves both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any, NamedTuple

__all__ = ["RatedSentence", "SentencesCount", "best_sentences", "planned_sentences"]


class RatedSentence(NamedTuple):
    """A sentence, its place in the article and its rating (higher is better)."""

    sentence: str
    order: int
    rating: float


# Callables get and return sumy's rated sentences, or ours: both have ``sentence`` and
# ``order``.
SentencesCount = int | float | str | Callable[[list[Any]], Sequence[Any]]


def best_sentences(
    sentences: Sequence[str], ranking: Sequence[int], count: SentencesCount
) -> tuple[str, ...]:
    """The sentences ``count`` keeps of ``ranking`` (indices into ``sentences``, best
    first), in article order; each is rated by its rank, the best highest."""
    rated = list(
        map(
            RatedSentence,
            map(sentences.__getitem__, ranking),
            ranking,
            map(float, range(len(ranking), 0, -1)),
        )
    )
    kept = count(rated) if callable(count) else rated[: _how_many(count, len(rated))]
    return tuple(info.sentence for info in sorted(kept, key=attrgetter("order")))


def _how_many(count: int | float | str, total: int) -> int:
    """How many sentences a number or a share keeps, as sumy's ``ItemsCount`` counts."""
    if isinstance(count, str):
        if count.endswith("%"):
            return max(1, total * int(count[:-1]) // 100)
        return int(count)
    if isinstance(count, int | float):
        return int(count)
    raise TypeError(f"unsupported sentences count {count!r}")


def planned_sentences(count: SentencesCount, total: int) -> int:
    """How many of ``total`` sentences ``count`` will keep, for summarisers whose ranking
    depends on it. A callable may say so in a ``planned_sentences`` attribute; otherwise
    three are assumed."""
    if isinstance(count, int | float):
        return max(1, int(count))
    if isinstance(count, str) and count.endswith("%"):
        return max(1, total * int(count[:-1]) // 100)
    return int(getattr(count, "planned_sentences", 3))
