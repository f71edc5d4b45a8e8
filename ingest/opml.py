"""OPML subscription lists: import from any feed reader, export as OPML 2.0.

OPML files come from users and other programs, so they are parsed with defusedxml:
no entity declarations (billion laughs) and no external entities or DTDs are fetched.

Folders are categories: a feed's category is the title of the top-level folder it sits
in (a nested folder belongs to its top-level one, since the digest's sections are one
level deep), and export writes each category back as a folder. A feed's digest weight
travels as a ``weight`` attribute, which other readers ignore.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException


class OpmlError(ValueError):
    """The file is not OPML we can read (malformed XML, forbidden XML, wrong root)."""


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    url: str
    title: str | None = None
    category: str | None = None
    weight: float | None = None


def read_opml(content: bytes) -> list[OpmlFeed]:
    """Every outline with an ``xmlUrl``, at any depth, in document order, with the
    top-level folder it sits in as its category; a URL listed twice (the same feed in
    two folders) is kept once, with its first place."""
    try:
        root = SafeET.fromstring(content)
    except DefusedXmlException as exc:
        raise OpmlError(f"refused: {exc}") from exc
    except ET.ParseError as exc:
        raise OpmlError(f"not well-formed XML: {exc}") from exc
    if root.tag.lower() != "opml":
        raise OpmlError(f"not OPML: the root element is <{root.tag}>")
    feeds: dict[str, OpmlFeed] = {}
    body = root.find("body")
    for top in body if body is not None else ():
        if top.tag != "outline":
            continue
        folder = None if _attrs(top).get("xmlurl") else _label(_attrs(top))
        for outline in top.iter("outline"):
            attrs = _attrs(outline)
            url = attrs.get("xmlurl")
            if url and url not in feeds:
                feeds[url] = OpmlFeed(
                    url=url,
                    title=_label(attrs),
                    category=folder,
                    weight=_weight(attrs.get("weight")),
                )
    return list(feeds.values())


def _attrs(outline: ET.Element) -> dict[str, str]:
    # Attribute names are case-sensitive in XML, but exporters write xmlurl and XMLURL.
    return {name.lower(): value.strip() for name, value in outline.attrib.items()}


def _label(attrs: dict[str, str]) -> str | None:
    return attrs.get("title") or attrs.get("text") or None


def _weight(value: str | None) -> float | None:
    """A positive finite weight, or None (the default) for anything else: an OPML file
    from elsewhere may carry an unrelated ``weight`` attribute."""
    try:
        weight = float(value) if value else None
    except ValueError:
        return None
    return weight if weight is not None and 0 < weight < float("inf") else None


def write_opml(
    feeds: Iterable[OpmlFeed],
    *,
    title: str = "feedbrief subscriptions",
    created: datetime | None = None,
) -> str:
    """An OPML 2.0 document listing ``feeds`` as ``type="rss"`` outlines: uncategorised
    ones at the top level, the others in one folder per category (in order of first use).

    ``created`` becomes ``<dateCreated>`` (RFC 822, as OPML 2.0 requires); it is a
    parameter rather than the current time so that the output is reproducible.
    """
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    if created is not None:
        ET.SubElement(head, "dateCreated").text = format_datetime(created)
    body = ET.SubElement(root, "body")
    folders: dict[str, ET.Element] = {}
    for feed in feeds:
        parent = body
        if feed.category:
            parent = folders.get(feed.category) or ET.SubElement(
                body, "outline", text=feed.category, title=feed.category
            )
            folders[feed.category] = parent
        label = feed.title or feed.url
        outline = ET.SubElement(
            parent, "outline", type="rss", text=label, title=label, xmlUrl=feed.url
        )
        if feed.weight is not None and feed.weight != 1:
            outline.set("weight", repr(feed.weight))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
