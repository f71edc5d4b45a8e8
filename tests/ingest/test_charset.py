"""Feeds labelled Latin-1 whose bytes are Cyrillic (or another single-byte script)."""

from __future__ import annotations

import io

import feedparser
import pytest

from ingest.charset import actual_charset
from ingest.parse import parse_feed
from tests.conftest import SHARED

TITLE = "Совет одобрил бюджет"
BODY = (
    "Городской совет в понедельник одобрил новый бюджет на следующий год. "
    "Жители довольны решением, а оппозиция требует новых слушаний."
)
REAL_FEEDS = SHARED / "data" / "feeds" / "real"


def russian_feed(
    declaration: str = ' encoding="ISO-8859-1"', title: str = TITLE, body: str = BODY
) -> str:
    return (
        f'<?xml version="1.0"{declaration}?><rss version="2.0"><channel><title>News</title>'
        f"<item><guid>ru-1</guid><title>{title}</title><description>{body}</description></item>"
        "</channel></rss>"
    )


@pytest.mark.parametrize("charset", ["windows-1251", "koi8-r", "iso-8859-5"])
def test_cyrillic_declared_latin1_is_read_as_cyrillic(charset: str) -> None:
    parsed = parse_feed(russian_feed().encode(charset), url="http://ru.example/", headers={})
    [entry] = parsed.entries
    assert (entry.title, entry.text) == (TITLE, BODY)
    assert parsed.bozo_reason is None


def test_cyrillic_served_as_latin1_is_read_as_cyrillic() -> None:
    content = russian_feed(declaration="").encode("windows-1251")
    headers = {"Content-Type": "application/rss+xml; charset=ISO-8859-1"}
    [entry] = parse_feed(content, url="http://ru.example/", headers=headers).entries
    assert (entry.title, entry.text) == (TITLE, BODY)


def test_latin_text_keeps_its_label() -> None:
    german = "Größere Änderungen für Bürger: Die Straßenbahn fährt künftig öfter."
    content = russian_feed(title=german, body=german).encode("latin-1")
    assert actual_charset(content, "iso-8859-1") is None
    [entry] = parse_feed(content, url="http://de.example/", headers={}).entries
    assert entry.title == german


def test_other_labels_are_trusted() -> None:
    assert actual_charset(russian_feed().encode("windows-1251"), "windows-1251") is None
    assert actual_charset(russian_feed().encode("windows-1251"), None) is None


def test_no_real_world_feed_is_relabelled() -> None:
    """The corpus's Latin-1 feeds (German, Portuguese, Danish, English) and its correctly
    labelled Cyrillic, Greek, Hebrew and CJK ones all keep the charset they are read in."""
    if not REAL_FEEDS.is_dir():
        pytest.skip(f"{REAL_FEEDS} is absent: the real-world feed corpus")
    relabelled = {}
    for path in sorted(REAL_FEEDS.iterdir()):
        content = path.read_bytes()
        parsed = feedparser.parse(
            io.BytesIO(content), response_headers={"content-type": "application/xml"}
        )
        charset = actual_charset(content, parsed.get("encoding"))
        if charset is not None:
            relabelled[path.name] = charset
    assert relabelled == {}
