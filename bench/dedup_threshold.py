"""Measure near-duplicate story linking and choose its parameters.

Run from the repo root: ``python -m bench.dedup_threshold`` (about half a minute).

Two labelled sets:

* farm: the items of ``feedfarm.py --overlap 0.1`` (100 feeds x 12 items from the BBC and
  XSum dev files, plus ~120 syndicated copies: other URL and guid, retouched title, a
  syndication note, sometimes the last paragraph cut). Its ``/truth`` maps each copy to
  its original; the farm also reuses some articles under a second guid (1200 slots, 1100
  articles), so the label of an item is the dev article id at the end of its link.
* dev: the ~1,270 distinct dev articles (BBC, XSum, CNN/DM) plus one retouched copy of
  each and five retouched copies of the seed (note appended, last paragraph cut, a middle
  paragraph dropped, quote styles changed, or all of these).

It prints, for each set: exact shingle Jaccard of copies vs nearest distinct pairs for
3-, 4- and 5-word shingles; the MinHash similarity distributions and a threshold sweep;
LSH candidate counts for several bands x rows; story linking with the shipped parameters
(band-key index + ``is_same_story``): precision, recall, the share of distinct articles
wrongly merged, and the distinct pairs that come closest. Then fingerprinting speed.
"""

from __future__ import annotations

import html
import json
import random
import re
import socket
import statistics
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from itertools import combinations
from pathlib import Path

import feedparser
import httpx
import numpy as np
from scipy import sparse

from bench.fingerprint_reference import is_same_story, shingles, similarity, words
from dedup import fingerprint as fpmod
from dedup.canonical import canonical_url
from dedup.fingerprint import Fingerprint, fingerprint

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DATA = SHARED / "data"
FEEDFARM = SHARED / "tools" / "feedfarm.py"
SEED = REPO / "seeds" / "000_5e72854a3612335b.txt"
FARM_DATA = ("summ-dev-bbc.jsonl", "summ-dev-xsum.jsonl")
DEV_DATA = ("summ-dev-bbc.jsonl", "summ-dev-xsum.jsonl", "summ-dev-cnndm.jsonl")
NOTES = (
    "This story was first published by a partner site and is republished with permission.",
    "Additional reporting by our correspondents. "
    "Copyright 2025 Wire Services, all rights reserved.",
    "This article originally appeared on The Conversation and is republished under licence.",
)
SHINGLE_SIZES = (3, 4, 5)
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
LSH_SHAPES = ((21, 6), (25, 5), (32, 4), (42, 3), (32, 2), (48, 2), (64, 2))


@dataclass(frozen=True)
class Item:
    """One text of a labelled set: items with the same ``story`` are copies of each other."""

    key: str
    story: str
    title: str
    text: str
    is_copy: bool = False
    url: str | None = None


# --- labelled sets -------------------------------------------------------------------------


def farm_items() -> list[Item]:
    """Every entry the farm serves, labelled by the dev article it was built from."""
    with _running_farm() as base, httpx.Client(base_url=base) as client:
        opml = client.get("/opml").text
        feed_urls = [o.get("xmlUrl") for o in ET.fromstring(opml).iter("outline")]
        truth: dict[str, str] = client.get("/truth").json()
        items = [item for url in feed_urls for item in _feed_items(client.get(url))]
    by_key = {item.key: item for item in items}
    for copy, original in truth.items():
        if by_key[copy].story != by_key[original].story:
            raise AssertionError(f"farm truth {copy} -> {original} disagrees with the links")
    copies = set(truth)
    return [replace(item, is_copy=item.key in copies) for item in items]


class _running_farm:
    """The feed farm as a subprocess on a free local port, stopped on exit."""

    def __enter__(self) -> str:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        data = ",".join(str(DATA / name) for name in FARM_DATA)
        args = [
            sys.executable,
            str(FEEDFARM),
            "--data",
            data,
            "--feeds",
            "100",
            "--items",
            "12",
            "--overlap",
            "0.1",
            "--port",
            str(port),
        ]
        self.process = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        assert self.process.stdout is not None
        self.process.stdout.readline()  # "serving ..." once it listens
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc_info: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def _feed_items(response: httpx.Response) -> Iterator[Item]:
    if response.headers["content-type"].startswith("application/feed+json"):
        entries = [
            (e["id"], e["url"], e["title"], e["content_html"]) for e in response.json()["items"]
        ]
    else:
        parsed = feedparser.parse(response.content)
        entries = [(e.id, e.link, e.title, e.content[0].value) for e in parsed.entries]
    for guid, link, title, body in entries:
        article_id = link.split("?")[0].rsplit("/", 1)[1]
        yield Item(guid, article_id, title, _html_text(body), url=link)


