"""Documents summarised together get what each gets alone, bit for bit.

``summarise_texts`` builds a batch's documents, screens their near-duplicates, numbers
their content terms and computes their features and rankings over all of them at once.
Each test compares a batch with the same documents one at a time: real articles of the
dev sets (long, short, titled, untitled), random text hitting the tokenizer's edge cases,
sentences that repeat, wordless and empty documents, and documents in other languages.
"""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from summarise import default
from summarise.language import language_profile
from summarise.sentences import split_sentences
from summarise.summarisers import Length, summarise_text, summarise_texts
from summarise.tokenizer import Tokenizer, Words, batch_terms, build_document, build_documents
from tests.conftest import shared_path
from tests.summarise.test_fast_paths import _random_text


def _dev_articles(name: str, limit: int) -> list[dict]:
    with shared_path("data", f"summ-dev-{name}.jsonl").open(encoding="utf-8") as lines:
        return [json.loads(line) for line, _ in zip(lines, range(limit), strict=False)]


def _mixed_texts(seed: int) -> tuple[list[str], list[str | None]]:
    """Dev-set articles, random text, repeated sentences, wordless and empty texts, and
    text in other scripts, in a shuffled order; about one title in two."""
    rng = random.Random(seed)
    articles = _dev_articles("bbc", 20) + _dev_articles("cnndm", 10) + _dev_articles("xsum", 10)
    texts = [a["text"] for a in articles]
    texts += [_random_text(rng) for _ in range(15)]
    texts += [
        "The river rose. The river rose again. The river rose. Police closed the road.",
        "Floods hit the town on Sunday. Floods hit the town on Sunday night.\n\nIt rained.",
        "— — —\n\n… … …\n\n*** ### ***.",
        "",
        "Der Fluss stieg am Sonntag stark an. Die Polizei sperrte die Straße und die Brücke. "
        "Die Bewohner mussten ihre Häuser verlassen, sagte der Bürgermeister am Abend.",
        "東京で大雨が降りました。川があふれました。警察が道路を閉鎖しました。",
        "Ο ποταμός πλημμύρισε την Κυριακή; Η αστυνομία έκλεισε τον δρόμο. Οι κάτοικοι έφυγαν.",
    ]
    rng.shuffle(texts)
    titles = [rng.choice(["Floods in Marlow", "River rises", None, " "]) for _ in texts]
    return texts, titles


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(
    ("length", "algorithm"),
    [
        (Length(ratio=0.45), "default"),
        (Length(sentences=3), "default"),
        (Length(sentences=1), "default"),
        (Length(words=60), "default"),
        (Length(sentences=2), "lead"),
    ],
)
def test_a_batch_gets_each_texts_own_summary(seed: int, length: Length, algorithm: str) -> None:
    texts, titles = _mixed_texts(seed)
    together = summarise_texts(texts, length=length, algorithm=algorithm, titles=titles)
    alone = [
        summarise_text(text, length=length, algorithm=algorithm, title=title)
        for text, title in zip(texts, titles, strict=True)
    ]
    assert together == alone
    assert any(together) and [] in together  # the empty text has an empty summary


def test_a_batch_rejects_an_unknown_algorithm_naming_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="unknown summariser 'bogus'"):
        summarise_texts(["Some text. More text."], algorithm="bogus")


@pytest.mark.parametrize("seed", range(3))
def test_batch_features_are_each_documents_own_bit_for_bit(seed: int) -> None:
    texts, titles = _mixed_texts(seed)
    tokenizer = Tokenizer("en")
    documents = [
        document
        for document in build_documents(texts, [tokenizer] * len(texts), titles)
        if document.sentences
    ]
    english = language_profile("en")
    batch = default.Features.of(documents, english.stem, english.stop_words)
    assert len(batch) == len(documents)
    for index, document in enumerate(documents):
        features, vectors = default.sentence_features(document, english.stem, english.stop_words)
        assert np.array_equal(batch.of_document(index), features)
        theirs = batch.vectors(index)
        for mine, other in (
            (vectors._rows, theirs._rows),
            (vectors._columns, theirs._columns),
            (vectors._weights, theirs._weights),
        ):
            assert np.array_equal(mine, other)
        assert vectors._shape == theirs._shape


def test_batch_terms_are_each_documents_own_numbering() -> None:
    texts, titles = _mixed_texts(7)
    documents = build_documents(texts, [Tokenizer("en")] * len(texts), titles)
    english = language_profile("en")
    title_terms = [{english.stem(w.lower()) for w in d.title_words} for d in documents]
    terms = batch_terms([d.words for d in documents], english.stem, english.stop_words, title_terms)
    sentence_starts = np.cumsum([0, *(len(d.sentences) for d in documents)])
    for index, document in enumerate(documents):
        own = document.content_terms(english.stem, english.stop_words)
        first, end = sentence_starts[index], sentence_starts[index + 1]
        mine = (terms.sentence >= first) & (terms.sentence < end)
        offset = terms.term_starts[index]
        assert np.array_equal(terms.sentence[mine] - first, own.sentence)
        assert np.array_equal(terms.term[mine] - offset, own.term)
        assert terms.term_starts[index + 1] - offset == len(own.vocabulary)
        in_title = terms.in_title[offset : terms.term_starts[index + 1]]
        expected = [t in title_terms[index] for t in own.vocabulary]
        assert in_title.tolist() == expected


def test_screened_documents_keep_every_sentence_as_checked_one_by_one() -> None:
    texts, titles = _mixed_texts(11)
    tokenizer = Tokenizer("en")
    together = build_documents(texts, [tokenizer] * len(texts), titles)
    alone = [build_document(t, tokenizer, title) for t, title in zip(texts, titles, strict=True)]
    assert [d.sentences for d in together] == [d.sentences for d in alone]
    assert [d.paragraphs for d in together] == [d.paragraphs for d in alone]
    # The mix holds documents that lose a near-repeat, which the screen must let through.
    dropped = [
        len(d.sentences) < len(split_sentences(text))
        for d, text in zip(together, texts, strict=True)
    ]
    assert any(dropped)


def test_a_batch_of_spaced_documents_gets_each_ones_own_words() -> None:
    texts, _ = _mixed_texts(5)
    documents = [split_sentences(text) for text in texts if "\x00" not in text]
    documents.append([])  # no sentence at all
    together = Words.of_spaced_many(documents)
    assert len(together) == len(documents)
    for sentences, words in zip(documents, together, strict=True):
        alone = Words.of_spaced(sentences)
        assert words.distinct == alone.distinct
        for mine, theirs in (
            (words.ids, alone.ids),
            (words.lengths, alone.lengths),
            (words.sentence_of, alone.sentence_of),
        ):
            assert np.array_equal(mine, theirs)
    assert Words.of_spaced_many([]) == []
