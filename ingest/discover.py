"""Feed autodiscovery: the feeds an HTML page advertises with ``<link rel="alternate">``.

Used when someone subscribes to a site's home page rather than its feed. Only the
declared links count (the RSS autodiscovery convention); guessing paths such as
``/feed`` would mean extra requests to a site that did not offer them.
"""

from __future__ import annotations

from html.parser import HTMLParser

from ingest.identity import resolve_url

FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/feed+json",
        "application/json",
    }
)


def discover_feeds(html: bytes, base_url: str) -> list[str]:
    """Absolute URLs of the feeds ``html`` links to, in document order, without repeats.

    Relative hrefs resolve against the page's ``<base href>`` when it has one, else
    ``base_url`` (the URL the page was fetched from).
    """
    # Bytes are decoded as UTF-8 with replacement: the hrefs that matter are ASCII (or
    # percent-encoded) in practice, and the markup around them is ASCII in every charset
    # a page might use except UTF-16, which no feed-advertising page is served in.
    collector = _AlternateLinks()
    collector.feed(html.decode("utf-8", errors="replace"))
    collector.close()
    base = resolve_url(collector.base_href, base_url) or base_url
    found: list[str] = []
    for href in collector.hrefs:
        url = resolve_url(href, base)
        if url and url not in found:
            found.append(url)
    return found


class _AlternateLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.base_href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "base" and self.base_href is None and values.get("href"):
            self.base_href = values["href"]
        elif tag == "link" and _is_feed_link(values):
            self.hrefs.append(values["href"])


def _is_feed_link(attrs: dict[str, str]) -> bool:
    rel = attrs.get("rel", "").lower().split()
    media_type = attrs.get("type", "").split(";", 1)[0].strip().lower()
    return "alternate" in rel and media_type in FEED_TYPES and bool(attrs.get("href", "").strip())