def _html_text(body: str) -> str:
    """The farm's bodies are plain ``<p>`` runs: one paragraph each, as the cleaner yields."""
    paragraphs = (html.unescape(re.sub(r"<[^>]+>", "", p)).strip() for p in body.split("</p>"))
    return "\n\n".join(p for p in paragraphs if p)


def dev_items() -> list[Item]:
    """The distinct dev articles, one retouched copy of each, and five copies of the seed."""
    rng = random.Random(5)
    originals = [
        Item(a["id"], a["id"], a["title"] or a["text"][:80], a["text"])
        for name in DEV_DATA
        for a in map(json.loads, (DATA / name).read_text(encoding="utf-8").splitlines())
    ]
    seed_title, _, seed_text = SEED.read_text(encoding="utf-8").partition("\n")
    seed = Item("seed", "seed", seed_title, seed_text.strip())
    copies = [
        replace(item, key=f"{item.key}~{name}", text=retouch(item.text, rng), is_copy=True)
        for i, item in enumerate(originals)
        for name, retouch in [RETOUCHES[i % len(RETOUCHES)]]
    ]
    seed_copies = [
        replace(
            seed,
            key=f"seed~{name}",
            title=f"UPDATED: {seed.title}",
            text=retouch(seed.text, rng),
            is_copy=True,
        )
        for name, retouch in RETOUCHES
    ]
    return [*originals, seed, *copies, *seed_copies]


def _units(text: str) -> tuple[list[str], str]:
    """Paragraphs, or sentences when the source kept no paragraph breaks (XSum, CNN/DM)."""
    paragraphs = text.split("\n\n")
    if len(paragraphs) > 4:
        return paragraphs, "\n\n"
    return re.split(r"(?<=[.!?]) (?=[A-Z\"'‘“])", text), " "


def _with_note(text: str, rng: random.Random) -> str:
    return f"{text}\n\n{rng.choice(NOTES)}"


# Like the farm, cut only texts of more than four paragraphs (or sentences): a copy that
# keeps half a short text is an excerpt, not a syndicated copy.
def _cut_last(text: str, rng: random.Random) -> str:
    units, sep = _units(text)
    if len(units) > 4:
        units = units[:-1]
    return _with_note(sep.join(units), rng)


def _drop_middle(text: str, rng: random.Random) -> str:
    units, sep = _units(text)
    if len(units) > 4:
        del units[rng.randrange(1, len(units) - 1)]
    return _with_note(sep.join(units), rng)


_QUOTES = str.maketrans({"'": "’", '"': "”", "‘": "'", "’": "'", "“": '"', "”": '"'})


def _requote(text: str, rng: random.Random) -> str:
    return _with_note(text.translate(_QUOTES), rng)


def _everything(text: str, rng: random.Random) -> str:
    units, sep = _units(text.translate(_QUOTES))
    if len(units) > 5:
        units = units[:-1]
        del units[rng.randrange(1, len(units) - 1)]
    return _with_note(sep.join(units), rng)


RETOUCHES: tuple[tuple[str, Callable[[str, random.Random], str]], ...] = (
    ("note", _with_note),
    ("cut-last", _cut_last),
    ("drop-middle", _drop_middle),
    ("requote", _requote),
    ("all", _everything),
)


# --- measurements --------------------------------------------------------------------------


def same_story_mask(items: list[Item]) -> np.ndarray:
    stories = np.array([item.story for item in items])
    return stories[:, None] == stories[None, :]


def exact_jaccard(items: list[Item], size: int) -> np.ndarray:
    """All-pairs exact Jaccard of ``size``-word shingle sets (sparse incidence product)."""
    vocabulary: dict[str, int] = {}
    rows, cols = [], []
    for row, item in enumerate(items):
        for shingle in shingles(item.text, size):
            rows.append(row)
            cols.append(vocabulary.setdefault(shingle, len(vocabulary)))
    incidence = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(len(items), len(vocabulary))
    )
    common = (incidence @ incidence.T).toarray().astype(np.float64)
    sizes = np.diag(common)
    union = sizes[:, None] + sizes[None, :] - common
    return np.divide(common, union, out=np.zeros_like(common), where=union > 0)


