"""The project's tokenizer in the shape sumy expects, and the documents built with it.

sumy's own ``Tokenizer`` needs NLTK's punkt data, which we do not ship. This one uses
:func:`summarise.sentences.split_sentences`, and for words each run of non-space
characters with punctuation trimmed from both ends ("U.S.", "£3.20" and "e-mail" stay
whole). Scripts written without spaces (Chinese, Japanese, Thai...) have each run of
such characters turned into overlapping character bigrams, which is what keyword overlap
between sentences needs and costs no dictionary.

:func:`build_document` makes the sumy document every summariser gets: near-duplicate
sentences left out, the title as a heading, and the lower-cased words kept so the
default summariser need not tokenise again.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain, compress, filterfalse
from itertools import count as numbers_from_zero

import numpy as np
from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence

from summarise.language import language_profile
from summarise.sentences import split_paragraph, split_paragraphs, split_sentences

__all__ = [
    "NEAR_DUPLICATE",
    "ContentTerms",
    "TokenizedDocument",
    "Tokenizer",
    "build_document",
    "content_terms",
    "lower_words",
    "word_count",
]

# Below this many possible (sentence, word) keys, counting beats sorting.
_DENSE_KEYS = 1 << 20
# Sentences sharing this share of their distinct words (Jaccard) say the same thing:
# one word changed in a sentence of ten words or more.
NEAR_DUPLICATE = 0.8

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
        self.profile = language_profile(language)

    @property
    def language(self) -> str:
        return self.profile.sumy_name

    @property
    def code(self) -> str | None:
        """The ISO 639-1 code the tokenizer was made for, if any."""
        return self._code

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


@dataclass(frozen=True)
class ContentTerms:
    """Every content term of a document's sentences: one entry per occurrence.

    Content terms are words lower-cased, stemmed, stop words left out, numbered in the
    order they first appear (``vocabulary``). ``stem`` and ``stop_words`` say how they
    were made, so a summariser can tell whether they are the terms it would make.
    """

    sentence: np.ndarray
    term: np.ndarray
    vocabulary: dict[str, int]
    stem: Callable[[str], str]
    stop_words: frozenset[str]

    def made_with(self, stem: Callable[[str], str], stop_words: frozenset[str]) -> bool:
        return self.stem is stem and (
            self.stop_words is stop_words or self.stop_words == stop_words
        )


def content_terms(
    sentences: Sequence[Sequence[str]], stem: Callable[[str], str], stop_words: frozenset[str]
) -> ContentTerms:
    """The :class:`ContentTerms` of sentences given as their words."""
    words = _Words.of([list(words) for words in sentences])
    return words.content_terms(stem, stop_words)


def _numbering(items: Iterable[str]) -> dict[str, int]:
    """Each distinct item numbered in order of first appearance."""
    return dict(zip(dict.fromkeys(items), numbers_from_zero()))


@dataclass(frozen=True)
class _Words:
    """The lower-cased words of some sentences: each distinct word once, and for every
    word occurrence its number and the length of each sentence."""

    distinct: list[str]
    ids: np.ndarray
    lengths: list[int]

    @classmethod
    def of(cls, sentences: Sequence[Sequence[str]]) -> _Words:
        lowered = lower_words(list(chain.from_iterable(sentences)))
        numbers = _numbering(lowered)
        ids = np.fromiter(map(numbers.__getitem__, lowered), dtype=np.intp, count=len(lowered))
        return cls(list(numbers), ids, [len(s) for s in sentences])

    @property
    def sentence_of(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.lengths)), self.lengths)

    def only(self, kept: list[bool]) -> _Words:
        """The words of the sentences where ``kept`` is true."""
        mask = np.asarray(kept)[self.sentence_of]
        return _Words(self.distinct, self.ids[mask], list(compress(self.lengths, kept)))

    def content_terms(self, stem: Callable[[str], str], stop_words: frozenset[str]) -> ContentTerms:
        """Stop words out and stems numbered, working on distinct words, not occurrences:
        in Python, that is what keeps this cheap. The stemmer caches its results."""
        stop = np.fromiter(
            map(stop_words.__contains__, self.distinct), dtype=bool, count=len(self.distinct)
        )
        stems = list(map(stem, filterfalse(stop_words.__contains__, self.distinct)))
        vocabulary = _numbering(stems)
        term_of_word = np.full(len(self.distinct), -1, dtype=np.intp)
        term_of_word[~stop] = np.fromiter(
            map(vocabulary.__getitem__, stems), dtype=np.intp, count=len(stems)
        )
        terms = term_of_word[self.ids]
        content = terms >= 0
        return ContentTerms(self.sentence_of[content], terms[content], vocabulary, stem, stop_words)


class TokenizedDocument(ObjectDocumentModel):
    """A sumy document that keeps its sentences' words lower-cased and numbered.

    Tokenising is the costliest step of summarising a news article in Python, so the
    words that near-duplicate removal needed are kept, and the content terms made from
    them on first request (only the default summariser asks).
    """

    def __init__(self, paragraphs: Sequence[Paragraph], words: _Words) -> None:
        super().__init__(paragraphs)
        self._words = words
        self._terms: ContentTerms | None = None

    def content_terms(self, stem: Callable[[str], str], stop_words: frozenset[str]) -> ContentTerms:
        """The sentences' :class:`ContentTerms` made with ``stem`` and ``stop_words``."""
        if self._terms is None or not self._terms.made_with(stem, stop_words):
            self._terms = self._words.content_terms(stem, stop_words)
        return self._terms


