"""Quality and speed of every summariser on the dev sets: the tables of docs/summarising.md.

Run from the repo root (needs the ``test`` extra). ``python -m bench.summarise_bench``
prints all of them (a few minutes): for each dev set, every summariser with the lengths
of issue 4 (BBC: 45% of the sentences; CNN/DM: 3; XSum: 1) against the speed peer, then
the sentence splitter's agreement with pysbd and with the BBC references' own sentences,
and its speed against pysbd's. ``python -m bench.summarise_bench --data FILE
[--sentences N | --ratio R] [--algorithms a,b] [--limit N] [--no-peer]`` prints the
summarisers' table for one JSONL file of ``{"id", "title", "text", "summary"}``.

Scores follow ``shared/tools/rouge_eval.py``: rouge-score F1 x 100 with stemming,
ROUGE-L as ``rougeLsum`` with one sentence per line. Time per article covers everything
from the raw text to the chosen sentences, sentence splitting included. It is CPU time
(``time.process_time``), measured in the same run as the speed peer (sumy's LexRank fed
by pysbd), so other work on the machine skews neither side. rouge-score and pysbd are
benchmark dependencies only: nothing on the runtime path imports this module.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pysbd
from rouge_score import rouge_scorer
from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
from sumy.nlp.stemmers import Stemmer
from sumy.summarizers.lex_rank import LexRankSummarizer
from sumy.utils import get_stop_words

from summarise.sentences import split_paragraphs, split_sentences
from summarise.summarisers import ALGORITHMS, Length, summarise_text

__all__ = [
    "BenchArticle",
    "BenchResult",
    "format_table",
    "load_articles",
    "main",
    "peer_summariser",
    "run_benchmark",
    "run_peer",
    "score",
]

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
LENGTHS = {"bbc": Length(ratio=0.45), "cnndm": Length(sentences=3), "xsum": Length(sentences=1)}
NAMES = {
    "bbc": "BBC, 45% of the sentences",
    "cnndm": "CNN/DM, 3 sentences",
    "xsum": "XSum, 1 sentence",
}
_QUOTES = "\"'“”‘’ "
PEER_NAME = "sumy lexrank + pysbd"
_METRICS = ("rouge1", "rouge2", "rougeLsum")


@dataclass(frozen=True)
class BenchArticle:
    id: str
    title: str | None
    text: str
    summary: str


@dataclass(frozen=True)
class BenchResult:
    name: str
    rouge1: float
    rouge2: float
    rouge_l: float
    ms_per_article: float


def load_articles(path: Path, limit: int | None = None) -> list[BenchArticle]:
    """Articles of a ``{"id", "title", "text", "summary"}`` JSONL file, in file order."""
    articles = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            row = json.loads(line)
            articles.append(
                BenchArticle(str(row["id"]), row.get("title"), row["text"], row["summary"])
            )
            if limit is not None and len(articles) >= limit:
                break
    return articles


def score(references: Sequence[str], predictions: Sequence[str]) -> tuple[float, float, float]:
    """Mean ROUGE-1, ROUGE-2 and ROUGE-Lsum F1 x 100, as ``rouge_eval.py`` computes them."""
    scorer = rouge_scorer.RougeScorer(list(_METRICS), use_stemmer=True)
    totals = dict.fromkeys(_METRICS, 0.0)
    for reference, prediction in zip(references, predictions, strict=True):
        scores = scorer.score(reference, prediction)
        for metric in _METRICS:
            totals[metric] += scores[metric].fmeasure
    n = max(len(references), 1)
    r1, r2, rl = (round(100 * totals[m] / n, 2) for m in _METRICS)
    return r1, r2, rl


def run_benchmark(
    articles: Sequence[BenchArticle],
    length: Length,
    algorithms: Iterable[str] = ALGORITHMS,
    language: str = "en",
) -> list[BenchResult]:
    """One result per algorithm, each summarising every article through ``summarise_text``."""
    results = []
    for name in algorithms:

        def summarise(article: BenchArticle, name: str = name) -> list[str]:
            return summarise_text(
                article.text, length=length, algorithm=name, language=language, title=article.title
            )

        results.append(_measure(name, articles, summarise))
    return results


def run_peer(articles: Sequence[BenchArticle], length: Length) -> BenchResult:
    """sumy's LexRank with pysbd sentence splitting, as the project used to run it."""
    return _measure(PEER_NAME, articles, peer_summariser(length))


