"""The summariser benchmark (``python -m bench.summarise_bench``) on a small sample of
the real dev data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.summarise_bench import (
    BenchArticle,
    BenchResult,
    format_table,
    load_articles,
    main,
    score,
)
from tests.conftest import shared_path


def _sample(tmp_path: Path, count: int = 5) -> Path:
    source = shared_path("data", "summ-dev-cnndm.jsonl")
    with source.open(encoding="utf-8") as lines:
        rows = [line for line, _ in zip(lines, range(count), strict=False)]
    sample = tmp_path / "sample.jsonl"
    sample.write_text("".join(rows), encoding="utf-8")
    return sample


def test_bench_on_a_file_prints_a_row_per_algorithm_and_the_peer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = _sample(tmp_path)
    main(["--data", str(sample), "--sentences", "3", "--algorithms", "default,lead"])
    output = capsys.readouterr().out
    assert "5 articles, 3 sentence(s)" in output
    rows = [line for line in output.splitlines() if line.startswith("| ")]
    names = [row.split("|")[1].strip() for row in rows[1:]]
    assert names == ["default", "lead", "sumy lexrank + pysbd"]
    for row in rows[1:]:
        cells = [c.strip() for c in row.split("|")[2:6]]
        r1, r2, rl, ms = map(float, cells)
        assert 0 < r2 < r1 <= 100
        assert 0 < rl <= 100
        assert ms > 0


def test_bench_on_a_file_with_a_ratio_and_without_the_peer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = _sample(tmp_path, 3)
    main(["--data", str(sample), "--ratio", "0.2", "--algorithms", "lead", "--no-peer"])
    output = capsys.readouterr().out
    assert "3 articles, ratio 0.2 of sentences" in output
    assert "pysbd" not in output


@pytest.mark.parametrize(
    "arguments",
    [
        ["--algorithms", "lead,bogus"],  # names the unknown one, below
        ["--sentences", "2", "--ratio", "0.5"],
        ["--sentences", "0"],
        ["--ratio", "1.5"],
    ],
)
def test_bench_rejects_bad_arguments_naming_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str]
) -> None:
    sample = _sample(tmp_path, 1)
    with pytest.raises(SystemExit) as exit_:
        main(["--data", str(sample), *arguments])
    assert exit_.value.code == 2
    printed = capsys.readouterr()
    assert f"argument {arguments[-2]}" in printed.err
    assert "bogus" in printed.err or "bogus" not in arguments[-1]
    assert "| " not in printed.out


def test_bench_rejects_a_missing_data_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["--data", str(tmp_path / "absent.jsonl")])
    assert "absent.jsonl is not a file" in capsys.readouterr().err


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
    path = tmp_path / "a.jsonl"
    path.write_text(
        json.dumps({"id": 1, "title": None, "text": "A b.", "summary": "A b."}) + "\n\n",
        encoding="utf-8",
    )
    assert load_articles(path) == [BenchArticle("1", None, "A b.", "A b.")]
