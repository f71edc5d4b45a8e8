"""What every renderer does to outside text and links before marking them up.

Titles, summaries, source names and URLs come from feeds we do not control. Each renderer
escapes for its own format; this module does the part they share: reducing text to one
line of printable characters, and deciding which URLs may become links at all.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from urllib.parse import urlsplit

from digest.model import Digest, DigestStory, SourceRef
from ingest.text import collapse_whitespace, strip_control_characters

LINKABLE_SCHEMES = frozenset({"http", "https"})
TIME_FORMAT = "%Y-%m-%d %H:%M"
UNTITLED = "(untitled)"

# An absolute http(s) URL whose host is ASCII letters, digits, dots and hyphens, with an
# optional port: nearly every feed link. urlsplit takes such a URL apart without complaint
# and finds that non-empty host, so ``linkable_url`` need not run it: one regex match
# costs less than urlsplit building every part, and a busy day's digest links each URL two
# or three times.
_PLAIN_HTTP_URL = re.compile(r"https?://[a-z0-9.-]+(?::[0-9]*)?(?:[/?#].*)?", re.I | re.A)


def plain(text: str) -> str:
    """``text`` as one line: invisible characters dropped (:mod:`ingest.text`), whitespace
    runs made single spaces.

    Summaries and titles are prose; a newline inside one would otherwise start a new
    Markdown block, and control characters would make the Atom feed invalid XML.
    """
    return collapse_whitespace(strip_control_characters(text, invisible=True))


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
    if _PLAIN_HTTP_URL.fullmatch(candidate):
        return candidate
    try:
        parts = urlsplit(candidate)
        host = parts.hostname
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return None
    if parts.scheme.lower() not in LINKABLE_SCHEMES or not host:
        return None
    return candidate


# A BCP 47 language tag as feeds give them ("en", "en-GB", "zh-Hant-TW"); feeds also
# write "en_US", which is the same tag.
_LANGUAGE_TAG = re.compile(r"[a-z]{2,8}(?:-[a-z0-9]{1,8})*", re.I | re.A)


@lru_cache(maxsize=1024)  # a day has tens of thousands of stories in a few languages
def language_tag(value: str | None) -> str | None:
    """``value`` as a language tag fit for a ``lang`` attribute, or ``None``."""
    if value is None:
        return None
    tag = value.strip().replace("_", "-")
    return tag if _LANGUAGE_TAG.fullmatch(tag) else None


def story_title(story: DigestStory) -> str:
    return plain(story.title) or UNTITLED


def summary_text(story: DigestStory) -> str:
    """The summary sentences the page shows, as one paragraph of prose."""
    return " ".join(filter(None, map(plain, story.shown_summary)))


def first_sentence(story: DigestStory) -> str:
    """The summary's first sentence, for the day's full list."""
    return next(filter(None, map(plain, story.summary)), "")


def source_count_text(story: DigestStory) -> str | None:
    """How many sources carried the story ("3 sources"), when more than one did."""
    if story.coverage is None or story.coverage < 2:
        return None
    return f"{story.coverage} sources"


def reading_text(minutes: int) -> str:
    return f"{minutes} min read"


def published_text(digest: Digest, moment: dt.datetime) -> str:
    return clock_text(digest.local_time(moment))


def clock_text(local: dt.datetime) -> str:
    """A time already on the digest's clock, as the reader sees it."""
    return local.strftime(TIME_FORMAT)


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
