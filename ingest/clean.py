"""Turn scraped article text into body paragraphs a reader would recognise.

Scraped news arrives with the page around it: image captions (often twice, once per
rendition), pull quotes repeating the body, share/subscribe furniture, and a trailing block
of teasers for other stories. The rules here target those *classes* of noise rather than
any one site, and are applied until nothing changes, so cleaning is idempotent.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence

import ftfy
import structlog

from ingest.html import ExtractedPage, extract_page, html_to_paragraphs
from ingest.text import collapse_whitespace, is_printable, strip_control_characters

__all__ = [
    "ExtractedPage",
    "article_title",
    "clean_paragraphs",
    "clean_title",
    "extract_page",
    "format_article",
    "html_to_paragraphs",
    "split_paragraphs",
]

log = structlog.get_logger(__name__)

# Repair mojibake but keep the author's typography: curly quotes and full-width forms are
# deliberate, not damage.
_FTFY_CONFIG = ftfy.TextFixerConfig(uncurl_quotes=False, fix_character_width=False, explain=False)

_BLANK_LINE = re.compile(r"\n[^\S\n]*\n\s*")

# Text that shows none of these signs is returned unchanged by ftfy.fix_text with
# _FTFY_CONFIG. ftfy's own check for whether a paragraph needs fixing costs more than
# these few scans, and most paragraphs need nothing: the signs rule them out first.
# Each of ftfy's fixes acts only on its own characters, and ftfy does not publish which,
# so the lists below are ours (ftfy 6.x, bounded below 7 in pyproject.toml);
# tests/ingest/test_clean_shortcuts.py holds ftfy's public functions to them.
_HTML_ENTITY = re.compile(r"&#?[0-9A-Za-z]{1,24};")  # what ftfy.fixes.unescape_html replaces
_FTFY_SIGNS = re.compile(
    "["
    "\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 and C1 controls (CR, ESC and NEL included)
    "\u2028\u2029\ud800-\udfff"  # line and paragraph separators, surrogates
    "\u206a-\u206f\ufeff\ufff9-\ufffc"  # more that remove_control_chars deletes
    "Ĳĳŉ\u01c4-\u01cc\u01f1-\u01f3\ufb00-\ufb06"  # ligatures fix_latin_ligatures expands
    "ŒœÃÂ"  # where the mojibake detector needs no second character of its alphabet
    "]"
)
# The characters of UTF-8 read as a single-byte encoding, which ftfy's mojibake detector
# (ftfy.badness.is_bad, https://ftfy.readthedocs.io/en/latest/heuristic.html) looks for:
# it matches only where two of them are adjacent, or at one of those named just above.
_MOJIBAKE_ALPHABET = (
    "\x80-\xfc"  # C1 controls and most of Latin-1
    "Ā-ćČ-ēĖ-ěĞğĢģĪīįİĶķĹ-ľŁ-ŃŅŇŌŐŒœŕŘŚśŞ-ŢŤťŪŮŰŲŸ-žƒ"  # Latin Extended-A, f with hook
    "ˆˇ˘˛-˝΄-ΆΈ-ΊΌΎΏΑ-ωЁ-џҐґ"  # spacing accents, Greek, Cyrillic
    "–-―‘-‚“-„†-•…‰‹›⁄₧€№™"  # general punctuation, currency and letterlike symbols
    "∂∆∏∑√∞∩∫≈≠≡≤≥⌐│┌┐┘├┤┬┼═-╬▀▄█▌▐-▓◊"  # MacRoman mathematics, cp437 box drawing
    "\uf8ffﬁﬂ\ufffd"  # MacRoman's Apple logo and ligatures, the replacement character
)
_MOJIBAKE_PAIR = re.compile(f"[{_MOJIBAKE_ALPHABET}][{_MOJIBAKE_ALPHABET}]")


def _may_need_ftfy(text: str) -> bool:
    if "&" in text and _HTML_ENTITY.search(text):
        return True
    if text.isascii():  # printable ASCII has no controls, the only other sign it could show
        return not is_printable(text) and _FTFY_SIGNS.search(text) is not None
    return (
        _FTFY_SIGNS.search(text) is not None
        or _MOJIBAKE_PAIR.search(text) is not None
        or not unicodedata.is_normalized("NFC", text)
    )


def _has_more_words(text: str, limit: int) -> bool:
    """Whether ``text`` has more than ``limit`` words, without splitting all of a long one."""
    return len(text.split(maxsplit=limit)) > limit


# --- comparison form -----------------------------------------------------------------------

_QUOTES = "'\"`´‘’‚‛“”„‟‹›«»′″¿"
_DASHES = "‐‑‒–—―−"
# Two substitutions rather than str.translate, which looks up every character of a
# non-ASCII string in a dict; a regex tests each character against its set in C.
_QUOTE = re.compile(f"[{re.escape(_QUOTES)}]")
_DASH = re.compile(f"[{re.escape(_DASHES)}]")
_TOKEN = re.compile(r"\w+|\S")  # a word, or one character that is neither word nor space


def _comparison_form(paragraph: str) -> str:
    """Fold what differs between renditions of the same text: quote style (including the
    ``¿`` that some CMSes leave where quotes were), dashes, case and spacing."""
    if paragraph.isascii():  # the only foldable ASCII characters are quotes
        folded = paragraph.replace('"', "'").replace("`", "'").lower()
    else:
        folded = _DASH.sub("-", _QUOTE.sub("'", paragraph)).replace("…", "...").casefold()
    return collapse_whitespace(folded)


# --- per-paragraph normalisation ------------------------------------------------------------


def _is_spanish_question(paragraph: str) -> bool:
    """True when every ``¿`` opens a question closed by a later ``?``, as in Spanish."""
    positions = [i for i, ch in enumerate(paragraph) if ch == "¿"]
    ends = [*positions[1:], len(paragraph)]
    return all("?" in paragraph[start:end] for start, end in zip(positions, ends, strict=True))


_INVERTED_APOSTROPHE = re.compile(r"(?<=\w)¿(?=\w)")
_INVERTED_OPENING = re.compile(r"(?:^|(?<=[\s(\[{—–-]))¿(?=\S)")


def _repair_inverted_question_marks(paragraph: str) -> str:
    """Replace a ``¿`` standing in for a quote or apostrophe with the real character."""
    if "¿" not in paragraph or _is_spanish_question(paragraph):
        return paragraph
    opening, closing = ("“", "”") if "“" in paragraph and "‘" not in paragraph else ("‘", "’")
    paragraph = _INVERTED_APOSTROPHE.sub("’", paragraph)
    paragraph = _INVERTED_OPENING.sub(opening, paragraph)
    return paragraph.replace("¿", closing)


def _normalise(text: str) -> str:
    # ftfy first: C1 controls are often cp1252 punctuation ("\x92" for an apostrophe) that
    # it can still decode; whatever it leaves invisible goes afterwards, since it only gets
    # in the way of comparing and displaying text.
    if _may_need_ftfy(text):
        text = ftfy.fix_text(text, _FTFY_CONFIG)
    text = strip_control_characters(text, invisible=True)
    text = collapse_whitespace(text)
    return _repair_inverted_question_marks(text)


def _normalise_paragraph(text: str) -> str:
    """Repair and whitespace-normalise one paragraph, to a fixed point.

    ftfy can uncover a second layer of mojibake once the first is fixed, so a single pass
    is not always stable; the loop is bounded because real text settles in one or two.
    """
    for _ in range(4):
        fixed = _normalise(text)
        if fixed == text:
            break
        text = fixed
    return text


def clean_title(title: str) -> str:
    """The title with mojibake repaired and whitespace collapsed to single spaces."""
    return _normalise_paragraph(title)


FALLBACK_TITLE_LENGTH = 120
"""Articles without a title borrow the start of their text (microblog posts have none):
long enough to recognise the post, short enough for a digest heading."""


def article_title(title: str, paragraphs: Sequence[str]) -> str:
    """An article's title, cleaned; for one without, the start of its first (cleaned)
    paragraph, cut at a word boundary and marked with an ellipsis when it is longer than
    :data:`FALLBACK_TITLE_LENGTH`. Feed entries and seeds alike get their title here."""
    cleaned = clean_title(title)
    if cleaned or not paragraphs:
        return cleaned
    first = paragraphs[0]
    if len(first) <= FALLBACK_TITLE_LENGTH:
        return first
    cut = first[:FALLBACK_TITLE_LENGTH].rsplit(" ", 1)[0]
    return f"{cut}…"


def split_paragraphs(text: str) -> list[str]:
    """Split plain text on blank lines; each paragraph's whitespace collapsed, empties dropped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2029", "\n\n")
    paragraphs = (collapse_whitespace(chunk) for chunk in _BLANK_LINE.split(text))
    return [p for p in paragraphs if p]


