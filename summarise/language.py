"""Which language an article is in, and what sumy offers for it.

Feeds and pages declare languages as codes ("en", "de-DE", "pt_BR"); sumy wants names
("english"). Missing declarations are detected: unambiguous scripts (CJK, Greek, Hebrew,
Thai...) by counting characters, alphabetic scripts by which language's stop words make
up most of the text -- deterministic, thread-safe, and cheap next to summarising the
article, which a statistical detector is not. A language sumy has no stemmer or stop
words for still works, with lower-casing as its only normalisation.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from sumy.utils import get_stop_words, normalize_language

from summarise.stemmers import stemmer_for

__all__ = ["LanguageProfile", "detect_language", "language_profile", "normalise_language"]

# ISO 639-1 codes of the languages sumy has a stemmer or a stop-word list for.
_SUMY_NAMES = {
    "ar": "arabic",
    "cs": "czech",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "es": "spanish",
    "fi": "finnish",
    "fr": "french",
    "he": "hebrew",
    "hu": "hungarian",
    "it": "italian",
    "ja": "japanese",
    "ko": "korean",
    "nl": "dutch",
    "no": "norwegian",
    "nb": "norwegian",
    "nn": "norwegian",
    "pl": "polish",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sk": "slovak",
    "sv": "swedish",
    "th": "thai",
    "uk": "ukrainian",
    "zh": "chinese",
}
_CODES_BY_NAME = {name: code for code, name in _SUMY_NAMES.items() if code not in ("nb", "nn")}
# Old or alternative codes still found in feeds.
_ALIASES = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "zh-cn": "zh", "zh-tw": "zh"}

# Scripts that identify a language (or a family sumy treats alike) on their own.
_SCRIPT_LANGUAGES = {
    "HIRAGANA": "ja",
    "KATAKANA": "ja",
    "CJK": "zh",
    "HANGUL": "ko",
    "GREEK": "el",
    "HEBREW": "he",
    "THAI": "th",
    "DEVANAGARI": "hi",
    "BENGALI": "bn",
    "TAMIL": "ta",
    "GEORGIAN": "ka",
    "ARMENIAN": "hy",
}
_DETECTION_SAMPLE = 600  # about 100 words: enough to tell languages by stop words
# Alphabetic languages sumy has stop-word lists for, told apart by those lists.
_STOP_WORD_LANGUAGES = ("en", "fr", "de", "it", "pt", "es", "sv", "cs", "sk", "pl", "uk", "ar")
_WORD = re.compile(r"\w+")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_NON_ASCII_WORD = re.compile(r"(?![\x00-\x7f])\w")  # a word character outside ASCII
_ASCII_LETTER = re.compile(r"[A-Za-z]")
_ASCII_NON_LETTERS = bytes(b for b in range(128) if not chr(b).isalpha())
# ASCII bytes as ``\w+`` words lower-cased: word characters lower-cased, others spaces.
_ASCII_WORDS = bytes(
    ord(chr(b).lower()) if chr(b).isalnum() or chr(b) == "_" else ord(" ") for b in range(256)
)
_MIN_WORDS = 8
_MIN_SHARE = 0.1


# Each language a stop word is on, with the share of the word that language gets.
_Weights = tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class LanguageProfile:
    """What the summarisers need to know about a language.

    ``sumy_name`` is what sumy's own APIs take; ``stem`` is its stemmer
    (:mod:`summarise.stemmers`), taking a lower-cased word; ``stop_words`` is empty
    where sumy has no list.
    """

    code: str | None
    sumy_name: str
    stem: Callable[[str], str]
    stop_words: frozenset[str]


def normalise_language(language: str | None) -> str | None:
    """The ISO 639-1 code in ``language`` ("de-DE" -> "de", "English" -> "en"), or None."""
    if not language:
        return None
    key = language.strip().lower().replace("_", "-")
    if key in _ALIASES:
        return _ALIASES[key]
    if key in _CODES_BY_NAME:
        return _CODES_BY_NAME[key]
    primary = key.split("-", 1)[0]
    primary = _ALIASES.get(primary, primary)
    if len(primary) in (2, 3) and primary.isalpha():
        return primary
    return None


def detect_language(text: str) -> str | None:
    """A best guess at the ISO 639-1 code of ``text``, or None when there is no telling."""
    sample = text[:_DETECTION_SAMPLE]
    others = [] if sample.isascii() else [c for c in _NON_ASCII.findall(sample) if c.isalpha()]
    if not others:
        # Every letter is an ASCII one, so Latin, which names no language: stop words decide.
        return _detect_by_stop_words(sample) if _ASCII_LETTER.search(sample) else None
    scripts = Counter(map(_script, others))
    latin = _ascii_letters(sample)
    if latin:
        scripts["LATIN"] += latin
    by_script = _language_from_script(scripts)
    if by_script is not None:
        return by_script
    detected = _detect_by_stop_words(sample)
    if detected is None and scripts.most_common(1)[0][0] == "CYRILLIC":
        return "ru"  # the most common Cyrillic language, with no stop-word list in sumy
    return detected


def _ascii_letters(text: str) -> int:
    """How many ASCII letters ``text`` has, counted in C by deleting everything else."""
    return len(text.encode("ascii", "ignore").translate(None, _ASCII_NON_LETTERS))


def _language_from_script(scripts: Counter[str]) -> str | None:
    letters = sum(scripts.values())
    if scripts["HIRAGANA"] + scripts["KATAKANA"] > 0.05 * letters:
        return "ja"
    script, count = scripts.most_common(1)[0]
    if count < 0.5 * letters:
        return None
    return _SCRIPT_LANGUAGES.get(script)


@lru_cache(maxsize=4096)
def _script(char: str) -> str:
    try:
        name = unicodedata.name(char)
    except ValueError:
        return "UNKNOWN"
    return name.split(" ", 1)[0]


def _detect_by_stop_words(sample: str) -> str | None:
    """The language whose stop words cover most of the sample's words, if they cover
    enough of them: an article in its own language is a third to a half stop words,
    while a related language's list catches only a few of them. A word on several
    lists ("la", "de") counts for each in proportion, so distinctive words decide."""
    if sample.isascii() or not _NON_ASCII_WORD.search(sample):
        # Bytes: one C-level translation lower-cases and blanks what \w would not match,
        # which no character outside ASCII is here (curly quotes, dashes, "£"): each is
        # replaced by "?", blanked too. Lower-casing gives no such character a letter.
        ascii_bytes = sample.encode("ascii", "replace")
        words: list[str] | list[bytes] = ascii_bytes.translate(_ASCII_WORDS).split()
        weights: dict[Any, _Weights] = _ascii_stop_word_weights()
    else:
        words = _WORD.findall(sample.lower())
        weights = _stop_word_weights()
    if len(words) < _MIN_WORDS:
        return None
    # Words in no list add nothing, so only stop words are counted, in order of first
    # appearance, each language scored in the order it is first seen.
    scores: dict[str, float] = {}
    for word, count in Counter(filter(weights.__contains__, words)).items():
        for code, weight in weights[word]:
            scores[code] = scores.get(code, 0) + weight * count
    if not scores:
        return None
    code = max(scores, key=scores.__getitem__)  # the first of equals, as Counter's
    return code if scores[code] >= _MIN_SHARE * len(words) else None


@cache
def _ascii_stop_word_weights() -> dict[bytes, _Weights]:
    """:func:`_stop_word_weights` of the ASCII stop words, keyed by their bytes."""
    return {
        word.encode(): weights for word, weights in _stop_word_weights().items() if word.isascii()
    }


@cache
def _stop_word_weights() -> dict[str, _Weights]:
    languages: dict[str, list[str]] = {}
    for code in _STOP_WORD_LANGUAGES:
        try:
            stop_words = get_stop_words(_SUMY_NAMES[code])
        except LookupError:
            continue
        for word in stop_words:
            languages.setdefault(word, []).append(code)
    return {
        word: tuple((code, 1 / len(codes)) for code in codes) for word, codes in languages.items()
    }


@cache
def language_profile(code: str | None) -> LanguageProfile:
    """The stemmer and stop words sumy has for ``code`` (an ISO 639-1 code or None)."""
    name = _SUMY_NAMES.get(code or "", code or "unknown")
    try:
        stop_words = frozenset(get_stop_words(name))
    except LookupError:
        stop_words = frozenset()
    # sumy's name for the stemmer, as sumy's own Stemmer looks it up ("eng" -> "english").
    stem = stemmer_for(normalize_language(name))
    return LanguageProfile(code=code, sumy_name=name, stem=stem, stop_words=stop_words)
