"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1), which feedparser cannot read.

This module knows the wire format only: it returns the feed's fields with the types the
spec promises, whatever the publisher sent (a number where a string belongs becomes
None, except for ``id``, which the spec says to coerce to a string). Turning items into
articles is :mod:`ingest.parse`'s job, the same as for RSS and Atom.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ingest.dates import parse_date

MEDIA_TYPES = frozenset({"application/feed+json", "application/json"})


class JsonFeedError(ValueError):
    """The body is not JSON, or is JSON but not a JSON Feed."""


@dataclass(frozen=True, slots=True)
class JsonFeedItem:
    id: str | None
    url: str | None
    external_url: str | None
    title: str | None
    content_html: str | None
    content_text: str | None
    summary: str | None
    published: datetime | None
    modified: datetime | None
    author: str | None
    language: str | None


@dataclass(frozen=True, slots=True)
class JsonFeed:
    """``skipped`` counts entries of ``items`` that were not JSON objects."""

    version: str | None
    title: str | None
    home_page_url: str | None
    feed_url: str | None
    language: str | None
    items: tuple[JsonFeedItem, ...]
    skipped: int = 0


def parse_json_feed(content: bytes) -> JsonFeed:
    """Parse a JSON Feed document; raise :class:`JsonFeedError` when it is not one."""
    try:
        document = json.loads(content)
    # ValueError: JSONDecodeError, and integers too long to convert (over 4,300 digits).
    except (UnicodeDecodeError, ValueError) as exc:
        raise JsonFeedError(f"invalid JSON: {exc}") from exc
    except RecursionError as exc:
        raise JsonFeedError("invalid JSON: nested too deeply") from exc
    if not isinstance(document, dict):
        raise JsonFeedError(f"not a JSON Feed: top level is a {type(document).__name__}")
    version = _string(document, "version")
    items = document.get("items")
    declared = version is not None and "jsonfeed.org/version/" in version
    if not declared and not isinstance(items, list):
        raise JsonFeedError("not a JSON Feed: no jsonfeed.org version and no items list")
    raw_items = items if isinstance(items, list) else []
    feed_author = _author(document)
    feed_language = _string(document, "language")
    parsed = tuple(
        _item(raw, feed_author, feed_language) for raw in raw_items if isinstance(raw, dict)
    )
    return JsonFeed(
        version=version,
        title=_string(document, "title"),
        home_page_url=_string(document, "home_page_url"),
        feed_url=_string(document, "feed_url"),
        language=feed_language,
        items=parsed,
        skipped=len(raw_items) - len(parsed),
    )


def _item(raw: dict[str, Any], feed_author: str | None, feed_language: str | None) -> JsonFeedItem:
    return JsonFeedItem(
        id=_identifier(raw.get("id")),
        url=_string(raw, "url"),
        external_url=_string(raw, "external_url"),
        title=_string(raw, "title"),
        content_html=_string(raw, "content_html"),
        content_text=_string(raw, "content_text"),
        summary=_string(raw, "summary"),
        published=parse_date(_string(raw, "date_published")),
        modified=parse_date(_string(raw, "date_modified")),
        author=_author(raw) or feed_author,
        language=_string(raw, "language") or feed_language,
    )


def _string(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if isinstance(value, str) and value.strip():
        return value
    return None


def _identifier(value: object) -> str | None:
    # Spec 1.1: "If an id is presented as a number or other type, a JSON Feed reader must
    # coerce it to a string." Booleans and containers are not identifiers anyone meant.
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _author(obj: dict[str, Any]) -> str | None:
    """The first named author: 1.1's ``authors`` list, else 1.0's ``author`` object."""
    candidates = obj.get("authors")
    if not isinstance(candidates, list):
        candidates = [obj.get("author")]
    for candidate in candidates:
        if isinstance(candidate, dict) and (name := _string(candidate, "name")):
            return name.strip()
    return None
