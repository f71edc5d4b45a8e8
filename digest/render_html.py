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
    generated_text,
    linkable_url,
    other_sources,
    plain,
    story_title,
    summary_text,
)
from digest.model import Digest, DigestStory, SourceRef

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
h2 a { color: inherit; text-decoration: none; }
h2 a:hover, h2 a:focus { text-decoration: underline; }
"""

_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLESHEET.encode()).digest()).decode()
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; base-uri 'none'; form-action 'none'"
)


def page_title(digest: Digest) -> str:
    """The browser tab title, made only from our own data."""
    return f"{plain(digest.title)} digest {digest.date.isoformat()}"


def render_html(digest: Digest, body: str | None = None) -> str:
    """The page; ``body`` is ``render_html_body(digest)`` if the caller has it already."""
    if body is None:
        body = render_html_body(digest)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{escape(CONTENT_SECURITY_POLICY)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{escape(page_title(digest))}</title>
<style>{STYLESHEET}</style>
</head>
<body>
<header>
<h1>{escape(plain(digest.title))} — {digest.date.isoformat()}</h1>
<p class="meta">{escape(generated_text(digest))}</p>
</header>
<main>
{body}</main>
</body>
</html>
"""


def render_html_body(digest: Digest) -> str:
    """The stories as an HTML fragment: the page's main content, and the Atom entry's."""
    if not digest.stories:
        return '<p class="empty">No new stories today.</p>\n'
    return "".join(_story(digest, story) for story in digest.stories)


def link(text: str, url: str | None) -> str:
    """An ``<a>`` for http(s) URLs; for anything else (``javascript:``…) only the text."""
    href = linkable_url(url)
    if href is None:
        return escape(text)
    return f'<a href="{escape(href)}" rel="{LINK_REL}">{escape(text)}</a>'


def _story(digest: Digest, story: DigestStory) -> str:
    parts = [
        f'<article class="story" id="story-{story.id:d}">',
        f"<h2>{link(story_title(story), story.url)}</h2>",
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