def build_document(text: str, tokenizer: Tokenizer, title: str | None = None) -> TokenizedDocument:
    """A sumy document of ``text``, one paragraph per blank-line-separated block.

    The title becomes a heading, which sumy keeps out of ``document.sentences`` but
    Edmundson's title and location methods read. A sentence nearly repeating an earlier
    one (see :data:`NEAR_DUPLICATE`) is left out before any summariser sees it: none of
    them should spend the summary's length saying the same thing twice.
    """
    blocks = [
        [
            (sentence, tokenizer.to_words(sentence))
            for sentence in split_paragraph(block, tokenizer.code)
        ]
        for block in split_paragraphs(text)
    ]
    flat = [item for block in blocks for item in block]
    lowered = _Words.of([words for _, words in flat])
    kept = _first_occurrences([sentence for sentence, _ in flat], lowered).tolist()
    keep = iter(kept)
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
    return TokenizedDocument(paragraphs, lowered if all(kept) else lowered.only(kept))


def _first_occurrences(sentences: list[str], words: _Words) -> np.ndarray:
    """Whether each sentence nearly repeats no earlier kept one (Jaccard of word sets).

    Comparing all pairs of sentences would be quadratic; prefix filtering
    avoids it. With words ordered rarest first, two sentences at least
    :data:`NEAR_DUPLICATE` similar must share one of their first
    ``size - ceil(NEAR_DUPLICATE * size) + 1`` words, so only sentences sharing such a
    word are compared, and rare words are shared by few. Sentences without words are
    compared by their text.
    """
    count = len(sentences)
    distinct = _distinct(words.ids * count + words.sentence_of)
    word, sentence = distinct // count, distinct % count
    sizes = np.bincount(sentence, minlength=count)
    rarity = np.bincount(word)[word]
    # By sentence, then rarest word first: one integer key sorts faster than lexsort.
    width = int(word.max(initial=0)) + 1
    order = np.argsort((sentence * (count + 1) + rarity) * width + word, kind="stable")
    first = np.cumsum(sizes) - sizes
    rank = np.arange(len(order)) - first[sentence[order]]
    prefix_size = sizes - np.ceil(NEAR_DUPLICATE * sizes).astype(int) + 1
    in_prefix = order[rank < prefix_size[sentence[order]]]
    prefix_words, prefix_sentences = word[in_prefix], sentence[in_prefix]
    # A word in only one sentence's prefix pairs it with no other sentence.
    repeated = (np.bincount(prefix_words) > 1)[prefix_words]
    words_by_sentence = word[order]
    keep = np.ones(count, dtype=bool)
    for earlier, later in _sharing_pairs(prefix_words[repeated], prefix_sentences[repeated], count):
        if keep[earlier] and keep[later]:
            mine = set(words_by_sentence[first[earlier] : first[earlier] + sizes[earlier]].tolist())
            theirs = set(words_by_sentence[first[later] : first[later] + sizes[later]].tolist())
            if len(mine & theirs) >= NEAR_DUPLICATE * len(mine | theirs):
                keep[later] = False
    seen: set[str] = set()
    for index in np.flatnonzero(sizes == 0).tolist():
        key = sentences[index].lower()
        keep[index] = key not in seen
        seen.add(key)
    return keep


def _distinct(keys: np.ndarray) -> np.ndarray:
    """The distinct values of non-negative ``keys``, sorted; counted densely when small."""
    if len(keys) and keys.max() < _DENSE_KEYS:
        return np.flatnonzero(np.bincount(keys))
    return np.unique(keys)


def _sharing_pairs(word: np.ndarray, sentence: np.ndarray, count: int) -> list[tuple[int, int]]:
    """Distinct (earlier, later) pairs of sentences sharing a word, earlier first.

    ``word`` and ``sentence`` list (word, sentence) occurrences; the pairs are those
    within each word's group, made with array arithmetic rather than loops.
    """
    if not len(word):
        return []
    order = np.argsort(word, kind="stable")
    word, sentence = word[order], sentence[order]
    group_start = np.flatnonzero(np.concatenate(([True], word[1:] != word[:-1])))
    group_size = np.diff(np.append(group_start, len(word)))
    partners = np.repeat(group_size, group_size)  # per occurrence: its group's size
    left = np.repeat(np.arange(len(word)), partners)
    offset = np.arange(len(left)) - np.repeat(np.cumsum(partners) - partners, partners)
    right = np.repeat(np.repeat(group_start, group_size), partners) + offset
    a, b = sentence[left], sentence[right]
    pairs = _distinct(a[a < b] * count + b[a < b])
    return list(zip((pairs // count).tolist(), (pairs % count).tolist(), strict=True))


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