def minhash_similarity(fps: list[Fingerprint]) -> np.ndarray:
    """All-pairs estimated Jaccard from the MinHash signatures."""
    signatures = np.stack([np.frombuffer(fp.minhash, dtype="<u4") for fp in fps])
    result = np.empty((len(fps), len(fps)))
    for i, signature in enumerate(signatures):
        result[i] = np.count_nonzero(signatures == signature, axis=1) / fpmod.NUM_PERM
    return result


def copy_pairs(items: list[Item]) -> list[tuple[int, int]]:
    """(copy, original) index pairs; an original is the first non-copy item of the story."""
    first: dict[str, int] = {}
    for i, item in enumerate(items):
        if not item.is_copy:
            first.setdefault(item.story, i)
    return [
        (i, first[item.story])
        for i, item in enumerate(items)
        if item.is_copy and item.story in first
    ]


def distinct_upper(items: list[Item]) -> np.ndarray:
    """Mask of the pairs (i < j) of different stories."""
    return np.triu(~same_story_mask(items), k=1)


def nearest_distinct(matrix: np.ndarray, items: list[Item]) -> np.ndarray:
    """For each item, its highest similarity to an item of another story."""
    masked = np.where(same_story_mask(items), -1.0, matrix)
    return masked.max(axis=1)


def describe(values: np.ndarray) -> str:
    q = np.percentile(values, [0, 1, 5, 50, 95, 99, 100])
    names = ("min", "p1", "p5", "median", "p95", "p99", "max")
    return "  ".join(f"{n} {v:.3f}" for n, v in zip(names, q, strict=True))


def report_shingle_sizes(items: list[Item]) -> None:
    pairs = copy_pairs(items)
    print("exact Jaccard by shingle size (copies vs original | nearest other story):")
    for size in SHINGLE_SIZES:
        matrix = exact_jaccard(items, size)
        copies = np.array([matrix[c, o] for c, o in pairs])
        nearest = nearest_distinct(matrix, items)
        print(
            f"  {size}-word  copies: min {copies.min():.3f} p1 {np.percentile(copies, 1):.3f}"
            f"   nearest distinct: p99 {np.percentile(nearest, 99):.3f} max {nearest.max():.3f}"
            f"   gap {copies.min() - nearest.max():+.3f}"
        )


def report_similarity(items: list[Item], fps: list[Fingerprint | None]) -> None:
    """Print MinHash similarity distributions and the threshold sweep."""
    kept = [fp for fp in fps if fp is not None]
    matrix = minhash_similarity(kept)
    items = [item for item, fp in zip(items, fps, strict=True) if fp is not None]
    pairs = copy_pairs(items)
    copies = np.array([matrix[c, o] for c, o in pairs])
    distinct = matrix[distinct_upper(items)]
    nearest = nearest_distinct(matrix, items)
    print(
        f"MinHash similarity ({fpmod.NUM_PERM} permutations, {fpmod.SHINGLE_SIZE}-word shingles):"
    )
    print(f"  copies vs original ({len(copies)}):  {describe(copies)}")
    print(f"  nearest other story ({len(items)}): {describe(nearest)}")
    print(f"  all distinct pairs: {distinct.size:,}")
    print("  threshold  copies>=t  distinct pairs>=t")
    for t in THRESHOLDS:
        print(f"  {t:9.2f}  {np.mean(copies >= t):9.4f}  {np.count_nonzero(distinct >= t):17d}")


def report_lsh_shapes(items: list[Item], fps: list[Fingerprint]) -> None:
    """Candidate pairs each bands x rows shape would produce, against its theoretical curve."""
    signatures = np.stack([np.frombuffer(fp.minhash, dtype="<u4") for fp in fps])
    same = same_story_mask(items)
    n_pairs = len(items) * (len(items) - 1) // 2
    n_distinct = int(np.count_nonzero(distinct_upper(items)))
    t = fpmod.SAME_STORY_THRESHOLD
    print(f"LSH candidates (all {n_pairs:,} pairs; {n_distinct:,} of them distinct stories):")
    print(
        "  bands x rows   P(found | s=t)  P(found | s=0.1)  copy pairs found  "
        "distinct candidates (both originals)  per lookup at 1M items"
    )
    copy_set = {tuple(sorted(p)) for p in copy_pairs(items)}
    for bands, rows in LSH_SHAPES:
        candidates = _band_collisions(signatures, bands, rows)
        found = len(copy_set & candidates)
        false = [(i, j) for i, j in candidates if not same[i, j]]
        originals = sum(not (items[i].is_copy or items[j].is_copy) for i, j in false)
        print(
            f"  {bands:5d} x {rows:<4d}  {_p_found(t, bands, rows):14.4f}  "
            f"{_p_found(0.1, bands, rows):16.5f}  {found:7d}/{len(copy_set):<7d}  "
            f"{len(false):19d} ({originals:5d})          "
            f"{len(false) / n_distinct * 1_000_000:17.1f}"
        )


