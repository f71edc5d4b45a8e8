"""The default summariser: a position prior and centrality, picked with MMR.

Classic graph summarisers ignore the strongest signal in news, that reporters put the
point first; Lead-k ignores everything else. This one scores each sentence with a small
logistic model over nine cheap features (position, centrality, overlap with the rest of
the article and with the title, length), then selects with maximal marginal relevance
so the summary does not say the same thing twice.

What makes a sentence worth keeping depends on how much of the article the summary
keeps. A three-sentence summary of a long story is its lead with the weakest sentence
swapped for a better one; a summary keeping half the sentences is the ones that carry
the most shared content. So there are two models, one fitted where summaries are short
(CNN/DailyMail highlights) and one where they are long (the BBC extracts), blended by
the share of sentences the summary keeps. Weights come from ``default_weights.json``,
fitted by ``bench/train_summariser.py``.

Every step is linear in the document's words except MMR, which compares each pick with
every other sentence, and orders only as many sentences as the summary takes (at most
:data:`MMR_STEPS`); the rest follow by relevance. The work is done over whole arrays
rather than sentence by sentence: in Python that is what makes it cheap.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources

import numpy as np

from summarise.selection import SentencesCount, best_sentences, planned_sentences
from summarise.tokenizer import ContentTerms, TokenizedDocument, distinct_counts, lower_words

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
    "centrality",  # cosine with the document's tf-idf centroid
    "title",  # share of the title's content words the sentence contains
    "length",  # log word count, relative to the document's mean
    "position",  # position / number of sentences
    "overlap",  # sentences sharing each of its terms, summed, over the document's maximum
    "words",  # log word count / 4
    "in_lead",  # among the first k sentences, k the summary's length: the Lead-k prior
)
MMR_STEPS = 256
# Above this many sentence x term cells the tf-idf matrix is kept sparse.
_DENSE_CELLS = 1_000_000
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

    @cached_property
    def _coefficients(self) -> np.ndarray:
        return np.array(self.coefficients)

    def probabilities(self, inputs: np.ndarray) -> np.ndarray:
        """The model's probability for each row of ``inputs`` (sentences x features)."""
        # A sum of products rather than @: BLAS's thread pool costs more than it saves here.
        logits = (inputs * self._coefficients).sum(axis=1) + self.intercept
        # Clipped to [-30, 30] by maximum and minimum: the same values as np.clip, which
        # costs more than the arithmetic on an article's few sentences.
        np.maximum(logits, -30.0, out=logits)
        np.minimum(logits, 30.0, out=logits)
        np.negative(logits, out=logits)
        np.exp(logits, out=logits)
        logits += 1.0
        return np.divide(1.0, logits, out=logits)


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


class _Vectors:
    """Unit-length tf-idf vectors of the sentences, for cosine similarities.

    ``rows``, ``columns`` and ``weights`` are the matrix's non-zero cells in row-major
    order, each cell once (as :func:`_term_counts` gives them). A dense matrix is built on
    the first request (MMR may need none) while it is small (every news article); beyond
    that the cells are kept as they are and only the rows of the sentences MMR picks are
    multiplied out, so a long document needs no matrix of its square.
    """

    def __init__(
        self, rows: np.ndarray, columns: np.ndarray, weights: np.ndarray, shape: tuple[int, int]
    ) -> None:
        self._rows, self._columns, self._weights = rows, columns, weights
        self._shape = shape

    @cached_property
    def _dense(self) -> np.ndarray | None:
        if self._shape[0] * self._shape[1] > _DENSE_CELLS:
            return None
        dense = np.zeros(self._shape)
        dense[self._rows, self._columns] = self._weights
        return dense

    @cached_property
    def _row_starts(self) -> np.ndarray:
        """Where each row's cells start, and the end of the last."""
        return np.searchsorted(self._rows, np.arange(self._shape[0] + 1))

    def similarities(self, index: int) -> np.ndarray:
        """Cosine similarity of sentence ``index`` with every sentence."""
        dense = self._dense
        if dense is not None:
            return (dense * dense[index]).sum(axis=1)  # no BLAS threads, as above
        # A sparse product: each row's products summed one by one in column order (what
        # ``bincount`` does), as a CSR matrix product sums them.
        start, end = self._row_starts[index], self._row_starts[index + 1]
        query = np.zeros(self._shape[1])
        query[self._columns[start:end]] = self._weights[start:end]
        products = self._weights * query[self._columns]
        return np.bincount(self._rows, products, minlength=self._shape[0]).astype(float)


