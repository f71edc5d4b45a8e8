"""The project's word and sentence tokenizer, in the shape sumy expects.

sumy's own ``Tokenizer`` needs NLTK's punkt data, which we do not ship. This one uses
:func:`summarise.sentences.split_sentences`, and for words the text between spaces with
punctuation trimmed from both ends ("U.S.", "£3.20" and "e-mail" stay whole), which is
several times faster than a word regular expression. Scripts written without spaces
(Chinese, Japanese, Thai...) have each run of such characters turned into overlapping
character bigrams, which is what keyword overlap between sentences needs and costs no
dictionary.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Sequence
from itertools import chain

import numpy as np
from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence

from summarise.language import language_profile
from summarise.sentences import split_paragraphs, split_sentences

__all__ = ["NEAR_DUPLICATE", "Tokenizer", "build_document", "lower_words", "word_count"]

# Sentences sharing this share of their distinct words (Jaccard) say the same thing.
NEAR_DUPLICATE = 0.8
# Above this many sentence x word cells, near-duplicates are found without a matrix.
_DENSE_CELLS = 2_000_000

_PUNCTUATION = string.punctuation + "“”‘’«»‹›„‚—–…•·¡¿"
# A run of non-space characters, less any punctuation at either end.
_SPACED_WORD = re.compile(
    f"[^\\s{re.escape(_PUNCTUATION)}](?:\\S*[^\\s{re.escape(_PUNCTUATION)}])?"
)
# Words in text mixing spaced and unspaced scripts, where punctuation need not be spaced.
_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
# Han, kana, Thai, Lao, Khmer, Myanmar: scripts that do not separate words with spaces.
_UNSPACED = (
    "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # kana, Han
    "\u0e00-\u0eff\u1780-\u17ff\u1000-\u109f"  # Thai and Lao, Khmer, Myanmar
)
_UNSPACED_RUN = re.compile(f"[{_UNSPACED}]+")


class Tokenizer:
    """Splits paragraphs into sentences and sentences into words, for any language.

    ``language`` is an ISO 639-1 code or None; :attr:`language` reports sumy's name for
    it, as sumy's own tokenizer does.
    """

    def __init__(self, language: str | None = None) -> None:
        self._code = language
        self._language = language_profile(language).sumy_name

    @property
    def language(self) -> str:
        return self._language

    def to_sentences(self, paragraph: str) -> tuple[str, ...]:
        return tuple(split_sentences(paragraph, self._code))

    def to_words(self, sentence: str) -> tuple[str, ...]:
        if sentence.isascii() or not _UNSPACED_RUN.search(sentence):
            return tuple(_spaced_words(sentence))
        words: list[str] = []
        for token in _WORD.findall(sentence):
            words.extend(_split_unspaced(token))
        return tuple(words)


def _spaced_words(text: str) -> list[str]:
    return _SPACED_WORD.findall(text)


def _split_unspaced(token: str) -> list[str]:
    """``token`` with each run of unspaced-script characters replaced by its bigrams."""
    parts: list[str] = []
    position = 0
    for run in _UNSPACED_RUN.finditer(token):
        if run.start() > position:
            parts.append(token[position : run.start()])
        chars = run.group()
        if len(chars) == 1:
            parts.append(chars)
        else:
            parts.extend(chars[i : i + 2] for i in range(len(chars) - 1))
        position = run.end()
    if position < len(token):
        parts.append(token[position:])
    return parts


class _TokenizedSentence(Sentence):
    """A sentence whose words were already computed, so they are not computed twice."""

    __slots__ = ("_words",)

    def __init__(self, text: str, tokenizer: Tokenizer, words: tuple[str, ...]) -> None:
        super().__init__(text, tokenizer)
        self._words = words

    @property
    def words(self) -> tuple[str, ...]:
        return self._words


def build_document(
    text: str, tokenizer: Tokenizer, title: str | None = None
) -> ObjectDocumentModel:
    """A sumy document of ``text``, one paragraph per blank-line-separated block.

    The title becomes a heading, which sumy keeps out of ``document.sentences`` but
    Edmundson's title and location methods read. A sentence nearly repeating an earlier
    one (see :data:`NEAR_DUPLICATE`) is left out before any summariser sees it: none of
    them should spend the summary's length saying the same thing twice.
    """
    blocks = [
        [(sentence, tokenizer.to_words(sentence)) for sentence in tokenizer.to_sentences(block)]
        for block in split_paragraphs(text)
    ]
    keep = iter(_first_occurrences([item for block in blocks for item in block]))
    paragraphs: list[Paragraph] = []
    heading = [Sentence(title, tokenizer, is_heading=True)] if title and title.strip() else []
    for block in blocks:
        sentences: list[Sentence] = [
            _TokenizedSentence(sentence, tokenizer, words)
            for sentence, words in block
            if next(keep)
        ]
        if sentences:
            paragraphs.append(Paragraph([*heading, *sentences]))
            heading = []
    if heading:
        paragraphs.append(Paragraph(heading))
    return ObjectDocumentModel(paragraphs)


def _first_occurrences(sentences: list[tuple[str, tuple[str, ...]]]) -> list[bool]:
    """For each (sentence, words), whether it nearly repeats no earlier kept sentence.

    An article's worth of sentences is compared all pairs at once: word-set
    intersections are one product of a small sentence x word matrix. Documents too big
    for that matrix go through :class:`_NearDuplicates` one sentence at a time.
    """
    lowered = lower_words(list(chain.from_iterable(words for _, words in sentences)))
    vocabulary = {word: i for i, word in enumerate(dict.fromkeys(lowered))}
    ids = np.fromiter(map(vocabulary.__getitem__, lowered), dtype=np.intp, count=len(lowered))
    count = len(sentences)
    if count * len(vocabulary) > _DENSE_CELLS:
        duplicates = _NearDuplicates(NEAR_DUPLICATE)
        return [duplicates.is_new(sentence, words) for sentence, words in sentences]
    incidence = np.zeros((count, len(vocabulary)), dtype=np.float32)
    incidence[np.repeat(np.arange(count), [len(w) for _, w in sentences]), ids] = 1.0
    # einsum rather than @: BLAS's thread pool costs more than it saves at this size,
    # the more so on a busy machine.
    shared = np.einsum("ik,jk->ij", incidence, incidence)
    sizes = np.diag(shared)
    union = sizes[:, None] + sizes[None, :] - shared
    similar = np.triu((shared >= NEAR_DUPLICATE * union) & (union > 0), k=1)
    keep = [True] * count
    for earlier, later in zip(*np.nonzero(similar), strict=True):
        if keep[earlier]:
            keep[later] = False  # pairs come in order of the earlier sentence
    seen_wordless: set[str] = set()
    for index, (sentence, words) in enumerate(sentences):
        if not words:
            keep[index] = sentence.lower() not in seen_wordless
            seen_wordless.add(sentence.lower())
    return keep


class _NearDuplicates:
    """Which sentences nearly repeat an earlier one: Jaccard similarity of word sets.

    Comparing every pair would be quadratic in the sentences; prefix filtering keeps it
    near linear. With each word set sorted the same way, two sets that are at least
    ``threshold`` similar must share a word among their first
    ``len - ceil(threshold * len) + 1``, so only sentences sharing such a word are
    compared. Ordering long words first puts rare words in those prefixes, so few
    sentences share one; all words as long as the shortest one needed are taken, which
    makes the order of equally long words irrelevant and saves sorting the words.
    """

    def __init__(self, threshold: float) -> None:
        self._threshold = threshold
        self._sets: list[frozenset[str]] = []
        self._by_prefix_word: dict[str, list[int]] = {}
        self._wordless: set[str] = set()

    def is_new(self, sentence: str, words: tuple[str, ...]) -> bool:
        """Whether ``sentence`` repeats no earlier one; if so it is remembered."""
        if not words:
            key = sentence.lower()
            new = key not in self._wordless
            self._wordless.add(key)
            return new
        word_set = frozenset(lower_words(words))
        keep = len(word_set) - math.ceil(self._threshold * len(word_set)) + 1
        shortest = sorted(map(len, word_set), reverse=True)[keep - 1]
        prefix = [word for word in word_set if len(word) >= shortest]
        candidates = {i for word in prefix for i in self._by_prefix_word.get(word, ())}
        for index in candidates:
            other = self._sets[index]
            if len(word_set & other) >= self._threshold * len(word_set | other):
                return False
        index = len(self._sets)
        self._sets.append(word_set)
        for word in prefix:
            self._by_prefix_word.setdefault(word, []).append(index)
        return True


def lower_words(words: Sequence[str]) -> list[str]:
    """``words`` lower-cased: one C-level pass over the joined words when they allow it."""
    lowered = " ".join(words).lower().split(" ")
    return lowered if len(lowered) == len(words) else [w.lower() for w in words]


def word_count(text: str) -> int:
    """Words in ``text`` as a reader counts them: each unspaced-script character is one."""
    if text.isascii() or not _UNSPACED_RUN.search(text):
        return len(_spaced_words(text))
    count = 0
    for token in _WORD.findall(text):
        unspaced = sum(len(run) for run in _UNSPACED_RUN.findall(token))
        count += unspaced + (1 if unspaced < len(token) else 0)
    return count