def peer_summariser(length: Length) -> Callable[[BenchArticle], list[str]]:
    """The speed peer as a function of one article: sumy's LexRank fed by pysbd."""

    class PysbdTokenizer:
        language = "english"
        _segmenter = pysbd.Segmenter(language="en", clean=False)
        _word = re.compile(r"[^\W\d_](?:[^\W\d_]|['-])*")

        def to_sentences(self, paragraph: str) -> list[str]:
            return [s.strip() for s in self._segmenter.segment(paragraph) if s.strip()]

        def to_words(self, sentence: str) -> list[str]:
            return self._word.findall(sentence)

    tokenizer = PysbdTokenizer()
    summariser = LexRankSummarizer(Stemmer("english"))
    summariser.stop_words = get_stop_words("english")

    def summarise(article: BenchArticle) -> list[str]:
        paragraphs = [p for p in article.text.split("\n\n") if p.strip()]
        document = ObjectDocumentModel(
            [
                Paragraph([Sentence(s, tokenizer) for s in tokenizer.to_sentences(p)])
                for p in paragraphs
            ]
        )
        total = len(document.sentences)
        count = length.sentence_budget(total) or max(1, total // 3)
        return [str(s) for s in summariser(document, count)]

    return summarise


def _measure(
    name: str,
    articles: Sequence[BenchArticle],
    summarise: Callable[[BenchArticle], list[str]],
) -> BenchResult:
    if articles:
        summarise(articles[0])  # warm-up, for both sides alike: imports, caches, weights
    predictions = []
    elapsed = 0.0
    for article in articles:
        start = time.process_time()
        sentences = summarise(article)
        elapsed += time.process_time() - start
        predictions.append("\n".join(sentences))
    r1, r2, rl = score([a.summary for a in articles], predictions)
    ms = 1000 * elapsed / max(len(articles), 1)
    return BenchResult(name, r1, r2, rl, ms)


def format_table(results: Sequence[BenchResult], peer: BenchResult | None) -> str:
    """A Markdown table of ``results`` (and the peer), with each one's speed-up on the peer."""
    rows = [*results, *([peer] if peer else [])]
    lines = [
        "| summariser | R-1 | R-2 | R-L | ms/article | speed-up vs peer |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        speedup = f"{peer.ms_per_article / row.ms_per_article:.1f}×" if peer else "-"
        lines.append(
            f"| {row.name} | {row.rouge1:.2f} | {row.rouge2:.2f} | {row.rouge_l:.2f} "
            f"| {row.ms_per_article:.2f} | {speedup} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.data is None:
        _dev_tables()
        return
    if args.ratio is not None:
        length = Length(ratio=args.ratio)
    else:
        length = Length(sentences=args.sentences or 3)
    articles = load_articles(args.data, args.limit)
    results = run_benchmark(articles, length, args.algorithms)
    peer = run_peer(articles, length) if args.peer else None
    print(f"{args.data.name}: {len(articles)} articles, {_describe(length)}\n")
    print(format_table(results, peer))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.summarise_bench",
        description="Print R-1/R-2/R-L and ms per article for each summariser: on every "
        "dev set, or on one JSONL file (--data).",
    )
    parser.add_argument(
        "--data", type=_jsonl_file, help='JSONL of {"id","title","text","summary"}.'
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--sentences", type=_at_least_one, help="Sentences per summary.")
    size.add_argument("--ratio", type=_share, help="Share of sentences kept.")
    parser.add_argument(
        "--algorithms",
        type=_algorithms,
        default=ALGORITHMS,
        help="Comma-separated summarisers to run (default: all).",
    )
    parser.add_argument("--limit", type=_at_least_one, help="Only the first N articles.")
    parser.add_argument(
        "--no-peer",
        dest="peer",
        action="store_false",
        help="Do not time sumy's LexRank with pysbd.",
    )
    return parser


def _jsonl_file(value: str) -> Path:
    path = Path(value)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{value} is not a file")
    return path


def _at_least_one(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return number


def _share(value: str) -> float:
    share = float(value)
    if not 0 < share <= 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], not {value}")
    return share


def _algorithms(value: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in value.split(",") if name.strip())
    unknown = sorted(set(names) - set(ALGORITHMS))
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown {', '.join(unknown)}; choose from {', '.join(ALGORITHMS)}"
        )
    return names


def _describe(length: Length) -> str:
    if length.ratio is not None:
        return f"ratio {length.ratio:g} of sentences"
    return f"{length.sentences} sentence(s)"


def _dev_tables() -> None:
    """Every table of docs/summarising.md's results, from the shared dev sets."""
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
