"""The HTML of ``serve``'s search: the box on the index page and the page of results.

Everything shown comes from feeds or from the reader's query, and is escaped as the
digest escapes it (``digest.display`` for text, ``digest.render_html.link`` for links,
which links only http(s) URLs); the page uses the digest's stylesheet, so the digest's
Content-Security-Policy covers it.
"""

from __future__ import annotations

from datetime import UTC
from html import escape

from digest.display import UNTITLED, language_tag, plain
from digest.render_html import link, page
from storage import SearchHit

SEARCH_PATH = "/search"
# A search box query longer than this is cut: no one types more, and it bounds the
# work a request can ask of the database.
MAX_QUERY_CHARS = 500
RESULTS_PER_PAGE = 50


def search_box(query: str = "") -> str:
    """A GET form to the search page (the policy's form-action allows only this site)."""
    return (
        f'<form class="search" role="search" action="{SEARCH_PATH}" method="get">'
        f'<input type="search" name="q" value="{escape(query)}" aria-label="Search"'
        ' placeholder="Search stored articles">'
        " <button>Search</button></form>\n"
    )


def render_search(query: str, hits: list[SearchHit]) -> str:
    """The page of results for *query*, best first."""
    shown = plain(query)
    if not shown:
        meta, listing = "Words, a “quoted phrase”, -word to leave out, OR for either.", ""
    elif not hits:
        meta, listing = f"Nothing found for “{escape(shown)}”.", ""
    else:
        count = "1 result" if len(hits) == 1 else f"{len(hits)} results"
        meta = f"{count} for “{escape(shown)}”, best first"
        listing = "".join(_hit(hit) for hit in hits)
    title = f"Search: {shown}" if shown else "Search"
    return page(
        title=f"{title} · feedbrief",
        heading='<a href="/">feedbrief</a>',
        header=search_box(query),
        meta=meta,
        body=listing,
    )


def _hit(hit: SearchHit) -> str:
    tag = language_tag(hit.language)
    lang = f' lang="{escape(tag)}"' if tag else ""
    moment = (hit.published_at or hit.first_seen_at).astimezone(UTC)
    byline = (
        f"{escape(plain(hit.source_title or '') or plain(hit.source))} · "
        f'<time datetime="{moment.isoformat()}">{moment.date().isoformat()}</time>'
    )
    parts = [
        f'<article class="story"{lang}>',
        f"<h2>{link(plain(hit.title) or UNTITLED, hit.url)}</h2>",
        f'<p class="byline">{byline}</p>',
    ]
    summary = " ".join(filter(None, map(plain, hit.summary)))
    if summary:
        parts.append(f'<p class="summary">{escape(summary)}</p>')
    parts.append("</article>\n")
    return "\n".join(parts)
