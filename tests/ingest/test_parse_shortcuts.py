"""parse_feed's shortcuts give exactly what the long way gives.

Each shortcut below skips work that would not change the result: a regex search for
control characters that a C pass over the bytes rules out, html.unescape's per-reference
callback for the references feeds use most, urljoin for a link that is already absolute,
str.isprintable's Unicode lookups on ASCII text, and regex substitutions when a paragraph
has only a few characters outside ASCII. Each is held to its long way on the characters
and shapes of text where they could differ, and all of them together on the benchmark's
feed farm and the real-world feed corpus, article field by article field.
"""

from __future__ import annotations

import csv
import html
import importlib.util
import re
import sys
from collections.abc import Callable, Iterator
from types import ModuleType
from urllib.parse import urljoin

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ingest.clean
import ingest.html
import ingest.identity
import ingest.text
from ingest.clean import _token_classes
from ingest.html import _COMMON_REFERENCES, _unescape
from ingest.identity import resolve_url
from ingest.parse import ParsedFeed, parse_feed
from ingest.text import control_characters, has_control_characters, is_printable
from tests.conftest import SHARED


def _all_characters() -> Iterator[str]:
    return map(chr, range(sys.maxunicode + 1))


# --- the long ways --------------------------------------------------------------------------


def _has_control_characters_by_regex(text: str) -> bool:
    return control_characters().search(text) is not None


def _resolve_url_by_urljoin(url: str | None, base: str | None) -> str | None:
    if not url or not url.strip():
        return None
    url = url.strip()
    if not base:
        return url
    try:
        return urljoin(base, url)
    except ValueError:
        return url


def _token_classes_by_regex(text: str) -> bytes:
    text = re.sub(r"(?![\x00-\x7f])\w", "a", text)
    text = re.sub(r"[^\x00-\x7f]", ".", re.sub(r"(?![\x00-\x7f])\s", " ", text))
    return text.encode("ascii").translate(ingest.clean._ASCII_CLASSES)


# --- control characters ---------------------------------------------------------------------


def test_control_character_test_agrees_with_the_regex_on_every_character() -> None:
    assert [
        ch
        for ch in _all_characters()
        if has_control_characters(ch) != _has_control_characters_by_regex(ch)
    ] == []


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from([*"a \t\n\r\x00\x0b\x0c\x1f\x7f\x80é€\ud800😀"])))
def test_control_character_test_agrees_with_the_regex_on_text(text: str) -> None:
    assert has_control_characters(text) == _has_control_characters_by_regex(text)


# --- printable text -------------------------------------------------------------------------


def test_is_printable_agrees_with_str_isprintable_on_every_character() -> None:
    assert [ch for ch in _all_characters() if is_printable(ch) != ch.isprintable()] == []
    assert [ch for ch in map(chr, range(128)) if is_printable(f"ab{ch}c") != ch.isprintable()] == []


def test_every_character_stripped_is_unprintable() -> None:
    # ingest.text skips the substitution on printable text.
    pattern = control_characters(invisible=True)
    assert [ch for ch in _all_characters() if pattern.match(ch) and ch.isprintable()] == []


# --- character references -------------------------------------------------------------------

_REFERENCE_PIECES = st.sampled_from(
    [
        *(f"&{name};" for name in _COMMON_REFERENCES),
        *_COMMON_REFERENCES,
        "&", ";", "#", "x", "X", "0", "39", "27", "amp", "quot", "&amp", "&quot", "&#39",
        "&eacute;", "&AMP;", "&#0;", "&#x110000;", "&nbsp", "&ampx;", "&#;", "&;",
        " ", "\n", "<", "a", "é",
    ]
)  # fmt: skip


@settings(max_examples=2000, deadline=None)
@given(st.lists(_REFERENCE_PIECES, max_size=12).map("".join))
def test_unescape_reads_references_as_html_unescape_does(text: str) -> None:
    assert _unescape(text) == html.unescape(text)


@pytest.mark.parametrize("name", sorted(_COMMON_REFERENCES))
def test_each_common_reference_is_read_as_html_unescape_reads_it(name: str) -> None:
    for text in (f"&{name};", f"a&{name};b", f"&{name};&{name};", f"&amp;{name};", f"&{name}"):
        assert _unescape(text) == html.unescape(text)


# --- links ----------------------------------------------------------------------------------

_URL_PIECES = st.sampled_from(
    [
        "http", "https", "HTTP", "ftp", "mailto:", "://", ":", "//", "/", "?", "#", ";", "@",
        "host", "a.example", ":8080", "[::1]", "[", "]", "..", ".", "%20", "=", "&", "q", "é",
        " ", "\t", "\n", "\x00",
    ]
)  # fmt: skip
_BASES = [
    None,
    "",
    "http://feeds.example/a/b.xml",
    "https://feeds.example/",
    "ftp://files.example/x",
    "http://[::1",
    "feeds.example/relative",
]