def format_article(title: str, paragraphs: Sequence[str]) -> str:
    """Render an article as plain text: title, then paragraphs, separated by blank lines."""
    return "\n\n".join(part for part in (title, *paragraphs) if part) + "\n"


# --- page furniture -------------------------------------------------------------------------

_FURNITURE_MAX_WORDS = 25
_SOCIAL = (
    r"(?:twitter|x|facebook|instagram|tiktok|threads|linkedin|bluesky|youtube|whatsapp"
    r"|telegram|pinterest|reddit|email|e-mail)"
)
_FURNITURE = re.compile(
    "|".join(
        [
            r"advert(?:isement)?|ad|sponsored(?: content)?|paid (?:content|post)",
            r"promoted(?: content)?",
            r"(?:story|article|text) continues (?:below|after)(?: (?:the|this))?"
            r"(?: advert(?:isement)?| ad)?",
            r"continue reading(?: (?:below|the main story|the article|the story))?",
            r"continue reading after the ad(?:vert(?:isement)?)?",
            r"scroll (?:down|to continue)\b.*",
            r"(?:click|tap|press) here\b.*",
            r"(?:read|see|view|show) (?:more|less|(?:the )?full (?:story|article))"
            r"(?: (?:about|on|at|here|from|in|of)\b.*)?",
            r"(?:(?:read )?more|related|see also|next)\s*:.*",
            r"(?:(?:also )?read(?: also| next)?|must read)\s*:.*",
            r"(?:watch|listen|video)\s*:.*",
            r"(?:sign up|subscribe|register)\b.*\b(?:newsletters?|inbox|alerts?|briefing)\b.*",
            r"(?:sign up|subscribe|log ?in|sign in|register)(?: (?:now|here|today))?",
            r"get (?:the|our) (?:latest|best|top|newsletter)\b.*(?:inbox|newsletter|free)\b.*",
            r"(?:download|get) (?:the|our) app\b.*",
            r"follow (?:us|\w+(?: \w+){0,3}) on " + _SOCIAL + r"\b.*",
            r"(?:follow|like|join) us (?:on|at)\b.*|follow us for\b.*",
            r"share(?: (?:this|the)(?: (?:article|story|page|post|video|gallery))?)?",
            r"share (?:on|via|to|with) .{1,40}",
            _SOCIAL + r"(?: (?:this|share))?",
            r"tweet|print|copy (?:article )?(?:link|url)",
            r"comments?|(?:view|show|hide) comments|leave a comment|join the conversation",
            r"\d+ (?:comments?|shares?)",
            r"listen to (?:this )?(?:article|story)\b.*",
            r"\d+ min(?:ute)?s? read",
            r"(?:loading|skip to (?:main )?content|skip (?:ad|advert)|back to top|top of page)\W*",
            r"(?:next|previous) (?:article|story|post)",
            r"(?:image|media|photo|video|picture) (?:source|caption|credit)s?\b.*",
            r"(?:photo(?:graph)?|picture|pic|image|credit|source|caption)s?\s*:.{0,80}",
            r"getty images|ap photo|reuters|afp via getty images",
            r"(?:©|\(c\)).*|copyright (?:©|\(c\))?\s*\d{4}\b.*",
            r"all rights reserved\b.*",
        ]
    )
)
_TRAILING_PUNCTUATION = re.compile(r"[\s.!?…:;,|>»›→-]+$")


