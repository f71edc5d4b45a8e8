"""The project's tokenizer, and the tokenised documents every summariser reads.

sumy's own ``Tokenizer`` needs NLTK's punkt data, which we do not ship. This one uses
:func:`summarise.sentences.split_sentences`, and for words each run of non-space
characters with punctuation trimmed from both ends ("U.S.", "£3.20" and "e-mail" stay
whole). Scripts written without spaces (Chinese, Japanese, Thai...) have each run of
such characters turned into overlapping character bigrams, which is what keyword overlap
between sentences needs and costs no dictionary.

:func:`build_document` makes the :class:`TokenizedDocument` every summariser gets:
near-duplicate sentences left out, the title kept apart, and the lower-cased words kept
so the default summariser need not tokenise again. It is our own type, not sumy's: sumy's
algorithms get a sumy document built from it through sumy's public constructors
(``summarise.summarisers``).
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, chain, compress
from itertools import count as numbers_from_zero
from typing import NamedTuple, TypeVar

import numpy as np

from summarise.language import language_profile
from summarise.sentences import split_paragraph, split_paragraphs, split_sentences

__all__ = [
    "NEAR_DUPLICATE",
    "REPEAT_CANDIDATES",
    "BatchTerms",
    "ContentTerms",
    "RepeatCheck",
    "TokenizedDocument",
    "Tokenizer",
    "Words",
    "batch_terms",
    "build_document",
    "build_documents",
    "check_repeats",
    "distinct_counts",
    "lower_words",
    "word_count",
]

# Counting keys in an array as long as their range costs a few instructions per cell,
# sorting them a few dozen per key: keys are counted while their range is at most this
# many times their number (most articles), sorted beyond (long ones).
_DENSE_RANGE = 16
# Sentences sharing this share of their distinct words (Jaccard) say the same thing:
# one word changed in a sentence of ten words or more.
NEAR_DUPLICATE = 0.8
# Up to this many sentences that may repeat another are compared all at once.
_DENSE_CANDIDATES = 32
# Pairs of sentences sharing a rare word that prefix filtering compares, per sentence,
# before a document counts as hostile (the same few sentences repeated thousands of
# times make every pair share one): news articles stay far below it. Beyond it each
# sentence is compared with at most ``REPEAT_CANDIDATES`` earlier kept ones, those
# sharing its rarest words most recently, so the check stays linear in the sentences.
_PAIRS_PER_SENTENCE = 64
REPEAT_CANDIDATES = 32
# Words whose content terms are remembered, per stemmer and stop-word list: a few MB.
_TERMS_REMEMBERED = 1 << 17
# Ends each sentence when the sentences are tokenised together: a word of its own, as it
# is neither space nor punctuation. A text holding it is tokenised sentence by sentence.
_SEPARATOR = "\x00"
_JOINER = f" {_SEPARATOR} "

_PUNCTUATION = string.punctuation + "“”‘’«»‹›„‚—–…•·¡¿"
# A run of non-space characters, less any punctuation at either end.
_SPACED_WORD = re.compile(
    f"[^\\s{re.escape(_PUNCTUATION)}](?:\\S*[^\\s{re.escape(_PUNCTUATION)}])?"
)
_LEADING_PUNCTUATION = re.compile(f" [{re.escape(_PUNCTUATION)}]+")
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
    it, as sumy's own tokenizer does, so this is also the tokenizer sumy's ``Sentence``
    is given (it asks only ``to_words``).
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


def _lower_spaced_words(text: str) -> list[str]:
    """:func:`_spaced_words` of ``text.lower()`` for text whose only whitespace is the
    space: punctuation is cut from where words start, then, the text reversed, from where
    they end. Two scans for a space are much cheaper than matching every word."""
    padded = _LEADING_PUNCTUATION.sub(" ", f" {text.lower()} ")
    return _LEADING_PUNCTUATION.sub(" ", padded[::-1])[::-1].split()


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


@dataclass(frozen=True)
class ContentTerms:
    """Every content term of a document's sentences: one entry per occurrence.

    Content terms are words lower-cased, stemmed, stop words left out, numbered in the
    order they first appear (``vocabulary``). ``stem`` and ``stop_words`` say how they
    were made, so the title's terms can be made alike.
    """

    sentence: np.ndarray
    term: np.ndarray
    vocabulary: dict[str, int]
    stem: Callable[[str], str]
    stop_words: frozenset[str]


_Item = TypeVar("_Item", bound=Hashable | None)


def _numbered(items: Iterable[_Item], size: int, *first: _Item) -> tuple[list[_Item], np.ndarray]:
    """Each distinct item once, in order of first appearance (after ``first``), and the
    index in that list of each of the ``size`` items.

    ``setdefault`` records where each item first appears in one C-level pass, without
    a second look-up per item; as first appearances come in order, an item's index is
    the number of first appearances up to its own.
    """
    seen = dict(zip(first, numbers_from_zero()))
    places = np.fromiter(
        map(seen.setdefault, items, numbers_from_zero(len(first))), dtype=np.intp, count=size
    )
    is_first = np.zeros(size + len(first), dtype=bool)
    is_first[: len(first)] = True
    is_first[places] = True
    return list(seen), (is_first.cumsum() - 1)[places]


class _Terms(dict[str, str | None]):
    """Each word's content term, None for a stop word: remembered across documents.

    News vocabulary repeats from article to article, so a dictionary look-up replaces a
    stop-word test and a stemmer call for almost every word. Emptied when full.
    """

    def __init__(self, stem: Callable[[str], str], stop_words: frozenset[str]) -> None:
        super().__init__()
        self._stem = stem
        self._stop_words = stop_words

    def __missing__(self, word: str) -> str | None:
        if len(self) >= _TERMS_REMEMBERED:
            self.clear()
        term = None if word in self._stop_words else self._stem(word)
        self[word] = term
        return term


@lru_cache(maxsize=64)
def _terms_for(stem: Callable[[str], str], stop_words: frozenset[str]) -> _Terms:
    return _Terms(stem, stop_words)


@dataclass(frozen=True)
class Words:
    """The lower-cased words of some sentences: each distinct word once, and for every
    word occurrence its number and its sentence; and the length of each sentence."""

    distinct: list[str]
    ids: np.ndarray
    lengths: np.ndarray
    sentence_of: np.ndarray

    @classmethod
    def of(cls, sentences: Sequence[Sequence[str]]) -> Words:
        lowered = lower_words(list(chain.from_iterable(sentences)))
        distinct, ids = _numbered(lowered, len(lowered))
        lengths = np.fromiter(map(len, sentences), dtype=np.intp, count=len(sentences))
        return cls(distinct, ids, lengths, np.repeat(np.arange(len(lengths)), lengths))

    @classmethod
    def of_spaced(cls, sentences: Sequence[str]) -> Words:
        """The words of sentences in scripts that put spaces between words.

        All the sentences are lower-cased and tokenised at once, each followed by a
        separator, which finds the same words as tokenising each sentence and then
        lower-casing its words, at a fraction of the cost: no character lower-cases to
        a space or punctuation, and the one context-dependent case (the Greek final
        sigma) looks no further than the spaces around a word.
        """
        tokens = _lower_spaced_words(_JOINER.join([*sentences, ""]))
        distinct, ids = _numbered(tokens, len(tokens), _SEPARATOR)
        separator = ids == 0
        sentence_of = separator.cumsum()[~separator]
        lengths = np.bincount(sentence_of, minlength=len(sentences))
        return cls(distinct[1:], ids[~separator] - 1, lengths, sentence_of)

    @classmethod
    def of_spaced_many(cls, documents: Sequence[Sequence[str]]) -> list[Words]:
        """:meth:`of_spaced` of each document's sentences: the same words, numbers and
        lengths. Each document's words are numbered by a dictionary of its own, as
        :meth:`of_spaced` numbers them; the array work after that is done for all the
        documents at once, as numpy charges its cost per operation whatever its size.
        """
        if not documents:
            return []
        distinct: list[list[str]] = []
        places: list[np.ndarray] = []
        for sentences in documents:
            tokens = _lower_spaced_words(_JOINER.join([*sentences, ""]))
            seen = {_SEPARATOR: 0}
            numbers = numbers_from_zero(1)
            places.append(np.fromiter(map(seen.setdefault, tokens, numbers), np.intp, len(tokens)))
            distinct.append(list(seen))
        sizes = [len(its) for its in places]  # each document's tokens, separators included
        # Document d's places are slots[d] (its separator) to slots[d] + sizes[d].
        slots = [0, *accumulate(size + 1 for size in sizes)]
        place = _concatenated(places) + np.repeat(slots[:-1], sizes)
        is_first = np.zeros(slots[-1], dtype=bool)
        is_first[slots[:-1]] = True
        is_first[place] = True
        numbered = is_first.cumsum() - 1
        ids = numbered[place] - np.repeat(numbered[slots[:-1]], sizes)  # separator: 0
        separator = ids == 0
        is_word = ~separator
        sentence_counts = [len(sentences) for sentences in documents]
        sentence_starts = [0, *accumulate(sentence_counts)]
        sentence = separator.cumsum()[is_word]  # counted over every document
        lengths = np.bincount(sentence, minlength=sentence_starts[-1])
        word_counts = [size - count for size, count in zip(sizes, sentence_counts, strict=True)]
        sentence -= np.repeat(sentence_starts[:-1], word_counts)  # each document's own
        word_ids = ids[is_word] - 1
        word_starts = [0, *accumulate(word_counts)]
        return [
            cls(
                distinct[index][1:],
                word_ids[word_starts[index] : word_starts[index + 1]],
                lengths[sentence_starts[index] : sentence_starts[index + 1]],
                sentence[word_starts[index] : word_starts[index + 1]],
            )
            for index in range(len(documents))
        ]

    def only(self, kept: np.ndarray) -> Words:
        """The words of the sentences where ``kept`` is true."""
        mask = kept[self.sentence_of]
        renumbered = np.cumsum(kept) - 1
        return Words(
            self.distinct, self.ids[mask], self.lengths[kept], renumbered[self.sentence_of[mask]]
        )

    def content_terms(self, stem: Callable[[str], str], stop_words: frozenset[str]) -> ContentTerms:
        """Stop words out and stems numbered, working on distinct words, not occurrences:
        in Python, that is what keeps this cheap."""
        terms = map(_terms_for(stem, stop_words).__getitem__, self.distinct)
        ordered, number = _numbered(terms, len(self.distinct), None)  # stop words: 0
        vocabulary = dict(zip(ordered[1:], numbers_from_zero()))
        term = number[self.ids] - 1
        content = term >= 0
        return ContentTerms(self.sentence_of[content], term[content], vocabulary, stem, stop_words)


class BatchTerms(NamedTuple):
    """The content terms of several documents' sentences, numbered as
    :meth:`Words.content_terms` numbers each document's, offset so that no two documents
    share a number: document i's terms are ``term_starts[i]`` to ``term_starts[i + 1]``,
    in the order they first appear in it. One entry per occurrence: ``sentence`` counts
    the sentences of all the documents one after another. ``in_title`` tells which terms
    are among their document's title terms, as given."""

    sentence: np.ndarray
    term: np.ndarray
    term_starts: np.ndarray
    in_title: np.ndarray