def model_inputs(features: np.ndarray, summary_sentences: int) -> np.ndarray:
    """:data:`FEATURES` rows: :func:`sentence_features` plus ``in_lead`` for length k."""
    inputs = np.zeros((len(features), len(FEATURES)))
    inputs[:, :-1] = features
    inputs[:summary_sentences, -1] = 1.0
    return inputs


def sentence_features(
    document: TokenizedDocument,
    stem: Callable[[str], str],
    stop_words: frozenset[str],
) -> tuple[np.ndarray, _Vectors]:
    """The :data:`FEATURES` of each sentence but ``in_lead``, and their tf-idf vectors.

    ``in_lead`` depends on the summary's length; :func:`model_inputs` adds it. All
    term statistics are computed at once over (sentence, term, count) triples.
    """
    count = len(document.sentences)
    terms = document.content_terms(stem, stop_words)
    word_counts = document.word_counts
    vocabulary = len(terms.vocabulary)
    rows, columns, tf = _term_counts(terms, count)

    df = np.bincount(columns, minlength=vocabulary)[columns]  # at least 1 each
    raw = tf * np.log1p(count / df)
    norms = np.sqrt(_sums(rows, raw * raw, count))
    weights = raw / norms[rows] if len(rows) else raw
    centroid = _sums(columns, weights, vocabulary)
    centrality = _sums(rows, weights * centroid[columns], count)
    centrality /= math.sqrt(np.dot(centroid, centroid)) or 1.0
    overlap = _sums(rows, df - 1.0, count)
    overlap /= max(overlap.tolist(), default=0.0) or 1.0
    lengths = np.log1p(word_counts)

    features = _position_features(count).copy()
    features[:, 2] = centrality
    features[:, 3] = _title_shares(document.title_words, terms, rows, columns, count)
    mean_length = lengths.sum() / count if count else 0.0
    features[:, 4] = lengths / (mean_length or 1.0)  # all wordless: every length is 0
    features[:, 6] = overlap
    np.divide(lengths, 4, out=features[:, 7])
    return features, _Vectors(rows, columns, weights, (count, vocabulary))


@lru_cache(maxsize=256)
def _position_features(count: int) -> np.ndarray:
    """The features that depend only on where a sentence is (lead, first, position),
    in their columns of :func:`sentence_features`' rows; the rest left at zero."""
    positions = np.arange(count, dtype=float)
    features = np.zeros((count, len(FEATURES) - 1))
    features[:, 0] = 1.0 / (1.0 + positions)
    features[:, 1] = positions == 0
    features[:, 5] = positions / max(count, 1)
    features.flags.writeable = False  # shared: callers copy it
    return features


def _title_shares(
    title_words: Sequence[str],
    terms: ContentTerms,
    rows: np.ndarray,
    columns: np.ndarray,
    count: int,
) -> np.ndarray | float:
    """Each sentence's share of the title's content terms (0 for every one without a title)."""
    title = {terms.stem(w) for w in lower_words(title_words) if w not in terms.stop_words}
    if not title:
        return 0.0
    in_title = np.zeros(len(terms.vocabulary), dtype=bool)
    in_title[[terms.vocabulary[t] for t in title if t in terms.vocabulary]] = True
    return _sums(rows, in_title[columns], count) / len(title)


