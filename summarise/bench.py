"""Quality and speed of every summariser on a JSONL evaluation file, measured together.

Scores follow ``shared/tools/rouge_eval.py``: rouge-score F1 x 100 with stemming,
ROUGE-L as ``rougeLsum`` with one sentence per line. Time per article covers everything
from the raw text to the chosen sentences, sentence splitting included. It is CPU time
(``time.process_time``), measured in the same run as the speed peer (sumy's LexRank fed
by pysbd), so other work on the machine skews neither side. rouge-score and pysbd are
benchmark dependencies only; they are imported here and nowhere on the runtime path.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from summarise.summarisers import ALGORITHMS, Length, summarise_text

__all__ = [
    "BenchArticle",
    "BenchResult",
    "format_table",
    "load_articles",
    "run_benchmark",
    "run_peer",
    "score",
]

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
    from rouge_score import rouge_scorer

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
    import pysbd
    from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
    from sumy.nlp.stemmers import Stemmer
    from sumy.summarizers.lex_rank import LexRankSummarizer
    from sumy.utils import get_stop_words

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

    return _measure(PEER_NAME, articles, summarise)


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