def batch_terms(
    documents: Sequence[Words],
    stem: Callable[[str], str],
    stop_words: frozenset[str],
    titles: Sequence[Iterable[str]],
) -> BatchTerms:
    """:meth:`Words.content_terms` of each document, all at once: the same terms in the
    same order. Numbering the terms of one document at a time costs numpy's overhead
    per array operation once per document, as much as the work on a news article.

    The terms of all the distinct words are numbered over the whole batch in one pass;
    (document, term) keys then number each document's own terms in order of first
    appearance, which a stable sort finds for every document at once.
    """
    distinct_sizes = [len(words.distinct) for words in documents]
    size = sum(distinct_sizes)
    terms = map(
        _terms_for(stem, stop_words).__getitem__,
        chain.from_iterable(words.distinct for words in documents),
    )
    seen: dict[str | None, int] = {None: 0}  # stop words: 0
    places = np.fromiter(map(seen.setdefault, terms, numbers_from_zero(1)), np.intp, size)
    is_first = np.zeros(size + 1, dtype=bool)
    is_first[0] = True
    is_first[places] = True
    numbers = is_first.cumsum() - 1  # the batch's number of the term first seen at a place
    number = numbers[places]
    width = int(numbers[-1]) + 1

    document_of = np.repeat(np.arange(len(documents)), distinct_sizes)
    content = number > 0
    keys = document_of[content] * width + number[content]
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    new = np.empty(len(keys), dtype=bool)
    new[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    rank = np.empty(int(new.sum()), dtype=np.intp)
    rank[np.argsort(order[new], kind="stable")] = np.arange(len(rank))
    column = np.full(size, -1, dtype=np.intp)  # each distinct word's term, -1: a stop word
    column[content.nonzero()[0][order]] = rank[np.cumsum(new) - 1]
    unique_keys = ordered[new]
    term_starts = np.zeros(len(documents) + 1, dtype=np.intp)
    np.cumsum(np.bincount(unique_keys // width, minlength=len(documents)), out=term_starts[1:])

    occurrences = [len(words.ids) for words in documents]
    word_starts = np.cumsum([0, *distinct_sizes[:-1]])
    sentence_starts = np.cumsum([0, *(len(words.lengths) for words in documents)][:-1])
    ids = _concatenated([words.ids for words in documents]) + np.repeat(word_starts, occurrences)
    sentence = _concatenated([words.sentence_of for words in documents])
    sentence = sentence + np.repeat(sentence_starts, occurrences)
    term = column[ids]
    kept = term >= 0

    wanted = [
        index * width + int(numbers[seen[t]])
        for index, title in enumerate(titles)
        for t in title
        if t in seen
    ]
    in_title = np.zeros(int(term_starts[-1]), dtype=bool)
    if wanted and len(unique_keys):
        at = np.minimum(np.searchsorted(unique_keys, wanted), len(unique_keys) - 1)
        found = unique_keys[at] == wanted
        in_title[rank[at[found]]] = True
    return BatchTerms(sentence[kept], term[kept], term_starts, in_title)


def _concatenated(parts: Sequence[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.intp)


@dataclass(frozen=True, eq=False)
class TokenizedDocument:
    """An article as every summariser reads it: its sentences, by paragraph, its title,
    and the sentences' words lower-cased and numbered.

    ``sentences`` are all of them in article order, ``paragraphs`` the same sentences
    grouped by paragraph (a paragraph left without sentences is left out). ``title`` is
    stripped, None when there is none, and ``title_words`` are its words as the
    tokenizer gives them. Tokenising is the costliest step of summarising a news article
    in Python, so the ``words`` near-duplicate removal needed are kept for the
    summarisers that count terms; ``tokenizer`` made them and gives any sentence's words.
    """

    sentences: tuple[str, ...]
    paragraphs: tuple[tuple[str, ...], ...]
    title: str | None
    title_words: tuple[str, ...]
    words: Words
    tokenizer: Tokenizer

    @property
    def word_counts(self) -> np.ndarray:
        """How many words each sentence has, without tokenising it again."""
        return self.words.lengths

    def content_terms(self, stem: Callable[[str], str], stop_words: frozenset[str]) -> ContentTerms:
        """The sentences' :class:`ContentTerms` made with ``stem`` and ``stop_words``."""
        return self.words.content_terms(stem, stop_words)


def build_document(text: str, tokenizer: Tokenizer, title: str | None = None) -> TokenizedDocument:
    """The document of ``text``, one paragraph per blank-line-separated block.

    A sentence nearly repeating an earlier one (see :data:`NEAR_DUPLICATE`) is left out
    before any summariser sees it: none of them should spend the summary's length saying
    the same thing twice. A blank title counts as none.
    """
    return build_documents([text], [tokenizer], [title])[0]


def build_documents(
    texts: Sequence[str], tokenizers: Sequence[Tokenizer], titles: Sequence[str | None]
) -> list[TokenizedDocument]:
    """:func:`build_document` of each text with the tokenizer and title of its place:
    the near-duplicate check screens them all at once (:func:`_may_repeat`)."""
    blocks = [
        [split_paragraph(block, tokenizer.code) for block in split_paragraphs(text)]
        for text, tokenizer in zip(texts, tokenizers, strict=True)
    ]
    flat = [list(chain.from_iterable(its)) for its in blocks]
    spaced = [_is_spaced(text) for text in texts]
    # Several documents' spaced words are made together; a lone one's on its own path.
    together = iter(
        Words.of_spaced_many([f for f, its in zip(flat, spaced, strict=True) if its])
        if len(texts) > 1
        else ()
    )
    words = [
        next(together)
        if its_spaced and len(texts) > 1
        else _words_of(sentences, its_spaced, tokenizer)
        for sentences, its_spaced, tokenizer in zip(flat, spaced, tokenizers, strict=True)
    ]
    screened = _may_repeat(words)
    documents = []
    for index, tokenizer in enumerate(tokenizers):
        its_words = words[index]
        kept = check_repeats(flat[index], its_words).kept if screened[index] else None
        if kept is None:
            paragraphs = tuple(map(tuple, filter(None, blocks[index])))
            sentences = tuple(flat[index])
        else:
            keep = iter(kept.tolist())
            # compress reads ``block`` first, so it stops before taking the next block's flags.
            kept_blocks = (tuple(compress(block, keep)) for block in blocks[index])
            paragraphs = tuple(filter(None, kept_blocks))
            sentences = tuple(chain.from_iterable(paragraphs))
            its_words = its_words.only(kept)
        title = titles[index]
        stripped = title.strip() if title else ""
        documents.append(
            TokenizedDocument(
                sentences,
                paragraphs,
                stripped or None,
                tokenizer.to_words(stripped) if stripped else (),
                its_words,
                tokenizer,
            )
        )
    return documents


def _may_repeat(documents: Sequence[Words]) -> list[bool]:
    """Whether :func:`check_repeats` may drop a sentence of each document: false where it
    would find fewer than two candidates and no wordless sentence, which it then keeps
    all of (most news articles).

    Its first steps, over every document at once: numpy charges each array operation a
    few microseconds whatever its size, as much as the work itself on one article. Word
    and sentence numbers are offset document by document, so no two documents share one.
    """
    if len(documents) < 2:
        return [True] * len(documents)  # check_repeats screens a lone one itself
    counts = np.array([len(words.lengths) for words in documents], dtype=np.intp)
    occurrences = np.array([len(words.ids) for words in documents], dtype=np.intp)
    word_starts = np.cumsum([0, *(len(words.distinct) for words in documents)])
    sentence_starts = np.cumsum([0, *counts.tolist()])
    total = int(sentence_starts[-1])
    sentence_of = np.concatenate([words.sentence_of for words in documents])
    sentence_of += np.repeat(sentence_starts[:-1], occurrences)
    ids = np.concatenate([words.ids for words in documents])
    ids += np.repeat(word_starts[:-1], occurrences)
    keys = ids * total + sentence_of
    word, sentence = np.divmod(_distinct(keys, int(word_starts[-1]) * total), total)
    sizes = np.bincount(sentence, minlength=total)
    shared = np.bincount(word)[word] > 1
    overlap = np.bincount(sentence[shared], minlength=total)
    candidates = (overlap >= NEAR_DUPLICATE * sizes) & (sizes > 0)
    document_of = np.repeat(np.arange(len(documents)), counts)
    many = np.bincount(document_of[candidates], minlength=len(documents)) > 1
    wordless = np.bincount(document_of[sizes == 0], minlength=len(documents)) > 0
    return (many | wordless).tolist()


def _is_spaced(text: str) -> bool:
    """Whether ``text``'s sentences can be tokenised all at once (:meth:`Words.of_spaced`):
    no script written without spaces, and no separator of its own."""
    return _SEPARATOR not in text and (text.isascii() or not _UNSPACED_RUN.search(text))


def _words_of(sentences: list[str], spaced: bool, tokenizer: Tokenizer) -> Words:
    """The sentences' :class:`Words`: all at once for scripts that put spaces between
    words, else tokenised one sentence at a time."""
    if spaced:
        return Words.of_spaced(sentences)
    return Words.of([tokenizer.to_words(sentence) for sentence in sentences])


class RepeatCheck(NamedTuple):
    """Which sentences :func:`check_repeats` keeps (None: all of them) and how many
    pairs of sentences it compared word by word: the work it did."""

    kept: np.ndarray | None
    comparisons: int


def check_repeats(sentences: list[str], words: Words) -> RepeatCheck:
    """Whether each sentence nearly repeats no earlier kept one (Jaccard of word sets).

    Sharing :data:`NEAR_DUPLICATE` of the words of both means sharing at least that
    share of its own words with some other sentence, which few sentences do: only those
    are compared, all at once while they are few, else by prefix filtering. Sentences
    without words are compared by their text. ``words`` are the sentences' words.
    """
    count = len(sentences)
    keys = words.ids * count + words.sentence_of
    word, sentence = np.divmod(_distinct(keys, len(words.distinct) * count), count)
    sizes = np.bincount(sentence, minlength=count)
    shared = np.bincount(word)[word] > 1
    overlap = np.bincount(sentence[shared], minlength=count)
    candidates = ((overlap >= NEAR_DUPLICATE * sizes) & (sizes > 0)).nonzero()[0]
    wordless = not sizes.all()
    if len(candidates) < 2 and not wordless:
        return RepeatCheck(None, 0)
    keep = np.ones(count, dtype=bool)
    comparisons = 0
    if len(candidates) > _DENSE_CANDIDATES:
        comparisons = _drop_repeats_by_prefix(word, sentence, sizes, keep)
    elif len(candidates) > 1:
        comparisons = len(candidates) * (len(candidates) - 1) // 2
        _drop_repeats_among(candidates, word, sentence, sizes, keep)
    if wordless:
        seen: set[str] = set()
        for index in (sizes == 0).nonzero()[0].tolist():
            key = sentences[index].lower()
            keep[index] = key not in seen
            seen.add(key)
    return RepeatCheck(None if keep.all() else keep, comparisons)


def _drop_repeats_among(
    candidates: np.ndarray,
    word: np.ndarray,
    sentence: np.ndarray,
    sizes: np.ndarray,
    keep: np.ndarray,
) -> None:
    """Clears ``keep`` for each candidate nearly repeating an earlier kept candidate.

    The product of the candidates' word-incidence matrix with itself counts the words
    every two of them share (whole numbers, exact in floating point); only the words
    they hold are columns.
    """
    row = np.full(len(sizes), -1)
    row[candidates] = np.arange(len(candidates))
    rows = row[sentence]
    theirs = rows >= 0
    their_words = word[theirs]
    held = np.zeros(int(word[-1]) + 1, dtype=bool)  # ``word`` is sorted
    held[their_words] = True
    incidence = np.zeros((len(candidates), int(held.sum())))
    incidence[rows[theirs], (held.cumsum() - 1)[their_words]] = 1.0
    common = incidence @ incidence.T
    size = sizes[candidates].astype(float)
    similar = common >= NEAR_DUPLICATE * (size[:, None] + size[None, :] - common)
    first, second = (candidates[side].tolist() for side in similar.nonzero())
    for earlier, later in zip(first, second, strict=True):
        if earlier < later and keep[earlier] and keep[later]:
            keep[later] = False


def _drop_repeats_by_prefix(
    word: np.ndarray, sentence: np.ndarray, sizes: np.ndarray, keep: np.ndarray
) -> int:
    """Clears ``keep`` for each sentence nearly repeating an earlier kept one; returns
    how many pairs it compared.

    Comparing all pairs of sentences would be quadratic; prefix filtering
    avoids it. With words ordered rarest first, two sentences at least
    :data:`NEAR_DUPLICATE` similar must share one of their first
    ``size - ceil(NEAR_DUPLICATE * size) + 1`` words, so only sentences sharing such a
    word are compared, and rare words are shared by few.
    """
    count = len(sizes)
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
    shared_words, sharing = prefix_words[repeated], prefix_sentences[repeated]
    group_sizes = np.bincount(shared_words)
    if int((group_sizes * (group_sizes - 1) // 2).sum()) > _PAIRS_PER_SENTENCE * count:
        return _drop_repeats_near(shared_words, sharing, words_by_sentence, first, sizes, keep)
    comparisons = 0
    for earlier, later in _sharing_pairs(shared_words, sharing, count):
        if keep[earlier] and keep[later]:
            comparisons += 1
            mine = set(words_by_sentence[first[earlier] : first[earlier] + sizes[earlier]].tolist())
            theirs = set(words_by_sentence[first[later] : first[later] + sizes[later]].tolist())
            if len(mine & theirs) >= NEAR_DUPLICATE * len(mine | theirs):
                keep[later] = False
    return comparisons


def _drop_repeats_near(
    prefix_words: np.ndarray,
    prefix_sentences: np.ndarray,
    words_by_sentence: np.ndarray,
    first: np.ndarray,
    sizes: np.ndarray,
    keep: np.ndarray,
) -> int:
    """:func:`_drop_repeats_by_prefix` for documents where too many sentences share
    prefix words: each sentence is compared with at most :data:`REPEAT_CANDIDATES`
    earlier kept ones sharing a prefix word (the latest first, rarest word first), and
    dropped outright when its words are exactly an earlier sentence's, however far back.
    Returns how many pairs it compared.

    ``prefix_words`` and ``prefix_sentences`` list each sentence's prefix words rarest
    first, sentence by sentence.
    """
    holders: dict[int, list[int]] = {}  # prefix word -> kept sentences, in order
    word_sets: set[frozenset[int]] = set()
    comparisons = 0
    bounds = np.flatnonzero(np.diff(prefix_sentences, prepend=-1, append=-1))
    sentence_list = prefix_sentences.tolist()
    word_list = prefix_words.tolist()
    for start, end in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        later = sentence_list[start]
        size = int(sizes[later])
        theirs = frozenset(words_by_sentence[first[later] : first[later] + size].tolist())
        if theirs in word_sets:
            keep[later] = False
            continue
        word_sets.add(theirs)
        compared: set[int] = set()
        for prefix_word in word_list[start:end]:
            for earlier in reversed(holders.get(prefix_word, ())[-REPEAT_CANDIDATES:]):
                if len(compared) >= REPEAT_CANDIDATES:
                    break
                if earlier in compared:
                    continue
                compared.add(earlier)
                other = int(sizes[earlier])
                # Jaccard is at most the smaller set's size over the larger's.
                if min(size, other) < NEAR_DUPLICATE * max(size, other):
                    continue
                mine = set(words_by_sentence[first[earlier] : first[earlier] + other].tolist())
                if len(mine & theirs) >= NEAR_DUPLICATE * len(mine | theirs):
                    keep[later] = False
                    break
            if not keep[later]:
                break
        comparisons += len(compared)
        if keep[later]:
            for prefix_word in word_list[start:end]:
                holders.setdefault(prefix_word, []).append(later)
    return comparisons


def _distinct(keys: np.ndarray, bound: int) -> np.ndarray:
    """The distinct values of ``keys`` (all in ``range(bound)``), sorted."""
    return distinct_counts(keys, bound)[0]


def distinct_counts(keys: np.ndarray, bound: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of ``keys`` (all in ``range(bound)``), sorted, and how many
    times each occurs."""
    if bound <= _DENSE_RANGE * len(keys):
        counts = np.bincount(keys)
        values = counts.nonzero()[0]
        return values, counts[values]
    ordered = np.sort(keys)
    first = np.empty(len(ordered), dtype=bool)  # where each run of equal values starts
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    starts = first.nonzero()[0]
    return ordered[starts], np.diff(starts, append=len(ordered))


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
    pairs = _distinct(a[a < b] * count + b[a < b], count * count)
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
