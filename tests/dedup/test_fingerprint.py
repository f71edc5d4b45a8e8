from __future__ import annotations

import json
import os
import struct
import subprocess
import sys

import pytest
from datasketch import MinHash

from bench.fingerprint_reference import is_same_story, similarity, words
from dedup.fingerprint import (
    _PERMUTATION_A,
    _PERMUTATION_B,
    BANDS,
    MIN_WORDS,
    NUM_PERM,
    SAME_STORY_THRESHOLD,
    SHINGLE_SIZE,
    Fingerprint,
    _shingle_hashes,
    _word_hashes,
    decode,
    encode,
    fingerprint,
    match_encoded,
)
from tests.conftest import REPO, SEED, shared_path

SYNDICATION_NOTE = (
    "This story was first published by a partner site and is republished with permission."
)
# Long enough to fingerprint, and fixed: the pinned values below were computed from it.
PINNED_TEXT = (
    "The council said the new bridge would open to cyclists and walkers in the spring, "
    "two years later than planned, after engineers found the old piers could not carry "
    "the weight of the deck and had to be rebuilt from the riverbed up."
)
PINNED_MINHASH_HEAD = (164401019, 61295157, 191802068, 182603256)
PINNED_FIRST_BAND_KEY = 8645852380872851324


def seed_paragraphs() -> list[str]:
    _title, _, body = SEED.read_text(encoding="utf-8").partition("\n")
    return [p.strip() for p in body.split("\n\n") if p.strip()]


def fp(text: str) -> Fingerprint:
    result = fingerprint(text)
    assert result is not None, "text unexpectedly too short to fingerprint"
    return result


def dev_articles(name: str) -> dict[str, str]:
    path = shared_path("data", name)
    records = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())
    return {record["id"]: record["text"] for record in records}


def test_fingerprint_is_the_same_in_another_process_with_another_hash_seed() -> None:
    script = (
        "import sys; from dedup.fingerprint import encode, fingerprint; "
        "print(encode(fingerprint(sys.stdin.read())).hex())"
    )
    text = "\n\n".join(seed_paragraphs())
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        input=text,
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        check=True,
    )
    assert bytes.fromhex(result.stdout.strip()) == encode(fp(text))


def test_fingerprint_matches_values_already_stored() -> None:
    # Stored fingerprints and band keys are only comparable with new ones while the word
    # and shingle hashes, the permutations (datasketch "affine32", fixed seed) and the key
    # hash stay the same; a change to any of them must bump FORMAT_VERSION.
    pinned = fp(PINNED_TEXT)
    assert struct.unpack_from("<4I", pinned.minhash) == PINNED_MINHASH_HEAD
    assert pinned.band_keys[0] == PINNED_FIRST_BAND_KEY


def test_permutations_are_datasketchs_affine32_permutations_for_the_seed() -> None:
    # Format 2 fingerprints were made with datasketch's; ours are drawn without it.
    a, b = MinHash(num_perm=NUM_PERM, seed=20250301, scheme="affine32").permutations
    assert _PERMUTATION_A.dtype == _PERMUTATION_B.dtype == a.dtype
    assert _PERMUTATION_A.ravel().tobytes() == a.tobytes()
    assert _PERMUTATION_B.ravel().tobytes() == b.tobytes()


def test_signature_is_datasketchs_minhash_of_the_shingle_hashes() -> None:
    hashes = _shingle_hashes(_word_hashes("\n\n".join(seed_paragraphs())), SHINGLE_SIZE)
    reference = MinHash(num_perm=NUM_PERM, seed=20250301, scheme="affine32", hashfunc=int)
    reference.update_batch(hashes.tolist())
    assert (
        fp("\n\n".join(seed_paragraphs())).minhash == reference.hashvalues.astype("<u4").tobytes()
    )


def test_word_order_changes_the_shingles() -> None:
    tokens = words(PINNED_TEXT)
    swapped_text = " ".join([tokens[1], tokens[0], *tokens[2:]])
    original = _shingle_hashes(_word_hashes(PINNED_TEXT), SHINGLE_SIZE)
    swapped = _shingle_hashes(_word_hashes(swapped_text), SHINGLE_SIZE)
    assert original[0] != swapped[0]
    assert original[2] == swapped[2]


