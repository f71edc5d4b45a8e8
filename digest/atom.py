"""An Atom 1.0 feed with one entry per daily digest, so the digest can be read in a feed reader.

The entry content is the same escaped HTML fragment as the day's front page, so it holds
no markup from outside, and a busy day's entry is as short as its page. Entry ids are tag
URIs (RFC 4151) built from the feed's host and the digest's date: they stay the same when a
day's digest is regenerated, so readers update the entry instead of showing it twice.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from urllib.parse import urljoin, urlsplit

from digest.display import plain
from digest.model import DEFAULT_TITLE, Digest, newest_per_date, page_name
from digest.render_html import render_html_body

ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"


def entry_id(digest: Digest, feed_url: str) -> str:
    return f"tag:{_host(feed_url)},{digest.date.isoformat()}:digest"


def render_atom(
    digests: Sequence[Digest],
    *,
    feed_url: str,
    html_base_url: str,
    content: Callable[[Digest], str] = render_html_body,
) -> str:
    """The feed document. ``feed_url`` is where this feed is served (its ``rel="self"``
    link and id); ``html_base_url`` is the directory URL the ``YYYY-MM-DD.html`` pages are
    served from. Several digests for one date keep only the most recently generated.
    ``content`` makes an entry's HTML body: a caller that rewrites the feed often can
    hand in one that remembers the bodies of digests that did not change.
    """
    entries = newest_per_date(digests)
    base = html_base_url if html_base_url.endswith("/") else html_base_url + "/"
    _host(base)  # both URLs must be absolute: readers resolve nothing against a feed

    feed = ET.Element("feed", xmlns=ATOM_NAMESPACE)
    _text(feed, "id", feed_url)
    title = plain(entries[0].title) if entries else DEFAULT_TITLE
    _text(feed, "title", f"{title} daily digest")
    _text(feed, "updated", _timestamp(_last_updated(entries)))
    ET.SubElement(feed, "link", rel="self", type="application/atom+xml", href=feed_url)
    ET.SubElement(feed, "link", rel="alternate", type="text/html", href=base)
    author = ET.SubElement(feed, "author")
    _text(author, "name", "feedbrief")
    _text(feed, "generator", "feedbrief")
    for digest in entries:
        feed.append(_entry(digest, feed_url=feed_url, base=base, content=content))

    ET.indent(feed)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, "unicode") + "\n"


def _entry(
    digest: Digest, *, feed_url: str, base: str, content: Callable[[Digest], str]
) -> ET.Element:
    entry = ET.Element("entry")
    _text(entry, "id", entry_id(digest, feed_url))
    _text(entry, "title", f"{plain(digest.title)} — {digest.date.isoformat()}")
    _text(entry, "updated", _timestamp(digest.generated_at))
    href = urljoin(base, page_name(digest.date))
    ET.SubElement(entry, "link", rel="alternate", type="text/html", href=href)
    _text(entry, "content", content(digest)).set("type", "html")
    return entry


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = text
    return element


def _host(url: str) -> str:
    host = urlsplit(url).hostname
    if not host:
        raise ValueError(f"expected an absolute URL, got {url!r}")
    return host


def _last_updated(digests: Sequence[Digest]) -> dt.datetime:
    """The newest entry's stamp; an empty feed is as new as the moment it is written."""
    if not digests:
        return dt.datetime.now(dt.UTC)
    return max(digest.generated_at for digest in digests)


def _timestamp(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")