@settings(max_examples=3000, deadline=None)
@given(st.lists(_URL_PIECES, max_size=10).map("".join), st.sampled_from(_BASES))
def test_links_resolve_as_urljoin_resolves_them(url: str, base: str | None) -> None:
    assert resolve_url(url, base) == _resolve_url_by_urljoin(url, base)


@pytest.mark.parametrize(
    "url",
    [
        "http://a.example/b?",
        "http://a.example/b#",
        "http://a.example/b?#",
        "http://a.example/b;p?q",
        "HTTP://a.example/",
        "http://a.example/./b/../c",
        "http://[::1/x",
        "http://[v1.x]/",
        "http://a.example/\tb",
        "https:///path",
        "http://a.example?q#f",
        "http://例え.example/パス?q=値#f",
    ],
)
@pytest.mark.parametrize("base", _BASES)
def test_links_urljoin_would_rewrite_are_resolved_as_before(url: str, base: str | None) -> None:
    assert resolve_url(url, base) == _resolve_url_by_urljoin(url, base)


# --- token classes --------------------------------------------------------------------------

_SCRIPTS = "жизньΣίσυφος漢字한글עבר"


@settings(max_examples=1000, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from([*"ab A1_.,'\"-\t", *"é£’“”—…\xa0\u3000\ud800😀", *_SCRIPTS]),
        max_size=200,
    )
)
def test_token_classes_match_the_regex_substitutions(text: str) -> None:
    assert _token_classes(text) == _token_classes_by_regex(text)


@pytest.mark.parametrize("text", ["£5 “quoted” — it’s " * 3, "Жизнь — это " * 20, "漢字。" * 40])
def test_token_classes_match_on_few_and_many_characters_outside_ascii(text: str) -> None:
    assert _token_classes(text) == _token_classes_by_regex(text)


# --- all together, on real feeds ------------------------------------------------------------

FEEDFARM = SHARED / "tools" / "feedfarm.py"
FARM_DATA = [SHARED / "data" / "summ-dev-bbc.jsonl", SHARED / "data" / "summ-dev-xsum.jsonl"]
CORPUS = SHARED / "data" / "feeds"


def _feedfarm() -> ModuleType:
    spec = importlib.util.spec_from_file_location("feedfarm", FEEDFARM)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _farm_feeds() -> list[tuple[str, bytes, dict[str, str]]]:
    """The benchmark's farm (bench.ingest_bench: 100 feeds of 12 items), built as it
    serves them."""
    if not all(path.exists() for path in (FEEDFARM, *FARM_DATA)):
        pytest.skip(f"{FEEDFARM} or its data is absent: this test reads the shared data")
    data = ",".join(str(path) for path in FARM_DATA)
    bodies, _ = _feedfarm().build(data, 100, 12, ["rss", "atom", "json"], 0.0, 1)
    return [
        (f"http://127.0.0.1:8765/feed/{n}", body, {"content-type": content_type})
        for n, (content_type, body) in enumerate(bodies)
    ]


def _corpus_feeds() -> list[tuple[str, bytes, dict[str, str]]]:
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.exists():
        pytest.skip(f"{manifest} is absent: this test reads the real-world feed corpus")
    with manifest.open(newline="", encoding="utf-8") as rows:
        names = sorted(row["file"] for row in csv.DictReader(rows, delimiter="\t"))
    return [
        (f"https://feeds.example/{name}", (CORPUS / "real" / name).read_bytes(), {})
        for name in names
    ]


def _parse_all(feeds: list[tuple[str, bytes, dict[str, str]]]) -> list[ParsedFeed]:
    return [parse_feed(body, url=url, headers=headers) for url, body, headers in feeds]


@pytest.mark.slow
@pytest.mark.parametrize("feeds", [_farm_feeds, _corpus_feeds], ids=["farm", "corpus"])
def test_feeds_parse_the_same_without_any_shortcut(
    feeds: Callable[[], list[tuple[str, bytes, dict[str, str]]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = feeds()
    fast = _parse_all(chosen)

    monkeypatch.setattr(ingest.text, "has_control_characters", _has_control_characters_by_regex)
    for module in (ingest.text, ingest.clean):
        monkeypatch.setattr(module, "is_printable", str.isprintable)
    monkeypatch.setattr(ingest.html, "_unescape", html.unescape)
    monkeypatch.setattr(ingest.identity, "_PLAIN_ABSOLUTE_URL", re.compile("(?!)"))
    monkeypatch.setattr(ingest.clean, "_token_classes", _token_classes_by_regex)
    slow = _parse_all(chosen)

    assert sum(len(feed.entries) for feed in fast) > 1000
    for (url, _, _), fast_feed, slow_feed in zip(chosen, fast, slow, strict=True):
        assert fast_feed == slow_feed, url