def _p_found(s: float, bands: int, rows: int) -> float:
    return 1 - (1 - s**rows) ** bands


def _band_collisions(signatures: np.ndarray, bands: int, rows: int) -> set[tuple[int, int]]:
    found: set[tuple[int, int]] = set()
    for band in range(bands):
        buckets: dict[bytes, list[int]] = defaultdict(list)
        for i, row in enumerate(signatures[:, band * rows : (band + 1) * rows]):
            buckets[row.tobytes()].append(i)
        for members in buckets.values():
            found.update(combinations(members, 2))
    return found


@dataclass(frozen=True)
class Linking:
    story_of: list[int]  # predicted story (index of its first item) per item
    candidates: int  # candidate rows returned by the band-key lookups
    comparisons: int  # distinct candidate items confirmed or rejected


def link_stories(fps: list[Fingerprint | None]) -> Linking:
    """What storage will do: look up earlier items sharing a band key, join the best match."""
    index: dict[int, list[int]] = defaultdict(list)
    story_of: list[int] = []
    candidates = comparisons = 0
    for i, fp in enumerate(fps):
        story = i
        if fp is not None:
            hits = [j for key in fp.band_keys for j in index[key]]
            candidates += len(hits)
            earlier = set(hits)
            comparisons += len(earlier)
            matches = [(similarity(fp, fps[j]), j) for j in earlier if is_same_story(fp, fps[j])]
            if matches:
                story = story_of[max(matches)[1]]
            for key in fp.band_keys:
                index[key].append(i)
        story_of.append(story)
    return Linking(story_of, candidates, comparisons)


def report_linking(name: str, items: list[Item], fps: list[Fingerprint | None]) -> None:
    linking = link_stories(fps)
    predicted = np.array(linking.story_of)
    same_pred = predicted[:, None] == predicted[None, :]
    same_true = same_story_mask(items)
    upper = np.triu(np.ones_like(same_true), k=1)
    tp = int(np.count_nonzero(same_pred & same_true & upper))
    fp_pairs = int(np.count_nonzero(same_pred & ~same_true & upper))
    fn = int(np.count_nonzero(~same_pred & same_true & upper))
    pairs = copy_pairs(items)
    linked = sum(predicted[c] == predicted[o] for c, o in pairs)
    stories_in = defaultdict(set)
    for item, story in zip(items, predicted, strict=True):
        stories_in[story].add(item.story)
    merged = {s for group in stories_in.values() if len(group) > 1 for s in group}
    n_stories = len({item.story for item in items})
    unfingerprinted = sum(fp is None for fp in fps)
    print(
        f"story linking, {name}: {len(items)} items, {n_stories} true stories, "
        f"{len(pairs)} copies, {unfingerprinted} too short to fingerprint"
    )
    precision, recall = tp / max(tp + fp_pairs, 1), tp / max(tp + fn, 1)
    print(f"  copies linked to their original: {linked}/{len(pairs)} = {linked / len(pairs):.4f}")
    print(
        f"  pairwise precision {precision:.4f}  recall {recall:.4f}"
        f"  (true pairs {tp + fn}, wrongly linked pairs {fp_pairs})"
    )
    print(
        f"  distinct articles wrongly merged: {len(merged)}/{n_stories} = "
        f"{len(merged) / n_stories:.4f}" + (f"  {sorted(merged)}" if merged else "")
    )
    print(
        f"  band-key lookups returned {linking.candidates} rows, "
        f"{linking.comparisons} items compared"
    )
    for c, o in pairs:
        if predicted[c] != predicted[o]:
            print(f"  not linked: {items[c].key} ({_why_apart(fps[c], fps[o])})")


def _why_apart(copy: Fingerprint | None, original: Fingerprint | None) -> str:
    if original is None or copy is None:
        which = "original" if original is None else "copy"
        return f"{which} under {fpmod.MIN_WORDS} words: never merged on similarity"
    if not set(copy.band_keys) & set(original.band_keys):
        return f"similarity {similarity(copy, original):.3f}, no shared band key"
    return f"similarity {similarity(copy, original):.3f} below the threshold"


