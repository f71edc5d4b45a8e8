"""Near-duplicate fingerprints: MinHash over word shingles, with LSH band keys.

The same story reaches us through several feeds and seeds: syndicated, retitled, with a
note appended or the last paragraph cut. Each copy stays its own item; these fingerprints
let storage find the earlier copies (an indexed lookup on any shared band key) and confirm
them (estimated Jaccard similarity of the shingle sets) so the items can share one story.

Everything here is deterministic across processes and machines: words are hashed with
CRC-32 (not Python's salted ``hash``) and shingles are hashed from their words' hashes,
permutations come from a fixed seed, and band keys are computed from the minima alone
(the SplitMix64 finalizer). The parameters and the threshold were chosen by
``bench/dedup_threshold.py``; ``docs/dedup.md`` has the numbers.
"""

from __future__ import annotations

import re
import struct
import unicodedata
import zlib
from dataclasses import dataclass

import numpy as np

SHINGLE_SIZE = 5
"""Words per shingle. A cut or an appended note costs a copy the same share of shingles at
any size, while longer shingles keep unrelated articles that share stock phrases ("said
in a statement") further apart: 5-grams gave the widest gap between copies and the
nearest distinct articles in the bench (0.27 in Jaccard, against 0.22 for 3-grams)."""

MIN_WORDS = 30
"""Texts with fewer words get no fingerprint and are never merged on similarity alone.

A one- or two-sentence item (a brief, a video stub such as "23 March 2017 Last updated at
14:55 GMT", a "read more" teaser) is mostly stock phrasing: two different stories can
share nearly all of it. 30 words is about two news sentences; the shortest real story in
the dev data (a 35-word fire brigade report) still gets a fingerprint. Short items can
still be linked by canonical URL or identical content."""

NUM_PERM = 128
"""MinHash size: the similarity estimate has a standard error of at most 0.044."""

SAME_STORY_THRESHOLD = 0.4
"""Estimated Jaccard similarity at or above which two texts are the same story.

Measured by the bench: syndicated copies that lost a long last paragraph are the lowest
(farm copies from 0.51, estimated; exact 0.545), while no two distinct dev articles exceed
0.28, and the two closest are two versions of one BBC report. 0.4 sits in that gap, about
three standard errors of the estimate from either side; 0.5 would already miss about one
retouched copy in a hundred."""

BANDS = 32
ROWS = 2
"""LSH banding over the first ``BANDS * ROWS`` minima: two texts become candidates when
both values of any one band agree. A pair at the threshold is found with probability
1 - (1 - 0.4**2)**32 = 0.996 (0.9999 at 0.5); three rows would find it only with
probability 0.94. Unrelated pairs collide in proportion to what they share: 6 of the
810,000 pairs of distinct dev articles did (about 7 candidates per lookup among 1,000,000
items), but copies carrying the same syndication footer pushed that to about 100 in the
bench. Candidates are confirmed by ``is_same_story``, so collisions cost lookups only."""

FORMAT_VERSION = 2
"""Changes whenever a parameter above or the hashing changes, so fingerprints and band
keys made under other parameters can neither be decoded nor collide with new ones."""

_PERMUTATION_SEED = 20250301


