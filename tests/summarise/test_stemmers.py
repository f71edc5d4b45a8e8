"""Stemmers: the stems each language got before NLTK left the default path, word for word."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from functools import cache

import pytest
import Stemmer as pystemmer
from sumy.nlp.stemmers import Stemmer as SumyStemmer
from sumy.utils import get_stop_words

from summarise.language import language_profile
from summarise.stemmers import PYSTEMMER_LANGUAGES, SUMY_STEMMED, stemmer_for
from tests.conftest import SHARED
from tests.summarise.test_languages import SAMPLES

_WORD = re.compile(r"\w+")
LOWER_CASED = ("hebrew", "chinese", "japanese", "korean", "thai", "esperanto", "unknown")


@cache
def _words() -> tuple[str, ...]:
    """Lower-cased words of many languages: every stop-word list sumy has, the language
    samples, Slovak and Russian feeds and the start of the English dev set when present."""
    words: set[str] = set()
    for name in ("english", "german", "french", "czech", "slovak", "ukrainian", "greek"):
        words.update(get_stop_words(name))
    for text in SAMPLES.values():
        words.update(_WORD.findall(text.lower()))
    words.update(
        [
            "vlády",
            "vláda",
            "ministr",
            "ministerstvo",
            "prezidenta",
            "republiky",
            "zákon",
            "zákony",
            "českých",
            "slovenská",
            "praha",
            "bratislava",
            "rozhodnutí",
            "hospodářství",
            "україна",
            "уряду",
            "міністр",
            "президента",
            "законів",
            "studenti",
            "učitelé",
        ]
    )
    feeds = SHARED / "data" / "feeds" / "real"
    for name in ("aktuality-sk.rss", "aif-ru.rss"):
        if (feeds / name).exists():
            words.update(_WORD.findall((feeds / name).read_text("utf-8", "replace").lower()))
    dev = SHARED / "data" / "summ-dev-bbc.jsonl"
    if dev.exists():
        with dev.open(encoding="utf-8") as lines:
            for _, line in zip(range(200), lines, strict=False):
                words.update(_WORD.findall(json.loads(line)["text"].lower()))
    return tuple(sorted(words))


@pytest.mark.parametrize("name", sorted(PYSTEMMER_LANGUAGES))
def test_snowball_languages_get_pystemmers_stems(name: str) -> None:
    reference = pystemmer.Stemmer(name).stemWord
    stem = stemmer_for(name)
    assert [stem(w) for w in _words()] == [reference(w) for w in _words()]


@pytest.mark.filterwarnings("ignore::UserWarning")  # sumy's Czech stemmer on numbers
@pytest.mark.parametrize("name", sorted(SUMY_STEMMED))
def test_czech_slovak_and_ukrainian_get_sumys_own_stems(name: str) -> None:
    reference = SumyStemmer(name)
    stem = stemmer_for(name)
    words = [w for w in _words() if w.islower() or w.istitle() or w.isupper()]
    assert [stem(w) for w in words] == [reference(w) for w in words]


@pytest.mark.parametrize("name", LOWER_CASED)
def test_languages_without_a_stemmer_are_lower_cased(name: str) -> None:
    stem = stemmer_for(name)
    assert [stem(w) for w in ("Word", "שלום", "政府", "ÉTÉ")] == ["word", "שלום", "政府", "été"]


def test_stems_are_snowball_3s_which_the_shipped_weights_were_trained_on() -> None:
    # NLTK's older Snowball gives "ad", "intern" and "univers": a PyStemmer before 3.0
    # would change which sentences the default summariser picks.
    english = language_profile("en").stem
    assert [english(w) for w in ("added", "international", "university", "running")] == [
        "add",
        "internat",
        "universiti",
        "run",
    ]


def test_three_letter_codes_find_their_language_as_sumy_does() -> None:
    assert language_profile("eng").stem("running") == "run"


def test_summarising_in_snowball_languages_does_not_import_nltk() -> None:
    code = (
        "import sys\n"
        "from summarise.summarisers import summarise_text\n"
        "from tests.summarise.test_languages import SAMPLES\n"
        "for code in ('en', 'de', 'ru', 'el', 'he', 'zh', 'ar'):\n"
        "    assert summarise_text(SAMPLES[code], language=code)\n"
        "print(sorted(m for m in ('nltk', 'scipy') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
