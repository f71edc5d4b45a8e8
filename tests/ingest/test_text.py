"""ingest.text: one definition of the characters stripped, whichever stage strips them."""

from __future__ import annotations

import sys

from digest.display import plain
from ingest.clean import clean_paragraphs, clean_title
from ingest.html import html_to_paragraphs
from ingest.records import Article
from ingest.text import collapse_whitespace, control_characters, strip_control_characters

C0_BUT_TAB_NEWLINE_CR = {chr(c) for c in range(0x20)} - {"\t", "\n", "\r"}
INVISIBLE = (
    {chr(c) for c in range(0x80, 0xA0)}  # C1 controls
    | {chr(c) for c in range(0xD800, 0xE000)}  # lone surrogates
    | {"\u200b", "\u2060", "\ufeff", "\ufffe", "\uffff"}
)


def _matched(*, in_markup: bool = False, invisible: bool = False) -> set[str]:
    pattern = control_characters(in_markup=in_markup, invisible=invisible)
    return {chr(c) for c in range(sys.maxunicode + 1) if pattern.match(chr(c))}


def test_the_sets_are_the_documented_ones() -> None:
    assert _matched() == C0_BUT_TAB_NEWLINE_CR | {"\x7f"}
    assert _matched(in_markup=True) == C0_BUT_TAB_NEWLINE_CR - {"\x0c"} | {"\x7f"}
    assert _matched(invisible=True) == C0_BUT_TAB_NEWLINE_CR | {"\x7f"} | INVISIBLE


def test_strip_keeps_tab_newline_and_carriage_return() -> None:
    assert strip_control_characters("a\x00\tb\nc\rd\x7f\x0c") == "a\tb\nc\rd"
    assert strip_control_characters("a\x00b\x0cc", in_markup=True) == "ab\x0cc"
    assert strip_control_characters("a\u200bb\x85c\ufffe", invisible=True) == "abc"
    assert strip_control_characters("plain text") == "plain text"


def test_form_feed_in_markup_separates_words() -> None:
    # HTML counts form feed as whitespace: stripping it before parsing would join words.
    assert html_to_paragraphs("<p>harbour\x0ctram\x00line</p>") == ["harbour tramline"]


def test_articles_strip_controls_but_keep_identities_as_written() -> None:
    article = Article(guid="id\x00\u200b7", title="T\x07", text="x", url="https://a.example/\x1b")
    assert (article.guid, article.title, article.url) == ("id\u200b7", "T", "https://a.example/")


def test_cleaned_text_loses_noncharacters_as_the_rendered_digest_does() -> None:
    # U+FFFE and U+FFFF are invalid in XML: the renderers always dropped them, and now the
    # cleaner does too, so they are neither stored, fingerprinted nor summarised.
    assert clean_paragraphs(["Harbour\ufffe tram \uffffline"]) == ["Harbour tram line"]
    assert clean_title("Tram\ufffe line") == "Tram line"


def test_rendered_text_loses_zero_width_characters_as_cleaned_text_does() -> None:
    # A byte-order mark in the middle of a feed's name (two files concatenated) used to
    # reach the page; the cleaner always dropped it from titles and text.
    assert plain("Harbour\ufeff News\u200b") == "Harbour News"
    assert plain(" two\n lines ") == "two lines"


def test_collapse_whitespace_makes_one_line() -> None:
    assert collapse_whitespace(" a \u00a0\n b\u2029c ") == "a b c"
    assert collapse_whitespace("one line") == "one line"
