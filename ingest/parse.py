"""Feed bytes -> :class:`ParsedFeed` of cleaned :class:`~ingest.records.Article` records.

RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 go through feedparser, JSON Feed through
:mod:`ingest.jsonfeed`; both end in the same entry -> article rules (identity, content
choice, cleaning), so an article looks the same whatever format carried it.

feedparser is handed a file object, never a string: given a string it would fetch a URL
or open a local file of that name. It gets the response headers, whose charset its
encoding detection needs, but no base URL: it would resolve guids against it too (an
Atom id "t3_42tizy" becoming "https://host/feed/t3_42tizy"), and an item's identity must
not change when its feed moves. Links are made absolute here instead, against xml:base
as feedparser applied it and then against the feed's URL.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import feedparser
import structlog

from ingest.charset import actual_charset
from ingest.clean import article_title, clean_paragraphs, clean_title, split_paragraphs
from ingest.dates import to_utc
from ingest.html import html_to_paragraphs
from ingest.identity import item_guid, resolve_url
from ingest.jsonfeed import MEDIA_TYPES as JSON_MEDIA_TYPES
from ingest.jsonfeed import JsonFeedError, JsonFeedItem, parse_json_feed
from ingest.records import Article, cap_content
from ingest.schedule import MAX_HINT

logger = structlog.get_logger(__name__)

DEFAULT_MAX_ENTRIES = 1000

# An entry larger than this in the feed's bytes is skipped before parsing (with an
# error logged): feedparser would hold several copies of it.
MiB = 1024 * 1024
MAX_ENTRY_BYTES = 4 * MiB

_PROLOG_BYTES = 64 * 1024
_SUBSET_END = re.compile(rb"\]\s*>")
_ENTRY_START = re.compile(rb"<(?:item|entry)[\s>/]")
_ENTRY_END = re.compile(rb"</(?:item|entry)\s*>")

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "html", "xhtml"})


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A feed's metadata and its entries as articles.

    ``is_feed`` is False when the bytes are not a feed at all (typically an HTML page, on
    which the caller may run :func:`ingest.discover.discover_feeds`). ``bozo_reason``
    says why a feed was malformed; the entries recovered from it are kept regardless.
    Entries are in document order and not deduplicated: a feed that repeats a guid
    yields two articles with that guid, and the later one is the newer edit.
    """

    title: str | None
    link: str | None
    language: str | None
    ttl_seconds: int | None
    bozo_reason: str | None
    entries: tuple[Article, ...]
    is_feed: bool


def parse_feed(
    content: bytes,
    *,
    url: str,
    headers: Mapping[str, str],
    max_entries: int = DEFAULT_MAX_ENTRIES,
) -> ParsedFeed:
    """Parse a fetched feed. ``url`` is where it was fetched from (the base for relative
    links); ``headers`` are the HTTP response headers, any case. Only the first
    ``max_entries`` entries are read: a feed of 100,000 items costs what 1,000 do."""
    headers = {name.lower(): value for name, value in headers.items()}
    log = logger.bind(feed=url)
    # Bound for the lines of the modules it calls (a date dropped by ingest.dates).
    with structlog.contextvars.bound_contextvars(feed=url):
        if not content.strip():
            parsed = _not_a_feed("empty body")
        elif _is_json(content, headers.get("content-type", "")):
            parsed = _parse_json(content, url, max_entries)
        else:
            parsed = _parse_xml(content, url, headers, max_entries)
    log.debug(
        "feed.parsed",
        is_feed=parsed.is_feed,
        entries=len(parsed.entries),
        bozo_reason=parsed.bozo_reason,
    )
    return parsed


def _is_json(content: bytes, content_type: str) -> bool:
    """JSON if the body opens with ``{``, or is declared JSON and does not open with ``<``
    (servers label XML feeds wrongly far more often than they send JSON by mistake)."""
    start = content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start == b"{":
        return True
    media_type = content_type.split(";", 1)[0].strip().lower()
    return start != b"<" and (media_type in JSON_MEDIA_TYPES or media_type.endswith("+json"))


# --- RSS and Atom through feedparser ----------------------------------------------------


