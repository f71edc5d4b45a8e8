"""Feed autodiscovery from <link rel="alternate"> in HTML pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.discover import discover_feeds

FEEDS = Path(__file__).resolve().parents[1] / "data" / "feeds"


def test_advertised_feeds_in_order_resolved_against_base_href() -> None:
    page = (FEEDS / "page-with-feeds.html").read_bytes()

    found = discover_feeds(page, "https://gazette.example/")

    # <base href> wins over the page URL; the repeated RSS link appears once; the HTML
    # alternate, the alternate stylesheet, the link without href and the <a> are ignored.
    assert found == [
        "https://gazette.example/feed.rss",
        "https://gazette.example/section/comments.atom",
        "https://gazette.example/feed.json",
        "https://gazette.example/wp-json/",
    ]


def test_relative_hrefs_resolve_against_the_page_url_without_base() -> None:
    page = b'<head><link rel="alternate" type="application/atom+xml" href="feed/atom"></head>'

    assert discover_feeds(page, "https://blog.example/2026/") == [
        "https://blog.example/2026/feed/atom"
    ]


@pytest.mark.parametrize(
    "link",
    [
        '<link rel="ALTERNATE" type="Application/RSS+XML" href="/f">',
        "<link rel=alternate type=application/rss+xml href=/f>",
        '<LINK REL="alternate" TYPE="application/rss+xml" HREF="/f"/>',
        '<link rel="home alternate" type="application/rss+xml" href="/f">',
        '<link type="application/rss+xml" href="/f" rel="alternate">',
        '<link rel="alternate" type="application/rss+xml" href="&#x2F;f">',
    ],
)
def test_markup_variations_are_understood(link: str) -> None:
    page = f"<!doctype html><html><head>{link}</head><body></body></html>".encode()

    assert discover_feeds(page, "https://x.example/") == ["https://x.example/f"]


@pytest.mark.parametrize(
    "page",
    [
        b"",
        b"<html><head><title>No feeds here</title></head></html>",
        b'<link rel="alternate" type="text/html" href="/fr/">',
        b'<link rel="alternate" type="application/rss+xml" href="  ">',
        b"\xff\xfe<<<not html at all",
    ],
)
def test_pages_without_feed_links(page: bytes) -> None:
    assert discover_feeds(page, "https://x.example/") == []
