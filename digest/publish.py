"""Writing a day's digest and the feed to the directory they are published from.

``summarise`` renders text; writing files is this composition layer's job. Each file is
replaced atomically, so a web server or feed reader never sees half a file. Names are
fixed: ``YYYY-MM-DD.md`` and ``YYYY-MM-DD.html`` (the front page), ``YYYY-MM-DD-all.html``
(every story of the day), ``YYYY-MM-DD.json`` (the record) and ``feed.xml``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import structlog

from digest.atom import render_atom
from digest.atomicfile import write_all_atomic, write_atomic
from digest.model import Digest, full_list_name, page_name, record_name, render_json
from digest.render_html import render_full_list, render_html, render_html_body
from digest.render_markdown import render_markdown

log = structlog.get_logger(__name__)

FEED_FILE_NAME = "feed.xml"


def write_digest(digest: Digest, directory: Path, *, html_body: str | None = None) -> list[Path]:
    """Write the day's Markdown and HTML front pages, its full list and its JSON; returns
    their paths in that order.

    ``html_body`` is the page's stories as ``render_html_body`` gives them, when the
    caller has rendered them already (for the feed entry, which carries the same HTML).
    """
    directory.mkdir(parents=True, exist_ok=True)
    stem = digest.date.isoformat()
    renderers: dict[Path, Callable[[Digest], str]] = {
        directory / f"{stem}.md": render_markdown,
        directory / page_name(digest.date): partial(render_html, body=html_body),
        directory / full_list_name(digest.date): render_full_list,
        directory / record_name(digest.date): render_json,
    }
    write_all_atomic((path, render(digest)) for path, render in renderers.items())
    log.info("digest.written", date=stem, stories=len(digest.stories))
    return list(renderers)


def write_feed(
    digests: Sequence[Digest],
    directory: Path,
    *,
    feed_url: str,
    html_base_url: str,
    content: Callable[[Digest], str] = render_html_body,
) -> Path:
    """Write ``feed.xml`` holding one entry per digest (see ``render_atom``)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / FEED_FILE_NAME
    feed = render_atom(digests, feed_url=feed_url, html_base_url=html_base_url, content=content)
    write_atomic(path, feed)
    log.info("digest.feed_written", path=str(path), entries=len(digests))
    return path
