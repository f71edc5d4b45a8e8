from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from url_normalize import url_normalize

from dedup import canonical
from dedup.canonical import _is_already_normal, canonical_url
from tests.conftest import SHARED

REAL_FEEDS = SHARED / "data" / "feeds" / "real"

SAME_PAGE = [
    # tracking parameters go, whatever their case
    ("https://news.example/a/b?utm_source=rss&utm_medium=feed", "https://news.example/a/b"),
    ("https://news.example/a?UTM_Campaign=x&id=7", "https://news.example/a?id=7"),
    ("https://news.example/a?fbclid=IwAR0x&gclid=Cj0K", "https://news.example/a"),
    ("https://news.example/a?mc_cid=1a2b&mc_eid=3c4d", "https://news.example/a"),
    ("https://news.example/a?igshid=MzRl&ref=twitter", "https://news.example/a"),
    (
        "https://www.bbc.co.uk/news/x?at_medium=RSS&at_campaign=KARANGA",
        "https://www.bbc.co.uk/news/x",
    ),
    (
        "http://syndicated.news3.example/3/4/bbc-tech-001?utm_source=farm&utm_medium=rss",
        "http://syndicated.news3.example/3/4/bbc-tech-001",
    ),
    # the remaining parameters are kept, sorted by name; repeated names keep their order
    ("https://news.example/search?q=rates&page=2", "https://news.example/search?page=2&q=rates"),
    ("https://news.example/a?tag=b&tag=a&utm_source=x", "https://news.example/a?tag=b&tag=a"),
    # names are matched whole, not by prefix
    ("https://news.example/a?reference=42", "https://news.example/a?reference=42"),
    # scheme and host case, default ports, fragment, trailing slash, dot segments
    ("HTTPS://News.Example:443/World/Story/#comments", "https://news.example/World/Story"),
    ("http://news.example:80/a/./b/../c", "http://news.example/a/c"),
    ("http://news.example:8080/a/", "http://news.example:8080/a"),
    ("https://news.example", "https://news.example/"),
    ("https://news.example/?utm_source=x", "https://news.example/"),
    # percent-encoding and international hosts
    ("https://news.example/%7Euser/caf%c3%a9", "https://news.example/~user/caf%C3%A9"),
    ("https://news.example/café", "https://news.example/caf%C3%A9"),
    ("https://bücher.example/a", "https://xn--bcher-kva.example/a"),
    # surrounding whitespace from feeds, scheme-relative links
    ("  https://news.example/a\n", "https://news.example/a"),
    ("//news.example/a", "https://news.example/a"),
]

DIFFERENT_PAGES = [
    # sites serve different pages under these, so they stay apart
    ("http://news.example/a", "https://news.example/a"),
    ("https://www.news.example/a", "https://news.example/a"),
    ("https://news.example/A", "https://news.example/a"),
    ("https://news.example/a?id=1", "https://news.example/a?id=2"),
]


@pytest.mark.parametrize(("url", "expected"), SAME_PAGE)
def test_canonical_url_strips_tracking_and_normalises(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(("url", "expected"), SAME_PAGE)
def test_canonical_url_is_idempotent(url: str, expected: str) -> None:
    assert canonical_url(expected) == expected


@pytest.mark.parametrize(("a", "b"), DIFFERENT_PAGES)
def test_canonical_url_keeps_distinct_pages_apart(a: str, b: str) -> None:
    assert canonical_url(a) != canonical_url(b)


def test_non_web_urls_are_only_normalised() -> None:
    assert canonical_url("urn:farm:copy:1f2e?ref=x") == "urn:farm:copy:1f2e?ref=x"


@pytest.mark.parametrize("url", ["", "   "])
def test_blank_url_is_rejected(url: str) -> None:
    with pytest.raises(ValueError, match="blank"):
        canonical_url(url)


@pytest.mark.parametrize("url", ["http://[::1/x", f"http://{'a' * 70}.example/x"])
def test_malformed_url_is_rejected(url: str) -> None:
    with pytest.raises(ValueError):
        canonical_url(url)


# --- the shortcut for links url-normalize would give back unchanged -----------------------

PLAIN = {"host": "abz09", "path": "aZ09._~-!$&'()*+,;=:@", "query": "aZ09._~-"}
ODD = {"host": "az09-AZ_.ü", "path": "aZ09.-%/ ?#[]é", "query": "aZ09=&+%/ é"}


@st.composite
def urls(draw: st.DrawFn) -> str:
    """Links inside the shortcut's pattern, and many just outside it."""
    chars = draw(st.sampled_from([PLAIN, PLAIN, ODD]))
    word = st.text(chars["host"], min_size=1, max_size=5)
    label = st.one_of(word, st.tuples(word, word).map("-".join), st.just("xn--a"))
    segment = st.one_of(st.text(chars["path"], min_size=1, max_size=6), st.sampled_from(["", "."]))
    param = st.one_of(
        st.text(chars["query"], min_size=1, max_size=5),
        st.tuples(st.text(chars["query"], min_size=1), st.text(chars["query"])).map("=".join),
    )
    url = draw(st.sampled_from(["http://", "https://", "HTTP://"]))
    url += ".".join(draw(st.lists(label, min_size=1, max_size=3)))
    url += draw(st.sampled_from(["", "", "", ":80", ":8080"]))
    url += "".join(f"/{part}" for part in draw(st.lists(segment, max_size=4)))
    if draw(st.booleans()):
        url += "?" + "&".join(draw(st.lists(param, max_size=3)))
    return url


@given(urls())
@settings(max_examples=3000, deadline=None)
def test_links_taken_as_already_normal_are_unchanged_by_url_normalize(url: str) -> None:
    if _is_already_normal(url):
        assert url_normalize(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://news3.example/3/5/abc123",
        "https://www.bbc.co.uk/news/world-europe-123?at_medium=RSS&at_campaign=KARANGA",
        "https://news.example/",
        "https://news.example/a/b/",
        "https://127.0.0.1/feed.xml",
    ],
)
def test_plain_feed_links_take_the_shortcut(url: str) -> None:
    assert _is_already_normal(url) and url_normalize(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "https://news.example",  # no path: url-normalize adds "/"
        "https://news.example/a//b",  # an empty segment is dropped
        "https://news.example/a/../b",
        "https://News.example/a",
        "https://news.example:443/a",
        "https://xn--bcher-kva.example/a",
        f"https://{'a' * 64}.example/a",
        "https://news.example/a?x=1&&y=2",
        "https://news.example/a#top",
    ],
)
def test_links_url_normalize_would_change_take_the_long_way(url: str) -> None:
    assert not _is_already_normal(url)


def test_real_feed_links_canonicalise_as_without_the_shortcut(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not REAL_FEEDS.is_dir():
        pytest.skip(f"{REAL_FEEDS} is absent: the real-world feed corpus")
    links = [
        link
        for path in sorted(REAL_FEEDS.iterdir())
        for link in re.findall(r"https?://[^\s\"'<>\]]+", path.read_text("utf-8", "replace"))
    ]
    fast = [_canonical_or_error(link) for link in links]
    monkeypatch.setattr(canonical, "_is_already_normal", lambda _url: False)
    assert [_canonical_or_error(link) for link in links] == fast
    assert len(links) > 5000


def _canonical_or_error(url: str) -> str:
    try:
        return canonical.canonical_url(url)
    except ValueError as exc:
        return f"ValueError: {exc}"
