"""Extractive summarisers by name, and the one function the pipeline calls.

Every algorithm is called as sumy's summarisers are (``summariser(document, count)``) on
the project's :class:`~summarise.tokenizer.TokenizedDocument` and returns the sentences
it picks, so the choice of algorithm changes only the ranking: near-duplicates are
dropped from the document before any of them sees it, and length control and article
order come the same way to all of them through the callable ``count``
(:mod:`summarise.selection`). ``default`` and ``lead`` are ours; the others are sumy's,
each given a sumy document built from ours with sumy's public constructors.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, Protocol

from summarise.algorithms import ALGORITHMS
from summarise.default import DefaultSummarizer, Weights
from summarise.language import (
    LanguageProfile,
    detect_language,
    language_profile,
    normalise_language,
)
from summarise.selection import SentencesCount, best_sentences
from summarise.tokenizer import (
    TokenizedDocument,
    Tokenizer,
    build_document,
    build_documents,
    word_count,
)

__all__ = [
    "ALGORITHMS",
    "SENTENCE_LIMITS",
    "LeadSummarizer",
    "Length",
    "Summariser",
    "SumyAdapter",
    "get_summariser",
    "summarise_text",
    "summarise_texts",
    "sumy_document",
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


class Summariser(Protocol):
    """What every algorithm is: sumy's call shape, on our documents."""

    def __call__(
        self, document: TokenizedDocument, sentences_count: SentencesCount
    ) -> tuple[str, ...]: ...


class LeadSummarizer:
    """The first sentences of the article: the baseline every summariser must beat."""

    def __call__(
        self, document: TokenizedDocument, sentences_count: SentencesCount
    ) -> tuple[str, ...]:
        sentences = document.sentences
        return best_sentences(sentences, range(len(sentences)), sentences_count)


if TYPE_CHECKING:
    from sumy.models.dom import ObjectDocumentModel, Sentence
    from sumy.summarizers.edmundson import EdmundsonSummarizer

    # What sumy's summarisers are: sumy documents in, sumy sentences out.
    _SumyCall = Callable[[ObjectDocumentModel, SentencesCount], Sequence[Sentence]]


class SumyAdapter:
    """One of sumy's summarisers, called on our documents.

    Each call builds sumy's document of ours (:func:`sumy_document`), of its first
    ``sentence_limit`` sentences when that is set, and returns the text of the sentences
    sumy picks.
    """

    def __init__(self, summarizer: _SumyCall, sentence_limit: int | None = None) -> None:
        self._summarizer = summarizer
        self._sentence_limit = sentence_limit

    def __call__(
        self, document: TokenizedDocument, sentences_count: SentencesCount
    ) -> tuple[str, ...]:
        picked = self._summarizer(sumy_document(document, self._sentence_limit), sentences_count)
        return tuple(map(str, picked))


def sumy_document(
    document: TokenizedDocument, sentence_limit: int | None = None
) -> ObjectDocumentModel:
    """sumy's document of ``document``, or of its first ``sentence_limit`` sentences.

    The paragraphs are ours; the title is a heading of the first, which sumy keeps out of
    ``document.sentences`` but Edmundson's title and location methods read. Words come
    from our tokenizer, which gives each ``Sentence`` the words near-duplicate removal saw.
    """
    from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence

    tokenizer = document.tokenizer
    headings = [Sentence(document.title, tokenizer, is_heading=True)] if document.title else []
    left = len(document.sentences) if sentence_limit is None else sentence_limit
    paragraphs = []
    for sentences in document.paragraphs:
        kept = sentences[:left]
        if not kept:
            break
        left -= len(kept)
        paragraphs.append(Paragraph([*headings, *(Sentence(s, tokenizer) for s in kept)]))
        headings = []
    if headings:
        paragraphs.append(Paragraph(headings))
    return ObjectDocumentModel(paragraphs)


# sumy's graph, matrix and divergence summarisers do quadratic (KL: cubic) work in the
# number of sentences, so they see only the article's first sentences (news puts what
# matters there): each limit bounds its algorithm's cost on a long document to what the
# others cost, as docs/summarising.md ("Bounded cost") measures. default, lead and
# edmundson grow about linearly with the document and need no limit.
SENTENCE_LIMITS: dict[str, int] = {
    "kl": 60,
    "lsa": 120,
    "lexrank": 150,
    "textrank": 300,
    "luhn": 500,
    "sumbasic": 500,
}


def get_summariser(name: str, language: str | None) -> Summariser:
    """A fresh summariser ``name`` set up for ``language`` (a code)."""
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
    summariser = _shared_summariser(algorithm, code)
    return list(summariser(document, _Selection(length, document.sentences)))


def summarise_texts(
    texts: Sequence[str],
    *,
    length: Length = Length(sentences=3),
    algorithm: str = "default",
    titles: Sequence[str | None] | None = None,
) -> list[list[str]]:
    """:func:`summarise_text` of each of ``texts`` (with the title of the same place in
    ``titles``), each in its detected language: the same summaries, in order.

    The near-duplicate check screens all the documents at once
    (:func:`summarise.tokenizer.build_documents`) and the default summariser works out
    those of one language together (:meth:`DefaultSummarizer.summarise_many`): numpy
    then charges its cost per array operation once per batch rather than once per
    article, which saves a batch of news articles a quarter to a third of its CPU time.
    """
    if algorithm not in _FACTORIES:
        get_summariser(algorithm, None)  # raises the error naming the valid choices
    summaries: list[list[str]] = [[] for _ in texts]
    codes = [detect_language(text) for text in texts]
    built = build_documents(
        texts, [_tokenizer(code) for code in codes], titles or [None] * len(texts)
    )
    by_language: dict[str | None, list[tuple[int, TokenizedDocument]]] = {}
    for index, (code, document) in enumerate(zip(codes, built, strict=True)):
        if document.sentences:
            by_language.setdefault(code, []).append((index, document))
    for code, documents in by_language.items():
        summariser = _shared_summariser(algorithm, code)
        counts = [_Selection(length, document.sentences) for _, document in documents]
        if isinstance(summariser, DefaultSummarizer):
            chosen = summariser.summarise_many([document for _, document in documents], counts)
        else:
            chosen = [
                summariser(document, count)
                for (_, document), count in zip(documents, counts, strict=True)
            ]
        for (index, _), sentences in zip(documents, chosen, strict=True):
            summaries[index] = list(sentences)
    return summaries


