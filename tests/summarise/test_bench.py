"""``feedbrief bench summarise`` on a small sample of the real dev data."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from feedbrief.cli_bench import bench_app
from summarise.bench import BenchArticle, BenchResult, format_table, score
from tests.conftest import shared_path


def _sample(tmp_path: Path, count: int = 5) -> Path:
    source = shared_path("data", "summ-dev-cnndm.jsonl")
    with source.open(encoding="utf-8") as lines:
        rows = [line for line, _ in zip(lines, range(count), strict=False)]
    sample = tmp_path / "sample.jsonl"
    sample.write_text("".join(rows), encoding="utf-8")
    return sample


def test_bench_command_prints_a_row_per_algorithm_and_the_peer(tmp_path: Path) -> None:
    sample = _sample(tmp_path)
    result = CliRunner().invoke(
        bench_app,
        ["summarise", "--data", str(sample), "--sentences", "3", "--algorithms", "default,lead"],
    )
    assert result.exit_code == 0, result.output
    assert "5 articles, 3 sentence(s)" in result.output
    rows = [line for line in result.output.splitlines() if line.startswith("| ")]
    names = [row.split("|")[1].strip() for row in rows[1:]]
    assert names == ["default", "lead", "sumy lexrank + pysbd"]
    for row in rows[1:]:
        cells = [c.strip() for c in row.split("|")[2:6]]
        r1, r2, rl, ms = map(float, cells)
        assert 0 < r2 < r1 <= 100
        assert 0 < rl <= 100
        assert ms > 0


def test_bench_command_with_a_ratio_and_without_the_peer(tmp_path: Path) -> None:
    sample = _sample(tmp_path, 3)
    result = CliRunner().invoke(
        bench_app,
        ["summarise", "--data", str(sample), "--ratio", "0.2", "--algorithms", "lead", "--no-peer"],
    )
    assert result.exit_code == 0, result.output
    assert "ratio 0.2 of sentences" in result.output
    assert "pysbd" not in result.output


def test_bench_command_rejects_unknown_algorithms(tmp_path: Path) -> None:
    sample = _sample(tmp_path, 1)
    result = CliRunner().invoke(
        bench_app, ["summarise", "--data", str(sample), "--algorithms", "lead,bogus"]
    )
    assert result.exit_code != 0
    assert "bogus" in result.output


def test_scores_match_rouge_eval_semantics() -> None:
    reference = "The cat sat on the mat.\nIt was happy."
    assert score([reference], [reference]) == (100.0, 100.0, 100.0)
    r1, r2, _ = score([reference], ["The cat sat."])
    assert 0 < r2 < r1 < 100
    assert score([reference], [""]) == (0.0, 0.0, 0.0)


def test_table_reports_speed_up_against_the_peer() -> None:
    ours = BenchResult("default", 41.0, 18.0, 37.0, 0.5)
    peer = BenchResult("sumy lexrank + pysbd", 32.0, 13.0, 29.0, 20.0)
    table = format_table([ours], peer)
    assert "| default | 41.00 | 18.00 | 37.00 | 0.50 | 40.0× |" in table
    assert "| sumy lexrank + pysbd | 32.00 | 13.00 | 29.00 | 20.00 | 1.0× |" in table


def test_articles_round_trip_from_jsonl(tmp_path: Path) -> None:
    from summarise.bench import load_articles

    path = tmp_path / "a.jsonl"
    path.write_text(
        json.dumps({"id": 1, "title": None, "text": "A b.", "summary": "A b."}) + "\n\n",
        encoding="utf-8",
    )
    assert load_articles(path) == [BenchArticle("1", None, "A b.", "A b.")]
