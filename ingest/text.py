"""Text hygiene for every stage: the characters that are never content, and whitespace.

One definition of the characters to strip serves every module that strips them, with two
documented switches instead of a regex per module:

- from any field (:class:`ingest.records.Article`, identities and URLs included) go the C0
  controls but tab, newline and carriage return, and DEL: no text carries them, and
  PostgreSQL refuses NUL;
- markup keeps form feed (``in_markup=True``): HTML counts it as whitespace, so it
  separates the words either side of it and must reach the parser;
- prose a reader sees (cleaned paragraphs and titles, rendered digests) also loses what
  shows nothing (``invisible=True``): C1 controls, lone surrogates, zero-width space,
  word joiner, byte-order mark, and the noncharacters U+FFFE and U+FFFF, which XML 1.0
  forbids. Identities are never stripped of these: a guid is kept as the source wrote it.

Whitespace is Unicode's, as ``str.split`` sees it.
"""

from __future__ import annotations

import functools
import re

__all__ = [
    "collapse_whitespace",
    "control_characters",
    "has_control_characters",
    "is_printable",
    "strip_control_characters",
]

_C0_AND_DEL = "\x00-\x08\x0b\x0e-\x1f\x7f"  # form feed (\x0c) is added unless in markup
_FORM_FEED = "\x0c"
_INVISIBLE = "\x80-\x9f\ud800-\udfff\u200b\u2060\ufeff\ufffe\uffff"

_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_PRINTABLE_ASCII = bytes(range(0x20, 0x7F))


@functools.cache
def control_characters(*, in_markup: bool = False, invisible: bool = False) -> re.Pattern[str]:
    """A regex matching one character to strip (see the module docstring for the sets).

    ``in_markup`` keeps form feed, whitespace in HTML; ``invisible`` adds the characters
    that show nothing in prose. Every character matched is unprintable (``str.isprintable``
    is false for it), which callers use to skip the search on printable text.
    """
    characters = _C0_AND_DEL + ("" if in_markup else _FORM_FEED)
    if invisible:
        characters += _INVISIBLE
    return re.compile(f"[{characters}]")


def has_control_characters(text: str) -> bool:
    """Whether ``text`` holds a C0 control (but tab, newline and carriage return) or DEL.

    UTF-8 encodes every non-ASCII character (lone surrogates too, with "surrogatepass") in
    bytes of 0x80 and above, so the control bytes of the encoded text are its control
    characters; deleting them is one byte-table pass in C, cheaper than searching the
    text with the regex.
    """
    encoded = text.encode("utf-8", "surrogatepass")
    return len(encoded.translate(None, _CONTROL_BYTES)) != len(encoded)


def strip_control_characters(text: str, *, in_markup: bool = False, invisible: bool = False) -> str:
    """``text`` without the characters :func:`control_characters` matches. Most text has
    none, which a scan in C finds out before any regex runs."""
    if invisible:
        if is_printable(text):
            return text
    elif not has_control_characters(text):  # it also counts form feed, which markup keeps
        return text
    return control_characters(in_markup=in_markup, invisible=invisible).sub("", text)


def is_printable(text: str) -> bool:
    """``text.isprintable()``; on ASCII text by deleting the printable bytes in one pass in
    C, which is cheaper than looking each character up in the Unicode database."""
    if text.isascii():
        return not text.encode("ascii").translate(None, _PRINTABLE_ASCII)
    return text.isprintable()


def collapse_whitespace(text: str) -> str:
    """Runs of whitespace (Unicode's, as ``\\s`` and str.split see it) as one space, none at
    either end. Text that is already so is returned as it is, found out with two scans in C
    rather than a split and join, which would build a list of its words and then the same
    string again."""
    if is_printable(text) and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text  # no whitespace but single inner spaces: the others are unprintable
    return " ".join(text.split())