def _is_furniture(paragraph: str) -> bool:
    """Page chrome that is not part of the article: share and subscribe prompts, ad labels,
    image credits, "read more" links, decoration without any word in it."""
    if not any(ch.isalnum() for ch in paragraph):
        return True
    if _has_more_words(paragraph, _FURNITURE_MAX_WORDS):
        return False
    key = _TRAILING_PUNCTUATION.sub("", _comparison_form(paragraph))
    return _FURNITURE.fullmatch(key) is not None


# --- caption twins and repeats ----------------------------------------------------------------

_TWIN_RATIO = 0.85
# Short lines ("Type: keyword", "Yes.") legitimately sit next to their double; a caption is
# longer, and a rendition that adds a word is only a twin when the words it shares are many.
_TWIN_MIN_TOKENS = 4
_NEAR_TWIN_MIN_TOKENS = 8
_REPEAT_MIN_WORDS = 4  # short lines (section headings, "no-op") legitimately recur
_COMMON_LETTERS = "etaoinsrhldcu"
_CLOSERS = "'\"’”»)]"
_ENDS_A_SENTENCE = re.compile(r"[.!?…。！？][" + re.escape(_CLOSERS) + r"]*$")


def _is_subsequence(shorter: Sequence[str], longer: Sequence[str]) -> bool:
    remaining = iter(longer)
    return all(token in remaining for token in shorter)


