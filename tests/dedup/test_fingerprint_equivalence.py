"""The fast fingerprint path against a plain definition of format 2.

``dedup.fingerprint`` tokenises ASCII text with a byte table and works on numpy arrays in
place; stored fingerprints only keep matching new ones while that gives exactly what the
definition below gives: the words of the NFKC-normalised, casefolded text (``\\w+``), the
CRC-32 of each word's UTF-8 bytes, five neighbours combined by the polynomial in
``_GOLDEN``, datasketch's "affine32" MinHash of those shingle hashes, and SplitMix64 band
keys over pairs of minima.
"""

from __future__ import annotations

import json
import random
import re
import sys
import unicodedata
import zlib

import pytest
from datasketch import MinHash

from bench.fingerprint_reference import words
from dedup.fingerprint import MIN_WORDS, _word_hashes, fingerprint
from tests.conftest import shared_path

MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
WORD = re.compile(r"\w+")

# Words that stress the Unicode handling, each compared with the regex definition.
EDGE_WORDS = [
    "café",
    "Résumé",
    "naïve",
    "ﬁnancial",  # ligature, NFKC "fi"
    "ﬂow",
    "２０２４",  # full-width digits
    "ＡＢＣ",  # full-width letters
    "İstanbul",  # Turkish dotted capital I: casefolds to "i" + combining dot
    "ıslak",  # dotless i
    "Straße",  # ß casefolds to "ss"
    "STRASSE",
    "東京都",
    "今日は晴れ",
    "서울",
    "ΟΔΟΣ",  # final sigma
    "e\u0301",  # combining acute accent
    "x²",  # superscript, NFKC "2"
    "½",
    "snake_case",
    "don't",
    "‘quoted’",
    "“double”",
    "a—b",  # em dash
    "£5m",
    "€10",
    "zero\u200bwidth",
    "non\xa0breaking",
    "tab\there",
    "line\x0bfeed",
    "nul\x00byte",
    "emoji🙂face",
    "Ⅻ",  # Roman numeral twelve, NFKC "XII"
    "ǅ",  # titlecase digraph
    "\ud800lone",  # lone surrogate: not a word character
]

EDGE_TEXTS = [
    "",
    " ",
    "\n\n",
    "word",
    " ".join(["plain"] * (MIN_WORDS - 1)),
    " ".join(["plain"] * MIN_WORDS),
    " ".join(f"w{i}" for i in range(MIN_WORDS - 1)) + " ﬁ",  # the ligature is word 30
    " ".join(["‘’"] * 40),  # only punctuation: no words at all
    " ".join(EDGE_WORDS),
    " ".join(EDGE_WORDS * 3),
    " ".join(word.upper() for word in EDGE_WORDS * 3),
    "The MINISTER’s “plan” — worth £5bn — was ‘shelved’ on 3 March, officials said. " * 4,
    "İSTANBUL'DA İKİ ŞİRKET BİRLEŞTİ VE YENİ BİR ŞİRKET KURULDU " * 5,
    "Die Straße in München ist über fünfzig Meter breit und sehr schön gebaut " * 4,
    "東京都 大阪府 京都府 北海道 沖縄県 " * 10,
    "Numbers １２３ and ４５６ and ①②③ and x² and ½ cups of ﬂour for ﬁve people " * 3,
]


def reference_fingerprint(text: str) -> tuple[bytes, tuple[int, ...], int] | None:
    """Format 2 written plainly: (minhash bytes, band keys, shingle count), or None."""
    tokens = WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    if len(tokens) < MIN_WORDS:
        return None
    word_hashes = [zlib.crc32(token.encode()) for token in tokens]
    shingle_hashes = []
    for start in range(len(tokens) - 4):
        combined = word_hashes[start]
        for offset in range(1, 5):
            combined = (combined * GOLDEN + word_hashes[start + offset]) & MASK64
        shingle_hashes.append(((combined >> 32) ^ combined) & 0xFFFFFFFF)
    minhash = MinHash(num_perm=128, seed=20250301, scheme="affine32", hashfunc=int)
    minhash.update_batch(shingle_hashes)
    minima = [int(value) for value in minhash.hashvalues]
    band_keys = []
    for band in range(32):
        key = (minima[2 * band] << 32) + minima[2 * band + 1]
        key = (key + (band + 1 + (2 << 8)) * GOLDEN) & MASK64
        key = ((key ^ (key >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        key = ((key ^ (key >> 27)) * 0x94D049BB133111EB) & MASK64
        band_keys.append((key ^ (key >> 31)) & ((1 << 63) - 1))
    packed = b"".join(value.to_bytes(4, "little") for value in minima)
    return packed, tuple(band_keys), len(set(shingle_hashes))


def actual(text: str) -> tuple[bytes, tuple[int, ...], int] | None:
    fp = fingerprint(text)
    return None if fp is None else (fp.minhash, fp.band_keys, fp.shingle_count)


def reference_word_hashes(text: str) -> list[int]:
    return [zlib.crc32(word.encode()) for word in words(text)]


def dev_texts(name: str) -> dict[str, str]:
    path = shared_path("data", name)
    records = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())
    return {record["id"]: record["text"] for record in records}


@pytest.mark.parametrize(
    "name", ["summ-dev-bbc.jsonl", "summ-dev-xsum.jsonl", "summ-dev-cnndm.jsonl"]
)
def test_dev_articles_fingerprint_as_the_plain_definition(name: str) -> None:
    texts = dev_texts(name)
    different = [key for key, text in texts.items() if actual(text) != reference_fingerprint(text)]
    assert not different, f"{len(different)} of {len(texts)} differ, e.g. {different[:5]}"


@pytest.mark.parametrize("text", EDGE_TEXTS)
def test_edge_texts_fingerprint_as_the_plain_definition(text: str) -> None:
    assert actual(text) == reference_fingerprint(text)


def test_edge_texts_are_not_all_too_short() -> None:
    # The equivalence above means little if every edge text were under MIN_WORDS.
    assert sum(fingerprint(text) is not None for text in EDGE_TEXTS) >= 8


@pytest.mark.parametrize("word", EDGE_WORDS)
def test_edge_words_hash_as_their_regex_words(word: str) -> None:
    for text in (word, f"a {word} b", f"A{word}B", word.upper()):
        assert _word_hashes(text).tolist() == reference_word_hashes(text)


def test_random_ascii_text_hashes_as_its_regex_words() -> None:
    # Every ASCII character, control characters included, in random runs.
    rng = random.Random(20250301)
    alphabet = [chr(code) for code in range(128)] + list("aeiou rst ") * 10
    for _ in range(500):
        text = "".join(rng.choices(alphabet, k=rng.randrange(0, 300)))
        assert _word_hashes(text).tolist() == reference_word_hashes(text), repr(text)


def test_every_code_point_hashes_as_its_regex_words() -> None:
    # Each character between two letters: whether it joins them, splits them or turns
    # into ASCII (or into nothing) under NFKC and casefolding must not matter.
    for block in range(0, sys.maxunicode + 1, 256):
        chars = [chr(code) for code in range(block, block + 256) if not 0xD800 <= code < 0xE000]
        text = " ".join(f"a{char}b" for char in chars)
        assert _word_hashes(text).tolist() == reference_word_hashes(text), hex(block)
