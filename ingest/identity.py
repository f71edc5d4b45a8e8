"""What makes a feed item the same item next time: its identifier and its URL.

Feeds are careless with both -- missing guids, relative links -- and every format
adapter (``ingest.parse``, ``ingest.jsonfeed``) normalises them here, so the rules are the
same whatever the format (their dates go through :mod:`ingest.dates`).
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urljoin

# An absolute http(s) URL that urljoin gives back unchanged whatever the base: its scheme
# in lower case, a host, and nothing urlsplit would drop or rewrite (whitespace, path
# parameters after ";", an empty query "?" or fragment "#").
_PLAIN_ABSOLUTE_URL = re.compile(r"https?://[^\s/?#;]+[^\s?#;]*(?:\?[^\s#]+)?(?:#\S+)?")


# The prefix of a guid made from the item's content, for an item with neither guid nor
# link: it says nothing the content does not, so it is no identity across feeds.
CONTENT_GUID_PREFIX = "sha256:"


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
    return f"{CONTENT_GUID_PREFIX}{digest}"


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
