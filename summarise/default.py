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
from itertools import accumulate, pairwise

import numpy as np

from summarise.selection import SentencesCount, best_sentences, planned_sentences
from summarise.tokenizer import (
    BatchTerms,
    TokenizedDocument,
    batch_terms,
    distinct_counts,
    lower_words,
)

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
    batch = Features.of([document], stem, stop_words)
    return batch.features, batch.vectors(0)


@dataclass(frozen=True, eq=False)
class Features:
    """:func:`sentence_features` of several documents at once: their sentences' rows one
    document after another, and the tf-idf cells of all of them.

    Each array operation costs numpy a few microseconds before it touches any data,
    which is as much as the arithmetic on a news article's few hundred words: computed
    over a batch of documents, every statistic costs that once per batch instead of once
    per article. Every value is what the documents get one by one, bit for bit: sums
    per sentence or per term add the same numbers in the same order, and the sums over a
    whole document (its centroid's norm, its mean sentence length) are taken document
    by document, as numpy sums a whole array in an order of its own.

    ``starts`` is where each document's rows start, and the end of the last;
    ``term_starts`` the same for its terms (columns).
    """

    features: np.ndarray
    starts: list[int]
    rows: np.ndarray
    columns: np.ndarray
    weights: np.ndarray
    term_starts: list[int]

    @classmethod
    def of(
        cls,
        documents: Sequence[TokenizedDocument],
        stem: Callable[[str], str],
        stop_words: frozenset[str],
    ) -> Features:
        titles = [_title_terms(document, stem, stop_words) for document in documents]
        terms = _terms_of(documents, stem, stop_words, titles)
        counts = [len(document.sentences) for document in documents]
        starts = _starts(counts)
        total, vocabulary = starts[-1], int(terms.term_starts[-1])
        rows, columns, tf = _term_counts(terms.sentence, terms.term, total, vocabulary)

        # Each cell's document's sentence count.
        count = counts[0] if len(counts) == 1 else np.repeat(counts, counts)[rows]
        df = np.bincount(columns, minlength=vocabulary)[columns]  # at least 1 each
        raw = tf * np.log1p(count / df)
        norms = np.sqrt(_sums(rows, raw * raw, total))
        weights = raw / norms[rows] if len(rows) else raw
        centroid = _sums(columns, weights, vocabulary)
        centrality = _sums(rows, weights * centroid[columns], total)
        centroid_norms = [
            math.sqrt(np.dot(part, part)) or 1.0 for part in _parts(centroid, terms.term_starts)
        ]
        centrality /= _spread(centroid_norms, counts)
        overlap = _sums(rows, df - 1.0, total)
        overlap /= _spread(
            [max(part.tolist(), default=0.0) or 1.0 for part in _parts(overlap, starts)], counts
        )
        lengths = np.log1p(_joined([document.word_counts for document in documents]))
        mean_lengths = [
            part.sum() / len(part) if len(part) else 0.0 for part in _parts(lengths, starts)
        ]

        features = (
            _position_features(counts[0]).copy()
            if len(counts) == 1
            else np.concatenate([_position_features(n) for n in counts])
        )
        features[:, 2] = centrality
        # Each sentence's share of its title's terms (0 for every one without a title).
        title_shares = _sums(rows, terms.in_title[columns], total)
        features[:, 3] = title_shares / _spread([len(title) or 1 for title in titles], counts)
        # All wordless: every length is 0.
        features[:, 4] = lengths / _spread([m or 1.0 for m in mean_lengths], counts)
        features[:, 6] = overlap
        np.divide(lengths, 4, out=features[:, 7])
        term_starts = terms.term_starts.tolist()
        return cls(features, starts, rows, columns, weights, term_starts)

    def __len__(self) -> int:
        return len(self.starts) - 1

    def of_document(self, index: int) -> np.ndarray:
        """The rows of document ``index``."""
        return self.features[self.starts[index] : self.starts[index + 1]]

    @cached_property
    def _cell_starts(self) -> list[int]:
        """Where each document's cells start (they are ordered by row), and the end."""
        return np.searchsorted(self.rows, self.starts).tolist()

    def vectors(self, index: int) -> _Vectors:
        """The tf-idf vectors of document ``index``'s sentences, as it alone would have them."""
        first, end = self._cell_starts[index], self._cell_starts[index + 1]
        return _Vectors(
            self.rows[first:end] - self.starts[index],
            self.columns[first:end] - self.term_starts[index],
            self.weights[first:end],
            (
                int(self.starts[index + 1] - self.starts[index]),
                int(self.term_starts[index + 1] - self.term_starts[index]),
            ),
        )


def _starts(sizes: Sequence[int]) -> list[int]:
    """Where each of consecutive parts of ``sizes`` starts, and the end of the last."""
    return [0, *accumulate(sizes)]


def _parts(values: np.ndarray, starts: Sequence[int]) -> list[np.ndarray]:
    """``values`` cut at ``starts`` (see :func:`_starts`): views, one per part."""
    return [values[start:end] for start, end in pairwise(starts)]


def _spread(values: Sequence[float], counts: Sequence[int]) -> np.ndarray | float:
    """Each part's value repeated ``counts`` times: one value as it is, for one part."""
    return values[0] if len(values) == 1 else np.repeat(values, counts)


