from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from dataclasses import replace
from pathlib import Path

import feedparser
import lxml.html
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from digest import atomicfile, publish
from digest.atom import render_atom
from digest.display import plain
from digest.model import Digest, DigestStory, SourceRef, load_digest_json, render_json
from digest.publish import write_digest, write_feed
from digest.render_html import render_full_list, render_html, render_html_body
from digest.render_markdown import render_markdown

DAY = dt.date(2026, 11, 25)
MORNING = dt.datetime(2026, 11, 25, 6, 30, tzinfo=dt.UTC)
FEED_URL = "https://brief.example/digests/feed.xml"
BASE_URL = "https://brief.example/digests/"

ROVER = DigestStory(
    id=7,
    title="Rover finds ice",
    url="https://space.example/rover",
    source="Space Weekly",
    published=dt.datetime(2026, 11, 25, 5, 10, tzinfo=dt.UTC),
    summary=("The rover found ice near the equator.", "Scientists are cautious."),
    sources=(
        SourceRef("Space Weekly", "https://space.example/rover"),
        SourceRef("Planet Daily", "https://planet.example/ice"),
        SourceRef("seed:docs/mars.txt", None),
    ),
)
SEED = DigestStory(
    id=8,
    title="Annual report",
    url=None,
    source="seed:docs/report.txt",
    published=None,
    summary=("Revenue grew.",),
)


def make_digest(
    day: dt.date = DAY, generated_at: dt.datetime = MORNING, **changes: object
) -> Digest:
    digest = Digest(day, generated_at, "Europe/Paris", (ROVER, SEED))
    return replace(digest, **changes)


# A CommonMark renderer with raw HTML allowed, as the most permissive readers are.
COMMONMARK = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
# Text built from pieces Markdown acts on, mixed with anything at all.
_MARKDOWN_PIECES = (
    "*",
    "**",
    "_",
    "`",
    "[",
    "](",
    ")",
    "![",
    "<b>",
    "</b>",
    "<http://a.example>",
    "&amp;",
    "&#42;",
    "#",
    "- ",
    "+ ",
    "1. ",
    "2)",
    "---",
    "> ",
    "|",
    "~~",
    "\\",
    "\n",
    " ",
    "word",
)
MARKDOWNISH = st.lists(st.sampled_from(_MARKDOWN_PIECES) | st.text(max_size=3), max_size=12).map(
    "".join
)


# Markdown


def test_markdown_page_has_dated_heading_and_one_section_per_story() -> None:
    text = render_markdown(make_digest())
    assert text.startswith("# feedbrief — 2026-11-25\n")
    assert re.findall(r"^## .*$", text, flags=re.MULTILINE) == [
        "## [Rover finds ice](https://space.example/rover)",
        "## Annual report",
    ]


def test_markdown_story_shows_source_local_time_summary_and_other_sources() -> None:
    section = render_markdown(make_digest()).split("## ")[1]
    paragraphs = section.strip().split("\n\n")
    assert paragraphs[1] == "Space Weekly · 2026-11-25 06:10"  # 05:10 UTC in Paris
    assert paragraphs[2] == "The rover found ice near the equator. Scientists are cautious."
    assert paragraphs[3] == (
        "Also in: [Planet Daily](https://planet.example/ice), seed:docs/mars.txt"
    )


def test_markdown_says_so_when_there_are_no_stories() -> None:
    assert "No new stories today." in render_markdown(make_digest(stories=()))


def test_markdown_escapes_active_characters_in_titles() -> None:
    story = replace(ROVER, title="[Deal](javascript:x) *big* <b>news</b> `code` & co")
    html = COMMONMARK.render(render_markdown(make_digest(stories=(story,))))
    heading = lxml.html.fragment_fromstring(html, create_parent="div").find(".//h2")
    assert heading.text_content() == story.title
    assert [a.get("href") for a in heading.iter("a")] == ["https://space.example/rover"]
    assert heading.find(".//em") is None and heading.find(".//b") is None


