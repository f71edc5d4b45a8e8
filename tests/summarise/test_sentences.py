"""Sentence splitting: the ambiguities of news prose, other scripts, and real articles."""

from __future__ import annotations

import json

import pytest

from summarise.sentences import split_paragraphs, split_sentences
from tests.conftest import shared_path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # titles never end a sentence
        (
            "Mr. Smith met Mrs. Jones and Dr. Brown. They talked.",
            ["Mr. Smith met Mrs. Jones and Dr. Brown.", "They talked."],
        ),
        (
            "Gov. Reed, Sen. Ames, Rep. Cole and Prof. Hart met Gen. Lee at St. Paul's. It rained.",
            [
                "Gov. Reed, Sen. Ames, Rep. Cole and Prof. Hart met Gen. Lee at St. Paul's.",
                "It rained.",
            ],
        ),
        # dotted acronyms: inside a sentence, and at its end before a typical opener
        (
            "The U.S. Senate and the U.N. Security Council met in the U.K. capital.",
            ["The U.S. Senate and the U.N. Security Council met in the U.K. capital."],
        ),
        (
            "Prices rose in the U.S. The dollar fell.",
            ["Prices rose in the U.S.", "The dollar fell."],
        ),
        # reference numbers
        (
            "He lives at No. 10 Downing Street. No. He does not.",
            ["He lives at No. 10 Downing Street.", "No.", "He does not."],
        ),
        # times
        (
            "The train left at 9 a.m. on Monday and at 5 p.m. The next day it was late.",
            ["The train left at 9 a.m. on Monday and at 5 p.m.", "The next day it was late."],
        ),
        # months and company suffixes: before a number, or ending the sentence
        (
            "It opened on Jan. 5 and closed in Feb. The shares of Acme Inc. rose.",
            ["It opened on Jan. 5 and closed in Feb.", "The shares of Acme Inc. rose."],
        ),
        (
            "He works for Acme Ltd. It is a small firm. They sell tea, coffee, etc. and cakes.",
            [
                "He works for Acme Ltd.",
                "It is a small firm.",
                "They sell tea, coffee, etc. and cakes.",
            ],
        ),
        ("It was Spurs vs. Arsenal. Spurs won.", ["It was Spurs vs. Arsenal.", "Spurs won."]),
        # initials
        (
            "J. R. R. Tolkien wrote it. George W. Bush read it.",
            ["J. R. R. Tolkien wrote it.", "George W. Bush read it."],
        ),
        # decimals and money
        (
            "Profits rose 2.5% to $1.5bn. Shares cost £3.20 each.",
            ["Profits rose 2.5% to $1.5bn.", "Shares cost £3.20 each."],
        ),
        # quotes closing after the full stop, and quoted questions mid-sentence
        (
            'He said: "Go." Then he left.',
            ['He said: "Go."', "Then he left."],
        ),
        (
            "“We won’t stop.” The minister left. 'Why?' she asked.",
            ["“We won’t stop.”", "The minister left.", "'Why?' she asked."],
        ),
        # a quoted question or exclamation followed by its speaker does not end
        (
            '"Why?" Smith asked. "Now!" The crowd went quiet.',
            ['"Why?" Smith asked.', '"Now!"', "The crowd went quiet."],
        ),
        # ellipses end a sentence only before a capital
        (
            "He paused... Then he spoke. It was… fine.",
            ["He paused...", "Then he spoke.", "It was… fine."],
        ),
        # exclamation and question marks
        ("Stop! Who goes there? Nobody.", ["Stop!", "Who goes there?", "Nobody."]),
    ],
)
def test_splits_english_news_prose(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我们走吧。他说：“好！”你呢？", ["我们走吧。", "他说：“好！”", "你呢？"]),
        ("「行こう。」彼は言った。", ["「行こう。」", "彼は言った。"]),
        ("यह पहला वाक्य है। यह दूसरा है।", ["यह पहला वाक्य है।", "यह दूसरा है।"]),
        ("هل أنت بخير؟ نعم، شكرا.", ["هل أنت بخير؟", "نعم، شكرا."]),
        ("یہ پہلا جملہ ہے۔ یہ دوسرا ہے۔", ["یہ پہلا جملہ ہے۔", "یہ دوسرا ہے۔"]),
        ("Это первое предложение. Это второе!", ["Это первое предложение.", "Это второе!"]),
        ("זה משפט ראשון. זה משפט שני.", ["זה משפט ראשון.", "זה משפט שני."]),
    ],
)
def test_splits_other_scripts(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_greek_question_mark_ends_a_sentence_only_in_greek() -> None:
    text = "Τι κάνεις; Καλά."
    assert split_sentences(text, "el") == ["Τι κάνεις;", "Καλά."]
    assert split_sentences(text) == [text]


def test_paragraph_breaks_always_end_a_sentence() -> None:
    text = "First paragraph has no full stop\n\nSecond one.  It   has two.\n \n\nThird"
    assert split_paragraphs(text) == [
        "First paragraph has no full stop",
        "Second one. It has two.",
        "Third",
    ]
    assert split_sentences(text) == [
        "First paragraph has no full stop",
        "Second one.",
        "It has two.",
        "Third",
    ]


def test_stray_punctuation_joins_the_sentence_before() -> None:
    text = "He bought a jet. . Scroll down for video . His cars are fast."
    assert split_sentences(text) == [
        "He bought a jet. .",
        "Scroll down for video .",
        "His cars are fast.",
    ]


def test_empty_and_blank_text_has_no_sentences() -> None:
    assert split_sentences("") == []
    assert split_sentences(" \n\n \t ") == []


def test_bbc_reference_sentences_are_found_whole() -> None:
    """The BBC references are article sentences: the splitter should produce each one.

    Quotes are ignored at the ends: the dataset's references lost or moved some of them.
    """
    path = shared_path("data", "summ-dev-bbc.jsonl")
    with path.open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line, _ in zip(lines, range(200), strict=False)]
    found = total = 0
    for row in rows:
        sentences = {s.strip(_QUOTES) for s in split_sentences(row["text"])}
        for line in row["summary"].splitlines():
            total += 1
            found += line.strip(_QUOTES) in sentences
    assert found / total > 0.97


_QUOTES = "\"'“”‘’ "