def _joined(parts: Sequence[np.ndarray]) -> np.ndarray:
    """``parts`` one after another: one part as it is (no copy; callers do not write)."""
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _terms_of(
    documents: Sequence[TokenizedDocument],
    stem: Callable[[str], str],
    stop_words: frozenset[str],
    titles: Sequence[set[str]],
) -> BatchTerms:
    """The documents' content terms: for a lone one, as it numbers them itself (the
    batch's numbering of terms does more array operations than one document needs)."""
    if len(documents) != 1:
        return batch_terms([document.words for document in documents], stem, stop_words, titles)
    terms = documents[0].content_terms(stem, stop_words)
    in_title = np.zeros(len(terms.vocabulary), dtype=bool)
    in_title[[terms.vocabulary[t] for t in titles[0] if t in terms.vocabulary]] = True
    return BatchTerms(terms.sentence, terms.term, np.array([0, len(terms.vocabulary)]), in_title)


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


def _title_terms(
    document: TokenizedDocument, stem: Callable[[str], str], stop_words: frozenset[str]
) -> set[str]:
    return {stem(w) for w in lower_words(document.title_words) if w not in stop_words}


def _sums(index: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Sum of ``values`` per ``index`` value, as floats even when there are none."""
    return np.bincount(index, values, minlength=size).astype(float, copy=False)


def _term_counts(
    sentence: np.ndarray, term: np.ndarray, count: int, vocabulary: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sentence, term, occurrences) for each term of each sentence, by sentence, then term."""
    width = max(vocabulary, 1)
    pairs, counts = distinct_counts(sentence * width + term, count * width)
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
        return self.summarise_many([document], [sentences_count])[0]

    def summarise_many(
        self, documents: Sequence[TokenizedDocument], counts: Sequence[SentencesCount]
    ) -> list[tuple[str, ...]]:
        """What calling the summariser on each document with its count returns, worked
        out for all of them at once (see :class:`Features`): the same sentences."""
        chosen: list[tuple[str, ...]] = [() for _ in documents]
        busy = [i for i, document in enumerate(documents) if document.sentences]
        if not busy:
            return chosen
        batch = Features.of([documents[i] for i in busy], self._stemmer, self._stop_words)
        planned = [planned_sentences(counts[i], len(documents[i].sentences)) for i in busy]
        rankings = _rankings(batch.features, batch.starts, batch.vectors, self._weights, planned)
        for i, ranking in zip(busy, rankings, strict=True):
            chosen[i] = best_sentences(documents[i].sentences, ranking, counts[i])
        return chosen


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
    if not len(features):
        return []
    return _rankings(features, [0, len(features)], lambda _: vectors, weights, [summary_sentences])[
        0
    ]


def _rankings(
    features: np.ndarray,
    starts: Sequence[int],
    vectors: Callable[[int], _Vectors],
    weights: Weights,
    summary_sentences: Sequence[int],
) -> list[list[int]]:
    """:func:`rank_sentences` of each of several documents with at least one sentence:
    rows ``starts[i]`` to ``starts[i + 1]`` of ``features`` are document i's, whose
    vectors are ``vectors(i)``.

    Each document's relevance is the blend of the two models' probabilities with its
    own weights: where a weight is 0 or 1 that is the one model's probability, bit for
    bit, as adding 0 and multiplying by 1 change no number.
    """
    counts = [end - start for start, end in pairwise(starts)]
    total = starts[-1]
    long_weights = [
        weights.blend(min(1.0, planned / count))
        for planned, count in zip(summary_sentences, counts, strict=True)
    ]
    inputs = np.zeros((total, len(FEATURES)))
    inputs[:, :-1] = features
    if len(counts) == 1:
        inputs[: summary_sentences[0], -1] = 1.0  # in_lead
    else:
        place = np.arange(total) - np.repeat(starts[:-1], counts)  # in its document
        inputs[:, -1] = place < np.repeat(summary_sentences, counts)
    if not any(long_weights):
        relevance = weights.short.probabilities(inputs)
    elif all(weight == 1.0 for weight in long_weights):
        relevance = weights.long.probabilities(inputs)
    else:
        long_weight = _spread(long_weights, counts)
        relevance = np.zeros(total)
        relevance += (1 - long_weight) * weights.short.probabilities(inputs)
        relevance += long_weight * weights.long.probabilities(inputs)
    # Each document's sentences together, most relevant first, the first of equals first.
    if len(counts) == 1:
        by_relevance = np.argsort(-relevance, kind="stable").tolist()
    else:
        document_of = np.repeat(np.arange(len(counts)), counts)
        by_relevance = np.lexsort((-relevance, document_of)).tolist()

    rankings = []
    bounds = pairwise(starts)
    for index, (start, end) in enumerate(bounds):
        ranked = [i - start for i in by_relevance[start:end]]
        planned, long_share = summary_sentences[index], long_weights[index]
        redundancy = 0.0
        redundancy += (1 - long_share) * weights.short.redundancy
        redundancy += long_share * weights.long.redundancy
        steps = min(MMR_STEPS, planned, end - start)
        if redundancy <= 0 or steps <= 1:
            rankings.append(ranked)  # MMR would pick in this order
            continue
        order = _mmr_order(relevance[start:end], vectors(index), redundancy, steps, ranked[0])
        picked = set(order)
        rankings.append([*order, *(i for i in ranked if i not in picked)])
    return rankings


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
