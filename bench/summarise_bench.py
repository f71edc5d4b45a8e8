"""The summarising tables of docs/summarising.md: quality, speed and splitter accuracy.

Run from the repo root: ``python -m bench.summarise_bench`` (a few minutes). For each dev
set it runs ``feedbrief bench summarise`` with the lengths of issue 4 (BBC: 45% of the
sentences; CNN/DM: 3; XSum: 1), then measures the sentence splitter against pysbd's
output and against the BBC references' own sentences, and times it against pysbd.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pysbd

from summarise.bench import format_table, load_articles, run_benchmark, run_peer
from summarise.sentences import split_paragraphs, split_sentences
from summarise.summarisers import ALGORITHMS, Length

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
LENGTHS = {"bbc": Length(ratio=0.45), "cnndm": Length(sentences=3), "xsum": Length(sentences=1)}
NAMES = {
    "bbc": "BBC, 45% of the sentences",
    "cnndm": "CNN/DM, 3 sentences",
    "xsum": "XSum, 1 sentence",
}
_QUOTES = "\"'“”‘’ "


def main() -> None:
    if not DATA.is_dir():
        sys.exit(f"{DATA} is absent: this benchmark reads the shared dev sets")
    for name, length in LENGTHS.items():
        articles = load_articles(DATA / f"summ-dev-{name}.jsonl")
        results = run_benchmark(articles, length, ALGORITHMS)
        peer = run_peer(articles, length)
        print(f"\n### {NAMES[name]} ({len(articles)} articles)\n")
        print(format_table(results, peer))
    print("\n### Sentence splitting\n")
    print("| data | boundary P / R / F1 vs pysbd | ms/article ours | ms/article pysbd |")
    print("|---|---|---:|---:|")
    segmenter = pysbd.Segmenter(language="en", clean=False)
    for name in LENGTHS:
        articles = load_articles(DATA / f"summ-dev-{name}.jsonl")
        ours_ms, theirs_ms, (p, r, f) = _agreement(articles, segmenter)
        print(f"| {name} | {p:.4f} / {r:.4f} / {f:.4f} | {ours_ms:.3f} | {theirs_ms:.3f} |")
    found, total = _bbc_reference_coverage(load_articles(DATA / "summ-dev-bbc.jsonl"))
    print(
        f"\nBBC reference sentences produced whole by the splitter: {found}/{total} "
        f"({100 * found / total:.2f}%)"
    )


def _agreement(articles, segmenter) -> tuple[float, float, tuple[float, float, float]]:
    """CPU time of both splitters, and their boundaries compared as character offsets."""
    ours_time = theirs_time = 0.0
    matched = ours_count = theirs_count = 0
    for article in articles:
        start = time.process_time()
        ours = split_sentences(article.text)
        ours_time += time.process_time() - start
        start = time.process_time()
        theirs = [s.strip() for p in split_paragraphs(article.text) for s in segmenter.segment(p)]
        theirs = [s for s in theirs if s]
        theirs_time += time.process_time() - start
        a, b = _boundaries(ours), _boundaries(theirs)
        matched += len(a & b)
        ours_count += len(a)
        theirs_count += len(b)
    precision = matched / ours_count
    recall = matched / theirs_count
    f1 = 2 * precision * recall / (precision + recall)
    n = len(articles)
    return 1000 * ours_time / n, 1000 * theirs_time / n, (precision, recall, f1)


def _boundaries(sentences: list[str]) -> set[int]:
    """Sentence ends as offsets into the text with all whitespace removed."""
    ends, offset = set(), 0
    for sentence in sentences:
        offset += len("".join(sentence.split()))
        ends.add(offset)
    return ends


def _bbc_reference_coverage(articles) -> tuple[int, int]:
    found = total = 0
    for article in articles:
        sentences = {s.strip(_QUOTES) for s in split_sentences(article.text)}
        for line in article.summary.splitlines():
            total += 1
            found += line.strip(_QUOTES) in sentences
    return found, total


if __name__ == "__main__":
    main()