@pytest.mark.parametrize(
    "url",
    ["https://x.example/wiki/A_(b)", "https://x.example/a)b(c", "https://x.example/q?a=<x>\\)"],
)
def test_markdown_link_keeps_urls_with_brackets_whole(url: str) -> None:
    story = replace(ROVER, url=url, sources=())
    tokens = COMMONMARK.parse(render_markdown(make_digest(stories=(story,))))
    links = [c for t in tokens for c in t.children or () if c.type == "link_open"]
    assert [link.attrs["href"] for link in links] == [COMMONMARK.normalizeLink(url)]


def test_markdown_drops_a_link_whose_url_has_spaces_rather_than_break_the_line() -> None:
    story = replace(ROVER, url="https://x.example/a b) [c](javascript:x")
    tokens = COMMONMARK.parse(render_markdown(make_digest(stories=(story,))))
    heading = next(t for t in tokens if t.type == "inline" and t.content.startswith("Rover"))
    assert _inline_text(heading) == "Rover finds ice"
    assert not any(c.type == "link_open" for c in heading.children)


@pytest.mark.parametrize(
    "summary", ["1. not a list", "- not a list", "+ nor this", "# not a heading", "---", "=== x"]
)
def test_markdown_summary_starting_like_a_block_marker_stays_a_paragraph(summary: str) -> None:
    story = replace(SEED, summary=(summary,))
    tokens = COMMONMARK.parse(render_markdown(make_digest(stories=(story,))))
    block_types = {t.type for t in tokens}
    assert not block_types & {"bullet_list_open", "ordered_list_open", "hr"}
    paragraphs = [t.content for t in tokens if t.type == "inline"]
    rendered = COMMONMARK.renderInline(paragraphs[-1])
    assert lxml.html.fragment_fromstring(rendered, create_parent="p").text_content() == summary


@given(title=MARKDOWNISH, summary=MARKDOWNISH, source=MARKDOWNISH)
@example(title="closing #", summary="# heading", source="> quote")
@example(title="a](javascript:x)", summary="*em* `code` <b>", source="1. one")
def test_markdown_renders_any_outside_text_literally(title: str, summary: str, source: str) -> None:
    story = replace(ROVER, title=title, summary=(summary,), source=source, published=None)
    story = replace(story, sources=(SourceRef(title, "https://planet.example/ice"),))
    tokens = COMMONMARK.parse(render_markdown(make_digest(stories=(story,))))

    assert not any(t.type.startswith("html") for t in tokens)
    inline = [t for t in tokens if t.type == "inline"]
    children = [c for t in inline for c in t.children or ()]
    assert not any(c.type.startswith("html") for c in children)
    hrefs = [c.attrs["href"] for c in children if c.type == "link_open"]
    expected_hrefs = [ROVER.url, "https://planet.example/ice"] if plain(title) else [ROVER.url]
    assert hrefs == expected_hrefs
    texts = [_inline_text(t) for t in inline]
    assert texts[2] == (plain(title) or "(untitled)")
    assert texts[3] == (plain(source) or "unknown source")
    if plain(summary):
        assert texts[4] == plain(summary)
    if plain(title):
        assert texts[-1] == f"Also in: {plain(title)}"


def _inline_text(token) -> str:
    rendered = COMMONMARK.renderer.renderInline(token.children, {}, {})
    return lxml.html.fragment_fromstring(rendered, create_parent="p").text_content()


# HTML


def test_html_page_is_self_contained_with_charset_lang_and_our_title() -> None:
    doc = lxml.html.document_fromstring(render_html(make_digest()))
    assert doc.get("lang") == "en"
    assert doc.find(".//meta[@charset]").get("charset") == "utf-8"
    assert doc.findtext(".//title") == "feedbrief digest 2026-11-25"
    assert doc.find(".//style") is not None
    assert not doc.xpath("//script | //link[@rel='stylesheet'] | //img")


