"""The JSON Feed wire format: fields typed as the spec promises, whatever was sent."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.jsonfeed import JsonFeedError, parse_json_feed

FEEDS = Path(__file__).resolve().parents[1] / "data" / "feeds"


def document(**fields: object) -> bytes:
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", **fields}).encode()


def test_version_1_0_feed() -> None:
    feed = parse_json_feed((FEEDS / "jsonfeed-1.0.json").read_bytes())

    assert feed.version == "https://jsonfeed.org/version/1"
    assert (feed.title, feed.home_page_url, feed.feed_url) == (
        "Orchard Diary",
        "https://orchard.example/",
        "https://orchard.example/feed.json",
    )
    first = feed.items[0]
    assert first.id == "https://orchard.example/2026/pruning"
    assert first.summary == "Pruning notes."
    assert first.content_html is not None and first.content_html.startswith("<p>We pruned")
    assert first.published == datetime(2026, 1, 3, 15, 45, tzinfo=UTC)
    assert first.author == "Mira Kovač"  # 1.0's single author object, from the feed


def test_version_1_1_authors_and_languages() -> None:
    feed = parse_json_feed((FEEDS / "jsonfeed-1.1.json").read_bytes())

    assert feed.language == "nl"
    assert [(item.author, item.language) for item in feed.items] == [
        ("Eva Smit", "en"),
        ("Pieter de Vries", "nl"),
    ]
    assert feed.items[1].external_url == "https://city.example/press/tram"


@pytest.mark.parametrize(
    ("raw_id", "expected"),
    [
        ("abc", "abc"),
        ("  abc  ", "abc"),
        (42, "42"),
        (4.5, "4.5"),
        (True, None),
        ([1], None),
        ("", None),
    ],
)
def test_id_is_coerced_to_a_string_as_the_spec_requires(
    raw_id: object, expected: str | None
) -> None:
    feed = parse_json_feed(document(items=[{"id": raw_id}]))

    assert feed.items[0].id == expected


@pytest.mark.parametrize("value", [42, ["a"], {"a": 1}, None, True, "   "])
def test_non_string_fields_become_none(value: object) -> None:
    fields = ("url", "external_url", "title", "content_html", "content_text", "summary")
    feed = parse_json_feed(
        document(title=value, items=[{key: value for key in fields} | {"date_published": value}])
    )

    item = feed.items[0]
    assert feed.title is None
    assert [getattr(item, key) for key in fields] == [None] * len(fields)
    assert item.published is None


def test_items_that_are_not_objects_are_counted_and_skipped() -> None:
    feed = parse_json_feed(document(items=[{"id": "1"}, "junk", 3, None, {"id": "2"}]))

    assert [item.id for item in feed.items] == ["1", "2"]
    assert feed.skipped == 3


def test_feed_without_version_but_with_items_is_accepted() -> None:
    feed = parse_json_feed(json.dumps({"items": [{"id": "1"}]}).encode())

    assert feed.version is None and len(feed.items) == 1


def test_declared_feed_with_items_of_wrong_type_has_no_items() -> None:
    feed = parse_json_feed(document(items={"id": "1"}))

    assert feed.items == () and feed.skipped == 0


@pytest.mark.parametrize(
    ("authors", "author", "expected"),
    [
        ([{"name": "  Ann  "}], None, "Ann"),
        ([{"url": "https://x"}, {"name": "Bo"}], None, "Bo"),
        ("Ann", {"name": "Cy"}, "Cy"),  # a malformed 1.1 list falls back to 1.0's object
        (None, {"name": 7}, None),
        ([], None, None),
    ],
)
def test_first_named_author(authors: object, author: object, expected: str | None) -> None:
    feed = parse_json_feed(document(items=[{"id": "1", "authors": authors, "author": author}]))

    assert feed.items[0].author == expected


def test_utf16_json_is_decoded() -> None:
    body = json.dumps({"version": "https://jsonfeed.org/version/1", "title": "Ünïcode"}).encode(
        "utf-16"
    )

    assert parse_json_feed(body).title == "Ünïcode"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{nope", "invalid JSON"),
        (b"\xff\xfe\xfa", "invalid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "invalid JSON"),
        (b'"a string"', "not a JSON Feed: top level is a str"),
        (b'{"version": "2", "title": "x"}', "not a JSON Feed"),
    ],
)
def test_not_a_json_feed(body: bytes, message: str) -> None:
    with pytest.raises(JsonFeedError, match=f"^{message}"):
        parse_json_feed(body)
