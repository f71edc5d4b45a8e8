"""The digest as a Markdown page, readable as plain text and safe to feed to a renderer.

Outside text is backslash-escaped wherever Markdown would act on it, so a title such as
``[click](javascript:...)`` or ``<img onerror=...>`` stays literal text in any CommonMark
renderer; raw HTML from feeds is never emitted.
"""

from __future__ import annotations

import re

from digest.display import (
    count_text,
    generated_text,
    linkable_url,
    other_sources,
    plain,
    published_text,
    reading_text,
    source_count_text,
    story_title,
    summary_text,
)
from digest.model import Digest, DigestStory, SourceRef
from digest.sections import SectionView, front_page, reading_minutes

# Characters that start emphasis, code, links, autolinks/raw HTML, entities, headings,
# tables and strikethrough anywhere in a line (CommonMark plus GitHub's extensions).
_INLINE_ACTIVE = re.compile(r"[\\`*_\[\]<>&#|~]")
# Characters that only matter at the start of a line: list markers, thematic breaks,
# ordered-list numbers. (Setext underlines need a line above in the same paragraph, and
# every paragraph here is a single line.)
_LINE_START_ACTIVE = re.compile(r"^([-+]|\d+(?=[.)]))")
# Unbalanced parentheses would end a link destination, and a backslash would escape them.
_DESTINATION_ESCAPES = str.maketrans({"\\": "\\\\", "(": "\\(", ")": "\\)"})


def escape_inline(text: str) -> str:
    """Outside text made literal for use inside a line (link text, after other text)."""
    return _INLINE_ACTIVE.sub(_backslashed, plain(text))


def _backslashed(match: re.Match[str]) -> str:
    # A function rather than the template r"\\\1", which ``re`` expands in Python per match.
    return "\\" + match[0]


def escape_line(text: str) -> str:
    """Outside text made literal for use at the start of its own line."""
    escaped = escape_inline(text)
    match = _LINE_START_ACTIVE.match(escaped)
    if match is None:
        return escaped
    # A backslash after the number (``1\.``) or before the marker (``\-``) disarms it.
    if match.group(1)[0].isdigit():
        return f"{match.group(1)}\\{escaped[match.end() :]}"
    return f"\\{escaped}"


def link(text: str, url: str | None) -> str:
    """``[text](url)`` when the URL is http(s), otherwise the escaped text alone."""
    href = linkable_url(url)
    if href is None:
        return escape_inline(text)
    return f"[{escape_inline(text)}]({href.translate(_DESTINATION_ESCAPES)})"


def render_markdown(digest: Digest) -> str:
    heading = f"# {escape_inline(digest.title)} — {digest.date.isoformat()}"
    blocks = [heading, f"_{escape_inline(generated_text(digest))}_"]
    if not digest.stories:
        blocks.append("No new stories today.")
    elif digest.sections is None:  # written before there was a front page: every story
        blocks.extend(_story_block(digest, story) for story in digest.stories)
    else:
        everything = link(f"all {count_text(len(digest.stories))}", digest.full_list_url)
        blocks.append(f"{reading_text(reading_minutes(digest))} · {everything}")
        blocks.extend(_section_block(digest, view) for view in front_page(digest))
    return "\n\n".join(blocks) + "\n"


def _section_block(digest: Digest, view: SectionView) -> str:
    blocks = [f"## {escape_inline(view.title)}"]
    blocks.extend(_story_block(digest, story, heading="###") for story in view.stories)
    if view.headlines:
        blocks.append("\n".join(f"- {_headline(story)}" for story in view.headlines))
    if view.more:
        blocks.append(link(f"and {view.more} more", digest.full_list_url))
    return "\n\n".join(blocks)


def _headline(story: DigestStory) -> str:
    parts = [
        link(story_title(story), story.url),
        escape_inline(plain(story.source) or "unknown source"),
    ]
    count = source_count_text(story)
    if count:
        parts.append(count)
    return " · ".join(parts)


def _story_block(digest: Digest, story: DigestStory, heading: str = "##") -> str:
    lines = [f"{heading} {link(story_title(story), story.url)}", _byline(digest, story)]
    summary = summary_text(story)
    if summary:
        lines.append(escape_line(summary))
    others = other_sources(story)
    if others:
        lines.append(f"Also in: {_source_list(others)}")
    return "\n\n".join(lines)


def _byline(digest: Digest, story: DigestStory) -> str:
    parts = [escape_line(plain(story.source) or "unknown source")]
    if story.published is not None:
        parts.append(published_text(digest, story.published))
    return " · ".join(parts)


def _source_list(refs: list[SourceRef]) -> str:
    return ", ".join(link(ref.name, ref.url) for ref in refs)
