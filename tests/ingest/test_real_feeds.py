"""parse_feed on 143 real-world feeds (../shared/data/feeds, described by its MANIFEST.tsv).

MANIFEST's ``entries``/``bozo`` columns are what feedparser 6.0.14 reported for each file;
for JSON Feed files, which feedparser cannot read (0 entries, bozo), the expected count is
the length of the document's ``items`` list instead.

About repeated guids: ten of these feeds list an item twice -- the same guid (e.g.
fallthrough-podcast, scripting-news, taverncast, bbc-hungarian), the same link in feeds
without guids (aif-ru, suspilne-news), or the same title and text in items with neither
(scripting-grateful-dead-rss092, pcmag-dvorak). Such entries get the same guid, which is
right: they are one item, and storage keeps one row per (source, guid). The test below
checks that entries share a guid exactly when the feed itself repeats what identifies them.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Hashable, Sequence
from datetime import timedelta
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import feedparser
import pytest

from ingest.parse import ParsedFeed, parse_feed
from tests.conftest import SHARED

CORPUS = SHARED / "data" / "feeds"
MANIFEST = CORPUS / "MANIFEST.tsv"


def _manifest() -> list[dict[str, str]]:
    if not MANIFEST.exists():
        return []
    with MANIFEST.open(newline="", encoding="utf-8") as rows:
        return list(csv.DictReader(rows, delimiter="\t"))


def _is_json_feed(name: str) -> bool:
    return name.endswith(".json")


def _params(names: list[str]) -> list[Any]:
    if names:
        return names
    reason = f"{MANIFEST} is absent: these tests read the real-world feed corpus"
    return [pytest.param(None, marks=pytest.mark.skip(reason=reason))]


ROWS = {row["file"]: row for row in _manifest()}
FILES = _params(sorted(ROWS))
# MANIFEST's bozo flag for a JSON Feed only records that feedparser cannot read JSON.
XML_FILES = _params(sorted(name for name in ROWS if not _is_json_feed(name)))


def _body(name: str) -> bytes:
    return (CORPUS / "real" / name).read_bytes()


@cache
def parsed(name: str) -> ParsedFeed:
    return parse_feed(_body(name), url=f"https://feeds.example/{name}", headers={})


def _raw_entries(name: str) -> list[Any]:
    if _is_json_feed(name):
        return [item for item in json.loads(_body(name))["items"] if isinstance(item, dict)]
    return feedparser.parse(io.BytesIO(_body(name))).entries


def _raw_identity(name: str, entry: Any) -> Hashable:
    """What the feed itself gives to tell this entry apart, as published."""
    if _is_json_feed(name):
        return entry.get("id") or entry.get("url") or json.dumps(entry, sort_keys=True)
    content = tuple(c.get("value") for c in entry.get("content", []))
    return (
        entry.get("id") or entry.get("link") or (entry.get("title"), entry.get("summary"), content)
    )


def _groups(keys: Sequence[Hashable]) -> set[tuple[int, ...]]:
    """The partition of entry positions by key."""
    by_key: dict[Hashable, list[int]] = defaultdict(list)
    for position, key in enumerate(keys):
        by_key[key].append(position)
    return {tuple(positions) for positions in by_key.values()}


@pytest.mark.parametrize("name", FILES)
def test_every_recovered_entry_becomes_an_article(name: str) -> None:
    feed = parsed(name)

    if _is_json_feed(name):
        expected = len(json.loads(_body(name))["items"])
    else:
        expected = int(ROWS[name]["entries"])
    assert feed.is_feed
    assert len(feed.entries) == expected


@pytest.mark.parametrize("name", FILES)
def test_entries_share_a_guid_only_when_the_feed_repeats_itself(name: str) -> None:
    guids = [article.guid for article in parsed(name).entries]
    if len(set(guids)) == len(guids):
        return
    raw = _raw_entries(name)
    assert len(raw) == len(guids)

    assert _groups(guids) == _groups([_raw_identity(name, entry) for entry in raw])


@pytest.mark.parametrize("name", XML_FILES)
def test_bozo_feeds_report_why(name: str) -> None:
    assert (parsed(name).bozo_reason is not None) == (ROWS[name]["bozo"] == "1")


@pytest.mark.parametrize("name", FILES)
def test_articles_have_absolute_links_and_utc_dates(name: str) -> None:
    for article in parsed(name).entries:
        assert article.guid
        assert article.url is None or urlsplit(article.url).scheme
        assert article.published is None or article.published.utcoffset() == timedelta(0)


def test_the_corpus_yields_articles_with_text() -> None:
    if not ROWS:
        pytest.skip(f"{MANIFEST} is absent: the real-world feed corpus")
    articles = [article for name in ROWS for article in parsed(name).entries]

    assert len(articles) > 4000
    # Podcast and link-blog items may be bare; news and blog feeds carry text.
    assert sum(1 for article in articles if article.text) / len(articles) > 0.9
    assert sum(1 for article in articles if article.title) / len(articles) > 0.99