def _parse_xml(content: bytes, url: str, headers: dict[str, str], max_entries: int) -> ParsedFeed:
    content = _without_entity_declarations(content)
    cut = _first_entries(content, max_entries)
    if len(cut) < len(content):
        logger.warning("feed.truncated", feed=url, kept=max_entries)
    content, oversized = _without_oversized_entries(cut)
    if oversized:
        logger.error(
            "entry.skipped_too_large",
            feed=url,
            entries=oversized,
            limit_bytes=MAX_ENTRY_BYTES,
        )
    headers = dict(headers)
    base = resolve_url(headers.pop("content-location", None), url) or url
    # Without a Content-Type feedparser assumes ISO-8859-1 (an old HTTP default) unless the
    # XML declaration says otherwise; the XML default, UTF-8, is right far more often.
    headers.setdefault("content-type", "application/xml")
    parsed = _feedparser(content, headers)
    charset = actual_charset(content, parsed.get("encoding"))
    if charset is not None:
        logger.warning("feed.charset_corrected", feed=url, read_as=parsed.encoding, actual=charset)
        relabelled = {**headers, "content-type": f"application/xml; charset={charset}"}
        parsed = _feedparser(content, relabelled)
    bozo_reason = None
    if parsed.bozo:
        exception = parsed.get("bozo_exception")
        bozo_reason = f"{type(exception).__name__}: {exception}" if exception else "malformed"
    if oversized:
        too_large = f"{oversized} entry(ies) too large (over {MAX_ENTRY_BYTES // MiB} MiB) skipped"
        bozo_reason = f"{bozo_reason}; {too_large}" if bozo_reason else too_large
    if not parsed.get("version") and not parsed.entries:
        return _not_a_feed(bozo_reason or "no feed found")
    feed = parsed.feed
    feed_language = _text_field(feed, "language")
    return ParsedFeed(
        title=clean_title(_plain_text(feed, "title")) or None,
        link=resolve_url(feed.get("link"), base),
        language=feed_language,
        ttl_seconds=_ttl_seconds(feed.get("ttl")),
        bozo_reason=bozo_reason,
        entries=tuple(
            _entry_article(entry, base, feed_language) for entry in parsed.entries[:max_entries]
        ),
        is_feed=True,
    )


def _feedparser(content: bytes, headers: dict[str, str]) -> Any:
    # Sanitizing and rewriting links inside content HTML are both wasted work: we keep
    # only the text of that HTML (ingest.html drops scripts, styles, frames and forms).
    return feedparser.parse(
        io.BytesIO(content),
        response_headers=headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )


def _without_entity_declarations(content: bytes) -> bytes:
    """The document without its internal DTD subset when that declares entities.

    expat refuses entity amplification, but feedparser then falls back to a loose parser
    that expands the entities itself: 140 KB of feed became ~1 GB. Feeds have no
    legitimate use for their own entity declarations; the references left behind are
    reported as undefined (bozo) and the entries are still read.
    """
    start = content.find(b"<!DOCTYPE", 0, _PROLOG_BYTES)
    if start < 0:
        return content
    bracket = content.find(b"[", start)
    close = content.find(b">", start)
    if bracket < 0 or close < bracket:
        return content  # no internal subset
    end = _SUBSET_END.search(content, bracket)
    if end is None or b"<!ENTITY" not in content[bracket : end.start()]:
        return content
    return content[:start] + content[end.end() :]


def _without_oversized_entries(content: bytes) -> tuple[bytes, int]:
    """The document without any item or entry larger than :data:`MAX_ENTRY_BYTES`, and
    how many were dropped: such an entry fails alone, and the feed's others are read."""
    if len(content) <= MAX_ENTRY_BYTES or not _is_ascii_compatible(content):
        return content, 0
    kept: list[bytes] = []
    position, dropped = 0, 0
    for start in _ENTRY_START.finditer(content):
        if start.start() < position:
            continue
        end = _ENTRY_END.search(content, start.end())
        if end is None:
            break
        if end.end() - start.start() > MAX_ENTRY_BYTES:
            kept.append(content[position : start.start()])
            position = end.end()
            dropped += 1
    if not dropped:
        return content, 0
    kept.append(content[position:])
    return b"".join(kept), dropped


def _is_ascii_compatible(content: bytes) -> bool:
    return not (content[:2] in (b"\xff\xfe", b"\xfe\xff") or content[:1] == b"\x00")


def _first_entries(content: bytes, limit: int) -> bytes:
    """The document cut after its first *limit* items or entries, closing tags kept.

    Cutting the bytes before feedparser sees them bounds its time and memory as well as
    ours. UTF-16/32 documents (no ASCII tags to find) are left whole.
    """
    if not _is_ascii_compatible(content):
        return content
    starts = [m.start() for m in itertools.islice(_ENTRY_START.finditer(content), limit + 1)]
    if len(starts) <= limit:
        return content
    ends = list(_ENTRY_END.finditer(content))
    if not ends:
        return content
    return content[: starts[limit]] + content[ends[-1].end() :]


def _entry_article(entry: Any, base: str, feed_language: str | None) -> Article:
    content_type, content = _best_content(entry)
    paragraphs = _paragraphs(content, content_type)
    title = _plain_text(entry, "title")
    link = resolve_url(_field(entry, "link"), base)
    return Article(
        guid=item_guid(guid=_field(entry, "id"), link=link, title=title, content=content),
        title=article_title(title, paragraphs),
        text="\n\n".join(paragraphs),
        url=link,
        author=_text_field(entry, "author"),
        published=_entry_date(entry),
        language=_entry_language(entry) or feed_language,
    )