def report_seed(items: list[Item], fps: list[Fingerprint | None]) -> None:
    by_key = {item.key: fp for item, fp in zip(items, fps, strict=True)}
    seed = by_key["seed"]
    assert seed is not None
    scores = ", ".join(
        f"{name} {similarity(seed, fp):.3f}"
        for name, _ in RETOUCHES
        if (fp := by_key[f"seed~{name}"]) is not None
    )
    print(f"seed retouched copies vs the seed: {scores}")


def report_closest_distinct(items: list[Item], fps: list[Fingerprint | None], top: int = 8) -> None:
    kept = [
        (item, fp)
        for item, fp in zip(items, fps, strict=True)
        if fp is not None and not item.is_copy
    ]
    matrix = minhash_similarity([fp for _, fp in kept])
    exact = exact_jaccard([item for item, _ in kept], fpmod.SHINGLE_SIZE)
    upper = distinct_upper([item for item, _ in kept])
    order = np.argsort(np.where(upper, matrix, -1.0), axis=None)[::-1][:top]
    print(
        f"closest distinct dev articles "
        f"(MinHash estimate | exact {fpmod.SHINGLE_SIZE}-gram Jaccard):"
    )
    for flat in order:
        i, j = np.unravel_index(flat, matrix.shape)
        a, b = kept[i][0], kept[j][0]
        print(
            f"  {matrix[i, j]:.3f} | {exact[i, j]:.3f}  "
            f"{a.key} {a.title[:45]!r}  ~  {b.key} {b.title[:45]!r}"
        )


def report_speed(items: list[Item]) -> None:
    texts = [item.text for item in items if not item.is_copy]
    for text in texts[:20]:
        fingerprint(text)  # warm-up
    start = time.perf_counter()
    for text in texts:
        fingerprint(text)
    elapsed = time.perf_counter() - start
    words = sum(len(words(text)) for text in texts)
    per_600 = elapsed / words * 600 * 1000
    typical = [t for t in texts if 500 <= len(words(t)) <= 700]
    timings = []
    for text in typical:
        start = time.perf_counter()
        fingerprint(text)
        timings.append(time.perf_counter() - start)
    print(
        f"speed: {len(texts)} articles in {elapsed:.2f} s = {per_600:.2f} ms per 600 words; "
        f"articles of 500-700 words: median {statistics.median(timings) * 1000:.2f} ms "
        f"({len(typical)} articles)"
    )


def report_urls(items: list[Item]) -> None:
    """Canonical URLs drop the copies' tracking parameters, but copies live on other hosts."""
    stories_at: dict[str, set[str]] = defaultdict(set)
    for item in items:
        if item.url:
            stories_at[canonical_url(item.url)].add(item.story)
    tracked = sum("utm_" in url for url in stories_at)
    mixed = sum(len(stories) > 1 for stories in stories_at.values())
    print(
        f"canonical URLs: {len(items)} links -> {len(stories_at)} distinct, {tracked} with "
        f"utm_ parameters left, {mixed} shared by different stories (copies of one original "
        f"share a URL; copies and originals live on different hosts, so text links them)"
    )


def main() -> None:
    missing = [p for p in (FEEDFARM, *(DATA / name for name in DEV_DATA)) if not p.exists()]
    if missing:
        sys.exit(f"needs the shared data and tools: missing {', '.join(map(str, missing))}")
    print(
        f"parameters: {fpmod.SHINGLE_SIZE}-word shingles, {fpmod.NUM_PERM} permutations, "
        f"{fpmod.BANDS} bands x {fpmod.ROWS} rows, threshold {fpmod.SAME_STORY_THRESHOLD}, "
        f"min {fpmod.MIN_WORDS} words\n"
    )
    for name, items in (("farm", farm_items()), ("dev + retouched copies", dev_items())):
        print(f"=== {name} ===")
        fps = [fingerprint(item.text) for item in items]
        report_shingle_sizes(items)
        report_similarity(items, fps)
        kept = [(item, fp) for item, fp in zip(items, fps, strict=True) if fp is not None]
        report_lsh_shapes([item for item, _ in kept], [fp for _, fp in kept])
        report_linking(name, items, fps)
        if name == "farm":
            report_urls(items)
        else:
            report_seed(items, fps)
            report_closest_distinct(items, fps)
            report_speed(items)
        print()


if __name__ == "__main__":
    main()
