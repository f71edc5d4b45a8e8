"""The summariser's shortcuts give what their plain definitions give.

Documents of spaced scripts are tokenised all sentences at once, near-duplicates are
compared only among sentences that could be one, tidy text is split into paragraphs
without re-joining its words, ASCII text skips script counting in language detection,
keys are counted densely or by sorting, whichever is cheaper for their range, and items
are numbered by where they first appear. Each test checks a shortcut against the
definition it stands in for, on text chosen to hit its edge cases: punctuation-only
words, the Greek final sigma, dotted capitals, whitespace of every kind, and many
near-identical sentences.
"""

from __future__ import annotations

import random
import re
from collections import Counter

import numpy as np
import pytest

from summarise import default, language, tokenizer
from summarise.language import detect_language, language_profile
from summarise.sentences import split_paragraphs, split_sentences
from summarise.tokenizer import NEAR_DUPLICATE, Tokenizer, Words, build_document

_PIECES = (
    "The", "the", "said", "U.S.", "Mr.", "—", "-", "...", "“quoted”", "'tis", "e-mail",
    "£3.20", "ΟΔΟΣ", "ΟΔΟΣ.", "Σ", "İstanbul", "Straße", "naïve", "(aside)", ",", "!",
    "police", "Police", "rain", "floods", "town", "river", "«Ja»", "'", "42", "ǅemal",
)  # fmt: skip


def _random_text(rng: random.Random) -> str:
    paragraphs = []
    for _ in range(rng.randint(1, 4)):
        sentences = [
            " ".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 12))) + rng.choice(".!?")
            for _ in range(rng.randint(1, 5))
        ]
        paragraphs.append(" ".join(sentences))
    return "\n\n".join(paragraphs)


def _word_sets(sentences: list[str], words_of) -> list[set[str]]:
    return [{w.lower() for w in words_of(s)} for s in sentences]


def _first_occurrences_by_definition(sentences: list[str], words_of) -> list[str]:
    """Each sentence unless an earlier kept one shares NEAR_DUPLICATE of their words
    (Jaccard); sentences without words are compared by their lower-cased text."""
    kept: list[str] = []
    kept_sets: list[set[str]] = []
    seen_wordless: set[str] = set()
    for sentence, words in zip(sentences, _word_sets(sentences, words_of), strict=True):
        if not words:
            if sentence.lower() not in seen_wordless:
                kept.append(sentence)
            seen_wordless.add(sentence.lower())
            continue
        if any(len(words & other) >= NEAR_DUPLICATE * len(words | other) for other in kept_sets):
            continue
        kept.append(sentence)
        kept_sets.append(words)
    return kept


@pytest.mark.parametrize("seed", range(40))
def test_document_words_match_tokenising_each_sentence(seed: int) -> None:
    rng = random.Random(seed)
    text = _random_text(rng)
    profile = language_profile("en")
    tokens = Tokenizer("en")
    document = build_document(text, tokens)
    words = [tokens.to_words(sentence) for sentence in document.sentences]
    assert document.word_counts.tolist() == [len(w) for w in words]
    together = document.content_terms(profile.stem, profile.stop_words)
    one_by_one = Words.of(words).content_terms(profile.stem, profile.stop_words)
    assert together.vocabulary == one_by_one.vocabulary
    assert together.sentence.tolist() == one_by_one.sentence.tolist()
    assert together.term.tolist() == one_by_one.term.tolist()


def test_lower_casing_before_tokenising_keeps_the_greek_final_sigma() -> None:
    profile = language_profile("el")
    tokens = Tokenizer("el")
    document = build_document("ΟΔΟΣ. ΟΔΟΣ «ΝΕΑ» ΣΑΣ.", tokens)
    terms = document.content_terms(profile.stem, profile.stop_words)
    words = Words.of([tokens.to_words(s) for s in document.sentences])
    expected = words.content_terms(profile.stem, profile.stop_words)
    assert terms.vocabulary == expected.vocabulary


