"""parse_feed on small feeds written for these tests (tests/data/feeds) and inline edge cases."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingest.identity import item_guid, resolve_url
from ingest.parse import ParsedFeed, parse_feed

FEEDS = Path(__file__).resolve().parents[1] / "data" / "feeds"


def parse_fixture(name: str, url: str, headers: dict[str, str] | None = None) -> ParsedFeed:
    return parse_feed((FEEDS / name).read_bytes(), url=url, headers=headers or {})


def rss(items: str, *, channel: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
        f"{channel}{items}</channel></rss>"
    ).encode()


# --- formats ------------------------------------------------------------------------------


def test_rss20_feed_metadata_and_full_content() -> None:
    feed = parse_fixture("rss20.xml", "https://gazette.example/feeds/news.xml")

    assert feed.is_feed and feed.bozo_reason is None
    assert (feed.title, feed.link, feed.language) == (
        "Harbour Gazette",
        "https://gazette.example/",
        "en-GB",
    )
    assert feed.ttl_seconds == 90 * 60
    first = feed.entries[0]
    assert first.guid == "gazette-2026-0142"
    assert first.title == "Ferry timetable changes & new routes"
    assert first.url == "https://gazette.example/news/ferry-timetable"
    assert first.author == "Ada Byrne"
    assert first.language == "en-GB"
    # content:encoded wins over the teaser in <description>; the script is not text.
    assert first.paragraphs == [
        "The harbour authority published a new ferry timetable on Tuesday.",
        "Two new routes start in March, linking the island villages twice a day.",
    ]


def test_rss_description_html_is_used_when_there_is_no_full_content() -> None:
    lighthouse = parse_fixture("rss20.xml", "https://gazette.example/rss").entries[1]

    assert lighthouse.paragraphs == [
        "The restored lighthouse opened to visitors on Monday.",
        "Tickets are free until spring.",
    ]


def test_atom10_with_xml_base_html_titles_and_text_content() -> None:
    feed = parse_fixture("atom10.xml", "https://bergbahn.example/feeds/atom.xml")

    assert (feed.title, feed.link, feed.language) == (
        "Bergbahn Notizen",
        "https://bergbahn.example/blog/",
        "de",
    )
    gondel, snow = feed.entries
    assert gondel.title == "Neue Gondel in Betrieb"
    assert gondel.url == "https://bergbahn.example/blog/2026/01/gondel"
    assert gondel.published == datetime(2026, 1, 7, 7, 0, tzinfo=UTC)  # published, not updated
    assert gondel.author == "Jonas Huber"
    assert gondel.paragraphs == ["Die neue Gondel fährt seit Mittwoch.", "Sie fasst zehn Personen."]
    assert gondel.language == "de"
    # Per-entry absolute xml:base, per-entry xml:lang, and type="text" kept literally.
    assert snow.url == "https://elsewhere.example/mirror/snow-report"
    assert snow.language == "en"
    assert snow.published == datetime(2026, 1, 7, 4, 30, tzinfo=UTC)  # only <updated>
    assert snow.paragraphs == [
        "Fresh snow overnight: 20 cm <more> than forecast.",
        "Lifts open at eight.",
    ]


def test_rss10_rdf_feed() -> None:
    feed = parse_fixture("rss10-rdf.xml", "https://library.example/rss")

    assert feed.is_feed and feed.language == "fr"
    assert [a.guid for a in feed.entries] == [
        "https://library.example/notices/1",
        "https://library.example/notices/2",
    ]
    assert feed.entries[0].published == datetime(2026, 1, 2, 9, 0, tzinfo=UTC)
    assert feed.entries[0].text == "La bibliothèque ferme à 18 heures pendant l'hiver."
    assert feed.entries[1].published is None


@pytest.mark.parametrize(
    ("name", "headers"),
    [
        ("jsonfeed-1.0.json", {"Content-Type": "application/feed+json"}),
        ("jsonfeed-1.0.json", {"Content-Type": "application/json; charset=utf-8"}),
        ("jsonfeed-1.0.json", {}),  # sniffed from the opening brace
        ("jsonfeed-1.0.json", {"Content-Type": "text/plain"}),
    ],
)
def test_json_feed_is_recognised_by_media_type_or_body(name: str, headers: dict[str, str]) -> None:
    feed = parse_fixture(name, "https://orchard.example/feed.json", headers)

    assert feed.is_feed and feed.title == "Orchard Diary"
    assert len(feed.entries) == 2


def test_json_feed_10_items() -> None:
    pruning, frost = parse_fixture("jsonfeed-1.0.json", "https://orchard.example/feed.json").entries

    assert pruning.guid == "https://orchard.example/2026/pruning"
    assert pruning.title == "Pruning the old pear trees"
    assert pruning.paragraphs == [
        "We pruned the old pear trees this weekend.",
        "The cuttings went to the compost.",
    ]
    assert pruning.published == datetime(2026, 1, 3, 15, 45, tzinfo=UTC)
    assert pruning.author == "Mira Kovač"  # the feed's author, inherited
    assert frost.guid == "2026004"  # a numeric id is coerced to a string, as the spec says
    assert frost.url == "https://orchard.example/2026/frost"
    assert frost.paragraphs == ["Frost last night.", "The water butt froze solid."]
    assert frost.title == "Frost last night."  # no title: the start of the text stands in
    assert frost.published == datetime(2026, 1, 4, 7, 0, tzinfo=UTC)  # date_modified


def test_json_feed_11_items() -> None:
    feed = parse_fixture("jsonfeed-1.1.json", "https://tram.example/feed.json")

    diverted, press = feed.entries
    assert feed.language == "nl"
    assert (diverted.author, diverted.language) == ("Eva Smit", "en")
    assert (press.author, press.language) == ("Pieter de Vries", "nl")
    assert press.url == "https://city.example/press/tram"  # external_url when no url
    assert press.text == "The city announced the tram works schedule."  # summary fallback


def test_json_feed_with_wrong_types_keeps_what_it_can() -> None:
    feed = parse_fixture("jsonfeed-wrong-types.json", "https://wrong.example/feed.json")

    assert feed.is_feed
    assert feed.title is None and feed.link is None
    assert feed.bozo_reason == "1 item(s) that are not JSON objects skipped"
    boolean_id, numeric_id, blank_id = feed.entries
    assert boolean_id.guid.startswith("sha256:")
    assert boolean_id.url is None
    assert boolean_id.text == "Survives wrong types."
    assert boolean_id.author == "Real Name"
    assert boolean_id.published is None
    assert numeric_id.guid == "3.5"
    assert numeric_id.published is None
    assert blank_id.guid == "https://wrong.example/a"


# --- broken feeds and non-feeds -----------------------------------------------------------


def test_bozo_feed_keeps_every_entry_and_says_why() -> None:
    feed = parse_fixture("bozo-undefined-entity.xml", "https://market.example/rss")

    assert feed.is_feed
    assert feed.bozo_reason is not None and "undefined entity" in feed.bozo_reason
    assert [a.title for a in feed.entries] == ["Prices rise…", "Fish & chips stall opens"]


@pytest.mark.parametrize(
    "headers", [{"Content-Type": "text/html; charset=utf-8"}, {}], ids=["declared", "sniffed"]
)
def test_html_page_is_not_a_feed(headers: dict[str, str]) -> None:
    page = parse_fixture("page-with-feeds.html", "https://gazette.example/", headers)

    assert not page.is_feed
    assert page.entries == ()
    assert page.bozo_reason


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty body"),
        (b" \r\n", "empty body"),
        (b'{"hello": "world"}', "not a JSON Feed: no jsonfeed.org version and no items list"),
        (b"[1, 2]", "not a JSON Feed: top level is a list"),
        (b"{not json", "invalid JSON"),
    ],
)
def test_bodies_that_are_not_feeds(body: bytes, reason: str) -> None:
    parsed = parse_feed(
        body, url="https://x.example/", headers={"Content-Type": "application/json"}
    )

    assert not parsed.is_feed
    assert parsed.bozo_reason is not None and parsed.bozo_reason.startswith(reason)


def test_feedparser_never_reads_a_local_file_named_by_the_body(tmp_path: Path) -> None:
    secret = tmp_path / "secret.xml"
    secret.write_bytes(rss("<item><title>leaked</title></item>"))

    parsed = parse_feed(str(secret).encode(), url="https://x.example/", headers={})

    assert not parsed.is_feed


# --- encodings ------------------------------------------------------------------------------

CYRILLIC = "Новости Оренбурга"


def test_charset_declared_only_in_content_type_is_used() -> None:
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>'
        f"{CYRILLIC}</title><item><title>{CYRILLIC}</title><guid>1</guid></item>"
        "</channel></rss>"
    ).encode("windows-1251")

    feed = parse_feed(
        body,
        url="https://oren.example/rss",
        headers={"Content-Type": "application/rss+xml; charset=windows-1251"},
    )

    assert feed.title == CYRILLIC
    assert feed.entries[0].title == CYRILLIC


def test_xml_declaration_encoding_is_used_without_headers() -> None:
    body = (
        f'<?xml version="1.0" encoding="koi8-r"?><rss version="2.0"><channel><title>{CYRILLIC}'
        "</title></channel></rss>"
    ).encode("koi8-r")

    assert parse_feed(body, url="https://x.example/", headers={}).title == CYRILLIC


def test_utf8_feed_from_a_server_that_sent_no_content_type_is_read_as_utf8() -> None:
    body = f'<rss version="2.0"><channel><title>{CYRILLIC}</title></channel></rss>'.encode()

    feed = parse_feed(body, url="https://x.example/", headers={"ETag": '"1"'})

    assert feed.title == CYRILLIC and feed.bozo_reason is None


# --- identity, links, dates -----------------------------------------------------------------


def test_identity_falls_back_from_guid_to_link_to_hash() -> None:
    feed = parse_fixture("rss20.xml", "https://gazette.example/rss")
    with_guid, with_link, with_neither = feed.entries

    assert with_guid.guid == "gazette-2026-0142"
    assert with_link.guid == "https://gazette.example/news/lighthouse"
    expected = hashlib.sha256(
        b"Letters to the editor\n\nReaders wrote about the fish market."
    ).hexdigest()
    assert with_neither.guid == f"sha256:{expected}"


def test_hash_identity_changes_with_content_and_not_with_position() -> None:
    first = parse_feed(
        rss("<item><title>A</title><description>one</description></item>"),
        url="https://x.example/",
        headers={},
    )
    moved = parse_feed(
        rss(
            "<item><title>B</title><description>two</description></item>"
            "<item><title>A</title><description>one</description></item>"
        ),
        url="https://x.example/",
        headers={},
    )
    edited = parse_feed(
        rss("<item><title>A</title><description>one, edited</description></item>"),
        url="https://x.example/",
        headers={},
    )

    assert first.entries[0].guid == moved.entries[1].guid
    assert first.entries[0].guid != edited.entries[0].guid


def test_guid_does_not_depend_on_the_feed_url() -> None:
    body = rss("<item><title>A</title><guid>12345</guid><link>/a</link></item>")

    old = parse_feed(body, url="https://old.example/rss", headers={}).entries[0]
    moved = parse_feed(body, url="https://new.example/feed", headers={}).entries[0]

    assert old.guid == moved.guid == "12345"
    assert (old.url, moved.url) == ("https://old.example/a", "https://new.example/a")


def test_relative_links_resolve_against_content_location() -> None:
    body = rss("<item><title>A</title><link>a.html</link></item>")

    entry = parse_feed(
        body,
        url="https://cdn.example/x/rss",
        headers={"Content-Location": "https://site.example/news/rss.xml"},
    ).entries[0]

    assert entry.url == "https://site.example/news/a.html"


def test_dates_are_normalised_to_aware_utc() -> None:
    feed = parse_fixture("rss20.xml", "https://gazette.example/rss")

    ferry, lighthouse, letters = feed.entries
    assert ferry.published == datetime(2026, 1, 6, 7, 30, tzinfo=UTC)  # from +0200
    assert ferry.published is not None and ferry.published.utcoffset() == timedelta(0)
    assert lighthouse.published == datetime(2026, 1, 5, 18, 0, tzinfo=UTC)
    assert letters.published is None  # the caller uses first-seen


@pytest.mark.parametrize("ttl", ["0", "-5", "soon", ""])
def test_nonsense_ttl_is_no_hint(ttl: str) -> None:
    feed = parse_feed(rss("", channel=f"<ttl>{ttl}</ttl>"), url="https://x.example/", headers={})

    assert feed.ttl_seconds is None


def test_untitled_entry_takes_the_start_of_its_text_cut_at_a_word() -> None:
    words = " ".join(["harbour"] * 40)
    feed = parse_feed(rss(f"<item><description>{words}</description></item>"), url="u", headers={})

    title = feed.entries[0].title
    assert title.endswith("…") and len(title) <= 121
    assert title[:-1].split(" ") == ["harbour"] * len(title[:-1].split(" "))


def test_longest_content_element_is_chosen() -> None:
    body = rss(
        '<item xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        ' xmlns:xhtml="http://www.w3.org/1999/xhtml"><title>A</title>'
        "<content:encoded>&lt;p&gt;short&lt;/p&gt;</content:encoded>"
        "<xhtml:body><xhtml:p>the much longer body text</xhtml:p></xhtml:body></item>"
    )

    entry = parse_feed(body, url="https://x.example/", headers={}).entries[0]

    assert entry.text == "the much longer body text"


# identity helpers, table-driven


@pytest.mark.parametrize(
    ("guid", "link", "expected"),
    [
        ("  id-1 ", "https://x/a", "id-1"),
        ("", "https://x/a", "https://x/a"),
        ("   ", " https://x/a ", "https://x/a"),
        (None, None, "sha256:" + hashlib.sha256(b"T\n\nC").hexdigest()),
    ],
)
def test_item_guid_fallbacks(guid: str | None, link: str | None, expected: str) -> None:
    assert item_guid(guid=guid, link=link, title="T", content="C") == expected


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        ("/a", "https://x.example/feed/rss", "https://x.example/a"),
        ("a", "https://x.example/feed/rss", "https://x.example/feed/a"),
        ("https://y.example/b", "https://x.example/", "https://y.example/b"),
        ("  ", "https://x.example/", None),
        (None, "https://x.example/", None),
        ("/a", None, "/a"),
    ],
)
def test_resolve_url(url: str | None, base: str | None, expected: str | None) -> None:
    assert resolve_url(url, base) == expected