# How a character counts in a token: word character ("a"), space (" "), or a token of its
# own ("p"). ASCII goes through a byte table taken from the regex classes themselves, so
# that the two cannot disagree; other characters are classed by the same regexes first.
_ASCII_CLASSES = bytes(
    b"a"[0] if re.match(r"\w", chr(c)) else b" "[0] if re.match(r"\s", chr(c)) else b"p"[0]
    for c in range(128)
).ljust(256, b"p")
_NON_ASCII_WORD = re.compile(r"(?![\x00-\x7f])\w")
_NON_ASCII_SPACE = re.compile(r"(?![\x00-\x7f])\s")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# Text with at most this many bytes more in UTF-8 than characters has few characters
# outside ASCII (English with curly quotes and pound signs): replacing each of those few
# characters is cheaper than three substitutions over the whole text, which text in
# another script still takes.
_FEW_NON_ASCII_BYTES = 64


@functools.lru_cache(maxsize=4096)
def _ascii_stand_in(character: str) -> str:
    """An ASCII character of the same class as ``character``, which is not ASCII."""
    if _NON_ASCII_WORD.match(character):
        return "a"
    return " " if _NON_ASCII_SPACE.match(character) else "."


def _token_classes(text: str) -> bytes:
    if not text.isascii():  # stand ASCII characters of the same class in for the others
        if len(text.encode("utf-8", "surrogatepass")) - len(text) <= _FEW_NON_ASCII_BYTES:
            for character in set(_NON_ASCII.findall(text)):
                text = text.replace(character, _ascii_stand_in(character))
        else:
            text = _NON_ASCII_WORD.sub("a", text)
            text = _NON_ASCII.sub(".", _NON_ASCII_SPACE.sub(" ", text))
    return text.encode("ascii").translate(_ASCII_CLASSES)


