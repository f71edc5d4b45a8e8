"""The stemmer for each language sumy names, without importing NLTK where it can be helped.

sumy's ``Stemmer`` takes its Snowball stemmers from NLTK, and importing any of it imports
NLTK (and SciPy, where installed): most of a second before the first word is stemmed.
PyStemmer runs the Snowball algorithms in C. Its stems are Snowball 3's, which differ
from NLTK's older Snowball on a few words in a thousand ("added": "add" against "ad");
the shipped weights of the default summariser were trained on PyStemmer's, and
``PyStemmer`` is pinned to the major release that gives them.

What each language gets, by sumy's name for it:

- the Snowball languages: PyStemmer's stemmer;
- Greek and Polish, whose sumy stemmers need packages we do not install: PyStemmer's;
- Czech and Slovak (stemmed as Czech), and Ukrainian: sumy's own stemmers, which no
  other library has; sumy is imported when an article in one of them is first stemmed;
- every other language (Chinese, Japanese, Korean, Hebrew, Thai...): lower-casing, as
  sumy does.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, partial

import Stemmer as pystemmer

__all__ = ["PYSTEMMER_LANGUAGES", "SUMY_STEMMED", "stemmer_for"]

PYSTEMMER_LANGUAGES = frozenset(
    {
        "arabic",
        "danish",
        "dutch",
        "english",
        "finnish",
        "french",
        "german",
        "greek",
        "hungarian",
        "italian",
        "norwegian",
        "polish",
        "portuguese",
        "romanian",
        "russian",
        "spanish",
        "swedish",
    }
)
"""sumy's Snowball languages (NLTK's), and Greek and Polish."""

SUMY_STEMMED = frozenset({"czech", "slovak", "ukrainian"})
"""Languages sumy stems with code of its own."""

_CZECH_STEMMED = frozenset({"czech", "slovak"})
_STEM_CACHE = 1 << 17  # distinct words remembered per language: a few MB


def stemmer_for(name: str) -> Callable[[str], str]:
    """The stemmer of language ``name`` (sumy's name, such as "english"), taking a
    lower-cased word; plain lower-casing for a language without one."""
    if name in PYSTEMMER_LANGUAGES:
        # PyStemmer's own cache thrashes once news vocabulary outgrows it; functools' does not.
        return lru_cache(maxsize=_STEM_CACHE)(pystemmer.Stemmer(name, 0).stemWord)
    if name in SUMY_STEMMED:
        from sumy.nlp.stemmers import Stemmer

        stem: Callable[[str], str] = Stemmer(name)
        if name in _CZECH_STEMMED:
            stem = partial(_czech, stem)
        return lru_cache(maxsize=_STEM_CACHE)(stem)
    return str.lower


def _czech(stem: Callable[[str], str], word: str) -> str:
    """sumy's Czech stemmer, without its warning for a word that is neither lower, title
    nor upper case (a number, to us: words arrive lower-cased): it returns such a word
    as it is, after a ``UserWarning`` per word that filled a service's error output."""
    if word.islower() or word.istitle() or word.isupper():
        return stem(word)
    return word
