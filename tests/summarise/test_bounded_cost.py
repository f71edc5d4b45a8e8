"""Summarising an article at the content cap does bounded work.

A feed may send an article of :data:`ingest.records.MAX_CONTENT_CHARS` characters made
of a few sentences repeated thousands of times, which made every pair of its sentences
share a rare word. The near-duplicate check counts the pairs it compares, so the bound
is asserted on work done, not on time (timings: docs/summarising.md, "Bounded cost").
"""

from __future__ import annotations

import json
import random
from itertools import chain

from ingest.records import MAX_CONTENT_CHARS
from summarise.sentences import split_paragraph, split_paragraphs, split_sentences
from summarise.summarisers import summarise_text
from summarise.tokenizer import (
    NEAR_DUPLICATE,
    REPEAT_CANDIDATES,
    Words,
    check_repeats,
)
from tests.conftest import shared_path


def _dev_sentences() -> list[str]:
    sentences: list[str] = []
    with shared_path("data", "summ-dev-bbc.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            for paragraph in split_paragraphs(json.loads(line)["text"]):
                sentences.extend(split_sentences(paragraph, "en"))
    return sentences


def _hostile_article(rng: random.Random, distinct: int, chars: int) -> str:
    """``chars`` characters of dev-set sentences: a few repeated over and over, some
    with one word changed, among ``distinct`` others each used about once."""
    sentences = _dev_sentences()
    repeated = rng.sample(sentences, 5)
    others = rng.sample(sentences, distinct)
    paragraphs: list[str] = []
    size = 0
    while size < chars:
        picks = []
        for _ in range(4):
            roll = rng.random()
            if roll < 0.5:
                picks.append(rng.choice(repeated))
            elif roll < 0.7:
                words = rng.choice(repeated).split()
                words[rng.randrange(len(words))] = f"word{rng.randrange(1000)}"
                picks.append(" ".join(words))
            else:
                picks.append(rng.choice(others))
        paragraphs.append(" ".join(picks))
        size += len(paragraphs[-1]) + 2
    return "\n\n".join(paragraphs)[:chars]


def _sentences_and_words(text: str) -> tuple[list[str], Words]:
    sentences = list(chain.from_iterable(split_paragraph(b, "en") for b in split_paragraphs(text)))
    return sentences, Words.of_spaced(sentences)


def _word_set(words: Words, index: int) -> frozenset[str]:
    return frozenset(words.distinct[i] for i in words.ids[words.sentence_of == index].tolist())


def test_an_article_at_the_content_cap_compares_a_bounded_number_of_pairs() -> None:
    text = _hostile_article(random.Random(7), distinct=2000, chars=MAX_CONTENT_CHARS)
    sentences, words = _sentences_and_words(text)
    assert len(text) == MAX_CONTENT_CHARS and len(sentences) > 5000

    check = check_repeats(sentences, words)

    assert check.kept is not None
    assert check.comparisons <= REPEAT_CANDIDATES * len(sentences)
    # Every exact repeat is gone, whatever its distance from the first.
    kept = words.only(check.kept)
    kept_sets = [_word_set(kept, i) for i in range(len(kept.lengths))]
    assert len(set(kept_sets)) == len(kept_sets)
    assert len(kept_sets) < len(sentences) // 2
    assert len(summarise_text(text, language="en")) == 3


def _kept_by_definition(sentences: list[str], words: Words) -> list[int]:
    kept: list[int] = []
    kept_sets: list[frozenset[str]] = []
    for index in range(len(sentences)):
        mine = _word_set(words, index)
        if not any(len(mine & other) >= NEAR_DUPLICATE * len(mine | other) for other in kept_sets):
            kept.append(index)
            kept_sets.append(mine)
    return kept


def test_the_bounded_check_keeps_what_the_definition_keeps_when_repeats_are_few() -> None:
    # Few distinct sentences repeated many times: past the pair budget, yet every kept
    # sentence is within the candidates each later one is compared with.
    text = _hostile_article(random.Random(3), distinct=10, chars=60_000)
    sentences, words = _sentences_and_words(text)

    check = check_repeats(sentences, words)

    assert check.kept is not None
    assert check.comparisons <= REPEAT_CANDIDATES * len(sentences)
    assert check.kept.nonzero()[0].tolist() == _kept_by_definition(sentences, words)