@lru_cache(maxsize=64)
def _tokenizer(code: str | None) -> Tokenizer:
    return Tokenizer(code)


@lru_cache(maxsize=256)
def _shared_summariser(name: str, code: str | None) -> Summariser:
    """One summariser per name and language: they keep no state between documents."""
    return get_summariser(name, code)


class _Selection:
    """The ``count`` of every summariser: takes the rated sentences best first (ours or
    sumy's, see :mod:`summarise.selection`), returns those to keep.

    With a word budget it keeps adding the best sentence that still fits, and keeps the
    best one alone if none does, so a non-empty article never gets an empty summary.
    ``planned_sentences`` tells summarisers that care (the default one) how long the
    summary will be; for a word budget it is how many leading sentences fit.
    """

    def __init__(self, length: Length, sentences: Sequence[str]) -> None:
        self._sentences = length.sentence_budget(len(sentences))
        self._words = length.words
        self.planned_sentences = self._sentences or _leading_sentences_within(
            sentences, self._words or 0
        )

    def __call__(self, ranked: Sequence[Any]) -> list[Any]:
        if self._sentences is not None:
            return list(ranked[: self._sentences])
        kept: list[Any] = []
        budget = self._words or 0
        for info in ranked:
            size = word_count(str(info.sentence))
            if size <= budget:
                kept.append(info)
                budget -= size
        return kept or list(ranked[:1])


def _leading_sentences_within(sentences: Sequence[str], words: int) -> int:
    count = 0
    for sentence in sentences:
        words -= word_count(sentence)
        if words < 0:
            break
        count += 1
    return max(1, count)


_Factory = Callable[[LanguageProfile], Summariser]


# sumy's summarisers by name: the module and class of each. sumy is imported by
# _sumy only, when one of them is chosen: its summarisers import NLTK, which the default
# summariser, and every command that does not summarise, can do without.
_SUMY_CLASSES: dict[str, tuple[str, str]] = {
    "lexrank": ("sumy.summarizers.lex_rank", "LexRankSummarizer"),
    "textrank": ("sumy.summarizers.text_rank", "TextRankSummarizer"),
    "lsa": ("sumy.summarizers.lsa", "LsaSummarizer"),
    "luhn": ("sumy.summarizers.luhn", "LuhnSummarizer"),
    "kl": ("sumy.summarizers.kl", "KLSummarizer"),
    "sumbasic": ("sumy.summarizers.sum_basic", "SumBasicSummarizer"),
}


def _sumy(name: str) -> _Factory:
    """The factory of sumy's summariser *name*: given the language's stemmer and stop
    words, and seeing at most ``SENTENCE_LIMITS[name]`` sentences."""
    module, cls = _SUMY_CLASSES[name]

    def factory(profile: LanguageProfile) -> SumyAdapter:
        summarizer = getattr(importlib.import_module(module), cls)(profile.stem)
        summarizer.stop_words = profile.stop_words
        return SumyAdapter(summarizer, SENTENCE_LIMITS.get(name))

    return factory


def _default(profile: LanguageProfile) -> DefaultSummarizer:
    return DefaultSummarizer(profile.stem, profile.stop_words, _shipped_weights())


def _lead(profile: LanguageProfile) -> LeadSummarizer:
    return LeadSummarizer()


class _TitledEdmundson:
    """sumy's Edmundson summariser, with the words of the document's title as bonus
    words too: the title says what the article is about."""

    def __init__(self, profile: LanguageProfile) -> None:
        self._profile = profile
        self._untitled = SumyAdapter(_edmundson(profile, _BONUS_WORDS))

    def __call__(
        self, document: TokenizedDocument, sentences_count: SentencesCount
    ) -> tuple[str, ...]:
        if not document.title_words:
            return self._untitled(document, sentences_count)
        bonus = _BONUS_WORDS.union(w.lower() for w in document.title_words)
        return SumyAdapter(_edmundson(self._profile, bonus))(document, sentences_count)


def _edmundson(profile: LanguageProfile, bonus_words: frozenset[str]) -> EdmundsonSummarizer:
    from sumy.summarizers.edmundson import EdmundsonSummarizer

    summarizer = EdmundsonSummarizer(profile.stem)
    summarizer.bonus_words = bonus_words
    summarizer.stigma_words = _STIGMA_WORDS
    summarizer.null_words = profile.stop_words or _FALLBACK_NULL_WORDS
    return summarizer


@cache
def _shipped_weights() -> Weights:
    return Weights.shipped()


_FACTORIES: dict[str, _Factory] = {
    "default": _default,
    "lead": _lead,
    **{name: _sumy(name) for name in _SUMY_CLASSES},
    "edmundson": _TitledEdmundson,
}
