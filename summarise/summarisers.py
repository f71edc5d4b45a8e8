"""Extractive summarisers by name, and the one function the pipeline calls.

Every algorithm is a sumy-compatible summariser (``summariser(document, count)``), fed
documents built with the project's tokenizer, so the choice of algorithm changes only the
ranking: near-duplicates are dropped from the document before any of them sees it, and
length control and article order come the same way to all of them through the callable
``count`` sumy accepts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
from sumy.summarizers._summarizer import AbstractSummarizer, SentenceInfo
from sumy.summarizers.edmundson import EdmundsonSummarizer
from sumy.summarizers.kl import KLSummarizer
from sumy.summarizers.lex_rank import LexRankSummarizer
from sumy.summarizers.lsa import LsaSummarizer
from sumy.summarizers.luhn import LuhnSummarizer
from sumy.summarizers.sum_basic import SumBasicSummarizer
from sumy.summarizers.text_rank import TextRankSummarizer

from summarise.default import DefaultSummarizer, Weights
from summarise.language import (
    LanguageProfile,
    detect_language,
    language_profile,
    normalise_language,
)
from summarise.tokenizer import Tokenizer, build_document, word_count

__all__ = [
    "ALGORITHMS",
    "SENTENCE_LIMITS",
    "LeadSummarizer",
    "Length",
    "get_summariser",
    "summarise_text",
]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Cue words for Edmundson's cue method. They are English: in other languages they match
# nothing and the title and location methods decide alone.
_BONUS_WORDS = _words(
    """announced said says confirmed revealed found warned decided agreed approved
    first new major key important significant biggest record according report"""
)
_STIGMA_WORDS = _words(
    """click scroll video photo pictured picture subscribe advertisement newsletter
    follow share comments sign cookies gallery related maybe perhaps hardly"""
)
# Null words for languages without a stop-word list: lone letters and digits.
_FALLBACK_NULL_WORDS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


@dataclass(frozen=True)
class Length:
    """How long a summary is: a number of sentences, a share of them, or a word budget.

    Exactly one is set; ``Length()`` means three sentences.
    """

    sentences: int | None = None
    ratio: float | None = None
    words: int | None = None

    def __post_init__(self) -> None:
        given = [v for v in (self.sentences, self.ratio, self.words) if v is not None]
        if not given:
            object.__setattr__(self, "sentences", 3)
        elif len(given) > 1:
            raise ValueError("set exactly one of sentences, ratio or words")
        if self.sentences is not None and self.sentences < 1:
            raise ValueError(f"sentences must be at least 1, not {self.sentences}")
        if self.ratio is not None and not 0 < self.ratio <= 1:
            raise ValueError(f"ratio must be in (0, 1], not {self.ratio}")
        if self.words is not None and self.words < 1:
            raise ValueError(f"words must be at least 1, not {self.words}")

    def sentence_budget(self, total: int) -> int | None:
        """How many of ``total`` sentences to keep; None for a word budget."""
        if self.ratio is not None:
            return max(1, round(self.ratio * total))
        return self.sentences


class LeadSummarizer(AbstractSummarizer):
    """The first sentences of the article: the baseline every summariser must beat."""

    def __call__(self, document: ObjectDocumentModel, sentences_count) -> tuple[Sentence, ...]:
        sentences = document.sentences
        ratings = {s: -float(i) for i, s in enumerate(sentences)}
        return self._get_best_sentences(sentences, sentences_count, ratings)


# sumy's graph, matrix and divergence summarisers do quadratic (KL: cubic) work in the
# number of sentences. Past these many they would take over half a second, so they see
# only the article's first sentences; news puts what matters there. (default, lead and
# edmundson need no limit: a 2,000-sentence document takes them well under a second.)
SENTENCE_LIMITS: dict[str, int] = {
    "kl": 60,
    "lsa": 120,
    "lexrank": 150,
    "textrank": 300,
    "luhn": 500,
    "sumbasic": 500,
}

ALGORITHMS: tuple[str, ...] = (
    "default",
    "lead",
    "lexrank",
    "textrank",
    "lsa",
    "luhn",
    "kl",
    "sumbasic",
    "edmundson",
)


def get_summariser(name: str, language: str | None) -> AbstractSummarizer:
    """A fresh sumy-compatible summariser ``name`` set up for ``language`` (a code)."""
    factory = _FACTORIES.get(name)
    if factory is None:
        raise ValueError(f"unknown summariser {name!r}; choose one of {', '.join(ALGORITHMS)}")
    return factory(language_profile(normalise_language(language)))


def summarise_text(
    text: str,
    *,
    length: Length = Length(sentences=3),
    algorithm: str = "default",
    language: str | None = None,
    title: str | None = None,
) -> list[str]:
    """The summary of ``text`` (a cleaned body, paragraphs split by blank lines).

    ``language`` is a declared code such as "en" or "de-DE"; when absent it is detected.
    Returns whole sentences in article order, never two near-identical ones.
    """
    if algorithm not in _FACTORIES:
        get_summariser(algorithm, language)  # raises the error naming the valid choices
    code = normalise_language(language) or detect_language(text)
    document = build_document(text, _tokenizer(code), title)
    if not document.sentences:
        return []
    if algorithm == "edmundson" and document.headings:
        summariser = get_summariser(algorithm, code)
        title_words = (w for h in document.headings for w in h.words)
        summariser.bonus_words = _BONUS_WORDS.union(w.lower() for w in title_words)
    else:
        summariser = _shared_summariser(algorithm, code)
    selection = _Selection(length, document.sentences)
    limit = SENTENCE_LIMITS.get(algorithm)
    if limit is not None and len(document.sentences) > limit:
        document = _leading_sentences(document, limit)
    return [str(sentence) for sentence in summariser(document, selection)]


def _leading_sentences(document: ObjectDocumentModel, limit: int) -> ObjectDocumentModel:
    """``document`` cut after its first ``limit`` sentences, headings kept."""
    paragraphs = []
    for paragraph in document.paragraphs:
        kept = paragraph.sentences[:limit]
        limit -= len(kept)
        if kept or paragraph.headings:
            paragraphs.append(Paragraph([*paragraph.headings, *kept]))
    return ObjectDocumentModel(paragraphs)


@lru_cache(maxsize=64)
def _tokenizer(code: str | None) -> Tokenizer:
    return Tokenizer(code)


@lru_cache(maxsize=256)
def _shared_summariser(name: str, code: str | None) -> AbstractSummarizer:
    """One summariser per name and language: they keep no state between documents."""
    return get_summariser(name, code)


class _Selection:
    """sumy's ``count``: takes the rated sentences best first, returns those to keep.

    With a word budget it keeps adding the best sentence that still fits, and keeps the
    best one alone if none does, so a non-empty article never gets an empty summary.
    ``planned_sentences`` tells summarisers that care (the default one) how long the
    summary will be; for a word budget it is how many leading sentences fit.
    """

    def __init__(self, length: Length, sentences: Sequence[Sentence]) -> None:
        self._sentences = length.sentence_budget(len(sentences))
        self._words = length.words
        self.planned_sentences = self._sentences or _leading_sentences_within(
            sentences, self._words or 0
        )

    def __call__(self, ranked: Sequence[SentenceInfo]) -> list[SentenceInfo]:
        if self._sentences is not None:
            return list(ranked[: self._sentences])
        kept: list[SentenceInfo] = []
        budget = self._words or 0
        for info in ranked:
            size = word_count(str(info.sentence))
            if size <= budget:
                kept.append(info)
                budget -= size
        return kept or list(ranked[:1])


def _leading_sentences_within(sentences: Sequence[Sentence], words: int) -> int:
    count = 0
    for sentence in sentences:
        words -= word_count(str(sentence))
        if words < 0:
            break
        count += 1
    return max(1, count)


_Factory = Callable[[LanguageProfile], AbstractSummarizer]


def _with_stop_words(cls: type[AbstractSummarizer]) -> _Factory:
    def build(profile: LanguageProfile) -> AbstractSummarizer:
        summariser = cls(profile.stem)
        summariser.stop_words = profile.stop_words
        return summariser

    return build


def _default(profile: LanguageProfile) -> DefaultSummarizer:
    return DefaultSummarizer(profile.stem, profile.stop_words, _shipped_weights())


def _lead(profile: LanguageProfile) -> LeadSummarizer:
    return LeadSummarizer(profile.stem)


def _edmundson(profile: LanguageProfile) -> EdmundsonSummarizer:
    summariser = EdmundsonSummarizer(profile.stem)
    summariser.bonus_words = _BONUS_WORDS
    summariser.stigma_words = _STIGMA_WORDS
    summariser.null_words = profile.stop_words or _FALLBACK_NULL_WORDS
    return summariser


@cache
def _shipped_weights() -> Weights:
    return Weights.shipped()


_FACTORIES: dict[str, _Factory] = {
    "default": _default,
    "lead": _lead,
    "lexrank": _with_stop_words(LexRankSummarizer),
    "textrank": _with_stop_words(TextRankSummarizer),
    "lsa": _with_stop_words(LsaSummarizer),
    "luhn": _with_stop_words(LuhnSummarizer),
    "kl": _with_stop_words(KLSummarizer),
    "sumbasic": _with_stop_words(SumBasicSummarizer),
    "edmundson": _edmundson,
}
