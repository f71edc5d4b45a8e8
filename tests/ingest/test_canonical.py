from __future__ import annotations

import pytest

from ingest.canonical import canonical_url

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
