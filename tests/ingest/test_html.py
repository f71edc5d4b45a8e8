"""HTML fragments and full pages to paragraphs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.clean import clean_paragraphs
from ingest.html import (
    ExtractedPage,
    _FragmentParser,
    _ParagraphBuilder,
    _parse_fragment,
    _replay_simple,
    extract_page,
    html_to_paragraphs,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "clean"

# --- html_to_paragraphs ------------------------------------------------------------------------


def test_block_elements_become_paragraphs_and_inline_text_is_joined() -> None:
    html = (
        "<h2>Budget <em>approved</em></h2>"
        "<p>The council <a href='/x'>approved</a> the <b>budget</b>.</p>"
        "<div>Second <span>block</span></div>"
        "<ul><li>first item</li><li>second <i>item</i></li></ul>"
        "<blockquote><p>A quote.</p></blockquote>"
    )
    assert html_to_paragraphs(html) == [
        "Budget approved",
        "The council approved the budget.",
        "Second block",
        "first item",
        "second item",
        "A quote.",
    ]


def test_entities_are_decoded() -> None:
    html = "<p>Fish &amp; chips&nbsp;cost &pound;5 &#8211; Trump&#x2019;s &lsquo;deal&rsquo;</p>"
    assert html_to_paragraphs(html) == ["Fish & chips cost £5 – Trump’s ‘deal’"]


@pytest.mark.parametrize(
    "noise",
    [
        "<script>var PAYLOAD = 1;</script>",
        "<SCRIPT type='text/javascript'>document.write('<p>PAYLOAD</p>')</SCRIPT>",
        "<style>.PAYLOAD { color: red }</style>",
        "<iframe src='x'>PAYLOAD fallback</iframe>",
        "<form><label>PAYLOAD</label><input name=q><button>PAYLOAD</button></form>",
        "<noscript>PAYLOAD</noscript>",
        "<template><p>PAYLOAD</p></template>",
        "<svg><text>PAYLOAD</text></svg>",
        "<figure><img src=x><figcaption>PAYLOAD caption</figcaption></figure>",
        "<!-- PAYLOAD -->",
    ],
)
def test_non_text_elements_are_dropped(noise: str) -> None:
    html = f"<p>Before.</p>{noise}<p>After.</p>"
    assert html_to_paragraphs(html) == ["Before.", "After."]


def test_an_unclosed_script_swallows_the_rest_rather_than_leaking() -> None:
    assert html_to_paragraphs("<p>Kept.</p><script>var PAYLOAD = '<p>x</p>'") == ["Kept."]


def test_self_closed_skipped_elements_skip_nothing_after_them() -> None:
    assert html_to_paragraphs("<p>One.</p><iframe src=x /><p>Two.</p>") == ["One.", "Two."]


def test_double_line_breaks_separate_paragraphs_and_single_ones_do_not() -> None:
    html = "First line<br>same paragraph.<br><br>Second paragraph.<br/> <br />Third."
    assert html_to_paragraphs(html) == [
        "First line same paragraph.",
        "Second paragraph.",
        "Third.",
    ]


def test_table_cells_are_kept_apart() -> None:
    html = "<table><tr><th>Team</th><th>Points</th></tr><tr><td>Leeds</td><td>42</td></tr></table>"
    assert html_to_paragraphs(html) == ["Team Points", "Leeds 42"]


def test_deeply_nested_markup_keeps_its_text() -> None:
    depth = 10_000
    html = "<div>" * depth + "<p>Deep text.</p>" + "</div>" * depth + "<p>After.</p>"
    assert html_to_paragraphs(html) == ["Deep text.", "After."]
    inline = "<span>" * depth + "deep inline" + "</span>" * depth
    assert html_to_paragraphs(inline) == ["deep inline"]


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>One<p>Two", ["One", "Two"]),
        ("</div></p>Stray end tags</span>", ["Stray end tags"]),
        ("<p>Unclosed <b>bold <i>italic", ["Unclosed bold italic"]),
        ("<p><![if !supportLists]>1.<![endif]> Word list</p>", ["1. Word list"]),
        ("<p>In <![CDATA[a CDATA]]> section</p>", ["In a CDATA section"]),
        ("<p>a < b and c > d</p>", ["a < b and c > d"]),
        ("<p>\x00Nul\x01 bytes</p>", ["Nul bytes"]),
        ("", []),
        ("   ", []),
    ],
)
def test_malformed_markup_is_read_as_a_browser_would(html: str, expected: list[str]) -> None:
    assert html_to_paragraphs(html) == expected


MARKUP_TOKENS = st.sampled_from(
    [
        "<", ">", "</", "<!", "<![CDATA[", "]]>", "<!--", "-->", "<![if", "<?", "&", "&#", "&#x",
        ";", "=", '"', "'", "<p>", "</p>", "<br>", "<div>", "</div>", "<script>", "</script>",
        "<style>", "<form>", "</form>", "<b>", "text", " ", "\x00", "\ud800",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(MARKUP_TOKENS | st.text(max_size=4), max_size=60).map("".join))
def test_any_markup_is_read_without_error(html: str) -> None:
    paragraphs = html_to_paragraphs(html)
    assert all(p and p == p.strip() for p in paragraphs)
    clean_paragraphs(paragraphs)


WELL_FORMED = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<div>",
        "</div>",
        "<br>",
        "<b>",
        "</b>",
        "word ",
        "&amp; ",
        "<li>",
        "<!-- c -->",
    ]
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(WELL_FORMED, max_size=20).map("".join),
    st.sampled_from(["script", "style", "iframe", "noscript", "template", "form"]),
    st.text(alphabet="abc <>/p'\"=;", max_size=30),
    st.lists(WELL_FORMED, max_size=20).map("".join),
)
def test_script_and_style_content_never_appears(
    before: str, tag: str, body: str, after: str
) -> None:
    body = body.replace(f"</{tag}", "")  # so the element really ends at its end tag
    html = f"{before}<{tag}>ZZSECRET{body}ZZSECRET</{tag}>{after}"
    assert not any("ZZSECRET" in p for p in html_to_paragraphs(html))


# The fast path (markup read by one regex) must give exactly what HTMLParser gives.

_PLAIN_NAMES = ["p", "P", "br", "BR", "div", "a", "img", "b", "h2", "li", "td", "figcaption"]
_ODD_NAMES = ["script", "style", "title", "textarea", "o:p", "x-y", "iframe", "svg", "Script"]
_PLAIN_SPACES = [" ", "  ", "\t", "\n", "\r\n", ""]
_ODD_SPACES = ["\f", "\x0b", "\xa0"]
_PLAIN_VALUES = ['"x"', "'y z'", '"a>b"', "'<p>'", "plain", '""', "&amp;", "'a/b'"]
_ODD_VALUES = ["a/b", "v/", "a=b", "", '"unclosed', "`t`", "x'y"]
_PLAIN_TEXTS = ["words", " ", "\n", "&amp;", "&lt;b&gt;", "&#x27;", "&nbsp", "&", ">", "£"]
_ODD_TEXTS = ["a < b", "<", "<!-- c -->", "<![CDATA[x]]>", "<?pi?>", "<!DOCTYPE x>", "</>"]


def _markup(odd: bool) -> st.SearchStrategy[str]:
    """Fragments of tags and text; with ``odd``, also the markup only HTMLParser may read."""

    def pick(plain: list[str], other: list[str]) -> st.SearchStrategy[str]:
        return st.sampled_from(plain + other if odd else plain)

    space = pick(_PLAIN_SPACES, _ODD_SPACES)
    value = st.builds(
        lambda equals, value: f"{equals}{value}",
        pick(["=", " = "], ["==", ""]),
        pick(_PLAIN_VALUES, _ODD_VALUES),
    )
    attribute = st.builds(
        lambda space, name, value: f"{space}{name}{value}",
        space.filter(bool),
        pick(["href", "class", "data-x", "xml:lang", "_u", "a.b"], ["9n", "/", '"q"']),
        st.just("") | value,
    )
    start_tag = st.builds(
        lambda name, attributes, space, end: f"<{name}{''.join(attributes)}{space}{end}",
        pick(_PLAIN_NAMES, _ODD_NAMES),
        st.lists(attribute, max_size=3),
        space,
        pick([">", "/>", " />"], ["/ >", ""]),
    )
    end_tag = st.builds(
        lambda name, attributes, space: f"</{name}{''.join(attributes)}{space}>",
        pick(_PLAIN_NAMES, _ODD_NAMES),
        st.lists(attribute, max_size=1 if odd else 0),
        space,
    )
    tag = start_tag | end_tag
    return st.lists(tag | pick(_PLAIN_TEXTS, _ODD_TEXTS), max_size=25).map("".join)


@settings(max_examples=500, deadline=None)
@given(_markup(odd=False) | _markup(odd=True))
def test_fast_path_reads_markup_as_htmlparser_does(html: str) -> None:
    # html_to_paragraphs drops control characters (\x0b here) before either path.
    assert html_to_paragraphs(html) == _parse_fragment(html.replace("\x0b", ""))


@pytest.mark.parametrize(
    "html",
    [
        '<p class="lead">Hello <a href="https://e.example/?a=1&amp;b=2" target=_blank>link</a></p>',
        "<P>Upper<BR/>case<br />tags</P><img src=x.png alt=''><hr>",
        "<div>\n  <figure><img src='a.jpg'/><figcaption>Caption</figcaption></figure>\n</div>",
        "<ul><li>one</li><li>two &amp; three</li></ul><table><tr><td>a</td><td>b</td></tr></table>",
        "Plain text with no markup &mdash; at all",
    ],
)
def test_common_feed_markup_takes_the_fast_path(html: str) -> None:
    builder = _ParagraphBuilder()
    assert _replay_simple(html, _FragmentParser(builder))
    builder.end_paragraph()
    assert builder.paragraphs == _parse_fragment(html)


@pytest.mark.parametrize(
    "html",
    [
        "<p>a<script>if (a<b) x()</script>b</p>",
        "<p>a<!-- note -->b</p>",
        "<p>a < b</p>",
        "<a href=/path/>x</a>",
        "<p>unclosed <b",
    ],
)
def test_other_markup_is_left_to_htmlparser(html: str) -> None:
    assert not _replay_simple(html, _FragmentParser(_ParagraphBuilder()))
    assert html_to_paragraphs(html) == _parse_fragment(html)


# --- extract_page ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def article_page() -> ExtractedPage:
    return extract_page((DATA / "article_page.html").read_bytes(), url="https://gazette.example/a")


def test_page_main_text_is_extracted_without_navigation_or_footer(article_page) -> None:
    text = "\n".join(article_page.paragraphs)
    assert article_page.paragraphs[0].startswith("The city council approved its budget")
    assert article_page.paragraphs[-1].startswith("A consultation on the library service")
    assert len(article_page.paragraphs) == 5
    for noise in ("Home", "Privacy policy", "All rights reserved", "PAYLOAD", "secret-style"):
        assert noise not in text


def test_page_caption_and_repeated_title_are_not_body(article_page) -> None:
    assert article_page.title == "Council approves budget after long debate"
    assert article_page.title not in article_page.paragraphs
    assert not any("Councillors in the chamber" in p for p in article_page.paragraphs)


def test_page_keeps_typography(article_page) -> None:
    text = "\n".join(article_page.paragraphs)
    assert "£12 million" in text and "city’s" in text and "“We have made" in text


def test_page_metadata(article_page) -> None:
    assert article_page.published == datetime(2024, 3, 5, 18, 30, tzinfo=UTC)
    assert article_page.language == "en"
    assert article_page.url == "https://gazette.example/news/council-budget"


def test_page_bytes_are_decoded_by_their_declared_charset() -> None:
    paragraph = "The minister\x92s plan costs \xa35bn \x96 more than the council\x92s estimate."
    html = (
        '<html lang="en"><head><meta charset="windows-1252"><title>Plan</title></head>'
        f"<body><article><p>{paragraph}</p><p>{paragraph} Again.</p></article></body></html>"
    ).encode("latin-1")
    page = extract_page(html)
    assert (
        page.paragraphs[0] == "The minister’s plan costs £5bn – more than the council’s estimate."
    )


def test_page_without_a_date_or_language_has_none() -> None:
    html = (
        "<html><body><article><p>"
        + "A paragraph long enough to be taken for the main text of the page. " * 3
        + "</p></article></body></html>"
    )
    page = extract_page(html, url="https://example.org/x")
    assert page.published is None
    assert page.language is None
    assert page.url == "https://example.org/x"
    assert page.paragraphs


@pytest.mark.parametrize("junk", [b"", "", "\x00\x01 junk", b"\xff\xfe\x00<<<>>>", "<" * 1000])
def test_page_without_content_is_empty_not_an_error(junk: str | bytes) -> None:
    page = extract_page(junk, url="https://example.org/empty")
    assert page.paragraphs == []
    assert page.url == "https://example.org/empty"
