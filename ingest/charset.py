"""Feeds declared in a Latin charset whose bytes are another script's single-byte one.

A windows-1251 (Cyrillic) feed labelled ISO-8859-1 decodes without an error, since every
byte is some Latin-1 character, and "Совет" comes out as "Ñîâåò". Nothing downstream can
undo that: ftfy repairs UTF-8 read as Latin, not one single-byte charset read as another.
The bytes tell. Latin text spends 0xC0-0xFF on accented letters, a few in a hundred of its
letters (2 % at most in the real-world feeds, markup included), while another script's
single-byte charset puts nearly every letter there. Where they are a fifth of the letters
or more, chardet (feedparser's own fallback) names the charset from the text without its
markup, whose declaration would only repeat the wrong label.
"""

from __future__ import annotations

import codecs
import re

import chardet

LATIN = frozenset({"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "windows-1252", "cp1252"})
SUSPICIOUS_SHARE = 0.2
"""Share of a document's letters in 0xC0-0xFF from which its Latin label is doubted."""

_NOT_HIGH_LETTER = bytes(b for b in range(256) if not 0xC0 <= b <= 0xFF or b in (0xD7, 0xF7))
_NOT_ASCII_LETTER = bytes(b for b in range(256) if not (0x41 <= b <= 0x5A or 0x61 <= b <= 0x7A))
_MARKUP = re.compile(rb"<[^>]*>")


def actual_charset(content: bytes, read_as: str | None) -> str | None:
    """The charset *content* is really in, when it was read as a Latin one it is not in;
    None when *read_as* is not Latin, or the bytes look Latin, or chardet cannot tell."""
    if (read_as or "").lower() not in LATIN:
        return None
    high = len(content.translate(None, _NOT_HIGH_LETTER))
    letters = high + len(content.translate(None, _NOT_ASCII_LETTER))
    if not high or high < SUSPICIOUS_SHARE * letters:
        return None
    guess = chardet.detect(_MARKUP.sub(b" ", content))["encoding"]
    if not guess or guess.lower() in LATIN:
        return None
    try:
        return codecs.lookup(guess).name
    except LookupError:
        return None
