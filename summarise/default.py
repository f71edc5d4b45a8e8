"""The default summariser: a position prior and centrality, picked with MMR.

Classic graph summarisers ignore the strongest signal in news, that reporters put the
point first; Lead-k ignores everything else. This one scores each sentence with a small
logistic model over cheap features (position, centrality, overlap with the rest of the
article and with the title, length, quotes), then selects with maximal marginal
relevance so the summary does not say the same thing twice.

What makes a sentence worth keeping depends on how much of the article the summary
keeps. A three-sentence summary of a long story is its lead with the weakest sentence
swapped for a better one; a summary keeping half the sentences is the ones that carry
the most shared content. So there are two models, one fitted where summaries are short
(CNN/DailyMail highlights) and one where they are long (the BBC extracts), blended by
the share of sentences the summary keeps. Weights come from ``default_weights.json``,
fitted by ``bench/train_summariser.py``.

Every step is linear in the document's words except MMR, which compares each pick with
the other sentences through an inverted index, and orders only as many sentences as the
summary takes (at most :data:`MMR_STEPS`); the rest follow by relevance.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np
from sumy.models.dom import ObjectDocumentModel, Sentence
from sumy.summarizers._summarizer import AbstractSummarizer

__all__ = [
    "FEATURES",
    "MMR_STEPS",
    "DefaultSummarizer",
    "Model",
    "Weights",
    "model_inputs",
    "rank_sentences",
    "sentence_features",
]

FEATURES: tuple[str, ...] = (
    "lead",  # 1 / (1 + position): the reporter's ordering
    "first",  # first sentence of the article
    "paragraph_start",  # first sentence of its paragraph
    "centrality",  # cosine with the document's tf-idf centroid
    "title",  # share of the title's content words the sentence contains
    "length",  # log word count, relative to the document's mean
    "position",  # position / number of sentences
    "quote",  # contains a quotation mark: quotes rarely summarise
    "question",  # ends with a question mark
    "overlap",  # sentences sharing each of its terms, summed, over the document's maximum
    "names",  # share of its words, past the first, that are capitalised
    "number",  # contains a digit
    "words",  # log word count / 4
    "in_lead",  # among the first k sentences, k the summary's length: the Lead-k prior
)
MMR_STEPS = 256
_VECTORISE_ABOVE = 150
_QUOTE = re.compile('["“”«»„]')
_DIGIT = re.compile(r"\d")
_CLOSERS = "\"'”’»)] "
_WEIGHTS_FILE = "default_weights.json"


@dataclass(frozen=True)
class Model:
    """A logistic model over :data:`FEATURES`, and the MMR penalty that goes with it."""

    coefficients: tuple[float, ...]
    intercept: float
    redundancy: float

    @classmethod
    def from_dict(cls, raw: dict) -> Model:
        if len(raw["coefficients"]) != len(FEATURES):
            raise ValueError(f"expected {len(FEATURES)} coefficients, got {raw['coefficients']}")
        return cls(
            tuple(map(float, raw["coefficients"])),
            float(raw["intercept"]),
            float(raw["redundancy"]),
        )

    def probability(self, features: Sequence[float]) -> float:
        logit = self.intercept + sum(
            c * f for c, f in zip(self.coefficients, features, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit))))


@dataclass(frozen=True)
class Weights:
    """The short- and long-summary models and the shares of sentences between which
    the first hands over to the second."""

    short: Model
    long: Model
    share_from: float
    share_to: float

    @classmethod
    def shipped(cls) -> Weights:
        raw = json.loads(resources.files("summarise").joinpath(_WEIGHTS_FILE).read_text())
        return cls.from_dict(raw)

    @classmethod
    def from_dict(cls, raw: dict) -> Weights:
        names = tuple(raw["features"])
        if names != FEATURES:
            raise ValueError(f"weights are for features {names}, expected {FEATURES}")
        return cls(
            Model.from_dict(raw["short"]),
            Model.from_dict(raw["long"]),
            float(raw["gate"]["share_from"]),
            float(raw["gate"]["share_to"]),
        )

    def blend(self, share: float) -> float:
        """How much the long-summary model counts when the summary keeps ``share``."""
        span = self.share_to - self.share_from
        return min(1.0, max(0.0, (share - self.share_from) / span)) if span > 0 else 1.0


@dataclass(frozen=True)
class _Vectors:
    """tf-idf vectors of the sentences, unit length, and an index from term to sentences."""

    vectors: list[dict[str, float]]
    postings: dict[str, list[tuple[int, float]]]

    def similarities(self, index: int) -> dict[int, float]:
        """Cosine similarity of sentence ``index`` with every sentence sharing a term."""
        sims: dict[int, float] = {}
        for term, weight in self.vectors[index].items():
            for other, other_weight in self.postings[term]:
                sims[other] = sims.get(other, 0.0) + weight * other_weight
        return sims


def model_inputs(
    features: Sequence[Sequence[float]], summary_sentences: int
) -> list[tuple[float, ...]]:
    """:data:`FEATURES` rows: :func:`sentence_features` plus ``in_lead`` for length k."""
    return [(*row, 1.0 if i < summary_sentences else 0.0) for i, row in enumerate(features)]


def sentence_features(
    document: ObjectDocumentModel,
    stem: Callable[[str], str],
    stop_words: frozenset[str],
) -> tuple[list[tuple[float, ...]], _Vectors]:
    """The :data:`FEATURES` of each sentence but ``in_lead``, and their tf-idf vectors.

    ``in_lead`` depends on the summary's length; :func:`model_inputs` adds it.
    """
    sentences = document.sentences
    bags = [_content_terms(s.words, stem, stop_words) for s in sentences]
    vectors = _tfidf_vectors(bags)
    centroid: Counter[str] = Counter()
    for vector in vectors.vectors:
        centroid.update(vector)
    centroid_norm = math.sqrt(sum(v * v for v in centroid.values())) or 1.0
    postings = vectors.postings
    overlaps = [sum(len(postings[t]) - 1 for t in vector) for vector in vectors.vectors]
    most_overlap = max(overlaps, default=0) or 1
    title = _title_terms(document, stem, stop_words)
    lengths = [math.log1p(len(s.words)) for s in sentences]
    mean_length = (sum(lengths) / len(lengths)) if lengths else 1.0
    starts = _paragraph_starts(document)
    count = len(sentences)
    features = []
    for i, (bag, vector) in enumerate(zip(bags, vectors.vectors, strict=True)):
        centrality = sum(w * centroid[t] for t, w in vector.items()) / centroid_norm
        title_share = len(title.intersection(bag)) / len(title) if title else 0.0
        text = str(sentences[i])
        later_words = text.split()[1:]
        features.append(
            (
                1.0 / (1.0 + i),
                1.0 if i == 0 else 0.0,
                1.0 if i in starts else 0.0,
                centrality,
                title_share,
                lengths[i] / mean_length if mean_length else 0.0,
                i / count,
                1.0 if _QUOTE.search(text) else 0.0,
                1.0 if text.rstrip(_CLOSERS).endswith("?") else 0.0,
                overlaps[i] / most_overlap,
                sum(w[:1].isupper() for w in later_words) / len(later_words)
                if later_words
                else 0.0,
                1.0 if _DIGIT.search(text) else 0.0,
                lengths[i] / 4,
            )
        )
    return features, vectors


def _content_terms(
    words: Iterable[str], stem: Callable[[str], str], stop_words: frozenset[str]
) -> Counter[str]:
    lowered = (w.lower() for w in words)
    return Counter(stem(w) for w in lowered if w not in stop_words)


def _tfidf_vectors(bags: list[Counter[str]]) -> _Vectors:
    document_frequency: Counter[str] = Counter()
    for bag in bags:
        document_frequency.update(bag.keys())
    count = len(bags)
    idf = {t: math.log1p(count / df) for t, df in document_frequency.items()}
    vectors: list[dict[str, float]] = []
    postings: dict[str, list[tuple[int, float]]] = {}
    for index, bag in enumerate(bags):
        raw = {t: tf * idf[t] for t, tf in bag.items()}
        norm = math.sqrt(sum(v * v for v in raw.values())) or 1.0
        vector = {t: v / norm for t, v in raw.items()}
        vectors.append(vector)
        for term, weight in vector.items():
            postings.setdefault(term, []).append((index, weight))
    return _Vectors(vectors, postings)


def _title_terms(
    document: ObjectDocumentModel, stem: Callable[[str], str], stop_words: frozenset[str]
) -> frozenset[str]:
    terms: set[str] = set()
    for heading in document.headings:
        terms.update(_content_terms(heading.words, stem, stop_words))
    return frozenset(terms)


def _paragraph_starts(document: ObjectDocumentModel) -> frozenset[int]:
    starts = set()
    position = 0
    for paragraph in document.paragraphs:
        if paragraph.sentences:
            starts.add(position)
            position += len(paragraph.sentences)
    return frozenset(starts)


class DefaultSummarizer(AbstractSummarizer):
    """Position prior, centrality and overlap, selected with MMR; sumy-compatible.

    ``sentences_count`` is anything sumy accepts (a number, "20%", or a callable that
    takes the rated sentences best first), so length control works as for sumy's own.
    """

    def __init__(
        self,
        stemmer: Callable[[str], str] = str.lower,
        stop_words: Iterable[str] = (),
        weights: Weights | None = None,
    ) -> None:
        super().__init__(stemmer)
        self._stop_words = frozenset(w.lower() for w in stop_words)
        self._weights = weights or Weights.shipped()

    @property
    def stop_words(self) -> frozenset[str]:
        return self._stop_words

    @stop_words.setter
    def stop_words(self, words: Iterable[str]) -> None:
        self._stop_words = frozenset(w.lower() for w in words)

    def __call__(self, document: ObjectDocumentModel, sentences_count) -> tuple[Sentence, ...]:
        sentences = document.sentences
        if not sentences:
            return ()
        planned = _planned_sentences(sentences_count, len(sentences))
        ratings = self.rate_sentences(document, planned)
        return self._get_best_sentences(sentences, sentences_count, ratings)

    def rate_sentences(
        self, document: ObjectDocumentModel, summary_sentences: int
    ) -> dict[Sentence, float]:
        """A rating per sentence for a summary of about ``summary_sentences``; higher first."""
        features, vectors = sentence_features(document, self._stemmer, self._stop_words)
        ranking = rank_sentences(features, vectors, self._weights, summary_sentences)
        sentences = document.sentences
        return {sentences[i]: float(len(ranking) - rank) for rank, i in enumerate(ranking)}


def _planned_sentences(sentences_count, total: int) -> int:
    """How many sentences sumy's ``count`` will keep (an int, "N%", or a callable).

    A callable may say so in a ``planned_sentences`` attribute; otherwise the models
    assume three.
    """
    if isinstance(sentences_count, int | float):
        return max(1, int(sentences_count))
    if isinstance(sentences_count, str) and sentences_count.endswith("%"):
        return max(1, total * int(sentences_count[:-1]) // 100)
    return int(getattr(sentences_count, "planned_sentences", 3))


def rank_sentences(
    features: Sequence[Sequence[float]],
    vectors: _Vectors,
    weights: Weights,
    summary_sentences: int,
) -> list[int]:
    """Sentence indices, best first: MMR order for the first picks, then by relevance.

    MMR orders only as many sentences as the summary will take (plus a few, so the
    caller may still skip some), and never more than :data:`MMR_STEPS`.
    """
    if not features:
        return []
    long_weight = weights.blend(min(1.0, summary_sentences / len(features)))
    rows = model_inputs(features, summary_sentences)
    relevance = [0.0] * len(rows)
    redundancy = 0.0
    for model, weight in ((weights.short, 1 - long_weight), (weights.long, long_weight)):
        if weight > 0:
            scores = (model.probability(row) for row in rows)
            relevance = [r + weight * p for r, p in zip(relevance, scores, strict=True)]
            redundancy += weight * model.redundancy
    steps = min(MMR_STEPS, summary_sentences + 2)
    order = _mmr_order(relevance, vectors, redundancy, steps)
    picked = set(order)
    rest = [i for i in range(len(relevance)) if i not in picked]
    rest.sort(key=relevance.__getitem__, reverse=True)
    return [*order, *rest]


def _mmr_order(
    relevance: list[float], vectors: _Vectors, redundancy: float, steps: int
) -> list[int]:
    """Greedy maximal-marginal-relevance order of the first ``steps`` picks.

    Each pick compares only with the sentences sharing a term with it, so a step costs
    the postings of one sentence's terms, plus a pass over the candidates to find the
    best: in Python for short documents, vectorised for long ones.
    """
    if len(relevance) > _VECTORISE_ABOVE:
        return _mmr_order_vectorised(relevance, vectors, redundancy, steps)
    penalty = [0.0] * len(relevance)
    remaining = set(range(len(relevance)))
    order: list[int] = []
    while remaining and len(order) < steps:
        best = max(remaining, key=lambda i: (relevance[i] - redundancy * penalty[i], -i))
        order.append(best)
        remaining.discard(best)
        for other, similarity in vectors.similarities(best).items():
            if similarity > penalty[other]:
                penalty[other] = similarity
    return order


def _mmr_order_vectorised(
    relevance: list[float], vectors: _Vectors, redundancy: float, steps: int
) -> list[int]:
    gains = np.asarray(relevance, dtype=float)
    penalty = np.zeros(len(relevance))
    available = np.ones(len(relevance), dtype=bool)
    order: list[int] = []
    for _ in range(min(steps, len(relevance))):
        scores = np.where(available, gains - redundancy * penalty, -np.inf)
        best = int(np.argmax(scores))  # the first of equals: the earlier sentence
        order.append(best)
        available[best] = False
        similar = vectors.similarities(best)
        others = np.fromiter(similar.keys(), dtype=np.intp, count=len(similar))
        values = np.fromiter(similar.values(), dtype=float, count=len(similar))
        penalty[others] = np.maximum(penalty[others], values)
    return order