@pytest.mark.parametrize(
    ("sentences", "vocabulary"),
    [(10, 6), (12, 40), (60, 8), (200, 12)],  # the last two have many possible repeats
)
def test_near_duplicates_are_dropped_as_defined(sentences: int, vocabulary: int) -> None:
    rng = random.Random(sentences * vocabulary)
    words = [f"w{i}" for i in range(vocabulary)]
    for _ in range(5):
        text = " ".join(
            " ".join(rng.choice(words) for _ in range(rng.randint(1, 10))).capitalize() + "."
            for _ in range(sentences)
        )
        tokens = Tokenizer("en")
        document = build_document(text, tokens)
        expected = _first_occurrences_by_definition(split_sentences(text), tokens.to_words)
        assert [str(s) for s in document.sentences] == expected


def test_many_candidate_repeats_take_prefix_filtering_and_agree() -> None:
    # More sentences that could repeat another than are compared all at once.
    assert tokenizer._DENSE_CANDIDATES < 60
    text = " ".join(f"Alpha beta gamma delta epsilon zeta eta theta {i % 3}." for i in range(60))
    document = build_document(text, Tokenizer("en"))
    assert [str(s) for s in document.sentences] == _first_occurrences_by_definition(
        split_sentences(text), Tokenizer("en").to_words
    )


def test_sentences_holding_the_separator_are_tokenised_one_by_one() -> None:
    text = "Floods hit the town\x00 on Sunday. The river burst its banks."
    tokens = Tokenizer("en")
    document = build_document(text, tokens)
    assert document.word_counts.tolist() == [len(tokens.to_words(s)) for s in document.sentences]
    assert document.word_counts.tolist() == [6, 5]
    assert "town\x00" in document.words.distinct


def test_term_cache_that_fills_up_starts_again_with_the_same_terms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    profile = language_profile("en")
    document = build_document("Floods swept the town. Rivers rose again overnight.", Tokenizer())
    fresh = document.content_terms(profile.stem, profile.stop_words)
    monkeypatch.setattr(tokenizer, "_TERMS_REMEMBERED", 2)
    tokenizer._terms_for.cache_clear()
    document = build_document("Floods swept the town. Rivers rose again overnight.", Tokenizer())
    again = document.content_terms(profile.stem, profile.stop_words)
    assert again.vocabulary == fresh.vocabulary
    assert again.term.tolist() == fresh.term.tolist()
    assert len(tokenizer._terms_for(profile.stem, profile.stop_words)) <= 2
    tokenizer._terms_for.cache_clear()


_WHITESPACE = (
    " ",
    " ",
    "  ",
    "\n",
    "\n\n",
    "\n \n",
    "\n\n\n",
    "\t",
    "\r\n",
    "\xa0",
    "\u2028",
    "\u3000",
)


def _paragraphs_by_definition(text: str) -> list[str]:
    blocks = re.split(r"\n[ \t\r\f\v]*\n", text)
    return [" ".join(block.split()) for block in blocks if block.split()]


@pytest.mark.parametrize("seed", range(20))
def test_paragraphs_are_blank_line_blocks_with_whitespace_collapsed(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(200):
        text = "".join(
            rng.choice(_WHITESPACE) if rng.random() < 0.4 else rng.choice(_PIECES)
            for _ in range(rng.randint(0, 20))
        )
        assert split_paragraphs(text) == _paragraphs_by_definition(text)


def test_tidy_text_keeps_single_line_breaks_inside_a_paragraph_as_spaces() -> None:
    text = "First line\nsame paragraph.\n\nSecond paragraph.\n"
    assert split_paragraphs(text) == ["First line same paragraph.", "Second paragraph."]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("The council said that it would not be able to open the school on Monday.", "en"),
        ("The council said “it” would not be able to open the school on Monday – £2m.", "en"),
        ("Le conseil a dit que la ville ne pourrait pas ouvrir les portes de l'ecole.", "fr"),
        ("Der Rat sagte, dass die Stadt die Schule am Montag nicht oeffnen kann und wird.", "de"),
        ("12 34 56 -- ... 78", None),
    ],
)
def test_ascii_and_nearly_ascii_text_is_told_by_its_stop_words(text: str, code: str | None) -> None:
    assert detect_language(text) == code


def _stop_word_language_by_definition(sample: str) -> str | None:
    """What ``_detect_by_stop_words`` is: ``\\w+`` words of the lower-cased sample, each
    stop word counting for its languages in proportion, the first of equal scores."""
    words = re.findall(r"\w+", sample.lower())
    weights = language._stop_word_weights()
    if len(words) < language._MIN_WORDS:
        return None
    scores: dict[str, float] = {}
    for word, count in Counter(w for w in words if w in weights).items():
        for code, weight in weights[word]:
            scores[code] = scores.get(code, 0) + weight * count
    if not scores:
        return None
    code = max(scores, key=scores.__getitem__)
    return code if scores[code] >= language._MIN_SHARE * len(words) else None


