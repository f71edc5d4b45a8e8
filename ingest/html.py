"""HTML to paragraphs: feed content fragments and whole web pages.

Both entry points return paragraphs that are whitespace-normalised but *not* noise-cleaned;
callers run :func:`ingest.clean.clean_paragraphs` (and ``clean_title``) afterwards, so that
one set of noise rules applies whatever the source.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from html import unescape
from html.parser import HTMLParser

import structlog
import trafilatura
from lxml import etree
from trafilatura.utils import load_html

from ingest.dates import parse_date
from ingest.records import cap_paragraphs
from ingest.text import collapse_whitespace, strip_control_characters

log = structlog.get_logger(__name__)

_LANGUAGE_TAG = re.compile(r"([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*")

# Elements whose content is never article text. figcaption is here on purpose: a caption
# describes a picture, it is not body text (the caption-twin rule in ingest.clean catches the
# captions that arrive without markup).
_HTML_SKIPPED = frozenset(
    {
        "audio", "button", "canvas", "datalist", "embed", "figcaption", "form", "head",
        "iframe", "map", "math", "nav", "noembed", "noframes", "noscript", "object", "option",
        "script", "select", "style", "svg", "template", "textarea", "title", "video",
    }
)  # fmt: skip
_HTML_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "center", "dd",
        "details", "dialog", "div", "dl", "dt", "fieldset", "figure", "footer", "h1", "h2",
        "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "legend", "li", "main",
        "menu", "ol", "p", "pre", "section", "summary", "table", "tbody", "tfoot", "thead",
        "tr", "ul",
    }
)  # fmt: skip
_HTML_CELLS = frozenset({"td", "th"})
# HTML void elements never get an end tag, so they must not open a skipped region.
_HTML_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
     "track", "wbr"}
)  # fmt: skip

# Tags of trafilatura's XML body (see trafilatura's documentation of its XML output).
_TRAFILATURA_BLOCKS = frozenset(
    {"p", "head", "list", "item", "quote", "table", "row", "code", "div"}
)
_TRAFILATURA_CELLS = frozenset({"cell"})
_TRAFILATURA_SKIPPED = frozenset({"graphic", "note"})


class _ParagraphBuilder:
    """Collects text runs into paragraphs as block boundaries arrive.

    Markup is fed as a flat stream of events, so nesting depth costs nothing: the same
    builder serves the streaming fragment parser and trafilatura's tree.
    """

    def __init__(self) -> None:
        self.paragraphs: list[str] = []
        self._parts: list[str] = []
        self._line_breaks = 0

    def text(self, data: str) -> None:
        self._parts.append(data)
        if not data.isspace():
            self._line_breaks = 0

    def separate(self) -> None:
        """Keep the words of neighbouring table cells apart."""
        self._parts.append(" ")

    def line_break(self) -> None:
        # Feeds often write paragraphs as text<br><br>text; a single <br> is only a line
        # break inside a paragraph.
        self._line_breaks += 1
        if self._line_breaks >= 2:
            self.end_paragraph()
        else:
            self._parts.append("\n")

    def end_paragraph(self) -> None:
        if self._parts:  # most block boundaries come with nothing collected since the last
            paragraph = collapse_whitespace("".join(self._parts))
            if paragraph:
                self.paragraphs.append(paragraph)
            self._parts = []
        self._line_breaks = 0


class _FragmentParser(HTMLParser):
    """Streams an HTML fragment into a :class:`_ParagraphBuilder`.

    The stdlib parser is used rather than lxml because it is streaming: libxml2 silently
    drops content nested deeper than 256 levels (2048 with ``huge_tree``), while this keeps
    every text run whatever the depth, and never recurses.
    """

    def __init__(self, builder: _ParagraphBuilder) -> None:
        super().__init__(convert_charrefs=True)
        self._builder = builder
        # Open elements whose content is dropped, innermost last, with a count per tag so a
        # stray end tag costs nothing however deep the nesting.
        self._skipped: list[str] = []
        self._skipped_count: Counter[str] = Counter()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HTML_SKIPPED and tag not in _HTML_VOID:
            self._skipped.append(tag)
            self._skipped_count[tag] += 1
        elif self._skipped:
            return
        elif tag == "br":
            self._builder.line_break()
        elif tag in _HTML_BLOCKS:
            self._builder.end_paragraph()
        elif tag in _HTML_CELLS:
            self._builder.separate()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <iframe/> and friends: self-closed, so nothing is skipped after them.
        if self._skipped or tag in _HTML_SKIPPED:
            return
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if self._skipped:
            if self._skipped_count[tag]:
                # Close the innermost open element of that name and anything left open in it.
                while (closed := self._skipped.pop()) != tag:
                    self._skipped_count[closed] -= 1
                self._skipped_count[tag] -= 1
            return
        if tag == "br":  # </br> is treated as <br> by browsers
            self._builder.line_break()
        elif tag in _HTML_BLOCKS:
            self._builder.end_paragraph()
        elif tag in _HTML_CELLS:
            self._builder.separate()

    def handle_data(self, data: str) -> None:
        if not self._skipped:
            self._builder.text(data)

    def parse_marked_section(self, i: int, report: int = 1) -> int:
        # Before Python 3.13 the stdlib asserts on marked sections it does not know, such as
        # Word's <![if !supportLists]>; browsers treat those as bogus comments, and so do we.
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:
            end = self.rawdata.find(">", i + 3)
            return -1 if end < 0 else end + 1

    def unknown_decl(self, data: str) -> None:
        # A CDATA section left inside a fragment is still text a reader would see.
        if data.startswith("CDATA[") and not self._skipped:
            self._builder.text(data[len("CDATA[") :])


# The markup most feeds send: text, and start and end tags with alphanumeric names and
# well-formed attributes (each after whitespace, its value quoted or a plain word). For it,
# HTMLParser's own rules come down to this one regex: a fragment made only of these pieces
# is fed to the parser's handlers straight from it, at a fraction of HTMLParser's cost.
# Anything else -- comments, declarations, a stray "<", an unquoted value running into
# "/" -- and the fragment goes through HTMLParser whole. Attributes are matched, not read:
# the handlers ignore them.
_SIMPLE_PIECE = re.compile(
    r"""
    (?P<text>[^<]+)
    | <(?P<start>[a-zA-Z][a-zA-Z0-9]*)
        (?:[\t\n\r\f ]+[a-zA-Z_:][-a-zA-Z0-9_:.]*
            (?:[\t\n\r\f ]*=[\t\n\r\f ]*
                (?:"[^"]*"|'[^']*'|[^\s"'=<>`/]+(?=[\t\n\r\f >]))
            )?
        )*
        [\t\n\r\f ]*(?P<empty>/)?>
    | </(?P<end>[a-zA-Z][a-zA-Z0-9]*)[\t\n\r\f ]*>
    """,
    re.VERBOSE,
)
# Elements whose content HTMLParser reads as raw text (script, style), and those that newer
# Pythons add to them: after one of these the regex's reading would no longer be the
# parser's, so a fragment naming one anywhere is left to the parser.
_RAW_TEXT_TAG = re.compile(
    "<(?i:"
    + "|".join(
        {*HTMLParser.CDATA_CONTENT_ELEMENTS, "iframe", "noembed", "noframes", "noscript",
         "plaintext", "textarea", "title", "xmp"}
    )
    + ")(?=[\t\n\r\f />])"
)  # fmt: skip


# The character references feeds use most, by name (what follows "&", up to ";"), each
# with the text html.unescape makes of it.
_COMMON_REFERENCES = {
    name: unescape(f"&{name};")
    for name in (
        "amp", "lt", "gt", "quot", "#39", "#x27", "nbsp", "rsquo", "lsquo", "rdquo", "ldquo",
        "mdash", "ndash", "hellip", "#8211", "#8212", "#8216", "#8217", "#8220", "#8221",
        "#8230",
    )
}  # fmt: skip


def _unescape(text: str) -> str:
    """``html.unescape(text)``, read off :data:`_COMMON_REFERENCES` when every "&" in the
    text opens one of them (html.unescape calls back into a Python function for each
    reference, where this is a dict lookup); any other text goes to html.unescape."""
    if "&" not in text:
        return text
    head, *references = text.split("&")
    pieces = [head]
    for reference in references:
        name, semicolon, rest = reference.partition(";")
        replacement = _COMMON_REFERENCES.get(name) if semicolon else None
        if replacement is None:
            return unescape(text)
        pieces += (replacement, rest)
    return "".join(pieces)


def _replay_simple(html: str, parser: _FragmentParser) -> bool:
    """Call the parser's handlers as HTMLParser (convert_charrefs=True) would for a fragment
    made only of :data:`_SIMPLE_PIECE` matches; False, part-way through, for any other."""
    if _RAW_TEXT_TAG.search(html):
        return False
    position = 0
    for piece in _SIMPLE_PIECE.finditer(html):
        if piece.start() != position:
            return False
        position = piece.end()
        text, start_tag, empty, end_tag = piece.groups()
        if text is not None:
            parser.handle_data(_unescape(text))
        elif end_tag is not None:
            parser.handle_endtag(end_tag.lower())
        elif empty:
            parser.handle_startendtag(start_tag.lower(), [])
        else:
            parser.handle_starttag(start_tag.lower(), [])
    return position == len(html)


def html_to_paragraphs(html: str) -> list[str]:
    """Split an HTML fragment from a feed into paragraphs of plain text.

    Script, style, form, embedded-frame and caption content is dropped; block elements end
    paragraphs, inline elements are joined into the surrounding text, entities are decoded.
    """
    html = strip_control_characters(html, in_markup=True)
    builder = _ParagraphBuilder()
    if not _replay_simple(html, _FragmentParser(builder)):
        return _parse_fragment(html)
    builder.end_paragraph()
    return builder.paragraphs


def _parse_fragment(html: str) -> list[str]:
    """:func:`html_to_paragraphs` through HTMLParser, whatever the markup."""
    builder = _ParagraphBuilder()
    parser = _FragmentParser(builder)
    parser.feed(html)
    parser.close()
    builder.end_paragraph()
    return builder.paragraphs


def _tree_to_paragraphs(root: etree._Element) -> list[str]:
    """Paragraphs of trafilatura's XML body, walked iteratively (no recursion)."""
    builder = _ParagraphBuilder()
    walker = etree.iterwalk(root, events=("start", "end"))
    for event, element in walker:
        tag = element.tag if isinstance(element.tag, str) else None
        if event == "start":
            if tag is None or tag in _TRAFILATURA_SKIPPED:
                walker.skip_subtree()
                continue
            if tag == "lb":
                builder.line_break()
            elif tag in _TRAFILATURA_BLOCKS:
                builder.end_paragraph()
            elif tag in _TRAFILATURA_CELLS:
                builder.separate()
            if element.text:
                builder.text(element.text)
        else:
            if tag in _TRAFILATURA_BLOCKS:
                builder.end_paragraph()
            elif tag in _TRAFILATURA_CELLS:
                builder.separate()
            if element.tail and element is not root:
                builder.text(element.tail)
    builder.end_paragraph()
    return builder.paragraphs


