"""The definitions fingerprints estimate, computed the plain way: a text's words, its
exact set of shingles, and the MinHash similarity of two fingerprints.

Production never needs them (it hashes words straight from bytes and compares stored
minima); the threshold benchmark and the fingerprint tests hold it to them.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np

from dedup.fingerprint import NUM_PERM, SAME_STORY_THRESHOLD, SHINGLE_SIZE, Fingerprint

_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """Lower-cased word tokens: ``\\w+`` runs of the NFKC-normalised, casefolded text,
    so case, quote styles and punctuation do not matter."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def shingles(text: str, size: int = SHINGLE_SIZE) -> set[str]:
    """The set of ``size``-word shingles of ``text``, words joined by one space."""
    tokens = words(text)
    return {" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


def similarity(a: Fingerprint, b: Fingerprint) -> float:
    """Estimated Jaccard similarity of the two texts' shingle sets."""
    minima_a = np.frombuffer(a.minhash, dtype="<u4")
    minima_b = np.frombuffer(b.minhash, dtype="<u4")
    return float(np.count_nonzero(minima_a == minima_b)) / NUM_PERM


def is_same_story(a: Fingerprint, b: Fingerprint) -> bool:
    """Whether two band-key candidates are copies of one story."""
    return similarity(a, b) >= SAME_STORY_THRESHOLD
