"""Rule-based sentence splitting for news text, without model data.

One compiled regular expression finds every place a sentence *could* end; a few cheap
checks on the word before and the word after decide whether it does. That keeps
splitting linear in the text and a small part of the cost of summarising an article,
which a splitter applying dozens of regular expressions to the whole text (pysbd)
would dominate.

The rules target the ambiguities news prose actually has: titles (``Mr.``, ``Gov.``),
dotted acronyms (``U.S.``), initials (``J. R. R. Tolkien``), reference numbers
(``No. 10``), company suffixes and months that may or may not end a sentence
(``Apple Inc. The``, ``Jan. 5``), quotes closing after the full stop, ellipses, and the
sentence marks of scripts that do not use the Latin full stop.
"""

from __future__ import annotations

import re

__all__ = ["split_paragraph", "split_paragraphs", "split_sentences"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that are abbreviations when followed by a full stop and never end a sentence.
_TITLES = _words(
    """mr mrs ms messrs mmes mme mlle dr prof gen gov sen rep st lt col capt cpt cmdr
    sgt maj adm brig rev hon pres supt det insp mt ft fr sr sra srta rt cllr vs v cf
    viz approx ca incl esp eg ie e.g i.e al dept univ est"""
)
# Abbreviations that precede a number ("No. 10", "pp. 4-5") and otherwise end sentences.
_BEFORE_NUMBER = _words("""no nos vol vols fig figs p pp art ch op ed eds sec tel""")
# Abbreviations that may also end a sentence: "shares in Apple Inc. The company ...".
_MAY_END = _words(
    """inc ltd co corp plc llc bros jr etc jan feb mar apr jun jul aug sep sept oct nov
    dec"""
)
# Capitalised words that almost always start a new sentence. After an ambiguous
# abbreviation ("in the U.S. The ..."), one of these tips the decision towards a split.
_SENTENCE_STARTERS = _words(
    """a an the he she it its they we i you his her their our my this that these those
    there here but and or so yet if when while after before as at in on for from by
    with however meanwhile now then what who why how where some many most one two
    three it's mr mrs ms dr officials police no not all both each every such
    according last earlier later also other another during since until although
    though because"""
)

# Verbs that follow a quotation and its speaker: '"Why?" Smith asked.'
_SPEECH_VERBS = _words("said says asked asks added adds replied replies told tells shouted wrote")
_CLOSERS = "\"'”’»›)]}」』）"
_OPENERS = "\"'“‘«‹([{¿¡「『（"
_LATIN_ENDS = ".!?‽…"
_CJK_ENDS = "。！？"
# Sentence marks of Devanagari, Arabic, Urdu, Armenian and Ethiopic script.
_OTHER_ENDS = "।॥؟۔։።"
_ENDS = _LATIN_ENDS + _CJK_ENDS + _OTHER_ENDS
# The end marks an ASCII text can hold. Each end mark is found with str.find, a plain
# scan in C, rather than by a regular expression trying every alternative at each
# character.
_ASCII_ENDS = ".!?"
_GREEK_QUESTION = re.compile(f"[;;][{re.escape(_CLOSERS)}]*(?= )")
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
_HAS_WORD = re.compile(r"\w")
# What text must not hold for its paragraphs to be tidied by replacing line breaks: any
# whitespace but the space and the line break, two spaces, or a space beside a line
# break. (No character beyond U+3000 is whitespace.)
_UNTIDY = (
    "  ",
    " \n",
    "\n ",
    *(c for c in map(chr, range(128)) if c.isspace() and c not in " \n"),
)
_UNTIDY_UNICODE = (*_UNTIDY, *(c for c in map(chr, range(128, 0x3001)) if c.isspace()))
_DOTTED_ACRONYM = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]")
# What the word before a full stop says about it, in order of precedence: one look-up.
_TITLE, _NUMBER_NEXT, _AMBIGUOUS = range(3)
_ABBREVIATIONS: dict[str, int] = {
    **dict.fromkeys(_MAY_END, _AMBIGUOUS),
    **dict.fromkeys(_BEFORE_NUMBER, _NUMBER_NEXT),
    **dict.fromkeys(_TITLES, _TITLE),
}


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs of ``text``: blocks separated by blank lines, whitespace runs as one space."""
    if not any(map(text.__contains__, _UNTIDY if text.isascii() else _UNTIDY_UNICODE)):
        # Only single spaces and line breaks, never side by side: the same paragraphs
        # without taking every word apart and putting it back together.
        tidy = (block.replace("\n", " ").strip() for block in text.split("\n\n"))
        return [block for block in tidy if block]
    paragraphs = []
    for block in _BLANK_LINE.split(text):
        tidy = " ".join(block.split())
        if tidy:
            paragraphs.append(tidy)
    return paragraphs


def split_sentences(text: str, language: str | None = None) -> list[str]:
    """Sentences of ``text`` in order, paragraph breaks always ending a sentence.

    ``language`` only switches on the Greek question mark (``;``), which elsewhere is a
    semicolon; every other rule is script-driven and applies to any language.
    """
    sentences: list[str] = []
    for paragraph in split_paragraphs(text):
        sentences.extend(split_paragraph(paragraph, language))
    return sentences


def split_paragraph(paragraph: str, language: str | None = None) -> list[str]:
    """Sentences of one paragraph as :func:`split_paragraphs` returns them (tidy spaces)."""
    greek = bool(language) and language.lower().startswith(("el", "gr"))
    ends = _boundaries(paragraph)
    if greek:
        ends = sorted({*ends, *(m.end() for m in _GREEK_QUESTION.finditer(paragraph))})
    pieces: list[str] = []
    start = 0
    for end in [*ends, len(paragraph)]:
        piece = paragraph[start:end].strip()
        start = end
        if not piece:
            continue
        if pieces and not _HAS_WORD.search(piece):
            # Stray punctuation (" . " in scraped text) belongs to the sentence before.
            pieces[-1] = f"{pieces[-1]} {piece}"
        else:
            pieces.append(piece)
    return pieces


def _boundaries(text: str) -> list[int]:
    """Where sentences end in ``text``: after each run of end marks, with the closing
    quotes after it, that ends one.

    Most runs are a lone full stop after a plain word and before a capital: those are
    settled here, inline, and only the others go through :func:`_is_boundary`.
    """
    ends: list[int] = []
    end = 0
    size = len(text)
    for start in _end_marks(text):
        if start < end:
            continue  # inside the previous run
        end = start + 1
        while end < size and text[end] in _ENDS:
            end += 1
        while end < size and text[end] in _CLOSERS:
            end += 1
        if end - start == 1 and text[start] == "." and "A" <= text[end + 1 : end + 2] <= "Z":
            word = text[text.rfind(" ", 0, start) + 1 : start].lstrip(_OPENERS)
            if text[end] == " " and (
                not word
                or (
                    word.lower() not in _ABBREVIATIONS
                    and "." not in word
                    and not (len(word) == 1 and word.isupper())
                )
            ):
                ends.append(end)
                continue
        if _is_boundary(text, start, end):
            ends.append(end)
    return ends


def _end_marks(text: str) -> list[int]:
    """Where ``text`` has an end mark, in order."""
    places: list[int] = []
    for mark in _ASCII_ENDS if text.isascii() else _ENDS:
        place = text.find(mark)
        while place >= 0:
            places.append(place)
            place = text.find(mark, place + 1)
    places.sort()
    return places


def _is_boundary(text: str, start: int, end: int) -> bool:
    """Whether the end marks at ``text[start:end]`` end a sentence (single spaces only)."""
    first = text[start]
    if first in _CJK_ENDS:
        return True  # these scripts put no space between sentences
    if end == len(text):
        return first in _OTHER_ENDS  # elsewhere a space must follow
    if text[end] != " ":
        return False  # "1.5", "U.S", "Yahoo!Inc": no space, no boundary
    if first in _OTHER_ENDS:
        return True
    after = _next_word(text, end + 1)
    if not ("A" <= after[:1] <= "Z" or _may_start_sentence(after)):
        return False
    if end - start == 1 and first == ".":
        return _period_ends_sentence(_previous_word(text, start), after)
    marks = text[start:end]
    if marks.rstrip(_CLOSERS) != ".":
        # "!", "?", "..." before a capital end a sentence, unless a quotation ends there
        # and its speaker follows: '"Why?" Smith asked.'
        return not (marks[-1] in _CLOSERS and _speaker_follows(text, end + 1 + len(after)))
    return _period_ends_sentence(_previous_word(text, start), after)


def _speaker_follows(text: str, start: int) -> bool:
    """Whether the word at ``start`` (after a name) is a verb of speech: "asked"."""
    return _next_word(text, start + 1).rstrip(",.;:!?").lower() in _SPEECH_VERBS


def _period_ends_sentence(word: str, after: str) -> bool:
    """Whether a single full stop after ``word``, followed by ``after``, ends a sentence."""
    if not word:
        return True
    kind = _ABBREVIATIONS.get(word.lower())
    if kind == _TITLE:
        return False
    if kind == _NUMBER_NEXT:
        return not after[:1].isdigit()
    if kind == _AMBIGUOUS:
        return _looks_like_sentence_start(after)
    if len(word) == 1 and word.isupper():
        return False  # an initial: "J. R. R. Tolkien", "George W. Bush"
    if "." in word and _DOTTED_ACRONYM.fullmatch(word):
        # "U.S", "a.m", "e.g": an acronym ends a sentence only before a typical opener.
        return _looks_like_sentence_start(after)
    return True


def _previous_word(text: str, end: int) -> str:
    return text[text.rfind(" ", 0, end) + 1 : end].lstrip(_OPENERS)


def _next_word(text: str, start: int) -> str:
    end = text.find(" ", start)
    return text[start : end if end >= 0 else len(text)]


def _may_start_sentence(word: str) -> bool:
    """A sentence starts with a capital, a digit, an opening mark, or a caseless letter."""
    first = word.lstrip(_OPENERS)[:1]
    if not first:
        return bool(word)  # a lone opening mark, e.g. a quote before a line break
    return first.isupper() or first.isdigit() or (first.isalpha() and not first.islower())


def _looks_like_sentence_start(word: str) -> bool:
    bare = word.lstrip(_OPENERS).rstrip(",;:.!?" + _CLOSERS)
    return bare.lower() in _SENTENCE_STARTERS and bare[:1].isupper()