@dataclass(frozen=True)
class ExtractedPage:
    """The main content of a web page, before noise cleaning.

    ``published`` is in UTC (:mod:`ingest.dates`; UTC assumed when the page gives no
    offset) so it compares with every other datetime in the pipeline; ``language`` is the primary
    subtag of the page's declared language, lower-cased (``"en"`` for ``en-GB``); ``url``
    is the page's canonical URL when it declares one, else the URL it was fetched from.
    """

    title: str | None
    paragraphs: list[str]
    published: datetime | None
    language: str | None
    url: str | None


def _parse_published(value: str | None) -> datetime | None:
    published = parse_date(value, rfc822=False)
    if published is None and value:
        log.info("page.date_unparsed", value=value)
    return published


def _declared_language(tree: etree._Element | None) -> str | None:
    """The language the page declares for itself (html lang, then meta tags)."""
    if tree is None:
        return None
    candidates: Iterable[str] = [
        *tree.xpath("/html/@lang | /html/@xml:lang"),
        *tree.xpath(
            "//meta[translate(@http-equiv, 'CONTENT-LANGUAGE', 'content-language')"
            " = 'content-language']/@content"
        ),
        *tree.xpath("//meta[@property='og:locale']/@content"),
    ]
    for candidate in candidates:
        match = _LANGUAGE_TAG.fullmatch(str(candidate).strip())
        if match:
            return match.group(1).lower()
    return None


