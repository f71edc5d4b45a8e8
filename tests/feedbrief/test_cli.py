"""The commands users and operators rely on, run end to end against real SQLite files."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feedbrief.cli import app
from ingest.seeds import load_seed
from tests.conftest import REPO, SEED

runner = CliRunner()
FEEDBRIEF = [sys.executable, "-m", "feedbrief"]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(SEED, seeds / SEED.name)
    values = {
        "FEEDBRIEF_CONFIG": str(REPO / "config" / "feedbrief.toml"),
        "FEEDBRIEF_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'feedbrief.db'}",
        "FEEDBRIEF_DIGEST_DIR": str(tmp_path / "digests"),
        "FEEDBRIEF_SEEDS_DIR": str(seeds),
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def export() -> list[dict]:
    return [json.loads(line) for line in invoke("export", "--format", "jsonl").splitlines()]


def test_replay_twice_adds_no_rows(env: dict[str, str]) -> None:
    first = invoke("replay")
    assert SEED.name in first and "new" in first
    second = invoke("replay")
    assert "unchanged" in second
    rows = export()
    assert len(rows) == 1
    assert rows[0]["source"] == f"seed:{SEED.name}"


def test_an_edited_seed_updates_its_item_in_place(env: dict[str, str]) -> None:
    invoke("replay")
    path = Path(env["FEEDBRIEF_SEEDS_DIR"]) / SEED.name
    path.write_text(
        path.read_text(encoding="utf-8").replace("15,000 personnel", "20,000 personnel"),
        encoding="utf-8",
    )
    assert "updated" in invoke("replay")
    [row] = export()
    assert "20,000 personnel" in row["text"]
    assert row["version"] == 2


def test_export_lines_carry_the_documented_fields(env: dict[str, str]) -> None:
    invoke("replay")
    [row] = export()
    for key in (
        "id",
        "source",
        "guid",
        "url",
        "title",
        "published",
        "first_seen",
        "text",
        "summary",
    ):
        assert key in row
    assert len(row["summary"]) == 3
    assert row["title"].startswith("Prospect of UK troops")


def test_replay_reports_each_bad_seed_and_goes_on(env: dict[str, str]) -> None:
    seeds = Path(env["FEEDBRIEF_SEEDS_DIR"])
    (seeds / "empty.txt").write_bytes(b"")
    (seeds / "binary.txt").write_bytes(b"\x00\x01\x02garbage")
    (seeds / "latin1.txt").write_bytes("Caf\xe9\n\nText.".encode("latin-1"))
    (seeds / "notes.pdf").write_bytes(b"%PDF")
    result = runner.invoke(app, ["replay"], catch_exceptions=False, terminal_width=200)
    assert result.exit_code == 0
    lines = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if "│" in line}
    assert "error" in lines["empty.txt"] and "empty" in lines["empty.txt"]
    assert "error" in lines["binary.txt"] and "binary" in lines["binary.txt"]
    assert "error" in lines["latin1.txt"] and "UTF-8" in lines["latin1.txt"]
    assert "skipped" in lines["notes.pdf"]
    assert "new" in lines[SEED.name]
    assert len(export()) == 1


def test_digest_files_hold_the_seed_story(env: dict[str, str]) -> None:
    invoke("replay")
    digests = Path(env["FEEDBRIEF_DIGEST_DIR"])
    [json_file] = digests.glob("*.json")
    day = json_file.stem
    assert {p.name for p in digests.iterdir()} >= {
        f"{day}.md",
        f"{day}.html",
        f"{day}.json",
        "feed.xml",
    }
    data = json.loads(json_file.read_text(encoding="utf-8"))
    assert set(data) >= {"date", "generated_at", "timezone", "stories"}
    [story] = data["stories"]
    assert story["title"].startswith("Prospect of UK troops")
    assert len(story["summary"]) == 3
    assert "Prospect of UK troops" in (digests / f"{day}.md").read_text(encoding="utf-8")


def test_regenerating_a_digest_changes_only_generated_at(env: dict[str, str]) -> None:
    invoke("replay")
    digests = Path(env["FEEDBRIEF_DIGEST_DIR"])
    [json_file] = digests.glob("*.json")
    before = json.loads(json_file.read_text(encoding="utf-8"))
    invoke("digest", "--date", json_file.stem)
    after = json.loads(json_file.read_text(encoding="utf-8"))
    before.pop("generated_at"), after.pop("generated_at")
    assert before == after


# When a digest was generated, as each format prints it.
GENERATED_AT = re.compile(
    r'"generated_at": "[^"]+"'  # JSON
    r"|<updated>[^<]+</updated>"  # Atom
    r"|generated \d{4}-\d\d-\d\d \d\d:\d\d"  # Markdown and HTML
)


def digest_files(folder: Path) -> dict[str, str]:
    """The files of a digest folder, with the times they were generated blanked."""
    assert folder.is_dir(), f"{folder} was not written"
    return {
        path.name: GENERATED_AT.sub("<generated>", path.read_text(encoding="utf-8"))
        for path in sorted(folder.iterdir())
    }


def test_replay_into_an_empty_digest_folder_reproduces_its_files(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke("replay")
    first = digest_files(Path(env["FEEDBRIEF_DIGEST_DIR"]))
    assert any(name.endswith(".json") for name in first)
    monkeypatch.setenv("FEEDBRIEF_DIGEST_DIR", str(tmp_path / "fresh"))
    assert "unchanged" in invoke("replay")
    assert digest_files(tmp_path / "fresh") == first


def test_digest_of_an_empty_day_is_written_and_empty(env: dict[str, str]) -> None:
    invoke("digest", "--date", "2020-01-01")
    data = json.loads((Path(env["FEEDBRIEF_DIGEST_DIR"]) / "2020-01-01.json").read_text())
    assert data["stories"] == []


def test_clean_prints_title_and_body_paragraphs(env: dict[str, str]) -> None:
    text = invoke("clean", str(SEED))
    title, *paragraphs = text.strip().split("\n\n")
    assert title.startswith("Prospect of UK troops")
    assert len(paragraphs) == 30
    assert len(set(paragraphs)) == 30


def test_clean_with_out_writes_one_file_per_input(env: dict[str, str], tmp_path: Path) -> None:
    other = tmp_path / "other.txt"
    other.write_text("A title\n\nA body paragraph.\n", encoding="utf-8")
    invoke("clean", str(SEED), str(other), "--out", str(tmp_path / "out"))
    assert (tmp_path / "out" / "other.txt").read_text() == "A title\n\nA body paragraph.\n"
    assert (tmp_path / "out" / SEED.name).read_text().startswith("Prospect of UK troops")


def test_summary_of_the_seed_draws_only_on_body_sentences(env: dict[str, str]) -> None:
    summary = invoke("summarise", str(SEED), "--sentences", "3").strip().splitlines()
    [article] = load_seed(SEED, SEED.parent).articles
    body = article.text.replace("\n\n", " ")
    assert len(summary) == 3
    assert len(set(summary)) == 3
    for sentence in summary:
        assert sentence in body
        assert sentence != article.title
        assert "¿" not in sentence
    positions = [body.index(sentence) for sentence in summary]
    assert positions == sorted(positions)


def test_summarise_reads_standard_input(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["summarise", "-", "--sentences", "1"], input=SEED.read_text())
    assert result.exit_code == 0
    assert len(result.stdout.strip().splitlines()) == 1


def test_summarise_ratio_and_conflicting_lengths(env: dict[str, str]) -> None:
    lines = invoke("summarise", str(SEED), "--ratio", "0.1").strip().splitlines()
    assert len(lines) >= 2
    result = runner.invoke(app, ["summarise", str(SEED), "--ratio", "0.1", "--sentences", "2"])
    assert result.exit_code == 2


def test_summarise_batch_keeps_input_order(env: dict[str, str], tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    records = [
        {"id": "b", "text": "First thing happened. Second thing followed. Third thing ended it."},
        {"id": "a", "title": "T", "text": "Only one sentence here."},
    ]
    source.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    invoke(
        "summarise",
        "--jsonl",
        str(source),
        "--out",
        str(tmp_path / "out.jsonl"),
        "--sentences",
        "2",
    )
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [line["id"] for line in lines] == ["b", "a"]
    assert len(lines[0]["summary"]) == 2
    assert lines[1]["summary"] == ["Only one sentence here."]


def test_unknown_algorithm_is_a_usage_error(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["summarise", str(SEED), "--algorithm", "magic"])
    assert result.exit_code == 2


def test_invalid_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[digest]\nsentences = 'many'\n")
    result = subprocess.run(
        [*FEEDBRIEF, "run", "--once", "--config", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "digest.sentences" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_once_ingests_seeds_and_writes_todays_digest(
    env: dict[str, str], tmp_path: Path
) -> None:
    result = subprocess.run(
        [*FEEDBRIEF, "run", "--once"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, **env},
    )
    assert result.returncode == 0, result.stderr
    [json_file] = Path(env["FEEDBRIEF_DIGEST_DIR"]).glob("*.json")
    stories = json.loads(json_file.read_text())["stories"]
    assert [s["title"][:20] for s in stories] == ["Prospect of UK troop"]
    events = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert any(e.get("seed") == SEED.name for e in events), "log events name their seed"


def test_run_stops_cleanly_on_sigterm(env: dict[str, str], tmp_path: Path) -> None:
    process = subprocess.Popen(
        [*FEEDBRIEF, "run"],
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env={**os.environ, **env},
    )
    assert process.stderr is not None
    deadline = time.monotonic() + 90
    for line in process.stderr:
        if "service.started" in line or time.monotonic() > deadline:
            break
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError(process.stderr.read()) from None
    assert code == 0
    assert list(Path(env["FEEDBRIEF_DIGEST_DIR"]).glob("*.json"))


def test_an_unknown_log_level_is_a_usage_error_naming_the_levels(tmp_path: Path) -> None:
    result = subprocess.run(
        [*FEEDBRIEF, "status", "--log-level", "bogus"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if "bogus" in line]
    for level in ("DEBUG", "INFO", "WARNING", "ERROR"):
        assert level in line


def test_log_level_is_matched_in_any_case(env: dict[str, str]) -> None:
    invoke("status", "--log-level", "debug")


def test_version_prints_the_installed_version(tmp_path: Path) -> None:
    result = subprocess.run(
        [*FEEDBRIEF, "--version"], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"feedbrief {metadata.version('feedbrief')}\n"


@pytest.mark.parametrize("command", [["clean"], ["summarise", "--sentences", "1"]])
def test_clean_and_summarise_take_and_check_config(command: list[str], tmp_path: Path) -> None:
    good = subprocess.run(
        [*FEEDBRIEF, *command, str(SEED), "--config", str(REPO / "config" / "feedbrief.toml")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert good.returncode == 0, good.stderr
    assert good.stdout.strip()
    bad = tmp_path / "bad.toml"
    bad.write_text("[digest]\nsentences = 'many'\n")
    result = subprocess.run(
        [*FEEDBRIEF, *command, str(SEED), "--config", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "digest.sentences" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def _replay_rows(*args: str) -> dict[str, str]:
    result = runner.invoke(app, ["replay", *args], catch_exceptions=False, terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if "│" in line}


@pytest.mark.timeout(120)
def test_replay_by_name_reports_odd_files_and_processes_the_ones_after(
    env: dict[str, str],
) -> None:
    seeds = Path(env["FEEDBRIEF_SEEDS_DIR"])
    (seeds / "loop.txt").symlink_to(seeds / "loop.txt")
    os.mkfifo(seeds / "pipe.txt")
    (seeds / "zero.txt").symlink_to("/dev/zero")
    odd_name = seeds / os.fsdecode(b"caf\xe9.txt")
    shutil.copy(SEED, odd_name)
    names = ["loop.txt", "pipe.txt", "zero.txt", odd_name.name, SEED.name]
    rows = _replay_rows(*(str(seeds / name) for name in names))
    assert "error" in rows["loop.txt"] and "symlink loop" in rows["loop.txt"]
    assert "skipped" in rows["pipe.txt"] and "FIFO" in rows["pipe.txt"]
    assert "skipped" in rows["zero.txt"] and "device" in rows["zero.txt"]
    assert "new" in rows["caf\\xe9.txt"]
    assert "new" in rows[SEED.name]
    assert {row["source"] for row in export()} == {"seed:caf\\xe9.txt", f"seed:{SEED.name}"}


def test_a_scan_reports_loops_and_reads_the_rest(env: dict[str, str]) -> None:
    seeds = Path(env["FEEDBRIEF_SEEDS_DIR"])
    (seeds / "sub").mkdir()
    (seeds / "sub" / "up").symlink_to(seeds)
    (seeds / "loop.txt").symlink_to(seeds / "loop.txt")
    rows = _replay_rows()
    assert "error" in rows["sub/up"] and "leads back" in rows["sub/up"]
    assert "error" in rows["loop.txt"] and "symlink loop" in rows["loop.txt"]
    assert "new" in rows[SEED.name]
