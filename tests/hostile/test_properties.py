"""Properties of the stages a stranger's bytes reach first: HTML to paragraphs, the
sentence splitter, the JSON Feed parser and the seed loader.

Each never crashes (it returns, or raises its own documented error), keeps every
ordinary paragraph, and is idempotent where its output can be its input again. The
cleaner's own properties live in tests/ingest/test_clean_properties.py; these cover the
stages around it. Known crashes found by these properties are pinned as examples in
their own tests at the end, so a property stays a guard while its bug is open.
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ingest.clean import clean_paragraphs, html_to_paragraphs
from ingest.jsonfeed import JsonFeed, JsonFeedError, parse_json_feed
from ingest.seeds import SeedDocument, SeedError, load_seed
from summarise.sentences import split_sentences
from tests.hostile.conftest import HUGE_NUMBER, article_paragraphs

PROPERTIES = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- HTML trees to paragraphs ---------------------------------------------------------------

# Words with characters that need escaping, accents and scripts, but no whitespace and
# nothing invisible: what comes out must be exactly the words that went in.
WORDS = st.text(
    alphabet=st.characters(
        blacklist_categories=("Z", "C"), blacklist_characters="\u200b\u2060\ufeff"
    ),
    min_size=1,
    max_size=8,
)
INLINE = ["b", "i", "em", "strong", "span", "a", "code", "small", "abbr"]
BLOCK = ["p", "li", "blockquote", "h2", "dd", "pre"]
CONTAINERS = ["div", "section", "article", "ul", "ol", "main", "aside", "header", "dl"]


@st.composite
def inline_runs(draw: st.DrawFn, words: list[str]) -> str:
    """The words, escaped, some of them wrapped in inline elements (nested or not)."""
    out = []
    for word in words:
        text = html.escape(word)
        for tag in draw(st.lists(st.sampled_from(INLINE), max_size=2)):
            attrs = ' href="/x?a=1&amp;b=2"' if tag == "a" else ""
            text = f"<{tag}{attrs}>{text}</{tag}>"
        out.append(text)
    return " ".join(out)


@st.composite
def html_trees(draw: st.DrawFn, paragraphs: list[str]) -> str:
    """*paragraphs* in document order, each in a block element, the blocks grouped into
    randomly nested containers."""
    blocks = [
        f"<{tag}>{draw(inline_runs(paragraph.split()))}</{tag}>"
        for paragraph in paragraphs
        for tag in [draw(st.sampled_from(BLOCK))]
    ]
    while len(blocks) > 1 and draw(st.booleans()):
        start = draw(st.integers(0, len(blocks) - 1))
        end = draw(st.integers(start + 1, len(blocks)))
        tag = draw(st.sampled_from(CONTAINERS))
        blocks[start:end] = [f"<{tag}>{''.join(blocks[start:end])}</{tag}>"]
    depth = draw(st.integers(0, 30))
    return "<div>" * depth + "\n".join(blocks) + "</div>" * depth


# Ordinary article paragraphs, no two alike: nothing in them is noise to the cleaner.
bodies = st.lists(st.integers(0, 10**6), min_size=1, max_size=8, unique=True).map(
    lambda keys: [article_paragraphs(f"body-{key}", 1)[0] for key in keys]
)
word_paragraphs = st.lists(st.lists(WORDS, min_size=1, max_size=12).map(" ".join), max_size=8)


@PROPERTIES
@given(st.data(), word_paragraphs)
def test_html_tree_yields_its_paragraphs_in_order(
    data: st.DataObject, paragraphs: list[str]
) -> None:
    markup = data.draw(html_trees(paragraphs))
    assert html_to_paragraphs(markup) == paragraphs


@settings(PROPERTIES, max_examples=40)
@given(st.data(), bodies)
def test_cleaned_html_tree_keeps_every_ordinary_paragraph(
    data: st.DataObject, body: list[str]
) -> None:
    markup = data.draw(html_trees(body))
    assert clean_paragraphs(html_to_paragraphs(markup)) == body


@PROPERTIES
@given(st.data(), word_paragraphs)
def test_paragraphs_written_back_as_html_read_the_same(
    data: st.DataObject, paragraphs: list[str]
) -> None:
    once = html_to_paragraphs(data.draw(html_trees(paragraphs)))
    again = html_to_paragraphs("".join(f"<p>{html.escape(p)}</p>" for p in once))
    assert again == once
    assert clean_paragraphs(clean_paragraphs(once)) == clean_paragraphs(once)


# --- sentences --------------------------------------------------------------------------------

# The ambiguities the splitter's rules are about, so generated text exercises them.
SENTENCE_TOKENS = st.sampled_from(
    [
        "Mr.", "Dr.", "U.S.", "e.g.", "Inc.", "No.", "Jan.", "J.", "a.m.", "etc.", "vs.",
        "The", "He", "said", "it", "rose", "10", "1.5", "...", "…", ".", "!", "?", "?!",
        "\"", "”", "“", "'", "(", ")", "«", "»", ";", ";", ",", "。", "！", "？", "।", "؟",
        "東京", "Ὁ", "В", "\n", "\n\n", " ", "  ", "\t", "\u00a0",
    ]
)  # fmt: skip
sentence_texts = st.one_of(
    st.lists(SENTENCE_TOKENS, max_size=40).map(" ".join),
    st.lists(SENTENCE_TOKENS, max_size=40).map("".join),
    st.text(max_size=200),
)
languages = st.sampled_from([None, "en", "el", "ja", "hi"])


def without_whitespace(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace())


@PROPERTIES
@given(sentence_texts, languages)
def test_sentences_lose_nothing_but_whitespace(text: str, language: str | None) -> None:
    sentences = split_sentences(text, language)
    assert without_whitespace("".join(sentences)) == without_whitespace(text)
    assert all(s and s == s.strip() for s in sentences)


@PROPERTIES
@given(sentence_texts, languages)
def test_a_sentence_split_again_is_itself(text: str, language: str | None) -> None:
    for sentence in split_sentences(text, language):
        assert split_sentences(sentence, language) == [sentence]


# --- JSON Feed --------------------------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
ITEM_KEYS = [
    "id", "url", "external_url", "title", "content_html", "content_text", "summary",
    "date_published", "date_modified", "author", "authors", "language",
]  # fmt: skip
dates = st.one_of(
    st.datetimes().map(datetime.isoformat),
    st.text(alphabet="0123456789-:+TZ .,MonJaGMT", max_size=32),
    json_values,
)
json_items = st.fixed_dictionaries(
    {},
    optional={
        **{key: json_values for key in ITEM_KEYS},
        "date_published": dates,
        "date_modified": dates,
        "authors": st.lists(st.fixed_dictionaries({}, optional={"name": json_values})),
    },
)
json_feeds = st.fixed_dictionaries(
    {},
    optional={
        "version": st.sampled_from(
            ["https://jsonfeed.org/version/1.1", "https://jsonfeed.org/version/1", "2"]
        )
        | json_values,
        "title": json_values,
        "home_page_url": json_values,
        "language": json_values,
        "author": json_values,
        "items": st.lists(json_items | json_values, max_size=5) | json_values,
    },
)
json_feed_bodies = st.one_of(
    json_feeds.map(lambda feed: json.dumps(feed).encode()),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=200),
)


def assert_well_typed(feed: JsonFeed) -> None:
    for item in feed.items:
        for text in (item.id, item.url, item.title, item.content_html, item.content_text):
            assert text is None or isinstance(text, str)
        for moment in (item.published, item.modified):
            assert moment is None or (isinstance(moment, datetime) and moment.tzinfo)


@PROPERTIES
@given(json_feed_bodies)
@example(b"[" * 100_000)
@example(b'{"items": "not a list"}')
def test_json_feed_parser_returns_a_feed_or_a_json_feed_error(body: bytes) -> None:
    try:
        feed = parse_json_feed(body)
    except JsonFeedError:
        return
    assert_well_typed(feed)


# --- seeds ------------------------------------------------------------------------------------

SEED_SUFFIXES = [".txt", ".md", ".json", ".jsonl", ".html"]
seed_objects = st.fixed_dictionaries(
    {},
    optional={
        key: json_values | st.text(max_size=80)
        for key in ("id", "url", "title", "text", "html", "published", "language")
    },
)
seed_bytes = st.one_of(
    st.binary(max_size=400),
    st.text(max_size=400).map(str.encode),
    seed_objects.map(lambda obj: json.dumps(obj).encode()),
    st.lists(seed_objects, max_size=4).map(lambda objs: json.dumps(objs).encode()),
    st.lists(seed_objects, max_size=4).map(
        lambda objs: "\n".join(json.dumps(obj) for obj in objs).encode()
    ),
    st.lists(
        st.sampled_from(["<p>", "</p>", "<html>", "<title>T</title>", "<body>", "text ", "&amp;"]),
        max_size=40,
    ).map(lambda parts: "".join(parts).encode()),
)


@pytest.fixture(scope="module")
def seeds_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("seeds")


@PROPERTIES
@given(seed_bytes, st.sampled_from(SEED_SUFFIXES))
def test_seed_loader_returns_a_document_or_a_seed_error(
    seeds_dir: Path, data: bytes, suffix: str
) -> None:
    path = seeds_dir / f"seed{suffix}"
    path.write_bytes(data)
    try:
        document = load_seed(path, seeds_dir)
    except SeedError:
        return
    assert isinstance(document, SeedDocument)
    assert document.articles and all(article.text for article in document.articles)


@PROPERTIES
@given(st.text(alphabet="abcdefgh XYZ", min_size=1, max_size=40).filter(str.strip), bodies)
def test_text_seed_keeps_every_ordinary_paragraph(
    seeds_dir: Path, title: str, body: list[str]
) -> None:
    path = seeds_dir / "article.txt"
    path.write_text(title + "\n\n" + "\n\n".join(body) + "\n", encoding="utf-8")
    [article] = load_seed(path, seeds_dir).articles
    assert article.title == re.sub(r"\s+", " ", title).strip()
    assert article.paragraphs == body


# --- crashes these properties found ------------------------------------------------------------


def test_json_feed_with_a_huge_number_is_a_json_feed_error() -> None:
    with pytest.raises(JsonFeedError):
        parse_json_feed(f'{{"items": [], "n": {HUGE_NUMBER}}}'.encode())


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("deep.json", "[" * 100_000),
        ("deep.jsonl", "[" * 100_000),
        ("number.json", f'{{"text": "Hello there.", "n": {HUGE_NUMBER}}}'),
    ],
)
def test_hostile_json_seed_is_a_seed_error(seeds_dir: Path, name: str, content: str) -> None:
    path = seeds_dir / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SeedError):
        load_seed(path, seeds_dir)


@pytest.mark.parametrize(
    "published", ["9999-12-31T23:59:59-23:59", "9999-12-31T23:59:59Z", "1066-10-14T09:00:00Z"]
)
def test_seed_date_past_the_representable_range_is_dropped(seeds_dir: Path, published: str) -> None:
    """Outside 1970-2200 (or datetime's range): the article is kept, undated (issue 16)."""
    path = seeds_dir / "late.json"
    path.write_text(f'{{"text": "Hello there.", "published": "{published}"}}')
    [article] = load_seed(path, seeds_dir).articles
    assert article.published is None
