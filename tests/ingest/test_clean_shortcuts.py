"""The cleaner's shortcuts give exactly what the long way gives.

Each shortcut in ingest.clean and ingest.html skips work that would not change the result
(ftfy on text that shows no sign of damage, listing tokens of paragraphs too different in
length to be twins, re-spacing text that is already spaced). These tests hold each one to
the long way it replaces, on the characters and shapes of text where they could differ.
"""

from __future__ import annotations

import re

import ftfy
import ftfy.fixes
import pytest
from ftfy.badness import is_bad
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.clean import (
    _FTFY_CONFIG,
    _FTFY_SIGNS,
    _MOJIBAKE_ALPHABET,
    _TOKEN,
    _are_twins,
    _Compared,
    _comparison_form,
    _has_more_words,
    _is_subsequence,
    _may_need_ftfy,
    _normalise,
)
from ingest.text import collapse_whitespace

_IN_ALPHABET = re.compile(f"[{_MOJIBAKE_ALPHABET}]")
MOJIBAKE_ALPHABET = [chr(c) for c in range(0x80, 0x10000) if _IN_ALPHABET.match(chr(c))]
CONTEXTS = ["{}", "a{}b", "{} x", "x {}", "A{}1", ".{}!", "{}a", "1{}"]

# ftfy's fixers that act on characters one at a time, as fix_text runs them with _FTFY_CONFIG.
_CHARACTER_FIXERS = [
    ftfy.fixes.fix_c1_controls,
    ftfy.fixes.fix_latin_ligatures,
    ftfy.fixes.fix_line_breaks,
    ftfy.fixes.fix_surrogates,
    ftfy.fixes.remove_terminal_escapes,
    ftfy.fixes.remove_control_chars,
]


def test_every_character_an_ftfy_fixer_changes_is_a_sign() -> None:
    changed: list[str] = []
    for start in range(0, 0x110000, 0x1000):
        block = "".join(map(chr, range(start, start + 0x1000)))
        if all(fix(block) == block for fix in _CHARACTER_FIXERS):
            continue
        changed += [ch for ch in block if any(fix(ch) != ch for fix in _CHARACTER_FIXERS)]
    assert changed, "the fixers changed nothing: this test would prove nothing"
    assert [ch for ch in changed if not _FTFY_SIGNS.match(ch)] == []


# Characters that mojibake is made of: what single-byte code pages decode bytes 0x80-0xFF
# to, and the blocks around those.
_CODE_PAGES = [
    *("latin-1", "iso8859_2", "iso8859_5", "iso8859_7", "iso8859_9", "iso8859_15"),
    *(f"cp{n}" for n in (437, 850, 852, 866, 1250, 1251, 1252, 1253, 1254, 1255, 1256, 1257)),
    *("mac_roman", "mac_cyrillic", "mac_greek", "mac_latin2", "koi8_r", "koi8_u"),
]
_MOJIBAKE_MATERIAL = sorted(
    {ch for name in _CODE_PAGES for ch in bytes(range(0x80, 0x100)).decode(name, "ignore")}
    | {chr(c) for c in (*range(0x80, 0x600), *range(0x2000, 0x2800), 0xF8FF, 0xFFFD)}
)


def test_ftfy_finds_mojibake_only_where_two_characters_of_its_alphabet_meet() -> None:
    """ftfy.badness.is_bad, on text where no two characters of _MOJIBAKE_ALPHABET are
    adjacent and none of the signs that stand alone occurs, finds nothing: each character
    outside the alphabet is put between every two of it, and so is each ASCII separator."""
    alphabet = [ch for ch in MOJIBAKE_ALPHABET if not _FTFY_SIGNS.match(ch)]
    outside = [
        ch for ch in _MOJIBAKE_MATERIAL if not _IN_ALPHABET.match(ch) and not _FTFY_SIGNS.match(ch)
    ]
    separators = [*outside, *" aZ1.-'\n\t"]
    assert is_bad("".join(alphabet)), "the alphabet is not mojibake: this test would prove nothing"
    assert [sep for sep in separators if is_bad(sep + sep.join(alphabet) + sep)] == []


def _ftfy_leaves_alone(text: str) -> bool:
    return ftfy.fix_text(text, _FTFY_CONFIG) == text


@pytest.mark.parametrize("context", CONTEXTS)
def test_no_character_that_ftfy_would_change_goes_unnoticed(context: str) -> None:
    characters = [
        *MOJIBAKE_ALPHABET,
        *map(chr, range(0x00, 0x250)),
        *map(chr, range(0x2000, 0x2070)),
    ]
    missed = [
        text
        for text in (context.format(ch) for ch in characters)
        if not _may_need_ftfy(text) and not _ftfy_leaves_alone(text)
    ]
    assert missed == []


# Letters of scripts the mojibake heuristic never names, next to ones it does.
_OTHER_SCRIPTS = "漢字かな한글עבرسदे😀"


