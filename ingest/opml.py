"""OPML subscription lists: import from any feed reader, export as OPML 2.0.

OPML files come from users and other programs, so they are parsed with defusedxml:
no entity declarations (billion laughs) and no external entities or DTDs are fetched.
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


def read_opml(content: bytes) -> list[OpmlFeed]:
    """Every outline with an ``xmlUrl``, at any depth (folders are flattened), in document
    order; a URL listed twice (the same feed in two folders) is kept once."""
    try:
        root = SafeET.fromstring(content)
    except DefusedXmlException as exc:
        raise OpmlError(f"refused: {exc}") from exc
    except ET.ParseError as exc:
        raise OpmlError(f"not well-formed XML: {exc}") from exc
    if root.tag.lower() != "opml":
        raise OpmlError(f"not OPML: the root element is <{root.tag}>")
    feeds: dict[str, OpmlFeed] = {}
    for outline in root.iter("outline"):
        # Attribute names are case-sensitive in XML, but exporters write xmlurl and XMLURL.
        attrs = {name.lower(): value.strip() for name, value in outline.attrib.items()}
        url = attrs.get("xmlurl")
        if url and url not in feeds:
            feeds[url] = OpmlFeed(url=url, title=attrs.get("title") or attrs.get("text") or None)
    return list(feeds.values())


def write_opml(
    feeds: Iterable[OpmlFeed],
    *,
    title: str = "feedbrief subscriptions",
    created: datetime | None = None,
) -> str:
    """An OPML 2.0 document listing ``feeds`` as flat ``type="rss"`` outlines.

    ``created`` becomes ``<dateCreated>`` (RFC 822, as OPML 2.0 requires); it is a
    parameter rather than the current time so that the output is reproducible.
    """
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    if created is not None:
        ET.SubElement(head, "dateCreated").text = format_datetime(created)
    body = ET.SubElement(root, "body")
    for feed in feeds:
        label = feed.title or feed.url
        ET.SubElement(body, "outline", type="rss", text=label, title=label, xmlUrl=feed.url)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