class _Compared:
    """A paragraph with its comparison form and token counts; the tokens themselves are
    listed only when a neighbour is close enough in length to be a twin (most are not),
    since listing them costs more than everything else here put together."""

    __slots__ = ("_tokens", "form", "paragraph", "token_count", "word_count")

    def __init__(self, paragraph: str) -> None:
        self.paragraph = paragraph
        self.form = _comparison_form(paragraph)
        self._tokens: list[str] | None = None
        classes = _token_classes(self.form)
        # A word starts at the start or after a space or a one-character token.
        self.word_count = classes.count(b" a") + classes.count(b"pa") + classes.startswith(b"a")
        self.token_count = self.word_count + classes.count(b"p")

    @property
    def tokens(self) -> list[str]:
        if self._tokens is None:
            self._tokens = _TOKEN.findall(self.form)
        return self._tokens


def _are_twins(first: _Compared, second: _Compared) -> bool:
    """The same caption rendered twice: equal token sequences once quote style and case are
    folded, or one a near-complete subsequence of the other (a rendition that adds a
    credit or "(pictured)"). A replaced token is never a twin: "the lighter shade" and "the
    darker shade" are two sentences of the body, not two copies of one."""
    shorter, longer = sorted((first, second), key=lambda p: p.token_count)
    if shorter.token_count < _TWIN_MIN_TOKENS:
        return False
    if shorter.token_count == longer.token_count:
        # Equal tokens have equal characters once the spaces are gone: a cheap way out.
        return first.form == second.form or (
            first.form.replace(" ", "") == second.form.replace(" ", "")
            and first.tokens == second.tokens
        )
    if shorter.token_count < _NEAR_TWIN_MIN_TOKENS:
        return False
    if 2 * shorter.token_count / (shorter.token_count + longer.token_count) < _TWIN_RATIO:
        return False
    # A subsequence has no more of any character than the whole: counting a few letters
    # rules out most neighbours of similar length before their tokens are listed.
    if any(shorter.form.count(ch) > longer.form.count(ch) for ch in _COMMON_LETTERS):
        return False
    return _is_subsequence(shorter.tokens, longer.tokens)


def _ends_a_sentence(paragraph: str) -> bool:
    return _ENDS_A_SENTENCE.search(paragraph) is not None


def _drop_twins_and_repeats(paragraphs: Sequence[str]) -> list[str]:
    """Drop both paragraphs of each adjacent near-identical caption pair, one of each
    adjacent pair of body paragraphs, and later verbatim repeats.

    Captions come in twins (one per image rendition, often differing only in quote style),
    so both go. A caption ends without a full stop; a twin that ends a sentence is body
    text printed twice (a doubled block, a pull quote set right below its paragraph), so
    the first copy that ends a sentence stays. A pull quote further on repeats an earlier
    body paragraph, so only the copy goes. The output is kept as a stack: when a twin pair
    is removed, the paragraphs on either side become neighbours and are compared in turn,
    so no twin pair survives into the output; a paragraph met again right after such a
    pair is a repeat, though, not a twin (a pull quote set below a picture), so the first
    copy stays. Repeats are found through a set of folded forms, so the whole pass is
    linear.
    """
    kept: list[_Compared] = []
    seen: set[str] = set()
    exposed = False  # whether kept[-1] became the top by a twin pair's removal
    for paragraph in paragraphs:
        current = _Compared(paragraph)
        repeatable = current.word_count >= _REPEAT_MIN_WORDS
        if kept and exposed and kept[-1].form == current.form:
            continue
        if kept and _are_twins(kept[-1], current):
            previous = kept.pop()
            if _ends_a_sentence(previous.paragraph):
                kept.append(previous)
            elif _ends_a_sentence(current.paragraph):
                kept.append(current)
                exposed = False
            else:
                exposed = True
        elif repeatable and current.form in seen:
            continue
        else:
            kept.append(current)
            exposed = False
        if repeatable:
            seen.add(current.form)
    return [compared.paragraph for compared in kept]


# --- trailing related-content block -----------------------------------------------------------

