"""What makes a feed item the same item next time: its identifier, its URL, its date.

Feeds are careless with all three -- missing guids, relative links, local-time dates --
and every format adapter (``ingest.parse``, ``ingest.jsonfeed``) normalises them here, so
the rules are the same whatever the format.
"""

from __future__ import annotations

import hashlib
import re
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

# An absolute http(s) URL that urljoin gives back unchanged whatever the base: its scheme
# in lower case, a host, and nothing urlsplit would drop or rewrite (whitespace, path
# parameters after ";", an empty query "?" or fragment "#").
_PLAIN_ABSOLUTE_URL = re.compile(r"https?://[^\s/?#;]+[^\s?#;]*(?:\?[^\s#]+)?(?:#\S+)?")


def item_guid(*, guid: str | None, link: str | None, title: str, content: str) -> str:
    """The item's identity within its feed: its guid/id, else its link, else a content hash.

    The hash is the last resort because it changes when the publisher edits the item,
    turning an edit into a new item; it covers the raw title and content (not our cleaned
    text) so that a change to our cleaner never changes an item's identity.
    """
    for candidate in (guid, link):
        if candidate and candidate.strip():
            return candidate.strip()
    digest = hashlib.sha256(f"{title}\n\n{content}".encode()).hexdigest()
    return f"sha256:{digest}"


def resolve_url(url: str | None, base: str | None) -> str | None:
    """``url`` made absolute against ``base`` (the entry's xml:base or the feed's URL)."""
    if not url or not url.strip():
        return None
    url = url.strip()
    if not base or _PLAIN_ABSOLUTE_URL.fullmatch(url):  # most links: no need to parse two URLs
        return url
    try:
        return urljoin(base, url)
    except ValueError:  # e.g. an invalid IPv6 literal in either URL: keep what we were given
        return url


def to_utc(moment: datetime | time.struct_time | None) -> datetime | None:
    """An aware UTC datetime; naive values are taken as UTC (feedparser's are UTC already)."""
    if moment is None:
        return None
    if isinstance(moment, time.struct_time):
        try:
            return datetime(*moment[:6], tzinfo=UTC)
        except (ValueError, OverflowError):
            return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 pushed past the representable range
        return None


def parse_date(value: str | None) -> datetime | None:
    """An RFC 3339 / ISO 8601 date (what JSON Feed requires) or, failing that, an RFC 822
    date (what publishers paste from their RSS templates), as aware UTC; else None."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        return to_utc(datetime.fromisoformat(value))
    except ValueError:
        pass
    try:
        return to_utc(parsedate_to_datetime(value))
    except (TypeError, ValueError, IndexError):
        return None
