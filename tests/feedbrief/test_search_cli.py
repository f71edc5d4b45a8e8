"""``feedbrief search``, end to end over a replayed seed on a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feedbrief.cli import app
from tests.conftest import REPO

runner = CliRunner()
LONG_URL = "https://news.example.org/" + "/".join(f"section-{n}" for n in range(30)) + "/story"
ARTICLES = [
    {
        "id": "harbour",
        "title": "Harbour bridge reopens after repairs",
        "url": LONG_URL,
        "text": "The harbour bridge reopened to traffic on Thursday after six months.",
    },
    {
        "id": "council",
        "title": "Council debates parking",
        "url": "https://news.example.org/council",
        "text": "Councillors argued about the harbour car park for three hours.",
    },
    {
        "id": "markup",
        "title": "[bold]Not markup[/bold] in a title",
        "url": "https://news.example.org/markup",
        "text": "Square brackets are only text.",
    },
]


@pytest.fixture(autouse=True)
def replayed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    lines = "".join(json.dumps(article) + "\n" for article in ARTICLES)
    (seeds / "news.jsonl").write_text(lines, encoding="utf-8")
    for key, value in {
        "FEEDBRIEF_CONFIG": str(REPO / "config" / "feedbrief.toml"),
        "FEEDBRIEF_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'feedbrief.db'}",
        "FEEDBRIEF_DIGEST_DIR": str(tmp_path / "digests"),
        "FEEDBRIEF_SEEDS_DIR": str(seeds),
    }.items():
        monkeypatch.setenv(key, value)
    assert runner.invoke(app, ["replay"]).exit_code == 0


def search(*args: str) -> str:
    result = runner.invoke(app, ["search", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_json_lists_matches_best_first_with_the_documented_fields() -> None:
    hits = json.loads(search("harbour", "--json"))
    assert [hit["title"] for hit in hits] == [
        "Harbour bridge reopens after repairs",
        "Council debates parking",
    ]
    first = hits[0]
    assert {"id", "title", "url", "source", "published", "summary", "score"} <= set(first)
    assert first["url"] == LONG_URL
    assert first["source"] == "seed:news.jsonl"
    assert first["summary"] and all(isinstance(s, str) for s in first["summary"])
    assert hits[0]["score"] > hits[1]["score"]


def test_words_may_come_as_separate_arguments_and_minus_excludes() -> None:
    assert [hit["title"] for hit in json.loads(search("harbour", "-bridge", "--json"))] == [
        "Council debates parking"
    ]
    assert len(json.loads(search("harbour", "OR", "brackets", "--json"))) == 3


def test_limit_and_since() -> None:
    assert len(json.loads(search("harbour", "--json", "--limit", "1"))) == 1
    assert json.loads(search("harbour", "--json", "--since", "2999-01-01")) == []
    assert len(json.loads(search("harbour", "--json", "--since", "2000-01-01"))) == 2


def test_the_table_keeps_every_url_whole_when_not_on_a_terminal() -> None:
    table = search("harbour")
    assert LONG_URL in table
    assert "Council debates parking" in table
    assert "[bold]Not markup[/bold] in a title" in search("markup")


@pytest.mark.parametrize("query", ["!!!", '"', "-harbour", "(", "OR"])
def test_a_query_with_nothing_to_find_prints_nothing_found(query: str) -> None:
    assert json.loads(search(query, "--json")) == []
    result = runner.invoke(app, ["search", query], catch_exceptions=False)
    assert result.exit_code == 0
    assert "no matches" in result.stderr


def test_a_bad_date_is_a_usage_error_without_a_traceback() -> None:
    result = runner.invoke(app, ["search", "harbour", "--since", "yesterday"])
    assert result.exit_code == 2
    assert "'yesterday' is not a date like 2026-11-25" in result.stderr
    assert "Traceback" not in result.output