_NOT_WORDS = "“”‘’–—…£€·•«»¿¡©®°§¶†\u00a0\u2009\u200b"
_SOME_WORDS = "éüçñøß²½ΚKİ"
_SAMPLE_WORDS = "the a of and to said it was in that on for le la les de des der die und council"


@pytest.mark.parametrize(
    ("sample", "code"),
    [
        # French stop words with a letter stuck to them are not stop words: English wins.
        ("leé laé lesé deé desé leé laé dué – “the council said it was”", "en"),
        # Punctuation stuck to them separates them: French wins.
        ("le– la– les– de– des– le– la– du– – “the council said it was”", "fr"),
    ],
)
def test_a_letter_outside_ascii_is_part_of_its_word(sample: str, code: str) -> None:
    assert _stop_word_language_by_definition(sample) == code
    assert language._detect_by_stop_words(sample) == code


@pytest.mark.parametrize("seed", range(40))
def test_stop_words_decide_alike_whatever_non_ascii_characters_a_sample_holds(seed: int) -> None:
    rng = random.Random(seed)
    # Odd seeds: nothing outside ASCII is a word character; even ones: some are, some
    # of them stuck to a stop word ("leé" is none).
    extra = _NOT_WORDS if seed % 2 else _NOT_WORDS + _SOME_WORDS
    pieces = [*_SAMPLE_WORDS.split(), *extra]
    sample = " ".join(
        rng.choice(pieces) + (rng.choice(extra) if rng.random() < 0.3 else "")
        for _ in range(rng.randint(5, 120))
    )
    assert language._detect_by_stop_words(sample) == _stop_word_language_by_definition(sample)


@pytest.mark.parametrize(("size", "bound"), [(0, 5), (1, 1), (50, 40), (300, 5_000), (200, 10**6)])
def test_keys_are_counted_alike_densely_and_by_sorting(
    size: int, bound: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = np.random.default_rng(size).integers(0, bound, size)
    values, counts = np.unique(keys, return_counts=True)
    for dense_range in (0, bound):  # always sorted, always counted (bound >= 1)
        monkeypatch.setattr(tokenizer, "_DENSE_RANGE", dense_range)
        distinct, tally = tokenizer.distinct_counts(keys, bound)
        assert distinct.tolist() == values.tolist()
        assert tally.tolist() == counts.tolist()
        assert tokenizer._distinct(keys, bound).tolist() == values.tolist()


@pytest.mark.parametrize("seed", range(10))
def test_items_are_numbered_in_order_of_first_appearance(seed: int) -> None:
    rng = random.Random(seed)
    items = [rng.choice(_PIECES) for _ in range(rng.randint(0, 60))]
    distinct, index = tokenizer._numbered(iter(items), len(items), "\x00", None)
    expected = list(dict.fromkeys(["\x00", None, *items]))
    assert distinct == expected
    assert index.tolist() == [expected.index(item) for item in items]


@pytest.mark.parametrize("seed", range(3))
def test_sparse_similarities_are_the_row_products_summed_in_column_order(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a CSR matrix product computes, so long documents rank as they did with SciPy.
    monkeypatch.setattr(default, "_DENSE_CELLS", 0)
    rng = random.Random(seed)
    text = "\n\n".join(_random_text(rng) for _ in range(30))
    english = language_profile("en")
    document = build_document(text, Tokenizer("en"))
    _, vectors = default.sentence_features(document, english.stem, english.stop_words)
    rows, columns, weights = vectors._rows, vectors._columns, vectors._weights
    cells: list[dict[int, float]] = [{} for _ in document.sentences]
    for row, column, weight in zip(rows.tolist(), columns.tolist(), weights.tolist(), strict=True):
        cells[row][column] = weight
    for index in range(len(document.sentences)):
        expected = []
        for row in cells:
            total = 0.0
            for column in sorted(row):
                if column in cells[index]:
                    total += row[column] * cells[index][column]
            expected.append(total)
        assert vectors.similarities(index).tolist() == expected
