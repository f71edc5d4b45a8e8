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

import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain, compress, filterfalse

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
    """The :class:`ContentTerms` of sentences given as their words.

    All words are handled in one pass rather than sentence by sentence, which in Python
    is what keeps this cheap. The stemmer caches its results, so a word seen before
    costs a lookup.
    """
    lengths = [len(s) for s in sentences]
    return _content_terms(
        lower_words(list(chain.from_iterable(sentences))), lengths, stem, stop_words
    )


def _content_terms(
    lowered: list[str],
    lengths: list[int],
    stem: Callable[[str], str],
    stop_words: frozenset[str],
) -> ContentTerms:
    is_stop_word = stop_words.__contains__
    stop = np.fromiter(map(is_stop_word, lowered), dtype=bool, count=len(lowered))
    stems = list(map(stem, filterfalse(is_stop_word, lowered)))
    vocabulary = _numbering(stems)
    ids = np.fromiter(map(vocabulary.__getitem__, stems), dtype=np.intp, count=len(stems))
    sentence_of = np.repeat(np.arange(len(lengths)), lengths)[~stop]
    return ContentTerms(sentence_of, ids, vocabulary, stem, stop_words)


def _numbering(items: list[str]) -> dict[str, int]:
    """Each distinct item numbered in order of first appearance."""
    return {item: i for i, item in enumerate(dict.fromkeys(items))}


class TokenizedDocument(ObjectDocumentModel):
    """A sumy document that keeps its sentences' words lower-cased, for reuse.

    Tokenising is the costliest step of summarising a news article in Python, so the
    lower-cased words that near-duplicate removal needed are kept, and the content terms
    made from them on first request (only the default summariser asks).
    """

    def __init__(
        self, paragraphs: Sequence[Paragraph], lowered: list[str], lengths: list[int]
    ) -> None:
        super().__init__(paragraphs)
        self._lowered = lowered
        self._lengths = lengths
        self._terms: ContentTerms | None = None

    def content_terms(self, stem: Callable[[str], str], stop_words: frozenset[str]) -> ContentTerms:
        """The sentences' :class:`ContentTerms` made with ``stem`` and ``stop_words``."""
        if self._terms is None or not self._terms.made_with(stem, stop_words):
            self._terms = _content_terms(self._lowered, self._lengths, stem, stop_words)
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
    lengths = [len(words) for _, words in flat]
    lowered = lower_words(list(chain.from_iterable(words for _, words in flat)))
    words = _numbering(lowered)
    word_ids = np.fromiter(map(words.__getitem__, lowered), dtype=np.intp, count=len(lowered))
    sentence_of = np.repeat(np.arange(len(flat)), lengths)
    kept = _first_occurrences([sentence for sentence, _ in flat], sentence_of, word_ids).tolist()
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
    if not all(kept):
        lowered = list(compress(lowered, np.asarray(kept)[sentence_of].tolist()))
        lengths = list(compress(lengths, kept))
    return TokenizedDocument(paragraphs, lowered, lengths)


def _first_occurrences(
    sentences: list[str], sentence_of: np.ndarray, word_ids: np.ndarray
) -> np.ndarray:
    """Whether each sentence nearly repeats no earlier kept one (Jaccard of word sets).

    ``sentence_of`` and ``word_ids`` give the sentence and the word of every word
    occurrence. Comparing all pairs of sentences would be quadratic; prefix filtering
    avoids it. With words ordered rarest first, two sentences at least
    :data:`NEAR_DUPLICATE` similar must share one of their first
    ``size - ceil(NEAR_DUPLICATE * size) + 1`` words, so only sentences sharing such a
    word are compared, and rare words are shared by few. Sentences without words are
    compared by their text.
    """
    count = len(sentences)
    distinct = _distinct(word_ids * count + sentence_of)
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