def test_retouched_copy_of_the_seed_is_the_same_story() -> None:
    paragraphs = seed_paragraphs()
    original = "\n\n".join(paragraphs)
    # Syndicated copy: last paragraph cut, another dropped, curly quotes straightened, note
    # appended. (The changed title is not part of the text.)
    kept = paragraphs[:5] + paragraphs[6:-1] + [SYNDICATION_NOTE]
    copy = "\n\n".join(kept).replace("‘", "'").replace("’", "'")
    assert is_same_story(fp(original), fp(copy))


def test_copy_shares_a_band_key_with_its_original() -> None:
    original = "\n\n".join(seed_paragraphs())
    copy = "\n\n".join([*seed_paragraphs()[:-1], SYNDICATION_NOTE])
    assert set(fp(original).band_keys) & set(fp(copy).band_keys)


def test_case_quotes_and_punctuation_do_not_matter() -> None:
    text = "\n\n".join(seed_paragraphs())
    shouted = text.upper().replace("‘", '"').replace("’", '"').replace(",", " ;")
    assert similarity(fp(text), fp(shouted)) == 1.0


def test_different_dev_articles_are_not_the_same_story() -> None:
    bbc = dev_articles("summ-dev-bbc.jsonl")
    xsum = dev_articles("summ-dev-xsum.jsonl")
    first_bbc, first_xsum = next(iter(bbc.values())), next(iter(xsum.values()))
    assert not is_same_story(fp(first_bbc), fp(first_xsum))


def test_two_reports_on_the_same_political_row_are_not_the_same_story() -> None:
    # "Labour seeks to quell feud talk" and "Blair to face MPs amid feud talk": same week,
    # same people, much shared background, different stories.
    bbc = dev_articles("summ-dev-bbc.jsonl")
    a, b = fp(bbc["bbc-politics-260"]), fp(bbc["bbc-politics-225"])
    assert 0.1 < similarity(a, b) < 0.4
    assert not is_same_story(a, b)


def test_short_texts_get_no_fingerprint() -> None:
    assert fingerprint("Watch: the best goals from the weekend in under a minute") is None
    assert fingerprint("Watch: the best saves from the weekend in under a minute") is None
    words = PINNED_TEXT.split()
    assert fingerprint(" ".join(words[: MIN_WORDS - 1])) is None
    assert fingerprint(" ".join(words[:MIN_WORDS])) is not None


def test_band_keys_fit_a_signed_bigint_and_differ_per_band() -> None:
    pinned = fp(PINNED_TEXT)
    assert len(pinned.band_keys) == BANDS
    assert all(0 <= key < 2**63 for key in pinned.band_keys)
    # Every band holding the same values must still give different keys: one column
    # serves all bands, so a match must mean the same band.
    uniform = decode(encode(Fingerprint(bytes(4 * NUM_PERM), (), 10)))
    assert len(set(uniform.band_keys)) == BANDS


def test_encode_decode_round_trip() -> None:
    original = fp("\n\n".join(seed_paragraphs()))
    data = encode(original)
    assert len(data) == 5 + 4 * NUM_PERM
    assert decode(data) == original


def test_decode_rejects_another_format_or_length() -> None:
    data = encode(fp(PINNED_TEXT))
    with pytest.raises(ValueError, match="format"):
        decode(bytes([data[0] + 1]) + data[1:])
    with pytest.raises(ValueError, match="bytes"):
        decode(data[:-4])


def test_match_encoded_scores_same_stories_only() -> None:
    original = fp("\n\n".join(seed_paragraphs()))
    copy = fp("\n\n".join([*seed_paragraphs()[:-1], SYNDICATION_NOTE]))
    other = fp(PINNED_TEXT)
    assert match_encoded(encode(original), encode(copy)) == similarity(original, copy)
    assert similarity(original, other) < SAME_STORY_THRESHOLD
    assert match_encoded(encode(original), encode(other)) is None


def test_match_encoded_does_not_match_another_format_or_a_damaged_value() -> None:
    data = encode(fp(PINNED_TEXT))
    assert match_encoded(data, bytes([data[0] + 1]) + data[1:]) is None
    assert match_encoded(data[:-4], data) is None


def test_similarity_is_symmetric_and_one_for_identical_texts() -> None:
    a = fp("\n\n".join(seed_paragraphs()))
    b = fp("\n\n".join(seed_paragraphs()[:-3]))
    assert similarity(a, a) == 1.0
    assert similarity(a, b) == similarity(b, a) < 1.0