def test_html_shows_each_story_in_the_given_order() -> None:
    doc = lxml.html.document_fromstring(render_html(make_digest()))
    articles = doc.findall(".//article")
    assert [a.get("id") for a in articles] == ["story-7", "story-8"]
    rover, seed = articles
    assert rover.findtext("h2/a") == "Rover finds ice"
    assert rover.find("h2/a").get("href") == "https://space.example/rover"
    assert rover.find(".//time").get("datetime") == "2026-11-25T06:10:00+01:00"
    assert rover.find(".//p[@class='summary']").text_content() == (
        "The rover found ice near the equator. Scientists are cautious."
    )
    also = rover.find(".//p[@class='also']")
    assert [a.text for a in also.iter("a")] == ["Planet Daily"]
    assert also.text_content() == "Also in: Planet Daily, seed:docs/mars.txt"
    assert seed.findtext("h2") == "Annual report" and seed.find("h2/a") is None
    assert seed.find(".//time") is None


def test_html_says_so_when_there_are_no_stories() -> None:
    doc = lxml.html.document_fromstring(render_html(make_digest(stories=())))
    assert doc.findall(".//article") == []
    assert "No new stories today." in doc.text_content()


def test_html_stylesheet_is_allowed_by_the_page_content_security_policy() -> None:
    doc = lxml.html.document_fromstring(render_html(make_digest()))
    policy = doc.find(".//meta[@http-equiv='Content-Security-Policy']").get("content")
    style = doc.findtext(".//style")
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in policy
    assert "default-src 'none'" in policy


# Atom


def test_atom_feed_parses_cleanly_with_one_entry_per_day_newest_first() -> None:
    days = [
        make_digest(DAY - dt.timedelta(days=n), MORNING - dt.timedelta(days=n)) for n in (2, 0, 1)
    ]
    feed = feedparser.parse(render_atom(days, feed_url=FEED_URL, html_base_url=BASE_URL))
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert [e.link for e in feed.entries] == [
        f"{BASE_URL}2026-11-25.html",
        f"{BASE_URL}2026-11-24.html",
        f"{BASE_URL}2026-11-23.html",
    ]
    assert feed.feed.updated == "2026-11-25T06:30:00+00:00"
    assert [e.updated for e in feed.entries] == [
        "2026-11-25T06:30:00+00:00",
        "2026-11-24T06:30:00+00:00",
        "2026-11-23T06:30:00+00:00",
    ]
    assert {link.rel: link.href for link in feed.feed.links}["self"] == FEED_URL


def test_atom_entry_carries_the_digest_body_as_html() -> None:
    feed = feedparser.parse(render_atom([make_digest()], feed_url=FEED_URL, html_base_url=BASE_URL))
    (entry,) = feed.entries
    assert entry.title == "feedbrief — 2026-11-25"
    assert entry.content[0].type == "text/html"
    body = lxml.html.fragment_fromstring(entry.content[0].value, create_parent="div")
    assert [h.text_content() for h in body.iter("h2")] == ["Rover finds ice", "Annual report"]


def test_atom_entry_id_is_stable_across_regeneration_and_distinct_per_day() -> None:
    def entry_ids(digest: Digest) -> list[str]:
        feed = feedparser.parse(render_atom([digest], feed_url=FEED_URL, html_base_url=BASE_URL))
        return [e.id for e in feed.entries]

    first = entry_ids(make_digest())
    assert first == entry_ids(make_digest(generated_at=MORNING + dt.timedelta(hours=5)))
    assert first != entry_ids(make_digest(DAY - dt.timedelta(days=1)))
    assert first[0].startswith("tag:brief.example,2026-11-25:")


def test_atom_keeps_the_latest_regeneration_of_a_day() -> None:
    early = make_digest()
    late = make_digest(generated_at=MORNING + dt.timedelta(hours=1), stories=(SEED,))
    feed = feedparser.parse(render_atom([late, early], feed_url=FEED_URL, html_base_url=BASE_URL))
    (entry,) = feed.entries
    assert entry.updated == "2026-11-25T07:30:00+00:00"
    assert "Rover" not in entry.content[0].value