_RELATED_HEADING = re.compile(
    "|".join(
        [
            r"(?:you|we think you) (?:may|might|will|would) (?:also )?"
            r"(?:like|enjoy|love|be interested in)(?: this| these)?",
            r"(?:related|similar)(?: (?:articles?|stories|story|content|posts?|news|coverage))?",
            r"(?:related|similar) (?:reading|links|topics|items|videos|searches)",
            r"more (?:from|on|in|about|by|like) .{1,50}",
            r"more (?:stories|news|headlines|articles|to explore|to read|for you|like this)",
            r"(?:read|watch|up) next|next up|what to read next|keep reading",
            r"read more|see more|more|more top stories",
            r"(?:most|top) (?:popular|read|viewed|shared|watched|commented)"
            r"(?: (?:stories|articles|now|today|this week))?",
            r"popular(?: (?:now|today|stories|articles|on .{1,40}))?",
            r"recommended(?: (?:for you|stories|articles|reading|videos|by .{1,40}))?",
            r"we recommend|editor's (?:picks?|choice)",
            r"trending(?: (?:now|today|stories|news|topics|on .{1,40}))?",
            r"(?:also|further) read(?:ing)?|see also|don't miss(?: this)?|must reads?",
            r"in other news|(?:today's )?top (?:stories|news|headlines)",
            r"latest(?: (?:news|stories|headlines|videos))?",
            r"(?:from|around) (?:around )?the web|elsewhere on .{1,40}",
            r"(?:sponsored|promoted|partner)(?: (?:content|stories|links))?",
            r"(?:suggested|other|featured) (?:reading|articles|stories|links|videos)",
        ]
    )
)
_HEADING_MAX_WORDS = 8
_MIN_UNNAMED_BLOCK = 3
_MAX_UNCUT_TEASERS = 2  # in an unnamed block: a headline, and a standfirst not cut short
_HEADING_MAX_CHARS = 60
_HEADLINE_MAX_WORDS = 30
_TEASER_MAX_WORDS = 60
_TEASER_MAX_SENTENCES = 2
# A full stop after a space is a scraped ellipsis (". . ."), not the end of a sentence.
_SENTENCE_END = re.compile(r"(?<!\s)[.!?…。！？][" + re.escape(_CLOSERS) + r"]*(?:\s|$)")
_TERMINAL_PUNCTUATION = re.compile(r"[.!?…,;。！？，；][" + re.escape(_CLOSERS) + r"]*$")
_TRUNCATED = re.compile(r"(?:…|\.\.\.)[" + re.escape(_CLOSERS) + r"]*$")


def _is_truncated(paragraph: str) -> bool:
    return _TRUNCATED.search(paragraph) is not None


def _is_headline(paragraph: str) -> bool:
    """A title-like line: no closing punctuation, not too long."""
    return _TERMINAL_PUNCTUATION.search(paragraph) is None and not _has_more_words(
        paragraph, _HEADLINE_MAX_WORDS
    )


def _is_teaser(paragraph: str) -> bool:
    """Short enough to be a headline or a one- or two-sentence standfirst (the ellipsis
    that cuts one short ends no sentence of its own)."""
    if _has_more_words(paragraph, _TEASER_MAX_WORDS):
        return False
    sentences = _SENTENCE_END.findall(_TRUNCATED.sub("", paragraph))
    return len(sentences) <= _TEASER_MAX_SENTENCES


def _is_heading(paragraph: str) -> bool:
    return (
        len(paragraph) <= _HEADING_MAX_CHARS
        and not _has_more_words(paragraph, _HEADING_MAX_WORDS)
        and _TERMINAL_PUNCTUATION.search(paragraph) is None
    )


def _is_related_heading(paragraph: str) -> bool:
    key = _TRAILING_PUNCTUATION.sub("", _comparison_form(paragraph))
    return _RELATED_HEADING.fullmatch(key) is not None


