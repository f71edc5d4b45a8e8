"""The renderers' shortcuts give what their plain definitions give.

``plain`` returns text that is already one printable, single-spaced line as it is;
``linkable_url`` accepts an ordinary http(s) URL without ``urlsplit``; Markdown escaping
backslashes active characters with a function instead of a template. Each test checks
a shortcut against the definition it stands in for (the code the renderers ran before),
on real articles and on text chosen to hit the edge cases: every code point, whitespace
of every kind, and URLs that only look ordinary.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import sys
from urllib.parse import urlsplit

from digest.display import LINKABLE_SCHEMES, linkable_url, plain
from digest.render_markdown import escape_inline
from ingest.text import control_characters
from tests.conftest import shared_path

_INVISIBLE = control_characters(invisible=True)
_INLINE_ACTIVE = re.compile(r"([\\`*_\[\]<>&#|~])")


def plain_by_definition(text: str) -> str:
    return " ".join(_INVISIBLE.sub("", text).split())


def linkable_url_by_definition(url: str | None) -> str | None:
    if url is None:
        return None
    candidate = url.strip()
    if not candidate.isprintable() or " " in candidate:
        return None
    try:
        parts = urlsplit(candidate)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in LINKABLE_SCHEMES or not host:
        return None
    return candidate


def escape_inline_by_definition(text: str) -> str:
    return _INLINE_ACTIVE.sub(r"\\\1", plain_by_definition(text))


def shared_texts() -> list[str]:
    """Titles, paragraphs and lines of the real articles, as feeds would carry them."""
    texts: list[str] = []
    for name in ("summ-dev-bbc.jsonl", "summ-dev-xsum.jsonl", "summ-dev-cnndm.jsonl"):
        with shared_path("data", name).open(encoding="utf-8") as lines:
            for line in lines:
                article = json.loads(line)
                texts.append(article.get("title") or "")
                texts.append(article["text"])
                texts.extend(article["text"].split("\n"))
                texts.extend(article["text"].split(". "))
    return texts


# plain


def test_every_character_the_slow_path_acts_on_fails_isprintable_but_the_space() -> None:
    """What the shortcut rests on: printable text has nothing to drop and no whitespace
    for ``str.split`` other than the space itself."""
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if char.isprintable() and char != " ":
            assert not _INVISIBLE.match(char), hex(code)
            assert len(f"a{char}a".split()) == 1, hex(code)


def test_plain_agrees_with_its_definition_around_each_character() -> None:
    """Every character up to CJK (all of Unicode's whitespace is among them), the
    surrogates, the noncharacters at the end of the BMP, and two astral ones."""
    codes = itertools.chain(
        range(0x3100), range(0xD7F0, 0xE010), range(0xFEF0, 0x10000), (0x1F600, 0x10FFFF)
    )
    for char in map(chr, codes):
        for text in (char, f"a{char}b", f" {char}", f"{char} ", f"a {char} b", f"a{char}{char}"):
            assert plain(text) == plain_by_definition(text), hex(ord(char))


def test_plain_agrees_with_its_definition_on_random_text() -> None:
    rng = random.Random(7)
    pieces = ["word", " ", "  ", "\t", "\n", "\r\n", "\x00", "\x1f", "\x85", "\xa0", "\u2028",
              "\u3000", "\ud800", "\uffff", "\u200b", "\x7f", "é", "·", ""]  # fmt: skip
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
        assert plain(text) == plain_by_definition(text), repr(text)


def test_plain_agrees_with_its_definition_on_real_articles() -> None:
    for text in shared_texts():
        assert plain(text) == plain_by_definition(text)


# linkable_url

_SCHEMES = ("http", "https", "HTTP", "hTtPs", "ftp", "javascript", "httpx", "")
_SEPARATORS = ("://", ":/", ":", "//", ":///")
_HOSTS = ("example.org", "NEWS7.Example", "news1.example", "127.0.0.1", "a-b.c", ".", "-",
          "", "[::1]", "[::1", "::1]", "[v1.x]", "user@host", "u:p@host", "@", "host:80",
          "host:", "host:x", "host:99999", "ſ.example", "\u212a.example", "bücher.example",
          "xn--bcher-kva.example", "%41.example", "ho st", "host\\", "a\u2100b")  # fmt: skip
_RESTS = ("", "/", "/1/0/bbc-business-402", "?utm_source=farm&utm_medium=rss", "#top",
          "/a?b#c", "/a b", "/\t", "/ä", "/(x)", "/@x", "/[x]", "/%20", "\\x", ":80/x",
          "/\x00", "?#", "/\u2028")  # fmt: skip
_EDGES = ("", " ", "\t", "\n", "\x00", "\x0c")


def test_linkable_url_agrees_with_its_definition() -> None:
    for scheme, separator, host, rest in itertools.product(_SCHEMES, _SEPARATORS, _HOSTS, _RESTS):
        url = f"{scheme}{separator}{host}{rest}"
        for candidate in itertools.chain(
            (url,), (edge + url for edge in _EDGES), (url + edge for edge in _EDGES)
        ):
            assert linkable_url(candidate) == linkable_url_by_definition(candidate), candidate


def test_linkable_url_agrees_with_its_definition_on_farm_links() -> None:
    """The links the feed farm serves (see shared/tools/feedfarm.py), direct and
    syndicated, for every article of the shared data."""
    ids = []
    for name in ("summ-dev-bbc.jsonl", "summ-dev-xsum.jsonl"):
        with shared_path("data", name).open(encoding="utf-8") as lines:
            ids.extend(json.loads(line)["id"] for line in lines)
    for n, article_id in enumerate(ids):
        feed, item = divmod(n, 12)
        link = f"http://news{feed % 17}.example/{feed}/{item}/{article_id}"
        syndicated = link.replace("http://", "http://syndicated.") + "?utm_source=farm"
        for url in (link, syndicated, None):
            assert linkable_url(url) == linkable_url_by_definition(url)
        assert linkable_url(link) == link


# Markdown escaping


def test_markdown_escaping_agrees_with_its_definition() -> None:
    rng = random.Random(11)
    pieces = [*"\\`*_[]<>&#|~()!-+.1 \n\t", "word", "é", "\x00", "\\\\", "&amp;"]
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 10)))
        assert escape_inline(text) == escape_inline_by_definition(text), repr(text)
    for text in shared_texts():
        assert escape_inline(text) == escape_inline_by_definition(text)