def _sums(index: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Sum of ``values`` per ``index`` value, as floats even when there are none."""
    return np.bincount(index, values, minlength=size).astype(float, copy=False)


def _term_counts(terms: ContentTerms, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sentence, term, occurrences) for each term of each sentence."""
    width = max(len(terms.vocabulary), 1)
    pairs, counts = distinct_counts(terms.sentence * width + terms.term, count * width)
    rows, columns = np.divmod(pairs, width)
    return rows, columns, counts.astype(float)


class DefaultSummarizer:
    """Position prior, centrality and overlap, selected with MMR.

    Called as sumy's summarisers are, ``summariser(document, sentences_count)``, on a
    :class:`~summarise.tokenizer.TokenizedDocument`; ``sentences_count`` is anything
    :mod:`summarise.selection` takes (a number, "20%", or a callable that takes the rated
    sentences best first), so length control works as for sumy's own. Returns the
    chosen sentences in article order.
    """

    def __init__(
        self,
        stemmer: Callable[[str], str] = str.lower,
        stop_words: Iterable[str] = (),
        weights: Weights | None = None,
    ) -> None:
        self._stemmer = stemmer
        self._stop_words = _lower_case_set(stop_words)
        self._weights = weights or Weights.shipped()

    @property
    def stop_words(self) -> frozenset[str]:
        return self._stop_words

    @stop_words.setter
    def stop_words(self, words: Iterable[str]) -> None:
        self._stop_words = _lower_case_set(words)

    def __call__(
        self, document: TokenizedDocument, sentences_count: SentencesCount
    ) -> tuple[str, ...]:
        sentences = document.sentences
        if not sentences:
            return ()
        planned = planned_sentences(sentences_count, len(sentences))
        features, vectors = sentence_features(document, self._stemmer, self._stop_words)
        ranking = rank_sentences(features, vectors, self._weights, planned)
        return best_sentences(sentences, ranking, sentences_count)


def _lower_case_set(words: Iterable[str]) -> frozenset[str]:
    """``words`` as a lower-cased set; a set that already is one is kept, not copied, so
    the terms ``summarise.tokenizer`` remembers for it are found without comparing two
    sets word by word."""
    if isinstance(words, frozenset) and all(w == w.lower() for w in words):
        return words
    return frozenset(w.lower() for w in words)


def rank_sentences(
    features: np.ndarray,
    vectors: _Vectors,
    weights: Weights,
    summary_sentences: int,
) -> list[int]:
    """Sentence indices, best first: MMR order for the first picks, then by relevance.

    MMR orders only as many sentences as the summary will take, and never more than
    :data:`MMR_STEPS`.
    """
    count = len(features)
    if not count:
        return []
    long_weight = weights.blend(min(1.0, summary_sentences / count))
    inputs = model_inputs(features, summary_sentences)
    if long_weight in (0.0, 1.0):  # one model: its own probabilities, bit for bit
        model = weights.long if long_weight else weights.short
        relevance = model.probabilities(inputs)
        redundancy = model.redundancy
    else:
        relevance = np.zeros(count)
        redundancy = 0.0
        for model, weight in ((weights.short, 1 - long_weight), (weights.long, long_weight)):
            relevance += weight * model.probabilities(inputs)
            redundancy += weight * model.redundancy
    by_relevance = np.argsort(-relevance, kind="stable").tolist()
    steps = min(MMR_STEPS, summary_sentences, count)
    if redundancy <= 0 or steps <= 1:
        return by_relevance  # MMR would pick in this order
    order = _mmr_order(relevance, vectors, redundancy, steps, by_relevance[0])
    picked = set(order)
    return [*order, *(i for i in by_relevance if i not in picked)]


def _mmr_order(
    relevance: np.ndarray, vectors: _Vectors, redundancy: float, steps: int, first: int
) -> list[int]:
    """Greedy maximal-marginal-relevance order of the first ``steps`` picks.

    With nothing picked yet there is no penalty, so the first pick is the most relevant
    sentence (``first``). Picked sentences score minus infinity, which no penalty changes.
    A penalty is the largest similarity to a pick so far, never below zero as tf-idf
    weights are not negative: the first similarities are the penalty as they are.
    """
    remaining = relevance.copy()
    remaining[first] = -np.inf
    order = [first]
    penalty = vectors.similarities(first)
    for step in range(1, steps):
        if step > 1:
            np.maximum(penalty, vectors.similarities(order[-1]), out=penalty)
        scaled = penalty if redundancy == 1.0 else redundancy * penalty  # the same, if 1
        best = int(np.argmax(remaining - scaled))  # the first of equals
        order.append(best)
        remaining[best] = -np.inf
    return order