def _field(element: Any, key: str, default: Any = None) -> Any:
    """``element[key]`` of a feedparser result, else ``default``.

    Plain ``dict.get``: FeedParserDict's own maps aliases (none of the keys read here has
    one, and it answers a missing ``updated_parsed`` with ``published_parsed`` and a
    DeprecationWarning) through two more calls and, for a missing key, a raised KeyError.
    """
    return dict.get(element, key, default)


def _entry_date(entry: Any) -> datetime | None:
    """When the entry was published, else last updated, in UTC."""
    for key in ("published_parsed", "updated_parsed"):
        if value := _field(entry, key):
            return to_utc(value)
    return None


def _best_content(entry: Any) -> tuple[str, str]:
    """(type, value) of the fullest body: the longest content element, else the summary.

    RSS may carry both content:encoded and xhtml:body; the longer is the full text.
    """
    contents = [c for c in _field(entry, "content", []) if _field(c, "value")]
    if contents:
        best = max(contents, key=lambda c: len(_field(c, "value")))
        return _field(best, "type", "text/html"), _field(best, "value")
    detail = _field(entry, "summary_detail") or {}
    return _field(detail, "type", "text/html"), _field(entry, "summary") or ""


def _entry_language(entry: Any) -> str | None:
    """xml:lang on the entry's content or title (feedparser records it per element)."""
    for detail in (
        *_field(entry, "content", []),
        _field(entry, "summary_detail"),
        _field(entry, "title_detail"),
    ):
        if detail and (language := _field(detail, "language")):
            return str(language).strip() or None
    return None


def _plain_text(element: Any, key: str) -> str:
    """A text construct as plain text: Atom allows HTML in titles (``type="html"``)."""
    value = _field(element, key) or ""
    detail = _field(element, f"{key}_detail") or {}
    if _field(detail, "type") in _HTML_TYPES:
        return " ".join(html_to_paragraphs(value))
    return value


def _text_field(element: Any, key: str) -> str | None:
    value = _field(element, key)
    return value.strip() or None if isinstance(value, str) else None


def _ttl_seconds(value: object) -> int | None:
    """RSS <ttl> is minutes; nonsense (negative, zero, words) means no hint, and a longer
    one than the scheduler would honour is cut to :data:`ingest.schedule.MAX_HINT`."""
    try:
        minutes = int(str(value).strip())
    except ValueError:
        return None
    return min(minutes * 60, int(MAX_HINT.total_seconds())) if minutes > 0 else None


# --- JSON Feed --------------------------------------------------------------------------


def _parse_json(content: bytes, url: str, max_entries: int) -> ParsedFeed:
    try:
        feed = parse_json_feed(content)
    except JsonFeedError as exc:
        return _not_a_feed(str(exc))
    if len(feed.items) > max_entries:
        logger.warning("feed.truncated", feed=url, kept=max_entries)
    bozo_reason = None
    if feed.skipped:
        bozo_reason = f"{feed.skipped} item(s) that are not JSON objects skipped"
    return ParsedFeed(
        title=clean_title(feed.title or "") or None,
        link=resolve_url(feed.home_page_url, url),
        language=feed.language,
        ttl_seconds=None,
        bozo_reason=bozo_reason,
        entries=tuple(_json_article(item, url) for item in feed.items[:max_entries]),
        is_feed=True,
    )


def _json_article(item: JsonFeedItem, feed_url: str) -> Article:
    if item.content_html:
        content_type, content = "text/html", item.content_html
    else:
        content_type, content = "text/plain", item.content_text or item.summary or ""
    paragraphs = _paragraphs(content, content_type)
    link = resolve_url(item.url or item.external_url, feed_url)
    return Article(
        guid=item_guid(guid=item.id, link=link, title=item.title or "", content=content),
        title=article_title(item.title or "", paragraphs),
        text="\n\n".join(paragraphs),
        url=link,
        author=item.author,
        published=item.published or item.modified,
        language=item.language,
    )


# --- shared -----------------------------------------------------------------------------


def _not_a_feed(reason: str) -> ParsedFeed:
    return ParsedFeed(
        title=None,
        link=None,
        language=None,
        ttl_seconds=None,
        bozo_reason=reason,
        entries=(),
        is_feed=False,
    )


def _paragraphs(content: str, content_type: str) -> list[str]:
    content = cap_content(content)
    if content_type in _HTML_TYPES:
        return clean_paragraphs(html_to_paragraphs(content))
    return clean_paragraphs(split_paragraphs(content))
