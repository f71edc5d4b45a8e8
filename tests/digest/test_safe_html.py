"""Hostile feed content must come out of every renderer as inert, visible text.

The payloads leave a trace if they ever run (they set ``document.title`` and add a
``<pwned>`` element), so the browser test can reuse them to check the page in Chromium.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import feedparser
import lxml.etree
import lxml.html
import pytest
from markdown_it import MarkdownIt

from digest.atom import render_atom
from digest.build import compose
from digest.display import plain
from digest.model import Digest, DigestStory, SourceRef
from digest.render_html import LINK_REL, STYLESHEET, render_full_list, render_html
from digest.render_markdown import render_markdown
from digest.sections import Layout
from digest.select import DayItem, DayStory, Rules

# Runs without quotes or spaces, so it fits unquoted attributes as well as script bodies.
JS = (
    "document.title=/PWNED/.source;"
    "document.body.appendChild(document.createElement(/pwned/.source))"
)
MARKER_TAG = "pwned"

PAYLOADS = (
    f"<script>{JS}</script>",
    f"<img src=x onerror={JS}>",
    f'"><svg onload={JS}>',
    f"'><svg/onload={JS}>",
    f"</title><script>{JS}</script>",
    f'<iframe srcdoc="<script>parent.{JS}</script>"></iframe>',
    f'<iframe src="javascript:parent.{JS}"></iframe>',
    "<style>body{display:none}</style>",
    f'<a href="javascript:{JS}">click me</a>',
    f'<object data="javascript:{JS}"></object><embed src="javascript:{JS}">',
    f"<details open ontoggle={JS}>",
    f"<math><mtext><table><mglyph><style><img src=x onerror={JS}>",
    f"<!--<img src=x onerror={JS}>-->",
    f"]]><script>{JS}</script>",
    '<base href="javascript:/">',
    f'<meta http-equiv="refresh" content="0;url=javascript:{JS}">',
    f"<body onload={JS}>",
    f"<input autofocus onfocus={JS}>",
    f"<form action=javascript:{JS}><button>go</button></form>",
    "<link rel=stylesheet href=data:text/css,body{display:none}>",
)

UNSAFE_URLS = (
    f"javascript:{JS}",
    f"JaVaScRiPt:{JS}",
    f"  javascript:{JS}",
    f"java\tscript:{JS}",
    f"\x01javascript:{JS}",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "//evil.example/protocol-relative",
    "https:javascript:alert(1)",
    "file:///etc/passwd",
)

# An http URL is linked even when it tries to break out of the attribute.
QUOTE_BREAKING_URL = f'https://ok.example/"><script>{JS}</script>'


def payload_digest() -> Digest:
    """One story per payload: title, summary, source and "also in" name all hostile."""
    stories = tuple(
        DigestStory(
            id=i,
            title=payload,
            url=UNSAFE_URLS[i % len(UNSAFE_URLS)] if i % 4 else QUOTE_BREAKING_URL,
            source=payload,
            published=dt.datetime(2026, 11, 25, 5, i, tzinfo=dt.UTC),
            summary=(payload, "A second, harmless sentence."),
            sources=(
                SourceRef(payload, UNSAFE_URLS[(i + 1) % len(UNSAFE_URLS)]),
                SourceRef(f"Safe source {i}", f"https://safe.example/{i}"),
            ),
        )
        for i, payload in enumerate(PAYLOADS)
    )
    return Digest(
        date=dt.date(2026, 11, 25),
        generated_at=dt.datetime(2026, 11, 25, 6, 0, tzinfo=dt.UTC),
        timezone="UTC",
        stories=stories,
    )


def payload_front_page(base_url: str = "https://brief.example/") -> Digest:
    """The payloads as a laid-out front page: in titles, summaries, source names,
    categories (so section headings), languages and URLs; with headlines and "and N more"
    below the top stories."""
    stories = []
    seen = dt.datetime(2026, 11, 25, 5, 0, tzinfo=dt.UTC)
    for i, payload in enumerate(PAYLOADS * 3):
        items = tuple(
            DayItem(
                id=i * 10 + k,
                source=f"https://feed{k}.example/rss",
                source_name=payload,
                title=payload,
                url=UNSAFE_URLS[(i + k) % len(UNSAFE_URLS)] if (i + k) % 4 else QUOTE_BREAKING_URL,
                published_at=seen,
                first_seen_at=seen + dt.timedelta(minutes=i),
                summary=(payload, "A second, harmless sentence."),
                language=payload if i % 2 else "he",
                category=PAYLOADS[i % 3],
            )
            for k in range(1 + i % 3)
        )
        stories.append(DayStory(i, items[0], items))
    return compose(
        stories,
        day=dt.date(2026, 11, 25),
        generated_at=dt.datetime(2026, 11, 25, 6, 0, tzinfo=dt.UTC),
        timezone="UTC",
        base_url=base_url,
        rules=Rules(),
        layout=Layout(top_stories=5, section_stories=3, section_headlines=4),
    )


# Everything the page itself is made of; any other element or attribute came from outside.
PAGE_TAGS = {"html", "head", "meta", "title", "style", "body", "header", "h1", "main"}
BODY_TAGS = {"article", "h2", "p", "a", "time"}
FRONT_PAGE_TAGS = BODY_TAGS | {"section", "h3", "ul", "li", "span"}
FULL_LIST_TAGS = {"ol", "li", "span", "a", "p"}
ALLOWED_ATTRIBUTES = {
    "lang", "charset", "http-equiv", "content", "name", "class", "id", "href", "rel", "datetime",
}  # fmt: skip


def assert_inert(root: lxml.html.HtmlElement, allowed_tags: set[str]) -> None:
    elements = list(root.iter(lxml.etree.Element))
    assert {el.tag for el in elements} <= allowed_tags
    for el in elements:
        assert set(el.attrib) <= ALLOWED_ATTRIBUTES, (el.tag, dict(el.attrib))
        assert not any(name.lower().startswith("on") for name in el.attrib)
    for anchor in root.iter("a"):
        assert urlsplit(anchor.get("href")).scheme in {"http", "https"}
        assert anchor.get("rel") == LINK_REL


@pytest.fixture(scope="module")
def page() -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(render_html(payload_digest()))


def test_html_holds_no_element_or_attribute_from_outside(page: lxml.html.HtmlElement) -> None:
    assert_inert(page, PAGE_TAGS | BODY_TAGS)
    assert len(page.findall(".//article")) == len(PAYLOADS)


def test_html_head_is_only_ours(page: lxml.html.HtmlElement) -> None:
    assert page.findtext(".//title") == "feedbrief digest 2026-11-25"
    assert [s.text for s in page.iter("style")] == [STYLESHEET]
    assert len(page.findall(".//meta")) == 4
    assert len(page.findall(".//title")) == 1


def test_html_payloads_stay_visible_as_text(page: lxml.html.HtmlElement) -> None:
    for article, payload in zip(page.iter("article"), PAYLOADS, strict=True):
        text = plain(payload)
        assert article.find("h2").text_content() == text
        assert article.find("p[@class='byline']").text_content().startswith(f"{text} · ")
        summary = article.find("p[@class='summary']").text_content()
        assert summary == f"{text} A second, harmless sentence."
        assert text in article.find("p[@class='also']").text_content()


def test_html_drops_unsafe_links_but_keeps_their_text(page: lxml.html.HtmlElement) -> None:
    digest = payload_digest()
    for article, story in zip(page.iter("article"), digest.stories, strict=True):
        anchor = article.find("h2/a")
        if story.url == QUOTE_BREAKING_URL:
            assert anchor is not None and anchor.get("href") == QUOTE_BREAKING_URL
        else:
            assert anchor is None, story.url
        also_links = [a.get("href") for a in article.find("p[@class='also']").iter("a")]
        assert also_links == [f"https://safe.example/{story.id}"]


def test_atom_content_is_inert_before_any_reader_sanitises_it() -> None:
    xml = render_atom(
        [payload_digest()],
        feed_url="https://b.example/feed.xml",
        html_base_url="https://b.example/",
    )
    raw = feedparser.parse(xml, sanitize_html=False)
    assert raw.bozo == 0, raw.get("bozo_exception")
    (entry,) = raw.entries
    body = lxml.html.fragment_fromstring(entry.content[0].value, create_parent="div")
    assert_inert(body, {"div"} | BODY_TAGS)
    for payload in PAYLOADS:
        assert plain(payload) in body.text_content()


def test_atom_parsed_by_feedparser_has_no_script_and_shows_the_payload_text() -> None:
    xml = render_atom(
        [payload_digest()],
        feed_url="https://b.example/feed.xml",
        html_base_url="https://b.example/",
    )
    feed = feedparser.parse(xml)
    assert feed.bozo == 0, feed.get("bozo_exception")
    content = feed.entries[0].content[0].value
    body = lxml.html.fragment_fromstring(content, create_parent="div")
    assert not body.xpath("//script | //iframe | //object | //embed | //style | //svg")
    assert plain(PAYLOADS[0]) in body.text_content()


def test_markdown_rendered_with_raw_html_enabled_has_no_markup_from_outside() -> None:
    markdown = MarkdownIt("commonmark", {"html": True})
    html = markdown.render(render_markdown(payload_digest()))
    body = lxml.html.fragment_fromstring(html, create_parent="div")
    assert {el.tag for el in body.iter(lxml.etree.Element)} <= {"div", "h1", "h2", "p", "em", "a"}
    assert {urlsplit(a.get("href")).scheme for a in body.iter("a")} <= {"http", "https"}
    for payload in PAYLOADS:
        assert plain(payload) in body.text_content()


@pytest.fixture(scope="module")
def front() -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(render_html(payload_front_page()))


def test_front_page_holds_no_element_or_attribute_from_outside(
    front: lxml.html.HtmlElement,
) -> None:
    assert_inert(front, PAGE_TAGS | FRONT_PAGE_TAGS)
    headings = [h.text_content() for h in front.iterfind(".//section/h2")]
    assert headings == ["Top stories", *sorted(map(plain, PAYLOADS[:3]), key=str.casefold)]
    assert front.findall(".//ul/li") and front.findall(".//p[@class='more']/a")
    for element in front.iter(lxml.etree.Element):
        lang = element.get("lang")
        assert lang is None or lang in {"en", "he"}, lang


def test_front_page_links_only_http_urls_and_keeps_the_text(
    front: lxml.html.HtmlElement,
) -> None:
    for heading in front.iterfind(".//article/h3"):
        anchor = heading.find("a")
        assert anchor is None or anchor.get("href") == QUOTE_BREAKING_URL
        assert heading.text_content() in {plain(payload) for payload in PAYLOADS}
    for item in front.iterfind(".//ul/li"):
        assert item.text_content().split(" · ")[0] in {plain(payload) for payload in PAYLOADS}


def test_front_page_without_a_base_url_links_nothing_of_ours() -> None:
    page = lxml.html.document_fromstring(render_html(payload_front_page(base_url="javascript:x/")))
    assert_inert(page, PAGE_TAGS | FRONT_PAGE_TAGS)
    more = page.findall(".//p[@class='more']")
    assert more and all(p.find("a") is None and p.text.startswith("and ") for p in more)


def test_full_list_holds_no_element_or_attribute_from_outside() -> None:
    digest = payload_front_page()
    page = lxml.html.document_fromstring(render_full_list(digest))
    assert_inert(page, PAGE_TAGS | FULL_LIST_TAGS)
    assert len(page.findall(".//ol/li")) == len(digest.stories)


def test_front_page_markdown_has_no_markup_from_outside() -> None:
    markdown = MarkdownIt("commonmark", {"html": True})
    html = markdown.render(render_markdown(payload_front_page()))
    body = lxml.html.fragment_fromstring(html, create_parent="div")
    allowed = {"div", "h1", "h2", "h3", "p", "em", "a", "ul", "li"}
    assert {el.tag for el in body.iter(lxml.etree.Element)} <= allowed
    assert {urlsplit(a.get("href")).scheme for a in body.iter("a")} <= {"http", "https"}
    assert not body.findall(".//ul//ul") and not body.findall(".//ol")