def test_characters_outside_the_mojibake_alphabet_next_to_it_need_no_ftfy() -> None:
    texts = [
        text
        for ch in MOJIBAKE_ALPHABET
        for other in _OTHER_SCRIPTS
        for text in (ch + other, other + ch, f"a{other}{ch} ")
    ]
    assert [t for t in texts if not _may_need_ftfy(t) and not _ftfy_leaves_alone(t)] == []


_DAMAGE_PRONE = st.lists(
    st.sampled_from(
        [
            *MOJIBAKE_ALPHABET,
            *"aZ09 .,'\"&;#<>\t\n\r\x1b\x00’“”—…éßﬁ\u2028\u0301\ufeff",
            *_OTHER_SCRIPTS,
            "&amp;",
            "&eacute;",
            "&#x27;",
            "&AMP;",
        ]
    ),
    max_size=12,
).map("".join)


@settings(max_examples=1500, deadline=None)
@given(_DAMAGE_PRONE)
def test_text_the_shortcut_skips_is_text_ftfy_returns_unchanged(text: str) -> None:
    assert _may_need_ftfy(text) or _ftfy_leaves_alone(text)


@pytest.mark.parametrize(
    ("damaged", "repaired"),
    [
        ("Prices rose to Â£180,226 in November.", "Prices rose to £180,226 in November."),
        ("It donâ€™t matter", "It don’t matter"),
        ("cafÃ© society", "café society"),
        ("the minister\x92s plan", "the minister’s plan"),
        ("fish &amp; chips", "fish & chips"),
        ("ﬁsh", "fish"),
    ],
)
def test_damaged_text_still_goes_through_ftfy(damaged: str, repaired: str) -> None:
    assert _may_need_ftfy(damaged)
    assert _normalise(damaged) == repaired


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", categories=["Zs", "Zl", "Zp", "Cc", "Ll"])))
def test_collapse_whitespace_is_a_split_and_join(text: str) -> None:
    assert collapse_whitespace(text) == re.sub(r"\s+", " ", text).strip()


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=" \tab\n\xa0", max_size=20), st.integers(0, 6))
def test_word_limit_matches_a_full_split(text: str, limit: int) -> None:
    assert _has_more_words(text, limit) == (len(text.split()) > limit)


_QUOTES = "'\"`´‘’‚‛“”„‟‹›«»′″¿"
_DASHES = "‐‑‒–—―−"
_FOLD = str.maketrans({**dict.fromkeys(_QUOTES, "'"), **dict.fromkeys(_DASHES, "-")})


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet=st.sampled_from([*_QUOTES, *_DASHES, *"aB  \t.…ßİΣ1_-"]), max_size=20))
def test_comparison_form_folds_as_a_translation_table_would(text: str) -> None:
    folded = text.translate(_FOLD).replace("…", "...").casefold()
    assert _comparison_form(text) == re.sub(r"\s+", " ", folded).strip()


_PARAGRAPH_TEXT = st.text(
    alphabet=st.sampled_from(
        [*"ab Ab1_.,;'\"()-\t\x1c\x01éß٣’—…£漢字жΣ\u0301\u200b\xa0\u3000\ud800\U0001f600"]
    ),
    max_size=40,
)


@settings(max_examples=2000, deadline=None)
@given(_PARAGRAPH_TEXT)
def test_token_and_word_counts_match_the_token_lists(paragraph: str) -> None:
    compared = _Compared(paragraph)
    assert compared.tokens == _TOKEN.findall(compared.form)
    assert compared.token_count == len(compared.tokens)
    assert compared.word_count == len(re.findall(r"\w+", compared.form))


def _twins_by_token_lists(first: str, second: str) -> bool:
    """The rule as it reads: on the token lists of both paragraphs' comparison forms."""
    a = re.findall(r"\w+|[^\w\s]", _comparison_form(first))
    b = re.findall(r"\w+|[^\w\s]", _comparison_form(second))
    shorter, longer = sorted((a, b), key=len)
    if len(shorter) < 4:
        return False
    if a == b:
        return True
    if len(shorter) < 8 or 2 * len(shorter) / (len(shorter) + len(longer)) < 0.85:
        return False
    return _is_subsequence(shorter, longer)


_WORDS = st.lists(
    st.sampled_from(["the", "minister", "said", ",", ".", "(", ")", "Getty", "“", "a", "b’s"]),
    min_size=0,
    max_size=14,
)


@settings(max_examples=1000, deadline=None)
@given(_WORDS, st.lists(st.tuples(st.integers(0, 14), _WORDS), max_size=3), st.booleans())
def test_twins_are_found_as_on_full_token_lists(
    words: list[str], edits: list[tuple[int, list[str]]], spaced: bool
) -> None:
    first = " ".join(words)
    other = list(words)
    for position, inserted in edits:  # renditions that add (or replace with) a few tokens
        other[position:position] = inserted
    second = (" " if spaced else "").join(other)
    expected = _twins_by_token_lists(first, second)
    assert _are_twins(_Compared(first), _Compared(second)) == expected
    assert _are_twins(_Compared(second), _Compared(first)) == expected