def _related_block_start(paragraphs: Sequence[str]) -> int | None:
    """Index of the heading of a trailing related-content block, if there is one.

    The block is a heading followed, to the end, by teasers: headlines, and standfirsts
    cut short with an ellipsis or at least not two in a row, at least half of them clear
    (headline or cut short). A heading from the usual vocabulary ("You May Also Like",
    "More from …") needs nothing more. Any other short heading-like line needs a headline
    right after it and three or more lines in all, at least one in three (and two) cut
    short, never three lines in a row that are not, and the first teaser (a headline and
    its standfirst, or a headline alone) cut short: without the ellipses a list of
    headlines cannot be told from a list that ends the body (fixtures, award winners,
    release notes, a cast), and the last line of such a list is a heading-like line too.
    """
    n = len(paragraphs)
    # Walk back over teasers while no two standfirsts that are neither headline nor cut
    # short follow each other: a block alternates headline and standfirst, while two such
    # lines in a row are body text (a one-story promo box inside the article).
    clear = [0] * (n + 1)
    truncated = [0] * (n + 1)
    start = n
    while start > 0 and _is_teaser(paragraphs[start - 1]):
        p = paragraphs[start - 1]
        cut_short = _is_truncated(p)
        is_clear = cut_short or _is_headline(p)
        if not is_clear and start < n and clear[start] == clear[start + 1]:
            break
        start -= 1
        truncated[start] = truncated[start + 1] + cut_short
        clear[start] = clear[start + 1] + is_clear
    # The longest run of lines not cut short from each line on: teasers under an unnamed
    # heading show an ellipsis every line or two, while a list that ends the body (a cast,
    # nominees, fixtures) shows none, so a heading above it does not open a block there.
    uncut_run = [0] * (n + 1)
    longest_uncut = [0] * (n + 1)
    for i in range(n - 1, start - 1, -1):
        uncut_run[i] = 0 if _is_truncated(paragraphs[i]) else uncut_run[i + 1] + 1
        longest_uncut[i] = max(uncut_run[i], longest_uncut[i + 1])
    candidates = [
        i
        for i in range(start, n - 1)
        if _is_heading(paragraphs[i]) and 2 * clear[i + 1] >= n - i - 1 and clear[i + 1] >= 1
    ]
    named = (i for i in candidates if _is_related_heading(paragraphs[i]))
    unnamed = (
        i
        for i in candidates
        if not paragraphs[i].endswith(":")  # a colon introduces the body's own list or quote
        and n - i - 1 >= _MIN_UNNAMED_BLOCK
        and clear[i + 1] > clear[i + 2]  # the block opens with a headline, not body text
        and truncated[i + 1] >= 2
        and 3 * truncated[i + 1] >= n - i - 1
        and longest_uncut[i + 1] <= _MAX_UNCUT_TEASERS
        and uncut_run[i + 1] < _MAX_UNCUT_TEASERS  # its first teaser is cut short
    )
    # A named heading wins over an earlier unnamed one: "Advertisement" above the last
    # paragraph is a short line too, but what follows it is still the article.
    first_named = next(named, None)
    return first_named if first_named is not None else next(unnamed, None)


def _drop_related_block(paragraphs: list[str]) -> list[str]:
    start = _related_block_start(paragraphs)
    return paragraphs if start is None else paragraphs[:start]


# --- the pipeline -----------------------------------------------------------------------------


def _clean_once(paragraphs: list[str]) -> list[str]:
    # The related block goes first: its heading ("Read more") would otherwise be taken for
    # furniture, leaving its teasers behind without the line that marks them.
    kept = [p for p in _drop_related_block(paragraphs) if not _is_furniture(p)]
    return _drop_twins_and_repeats(kept)


def clean_paragraphs(paragraphs: Sequence[str]) -> list[str]:
    """The article's body paragraphs, in order, with captions, repeats, furniture and the
    trailing related-content block removed and mojibake repaired.

    Removing one kind of noise can expose another (two captions either side of an advert
    become neighbours), so the rules run until the result stops changing; every pass that
    continues has removed a paragraph, and real pages settle in one or two.
    """
    current = [q for q in map(_normalise_paragraph, paragraphs) if q]
    while True:
        cleaned = _clean_once(current)
        if len(cleaned) == len(current):
            break
        current = cleaned
    log.debug("paragraphs.cleaned", received=len(paragraphs), kept=len(current))
    return current