def _permutations(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The multipliers and offsets of ``count`` affine permutations ``a * h + b`` of
    32-bit values, ``a`` odd (so each is a bijection), drawn from ``seed``.

    These are datasketch's (2.0) "affine32" permutations for that seed, drawn in the same
    order from the same generator, which the stored fingerprints were made with.
    ``RandomState`` is numpy's frozen legacy generator: its stream for a seed does not
    change between numpy releases.
    """
    generator = np.random.RandomState(seed)
    a = generator.randint(0, 1 << 31, count, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = generator.randint(0, 1 << 32, count, dtype=np.uint32)
    return a, b


# One row per permutation, so that ``_minima`` permutes a whole text at once.
_PERMUTATION_A, _PERMUTATION_B = (
    column.reshape(-1, 1) for column in _permutations(NUM_PERM, _PERMUTATION_SEED)
)
_WORD = re.compile(r"\w+")
_NON_ASCII_NON_WORD = re.compile(r"[^\x00-\x7f\w]")
_ASCII_WORDS = bytes(
    ord(char.casefold()) if char.isascii() and _WORD.fullmatch(char) else ord(" ")
    for char in map(chr, range(256))
)
"""``bytes.translate`` table for ASCII text: word characters to their casefold, every
other byte to a space. Built from ``_WORD`` and ``str.casefold`` themselves, so it cannot
disagree with them."""
_HEADER = struct.Struct("<BI")
_KEY_MASK = np.uint64((1 << 63) - 1)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
"""An odd 64-bit constant with random-looking bits: the multiplier of the polynomial that
combines a shingle's word hashes (so word order matters) and the band-key offset."""
_BAND_OFFSETS = (
    np.arange(1, BANDS + 1, dtype=np.uint64) + np.uint64(FORMAT_VERSION << 8)
) * _GOLDEN
"""What ``_band_keys`` adds to each band's rows: the band index and the format version."""


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """The MinHash signature of one text and the LSH band keys derived from it.

    ``minhash`` holds ``NUM_PERM`` little-endian uint32 minima. ``band_keys`` holds one
    key per band, each in ``[0, 2**63)`` so it fits a signed BIGINT column; the band index
    is mixed into the key, so one indexed column serves all bands.
    """

    minhash: bytes
    band_keys: tuple[int, ...]
    shingle_count: int


def fingerprint(text: str) -> Fingerprint | None:
    """Fingerprint ``text``, or None when it has fewer than ``MIN_WORDS`` words."""
    word_hashes = _word_hashes(text)
    if word_hashes.size < MIN_WORDS:
        return None
    hashes = _shingle_hashes(word_hashes, SHINGLE_SIZE)
    return _from_values(_minima(hashes), _distinct_count(hashes))


def word_count(text: str) -> int:
    """The words of ``text`` as fingerprinting counts them: below ``MIN_WORDS`` a text is
    too short to say whether two items are the same article."""
    return int(_word_hashes(text).size)


def match_encoded(new: bytes, candidate: bytes) -> float | None:
    """Similarity of two stored fingerprints if they are the same story, else None.

    This is the story matcher storage is given: a candidate stored in an older format
    cannot be compared and simply does not match.
    """
    try:
        # The minima are all it needs: ``decode`` would derive band keys as well.
        score = _similarity(_unpack(new)[0], _unpack(candidate)[0])
    except ValueError:
        return None
    return score if score >= SAME_STORY_THRESHOLD else None


def encode(fp: Fingerprint) -> bytes:
    """Compact storage form: format version, shingle count, then the minima (517 bytes).

    Band keys are left out: they are derived from the minima and live in their own table.
    """
    return _HEADER.pack(FORMAT_VERSION, fp.shingle_count) + fp.minhash


def decode(data: bytes) -> Fingerprint:
    """Inverse of ``encode``; ValueError for another format version or a damaged value."""
    return _from_values(*_unpack(data))


def _unpack(data: bytes) -> tuple[np.ndarray, int]:
    """The minima and shingle count of an encoded fingerprint (ValueError as ``decode``)."""
    if len(data) != _HEADER.size + 4 * NUM_PERM:
        raise ValueError(
            f"encoded fingerprint has {len(data)} bytes, not {_HEADER.size + 4 * NUM_PERM}"
        )
    version, shingle_count = _HEADER.unpack_from(data)
    if version != FORMAT_VERSION:
        raise ValueError(f"fingerprint format {version} is not the current {FORMAT_VERSION}")
    return _values(data[_HEADER.size :]), shingle_count


def _similarity(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.count_nonzero(a == b)) / NUM_PERM


def _word_hashes(text: str) -> np.ndarray:
    """The CRC-32 of the UTF-8 bytes of each word of ``text``, as uint64. A word is a run
    of ``\\w`` characters of the NFKC-normalised, casefolded text, so case, quote styles
    and punctuation do not matter.

    Most feed text is ASCII, and there that definition reduces to a byte table: NFKC leaves
    ASCII as it is, casefolding it is lower-casing, and the word characters of ASCII are
    the letters, digits and underscore. Translating every other byte to a space and
    splitting gives the same words, already encoded, in two passes in C rather than a regex
    search and an encode per word. Most other text is ASCII but for punctuation and symbols
    (curly quotes, dashes, "£"): once they are spaces, which separate words just as they
    did, it takes the same path.
    """
    if not text.isascii():
        text = _NON_ASCII_NON_WORD.sub(" ", unicodedata.normalize("NFKC", text).casefold())
    if text.isascii():
        tokens = text.encode("ascii").translate(_ASCII_WORDS).split()
    else:
        tokens = [word.encode() for word in _WORD.findall(text)]
    return np.fromiter(map(zlib.crc32, tokens), dtype=np.uint64, count=len(tokens))


def _shingle_hashes(word_hashes: np.ndarray, size: int) -> np.ndarray:
    """The 32-bit hashes of the ``size``-word shingles of a text (with repeats), from the
    uint64 hashes of its words.

    Each word is hashed once and ``size`` neighbours are combined in numpy, a fraction of
    the cost of hashing every shingle's text. Two distinct shingles of one text collide
    with probability about n²/2³³.
    """
    count = word_hashes.size - size + 1
    combined = word_hashes[:count].copy()
    for offset in range(1, size):
        combined *= _GOLDEN
        combined += word_hashes[offset : offset + count]
    folded = combined >> np.uint64(32)
    folded ^= combined
    return folded.astype(np.uint32)


def _distinct_count(values: np.ndarray) -> int:
    """How many different values a non-empty array holds (sorting beats a Python set)."""
    ordered = np.sort(values)
    return 1 + int(np.count_nonzero(ordered[1:] != ordered[:-1]))


def _minima(hashes: np.ndarray) -> np.ndarray:
    """The MinHash signature: per permutation, the least permuted hash.

    As datasketch's "affine32" MinHash computes it: the MurmurHash3 finalizer first (so
    plain or structured inputs are safe), then ``a * h + b`` modulo 2**32. Repeated hashes do not
    change a minimum, so they need no removing.
    """
    # One row per permutation, so each minimum is taken along a contiguous row.
    permuted = _PERMUTATION_A * _fmix32(hashes)
    permuted += _PERMUTATION_B
    return permuted.min(axis=1)


def _fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, into a new array (``values`` is left as it is)."""
    mixed = values >> np.uint32(16)
    mixed ^= values
    mixed *= np.uint32(0x85EBCA6B)
    mixed ^= mixed >> np.uint32(13)
    mixed *= np.uint32(0xC2B2AE35)
    mixed ^= mixed >> np.uint32(16)
    return mixed


def _values(minhash: bytes) -> np.ndarray:
    return np.frombuffer(minhash, dtype="<u4")


def _from_values(values: np.ndarray, shingle_count: int) -> Fingerprint:
    minhash = values.astype("<u4").tobytes()
    return Fingerprint(minhash, _band_keys(values), shingle_count)


def _band_keys(values: np.ndarray) -> tuple[int, ...]:
    """One key per band: its rows combined into one 64-bit value, offset by the band
    index and the format version, avalanched (the SplitMix64 finalizer) and masked to
    63 bits."""
    rows = values[: BANDS * ROWS].astype(np.uint64).reshape(BANDS, ROWS)
    keys = rows[:, 0].copy()
    for row in range(1, ROWS):
        keys <<= np.uint64(32)
        keys += rows[:, row]
    keys += _BAND_OFFSETS
    _fmix64_in_place(keys)
    keys &= _KEY_MASK
    return tuple(keys.tolist())


def _fmix64_in_place(values: np.ndarray) -> None:
    values ^= values >> np.uint64(30)
    values *= np.uint64(0xBF58476D1CE4E5B9)
    values ^= values >> np.uint64(27)
    values *= np.uint64(0x94D049BB133111EB)
    values ^= values >> np.uint64(31)
