"""OPML import (any reader's export, parsed safely) and OPML 2.0 export."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.opml import OpmlError, OpmlFeed, read_opml, write_opml

FEEDS = Path(__file__).resolve().parents[1] / "data" / "feeds"


def test_feeds_come_in_order_without_repeats_with_their_top_level_folder() -> None:
    feeds = read_opml((FEEDS / "subscriptions.opml").read_bytes())

    assert feeds == [
        OpmlFeed("https://gazette.example/feed.rss", "Harbour Gazette", category="News"),
        # A nested folder belongs to its top-level one: sections are one level deep.
        OpmlFeed("https://tram.example/feed.json", "Tram Works", category="News"),
        OpmlFeed("https://lowercase.example/rss", None),
    ]


def test_folders_and_weights_round_trip() -> None:
    feeds = [
        OpmlFeed("https://a.example/rss", "A", category="World", weight=2.5),
        OpmlFeed("https://b.example/rss", "B"),
        OpmlFeed("https://c.example/rss", "C", category="Sport"),
        OpmlFeed("https://d.example/rss", "D", category="World"),
    ]

    exported = write_opml(feeds)

    root = ET.fromstring(exported)
    folders = [o.get("text") for o in root.findall("body/outline") if o.get("xmlUrl") is None]
    assert folders == ["World", "Sport"]
    # Each folder sits where its category was first used; its feeds keep their order.
    assert read_opml(exported.encode()) == [feeds[0], feeds[3], feeds[1], feeds[2]]


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "heavy", ""])
def test_a_weight_that_is_not_a_positive_number_is_ignored(value: str) -> None:
    content = (
        f'<opml version="2.0"><body><outline xmlUrl="https://x.example/rss" weight="{value}"/>'
        "</body></opml>"
    ).encode()

    assert read_opml(content) == [OpmlFeed("https://x.example/rss")]


def test_export_then_import_round_trips() -> None:
    feeds = [
        OpmlFeed("https://gazette.example/feed.rss", "Harbour & Gazette <news>"),
        OpmlFeed("https://tram.example/feed.json", None),
    ]

    exported = write_opml(feeds)

    assert read_opml(exported.encode()) == [
        feeds[0],
        OpmlFeed("https://tram.example/feed.json", "https://tram.example/feed.json"),
    ]


def test_export_is_opml_2_0() -> None:
    created = datetime(2026, 1, 7, 8, 0, tzinfo=UTC)

    exported = write_opml([OpmlFeed("https://x.example/rss", "X")], title="Mine", created=created)

    assert exported.startswith("<?xml")
    root = ET.fromstring(exported)
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.findtext("head/title") == "Mine"
    assert root.findtext("head/dateCreated") == "Wed, 07 Jan 2026 08:00:00 +0000"
    outline = root.find("body/outline")
    assert outline is not None
    assert outline.attrib == {
        "type": "rss",
        "text": "X",
        "title": "X",
        "xmlUrl": "https://x.example/rss",
    }


def test_export_without_a_date_is_reproducible() -> None:
    feeds = [OpmlFeed("https://x.example/rss", "X")]

    assert write_opml(feeds) == write_opml(feeds)
    assert "dateCreated" not in write_opml(feeds)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE opml [
  <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
]>
<opml version="2.0"><body><outline text="&c;" xmlUrl="https://x.example/rss"/></body></opml>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<opml version="2.0"><body><outline text="&secret;" xmlUrl="https://x.example/rss"/></body></opml>
"""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (BILLION_LAUGHS, "refused"),
        (EXTERNAL_ENTITY, "refused"),
        (b"<opml><body><outline", "not well-formed XML"),
        (b"", "not well-formed XML"),
        (b'<rss version="2.0"><channel/></rss>', "not OPML: the root element is <rss>"),
    ],
)
def test_unsafe_or_invalid_files_are_refused(content: bytes, message: str) -> None:
    with pytest.raises(OpmlError, match=f"^{message}"):
        read_opml(content)


def test_outlines_without_xml_url_are_folders_not_feeds() -> None:
    content = b'<opml version="2.0"><body><outline text="Folder"/></body></opml>'

    assert read_opml(content) == []
