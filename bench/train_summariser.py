"""Fit the default summariser's weights on the three dev sets, reproducibly.

Run from the repo root: ``python -m bench.train_summariser [--write]`` (about a minute).

Labels: a BBC sentence is positive when it is one of the extractive reference's lines; a
CNN/DM or XSum sentence when the greedy ROUGE oracle picks it (sentences added while they
raise ROUGE-1 + ROUGE-2 F1 against the reference, at most the summary length).

1. A logistic model over :data:`summarise.default.FEATURES` is fitted by Newton's method
   with an L2 penalty, each dataset weighted equally; its penalty and the MMR redundancy
   weight are chosen by 5-fold cross-validation over articles (fixed seed).
2. Oracle labels are only a proxy, and a compromise between the datasets: one round of
   coordinate ascent then moves each coefficient by ±0.5 or ±1 where that raises the
   worst dataset's margin over its baseline ((R-1 + R-2) / 2 over Lead-3 on CNN/DM,
   TextRank on BBC, Lead-1 on XSum), measured on all dev articles.

ROUGE inside the loop is a fast re-implementation (rouge-score's tokenizer and stemmer,
unigram and bigram F1) ; ``feedbrief bench`` gives the official figures. It prints the
labels' statistics, the cross-validated table, the ascent and the fitted weights;
``--write`` saves them to ``summarise/default_weights.json``.

Only the dev files in ``shared/data`` are read: never the held-out sample.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rouge_score.rouge_scorer import _create_ngrams
from rouge_score.tokenizers import DefaultTokenizer

from summarise.bench import BenchArticle, load_articles
from summarise.default import (
    FEATURES,
    Weights,
    model_inputs,
    rank_sentences,
    sentence_features,
)
from summarise.language import language_profile
from summarise.summarisers import Length
from summarise.tokenizer import Tokenizer, build_document

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"
WEIGHTS = REPO / "summarise" / "default_weights.json"
LENGTHS = {"bbc": Length(ratio=0.45), "cnndm": Length(sentences=3), "xsum": Length(sentences=1)}
L2_GRID = (0.1, 1.0, 10.0)
REDUNDANCY_GRID = (0.0, 0.1, 0.3)
ASCENT_STEPS = (-1.0, -0.5, 0.5, 1.0)
# (R-1 + R-2) / 2 of the baseline to beat on each dataset, from the measurements.
BASELINES = {"bbc": (76.92 + 69.33) / 2, "cnndm": (40.15 + 17.11) / 2, "xsum": (16.45 + 1.61) / 2}
FOLDS = 5
SEED = 0


@dataclass(frozen=True)
class Prepared:
    """One article with everything the weights do not change computed once."""

    dataset: str
    article: BenchArticle
    sentences: list[str]
    features: list[tuple[float, ...]]
    vectors: object
    labels: list[int]
    budget: int
    inputs: np.ndarray
    tokens: list[list[str]]
    reference: tuple[Counter, Counter]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--write", action="store_true", help=f"save to {WEIGHTS}")
    args = parser.parse_args(argv)

    prepared = [
        prepare(name, article)
        for name in LENGTHS
        for article in load_articles(args.data / f"summ-dev-{name}.jsonl")
    ]
    for name in LENGTHS:
        rows = [p for p in prepared if p.dataset == name]
        positives = sum(sum(p.labels) for p in rows)
        total = sum(len(p.labels) for p in rows)
        print(f"{name}: {len(rows)} articles, {total} sentences, {positives} positive labels")

    folds = assign_folds(prepared)
    print(f"\n{FOLDS}-fold cross-validation of the logistic model (held-out R-1/R-2):")
    best = None
    for l2 in L2_GRID:
        for redundancy in REDUNDANCY_GRID:
            scores: dict[str, list[tuple[float, float]]] = {}
            for fold in range(FOLDS):
                train = [p for p, f in zip(prepared, folds, strict=True) if f != fold]
                held_out = [p for p, f in zip(prepared, folds, strict=True) if f == fold]
                weights = fit(train, l2, redundancy)
                for p in held_out:
                    scores.setdefault(p.dataset, []).append(quick_rouge(p, weights))
            means = {n: tuple(100 * x for x in np.mean(v, axis=0)) for n, v in scores.items()}
            margin = worst_margin(means)
            cells = "  ".join(f"{n} {r1:.2f}/{r2:.2f}" for n, (r1, r2) in means.items())
            print(f"  l2={l2:<5} redundancy={redundancy:<4} {cells}  worst margin {margin:+.2f}")
            if best is None or margin > best[0]:
                best = (margin, l2, redundancy)
    assert best is not None
    _, l2, redundancy = best
    weights = ascend(prepared, fit(prepared, l2, redundancy))
    fitted = {
        "features": list(FEATURES),
        "coefficients": [round(c, 4) for c in weights.coefficients],
        "intercept": round(weights.intercept, 4),
        "redundancy": redundancy,
        "fitted": {
            "l2": l2,
            "folds": FOLDS,
            "seed": SEED,
            "ascent_steps": list(ASCENT_STEPS),
            "datasets": list(LENGTHS),
        },
    }
    print(f"\nchosen l2={l2} redundancy={redundancy}; refitted and tuned on all dev articles:")
    print(json.dumps(fitted, indent=2))
    if args.write:
        WEIGHTS.write_text(json.dumps(fitted, indent=2) + "\n", encoding="utf-8")
        print(f"written to {WEIGHTS}")


def prepare(dataset: str, article: BenchArticle) -> Prepared:
    profile = language_profile("en")
    document = build_document(article.text, Tokenizer("en"), article.title)
    features, vectors = sentence_features(document, profile.stem, profile.stop_words)
    sentences = [str(s) for s in document.sentences]
    reference = article.summary.splitlines()
    budget = LENGTHS[dataset].sentence_budget(len(sentences)) or 1
    if dataset == "bbc":
        wanted = {" ".join(line.split()) for line in reference}
        labels = [int(s in wanted) for s in sentences]
    else:
        labels = oracle_labels(sentences, reference, budget)
    inputs = np.array(model_inputs(features, budget), dtype=float).reshape(len(sentences), -1)
    tokens = [_TOKENIZER.tokenize(s) for s in sentences]
    ref_tokens = [t for line in reference for t in _TOKENIZER.tokenize(line)]
    ref = (Counter(_create_ngrams(ref_tokens, 1)), Counter(_create_ngrams(ref_tokens, 2)))
    return Prepared(
        dataset, article, sentences, features, vectors, labels, budget, inputs, tokens, ref
    )


_TOKENIZER = DefaultTokenizer(use_stemmer=True)


def oracle_labels(sentences: list[str], reference: list[str], budget: int) -> list[int]:
    """Greedy ROUGE oracle: add the sentence that most raises R-1 + R-2 F1, while any does."""
    ref_tokens = [t for line in reference for t in _TOKENIZER.tokenize(line)]
    ref = (Counter(_create_ngrams(ref_tokens, 1)), Counter(_create_ngrams(ref_tokens, 2)))
    tokens = [_TOKENIZER.tokenize(s) for s in sentences]
    chosen: list[int] = []
    best = 0.0
    while len(chosen) < budget:
        candidates = []
        for i in range(len(sentences)):
            if i in chosen:
                continue
            picked = [t for j in sorted([*chosen, i]) for t in tokens[j]]
            candidates.append((_f1(picked, ref[0], 1) + _f1(picked, ref[1], 2), -i))
        if not candidates:
            break
        value, negative_index = max(candidates)
        if value <= best:
            break
        best = value
        chosen.append(-negative_index)
    return [int(i in chosen) for i in range(len(sentences))]


def _f1(tokens: list[str], reference: Counter, n: int) -> float:
    grams = Counter(_create_ngrams(tokens, n))
    overlap = sum((grams & reference).values())
    if not overlap:
        return 0.0
    precision = overlap / sum(grams.values())
    recall = overlap / sum(reference.values())
    return 2 * precision * recall / (precision + recall)


def assign_folds(prepared: list[Prepared]) -> list[int]:
    """A fold per article, balanced within each dataset, fixed by :data:`SEED`."""
    rng = random.Random(SEED)
    folds = [0] * len(prepared)
    for name in LENGTHS:
        indices = [i for i, p in enumerate(prepared) if p.dataset == name]
        rng.shuffle(indices)
        for position, index in enumerate(indices):
            folds[index] = position % FOLDS
    return folds


def fit(prepared: list[Prepared], l2: float, redundancy: float) -> Weights:
    """L2-penalised logistic regression, each dataset's sentences weighing 1 in total."""
    x = np.vstack([p.inputs for p in prepared])
    y = np.array([label for p in prepared for label in p.labels], dtype=float)
    per_dataset = Counter(p.dataset for p in prepared for _ in p.labels)
    w = np.array([1.0 / per_dataset[p.dataset] for p in prepared for _ in p.labels])
    w *= len(w) / w.sum()
    coefficients = newton_logistic(x, y, w, l2)
    return Weights(tuple(coefficients[1:].tolist()), float(coefficients[0]), redundancy)


