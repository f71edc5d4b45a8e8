"""The digest as a self-contained HTML page for reading in a browser.

Every piece of outside text is escaped, so feed content can never become markup: there is
no HTML from outside to sanitise (summaries are plain text). Only http(s) URLs become
links. As a second line of defence the page carries a Content-Security-Policy that allows
no script, no plugins and only our own stylesheet, identified by its hash.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape

from digest.display import (
    clock_text,
    count_text,
    first_sentence,
    generated_text,
    language_tag,
    linkable_url,
    other_sources,
    plain,
    reading_text,
    source_count_text,
    story_title,
    summary_text,
)
from digest.model import Digest, DigestStory, SourceRef, page_name
from digest.sections import SectionView, front_page, reading_minutes

LINK_REL = "noopener noreferrer"

STYLESHEET = """
:root {
  color-scheme: light dark;
  --fg: #1f1d1a; --muted: #6b665e; --bg: #fbf9f4; --rule: #e4dfd3; --link: #1a4f9c;
}
@media (prefers-color-scheme: dark) {
  :root { --fg: #e9e5dc; --muted: #a39d92; --bg: #1c1b19; --rule: #38352f; --link: #8fb3ee; }
}
html { background: var(--bg); color: var(--fg); }
body {
  max-width: 38rem; margin: 0 auto; padding: 2.5rem 1.25rem 4rem;
  font: 1.125rem/1.6 Charter, "Bitstream Charter", "Sitka Text", Cambria, Georgia, serif;
  overflow-wrap: break-word;
}
header { border-bottom: 1px solid var(--rule); padding-bottom: 1rem; }
h1 { font-size: 2rem; line-height: 1.2; margin: 0 0 .3rem; }
h2 { font-size: 1.3rem; line-height: 1.3; margin: 0 0 .3rem; }
.meta, .byline, .also, .empty {
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  font-size: .85rem; color: var(--muted);
}
.meta { margin: 0; }
.story { padding: 1.4rem 0; border-bottom: 1px solid var(--rule); }
.byline { margin: 0 0 .6rem; }
.summary { margin: 0; hyphens: auto; }
.also { margin: .6rem 0 0; }
a { color: var(--link); text-decoration-thickness: 1px; text-underline-offset: .15em; }
h2 a, h3 a { color: inherit; text-decoration: none; }
h2 a:hover, h2 a:focus, h3 a:hover, h3 a:focus { text-decoration: underline; }
h3 { font-size: 1.2rem; line-height: 1.3; margin: 0 0 .3rem; }
.section { padding-top: 2rem; }
.section > h2 {
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  font-size: .8rem; letter-spacing: .08em; text-transform: uppercase; color: var(--muted);
  border-bottom: 2px solid var(--fg); padding-bottom: .3rem; margin: 0;
}
.section .story { padding: 1.1rem 0; }
.headlines { list-style: none; margin: 0; padding: 0; }
.headlines li, .all li {
  padding: .55rem 0; border-bottom: 1px solid var(--rule); line-height: 1.4;
}
.headlines .byline, .all .byline { margin: 0; }
.more { margin: .7rem 0 0; font-family: system-ui, sans-serif; font-size: .9rem; }
.all { padding-left: 1.6rem; }
.all .summary { display: block; font-size: 1rem; }
"""

_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLESHEET.encode()).digest()).decode()
# form-action 'self': serve's search box submits to the same site, and nowhere else.
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; base-uri 'none'; form-action 'self'"
)


def page_title(digest: Digest) -> str:
    """The browser tab title, made only from our own data."""
    return f"{plain(digest.title)} digest {digest.date.isoformat()}"


def render_html(digest: Digest, body: str | None = None) -> str:
    """The page; ``body`` is ``render_html_body(digest)`` if the caller has it already."""
    if body is None:
        body = render_html_body(digest)
    return page(
        title=page_title(digest),
        heading=escape(f"{plain(digest.title)} — {digest.date.isoformat()}"),
        meta=escape(generated_text(digest)),
        body=body,
    )


def page(*, title: str, heading: str, meta: str, body: str, header: str = "") -> str:
    """A whole page under the digest's stylesheet and Content-Security-Policy: ``title``
    is text; ``heading``, ``header`` (more of the page's header, before ``meta``),
    ``meta`` and ``body`` are markup."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{escape(CONTENT_SECURITY_POLICY)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{escape(title)}</title>
<style>{STYLESHEET}</style>
</head>
<body>
<header>
<h1>{heading}</h1>
{header}<p class="meta">{meta}</p>
</header>
<main>
{body}</main>
</body>
</html>
"""


def render_html_body(digest: Digest) -> str:
    """The front page as an HTML fragment: the page's main content, and the Atom entry's.

    A digest without sections (written before there was a front page) lists every story.
    """
    if not digest.stories:
        return '<p class="empty">No new stories today.</p>\n'
    if digest.sections is None:
        return "".join(_story(digest, story) for story in digest.stories)
    everything = link(f"all {count_text(len(digest.stories))}", digest.full_list_url)
    parts = [f'<p class="meta">{reading_text(reading_minutes(digest))} · {everything}</p>\n']
    parts.extend(_section(digest, view) for view in front_page(digest))
    return "".join(parts)


def render_full_list(digest: Digest) -> str:
    """Every story of the day, best first: headline, sources and one sentence each."""
    front = link("front page", digest.published_url(page_name(digest.date)))
    items = "".join(_full_list_item(digest, story) for story in digest.stories)
    listing = f'<ol class="all">\n{items}</ol>\n' if items else '<p class="empty">No stories.</p>\n'
    return page(
        title=f"{page_title(digest)}: all stories",
        heading=escape(f"{plain(digest.title)} — {digest.date.isoformat()}: all stories"),
        meta=f"{escape(count_text(len(digest.stories)))}, best first · back to the {front}",
        body=listing,
    )


def link(text: str, url: str | None) -> str:
    """An ``<a>`` for http(s) URLs; for anything else (``javascript:``…) only the text."""
    href = linkable_url(url)
    if href is None:
        return escape(text)
    return f'<a href="{escape(href)}" rel="{LINK_REL}">{escape(text)}</a>'


def _section(digest: Digest, view: SectionView) -> str:
    parts = [f'<section class="section">\n<h2>{escape(plain(view.title))}</h2>\n']
    parts.extend(_story(digest, story, heading="h3") for story in view.stories)
    if view.headlines:
        items = "".join(_headline(story) for story in view.headlines)
        parts.append(f'<ul class="headlines">\n{items}</ul>\n')
    if view.more:
        parts.append(f'<p class="more">{link(f"and {view.more} more", digest.full_list_url)}</p>\n')
    parts.append("</section>\n")
    return "".join(parts)


def _lang(story: DigestStory) -> str:
    """The ``lang`` attribute of a story's element: its text may not be in English."""
    tag = language_tag(story.language)
    return f' lang="{escape(tag)}"' if tag else ""


def _headline(story: DigestStory) -> str:
    byline = escape(plain(story.source) or "unknown source")
    count = source_count_text(story)
    if count:
        byline += f" · {count}"
    return (
        f'<li id="story-{story.id:d}"{_lang(story)}>{link(story_title(story), story.url)} '
        f'<span class="byline">· {byline}</span></li>\n'
    )


def _full_list_item(digest: Digest, story: DigestStory) -> str:
    byline = escape(plain(story.source) or "unknown source")
    others = other_sources(story)
    if others:
        byline += f", also {_source_list(others)}"
    parts = [
        f'<li id="story-{story.id:d}"{_lang(story)}>{link(story_title(story), story.url)} ',
        f'<span class="byline">· {byline}</span>',
    ]
    sentence = first_sentence(story)
    if sentence:
        parts.append(f'<span class="summary">{escape(sentence)}</span>')
    parts.append("</li>\n")
    return "".join(parts)


def _story(digest: Digest, story: DigestStory, heading: str = "h2") -> str:
    parts = [
        f'<article class="story" id="story-{story.id:d}"{_lang(story)}>',
        f"<{heading}>{link(story_title(story), story.url)}</{heading}>",
        f'<p class="byline">{_byline(digest, story)}</p>',
    ]
    summary = summary_text(story)
    if summary:
        parts.append(f'<p class="summary">{escape(summary)}</p>')
    others = other_sources(story)
    if others:
        parts.append(f'<p class="also">Also in: {_source_list(others)}</p>')
    parts.append("</article>\n")
    return "\n".join(parts)


def _byline(digest: Digest, story: DigestStory) -> str:
    byline = escape(plain(story.source) or "unknown source")
    if story.published is None:
        return byline
    local = digest.local_time(story.published)
    return f'{byline} · <time datetime="{local.isoformat()}">{clock_text(local)}</time>'


def _source_list(refs: list[SourceRef]) -> str:
    return ", ".join(link(plain(ref.name), ref.url) for ref in refs)
