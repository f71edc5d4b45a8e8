"""What every renderer does to outside text and links before marking them up.

Titles, summaries, source names and URLs come from feeds we do not control. Each renderer
escapes for its own format; this module does the part they share: reducing text to one
line of printable characters, and deciding which URLs may become links at all.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

from summarise.digest import Digest, DigestStory, SourceRef

LINKABLE_SCHEMES = frozenset({"http", "https"})
TIME_FORMAT = "%Y-%m-%d %H:%M"
UNTITLED = "(untitled)"

# Characters that are invalid in XML 1.0 (C0 controls other than tab/newline/CR, lone
# surrogates, U+FFFE/U+FFFF) or are C1 controls that render as nothing useful. Tab and
# newlines are left for the whitespace collapse below.
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def plain(text: str) -> str:
    """``text`` as one line: control characters dropped, whitespace runs made single spaces.

    Summaries and titles are prose; a newline inside one would otherwise start a new
    Markdown block, and control characters would make the Atom feed invalid XML.
    """
    return " ".join(_INVISIBLE.sub("", text).split())


def linkable_url(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) URL safe to put in an ``href``, else ``None``.

    Browsers strip leading control characters and drop tabs and newlines anywhere in a URL,
    so ``"\\tjava\\nscript:"`` still runs script; rather than rely on our parser matching
    theirs, any URL containing such characters is refused outright. That also keeps control
    characters out of the Atom feed (where they are invalid XML) and spaces out of Markdown
    link destinations (where they end the link).
    """
    if url is None:
        return None
    candidate = url.strip()
    if not candidate.isprintable() or " " in candidate:
        return None
    try:
        parts = urlsplit(candidate)
        host = parts.hostname
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return None
    if parts.scheme.lower() not in LINKABLE_SCHEMES or not host:
        return None
    return candidate


def story_title(story: DigestStory) -> str:
    return plain(story.title) or UNTITLED


def summary_text(story: DigestStory) -> str:
    """The summary sentences as one paragraph of prose."""
    return " ".join(filter(None, (plain(sentence) for sentence in story.summary)))


def published_text(digest: Digest, moment: dt.datetime) -> str:
    return digest.local_time(moment).strftime(TIME_FORMAT)


def other_sources(story: DigestStory) -> list[SourceRef]:
    """Sources to list as "also in": all of them except the one the story is shown from."""
    return [
        ref
        for ref in story.sources
        if plain(ref.name) and (ref.name, ref.url) != (story.source, story.url)
    ]


def count_text(n: int) -> str:
    return f"{n} story" if n == 1 else f"{n} stories"


def generated_text(digest: Digest) -> str:
    """The line under the heading: how many stories, and when and on which clock."""
    when = digest.local_time(digest.generated_at).strftime(TIME_FORMAT)
    return f"{count_text(len(digest.stories))} · generated {when} ({plain(digest.timezone)})"
