"""Values out of any sane range are refused at start, naming the key (issue 16): each
would otherwise be accepted and fail later, on every feed or every pass."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from feedbrief.cli import app
from feedbrief.settings import ConfigError, load_settings

runner = CliRunner()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feedbrief.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[feeds]\ninterval = '99999999999d'\n", "feeds.interval: '99999999999d' is longer"),
        ("[feeds]\ninterval = nan\n", "feeds.interval: nan is not a finite duration"),
        ("[feeds]\ntick = inf\n", "feeds.tick: inf is not a finite duration"),
        ("[feeds]\nlease = -inf\n", "feeds.lease"),
        ("[seeds]\nscan_interval = 1e300\n", "seeds.scan_interval: 1e+300 is longer"),
        ("[digest]\nmax_age = '36501d'\n", "digest.max_age: '36501d' is longer"),
        ("[digest]\nmax_age = inf\n", "digest.max_age: inf is not a finite duration"),
        (
            "[[feeds.subscriptions]]\nurl = 'http://x.example/'\ninterval = '99999999999d'\n",
            "feeds.subscriptions.0.interval: '99999999999d' is longer",
        ),
        ("[feeds]\nmax_body_mib = inf\n", "feeds.max_body_mib"),
        ("[feeds]\nmax_body_mib = nan\n", "feeds.max_body_mib"),
        ("[feeds]\nmax_body_mib = 1e30\n", "feeds.max_body_mib"),
        ("[digest]\nreading_minutes = nan\n", "digest.reading_minutes"),
        ("[digest]\nalgorithm = 'nosuch'\n", "digest.algorithm: unknown algorithm 'nosuch'"),
        ("[digest]\nbase_url = 'not a url'\n", "digest.base_url: not an absolute http(s) URL"),
        ("[digest]\nbase_url = '/digests/'\n", "digest.base_url: not an absolute http(s) URL"),
        ("[digest]\nbase_url = 'ftp://x.example/'\n", "digest.base_url: not an absolute"),
        ("retention_days = 999999999\n", "retention_days"),
    ],
)
def test_out_of_range_values_are_refused_naming_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigError, match="config error") as info:
        load_settings(write(tmp_path, text), environ={})
    assert message in str(info.value)


def test_max_age_may_reach_back_as_far_as_retention(tmp_path: Path) -> None:
    # Replaying an archive shows it all: max_age is bounded by retention, not by the
    # year that bounds a feed's interval.
    settings = load_settings(write(tmp_path, "[digest]\nmax_age = '36500d'\n"), environ={})
    assert settings.digest.max_age == 36500 * 86400


def test_a_base_url_without_its_last_slash_gets_one(tmp_path: Path) -> None:
    settings = load_settings(
        write(tmp_path, "[digest]\nbase_url = 'https://news.example/brief'\n"), environ={}
    )
    assert settings.digest.base_url == "https://news.example/brief/"


def test_every_algorithm_the_summarisers_know_is_accepted(tmp_path: Path) -> None:
    from summarise.summarisers import ALGORITHMS, get_summariser

    for name in ALGORITHMS:
        settings = load_settings(write(tmp_path, f"[digest]\nalgorithm = '{name}'\n"), environ={})
        assert settings.digest.algorithm == name
        assert get_summariser(name, "en") is not None


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FEEDBRIEF_CONFIG", str(write(tmp_path, "")))
    monkeypatch.setenv("FEEDBRIEF_DATABASE_URL", f"sqlite:///{tmp_path / 'feedbrief.db'}")
    monkeypatch.setenv("FEEDBRIEF_DIGEST_DIR", str(tmp_path / "digests"))
    monkeypatch.setenv("FEEDBRIEF_SEEDS_DIR", str(tmp_path / "seeds"))
    return tmp_path


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (
            ["feeds", "add", "http://127.0.0.1:1/feed.xml", "--interval", "99999999999d"],
            "--interval",
        ),
        (["feeds", "add", "http://127.0.0.1:1/feed.xml", "--interval", "nan"], "--interval"),
        (["digest", "--date", "9999-12-31"], "--date"),
        (["digest", "--date", "0001-01-01"], "--date"),
        (["export", "--since", "9999-12-31"], "--since"),
        (["prune", "--days", "999999999"], "--days"),
    ],
)
def test_out_of_range_options_are_usage_errors(env: Path, args: list[str], named: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert named in result.output
    assert "Traceback" not in result.output
    assert not (env / "feedbrief.db").exists(), "refused before touching the database"