def newton_logistic(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float, steps: int = 50
) -> np.ndarray:
    """Weighted logistic regression by Newton's method; returns [intercept, *coefs]."""
    design = np.hstack([np.ones((len(x), 1)), x])
    penalty = np.full(design.shape[1], l2)
    penalty[0] = 0.0  # the intercept is not shrunk
    beta = np.zeros(design.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-design @ beta))
        gradient = design.T @ (w * (p - y)) + penalty * beta
        hessian = (design * (w * p * (1 - p))[:, None]).T @ design + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta


def quick_rouge(p: Prepared, weights: Weights) -> tuple[float, float]:
    """ROUGE-1 and ROUGE-2 F1 of the summary ``summarise_text`` would give with ``weights``."""
    ranking = rank_sentences(p.features, p.vectors, weights, p.budget)
    picked = [t for i in sorted(ranking[: p.budget]) for t in p.tokens[i]]
    return _f1(picked, p.reference[0], 1), _f1(picked, p.reference[1], 2)


def worst_margin(means: dict[str, tuple[float, float]]) -> float:
    return min((r1 + r2) / 2 - BASELINES[name] for name, (r1, r2) in means.items())


def dev_margin(prepared: list[Prepared], weights: Weights) -> float:
    scores: dict[str, list[tuple[float, float]]] = {}
    for p in prepared:
        scores.setdefault(p.dataset, []).append(quick_rouge(p, weights))
    return worst_margin({n: tuple(100 * x for x in np.mean(v, axis=0)) for n, v in scores.items()})


def ascend(prepared: list[Prepared], weights: Weights) -> Weights:
    """One round of coordinate ascent on the worst dataset's margin over its baseline."""
    best = dev_margin(prepared, weights)
    print(f"\ncoordinate ascent from the logistic fit: worst margin {best:+.2f}")
    coefficients = list(weights.coefficients)
    for index, name in enumerate(FEATURES):
        for step in ASCENT_STEPS:
            trial = coefficients.copy()
            trial[index] += step
            candidate = Weights(tuple(trial), weights.intercept, weights.redundancy)
            margin = dev_margin(prepared, candidate)
            if margin > best + 1e-3:
                print(f"  {name} {step:+}: worst margin {margin:+.2f}")
                best, coefficients = margin, trial
    return Weights(tuple(coefficients), weights.intercept, weights.redundancy)


if __name__ == "__main__":
    main()
