"""The project's word and sentence tokenizer, in the shape sumy expects.

sumy's own ``Tokenizer`` needs NLTK's punkt data, which we do not ship. This one uses
:func:`summarise.sentences.split_sentences` and a regular expression for words, and
handles scripts written without spaces (Chinese, Japanese, Thai...) by turning each run
of such characters into overlapping character bigrams, which is what keyword overlap
between sentences needs and costs no dictionary.
"""

from __future__ import annotations

import re

from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence

from summarise.language import language_profile
from summarise.sentences import split_paragraphs, split_sentences

__all__ = ["Tokenizer", "build_document", "word_count"]

_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
# Han, kana, Thai, Lao, Khmer, Myanmar: scripts that do not separate words with spaces.
_UNSPACED = (
    "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # kana, Han
    "\u0e00-\u0eff\u1780-\u17ff\u1000-\u109f"  # Thai and Lao, Khmer, Myanmar
)
_UNSPACED_RUN = re.compile(f"[{_UNSPACED}]+")
_NOT_WORD = re.compile(r"[\W_]+")


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
        if not _UNSPACED_RUN.search(sentence):
            return tuple(_WORD.findall(sentence))
        words: list[str] = []
        for token in _WORD.findall(sentence):
            words.extend(_split_unspaced(token))
        return tuple(words)


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


def build_document(
    text: str, tokenizer: Tokenizer, title: str | None = None
) -> ObjectDocumentModel:
    """A sumy document of ``text``, one paragraph per blank-line-separated block.

    The title becomes a heading, which sumy keeps out of ``document.sentences`` but
    Edmundson's title and location methods read. A sentence repeating an earlier one
    word for word (ignoring case and punctuation) is left out: every summariser would
    otherwise be free to pick both, and sumy keys its ratings by sentence text anyway.
    """
    seen: set[str] = set()
    paragraphs: list[Paragraph] = []
    heading = [Sentence(title, tokenizer, is_heading=True)] if title and title.strip() else []
    for block in split_paragraphs(text):
        sentences: list[Sentence] = []
        for sentence in tokenizer.to_sentences(block):
            key = _NOT_WORD.sub("", sentence.lower()) or sentence
            if key in seen:
                continue
            seen.add(key)
            sentences.append(Sentence(sentence, tokenizer))
        if sentences:
            paragraphs.append(Paragraph([*heading, *sentences]))
            heading = []
    if heading:
        paragraphs.append(Paragraph(heading))
    return ObjectDocumentModel(paragraphs)


def word_count(text: str) -> int:
    """Words in ``text`` as a reader counts them: each unspaced-script character is one."""
    count = 0
    for token in _WORD.findall(text):
        unspaced = sum(len(run) for run in _UNSPACED_RUN.findall(token))
        count += unspaced + (1 if unspaced < len(token) else 0)
    return count