def _drop_title_heading(title: str | None, paragraphs: list[str]) -> list[str]:
    # trafilatura keeps the page's <h1> in the body; the title is carried separately.
    if title and paragraphs and paragraphs[0].casefold() == title.casefold():
        return paragraphs[1:]
    return paragraphs


def extract_page(html: str | bytes, url: str | None = None) -> ExtractedPage:
    """Extract title, body paragraphs, publication date and language from a full page.

    trafilatura finds the main content (dropping navigation, comments, boilerplate); its
    paragraphs are returned whitespace-normalised but not noise-cleaned, and cut to the
    content cap (:func:`ingest.records.cap_paragraphs`) before anyone cleans them.
    """
    if isinstance(html, str):
        html = strip_control_characters(html, in_markup=True)
    tree = load_html(html) if html else None
    language = _declared_language(tree)
    document = (
        trafilatura.bare_extraction(
            tree,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            date_extraction_params={
                "outputformat": "%Y-%m-%dT%H:%M:%S%z",
                "extensive_search": True,
                "original_date": True,
            },
        )
        if tree is not None
        else None
    )
    if document is None:
        log.info("page.extracted_empty", url=url)
        return ExtractedPage(title=None, paragraphs=[], published=None, language=language, url=url)
    title = collapse_whitespace(document.title) if document.title else None
    paragraphs = _tree_to_paragraphs(document.body) if document.body is not None else []
    return ExtractedPage(
        title=title or None,
        paragraphs=cap_paragraphs(_drop_title_heading(title, paragraphs), url=url),
        published=_parse_published(document.date),
        language=language or (document.language or None),
        url=document.url or url,
    )