def test_atom_feed_without_digests_is_still_valid() -> None:
    feed = feedparser.parse(render_atom([], feed_url=FEED_URL, html_base_url=BASE_URL))
    assert feed.bozo == 0 and feed.entries == []


def test_atom_needs_absolute_urls() -> None:
    with pytest.raises(ValueError, match="absolute URL"):
        render_atom([make_digest()], feed_url="feed.xml", html_base_url=BASE_URL)


def test_atom_stays_valid_xml_when_outside_text_holds_control_characters() -> None:
    story = replace(
        ROVER,
        title="bell\x07 and nul\x00",
        url="https://space.example/a\x0bb",
        summary=("form\x0cfeed \ufffe",),
    )
    xml = render_atom([make_digest(stories=(story,))], feed_url=FEED_URL, html_base_url=BASE_URL)
    feed = feedparser.parse(xml)
    assert feed.bozo == 0, feed.get("bozo_exception")
    body = lxml.html.fragment_fromstring(feed.entries[0].content[0].value, create_parent="div")
    assert body.findtext(".//h2") == "bell and nul"  # text kept, link with a control dropped


# Writing files


def test_write_digest_writes_dated_markdown_html_full_list_and_whole_json(
    tmp_path: Path,
) -> None:
    digest = make_digest()
    out = tmp_path / "digests"
    paths = write_digest(digest, out)

    assert [p.name for p in paths] == [
        "2026-11-25.md",
        "2026-11-25.html",
        "2026-11-25-all.html",
        "2026-11-25.json",
    ]
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)
    md, html, full_list, json_path = paths
    assert md.read_text(encoding="utf-8") == render_markdown(digest)
    assert html.read_text(encoding="utf-8") == render_html(digest)
    assert full_list.read_text(encoding="utf-8") == render_full_list(digest)
    assert json_path.read_text(encoding="utf-8") == render_json(digest)
    assert load_digest_json(json_path) == digest


def test_write_digest_with_the_html_body_handed_in_writes_the_same_page(tmp_path: Path) -> None:
    digest = make_digest()
    whole = write_digest(digest, tmp_path / "whole")
    handed = write_digest(digest, tmp_path / "handed", html_body=render_html_body(digest))
    assert [p.read_bytes() for p in handed] == [p.read_bytes() for p in whole]


def test_write_digest_syncs_its_directory_once_for_all_three_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[Path] = []
    monkeypatch.setattr(atomicfile, "_fsync_directory", synced.append)
    write_digest(make_digest(), tmp_path)
    assert synced == [tmp_path]


def test_write_digest_failing_part_way_keeps_the_files_already_replaced_synced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[Path] = []
    monkeypatch.setattr(atomicfile, "_fsync_directory", synced.append)

    def broken(digest: Digest) -> str:
        raise RuntimeError("render failed")

    monkeypatch.setattr(publish, "render_json", broken)
    with pytest.raises(RuntimeError):
        write_digest(make_digest(), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "2026-11-25-all.html",
        "2026-11-25.html",
        "2026-11-25.md",
    ]
    assert synced == [tmp_path]


def test_feed_can_be_rebuilt_from_the_json_files_on_disk(tmp_path: Path) -> None:
    digests = [make_digest(DAY - dt.timedelta(days=n)) for n in range(3)]
    for digest in digests:
        write_digest(digest, tmp_path)
    reloaded = [load_digest_json(p) for p in sorted(tmp_path.glob("*.json"))]

    feed_path = write_feed(reloaded, tmp_path, feed_url=FEED_URL, html_base_url=BASE_URL)

    assert feed_path == tmp_path / "feed.xml"
    assert feed_path.read_text(encoding="utf-8") == render_atom(
        digests, feed_url=FEED_URL, html_base_url=BASE_URL
    )
    assert feedparser.parse(feed_path.read_bytes()).bozo == 0
