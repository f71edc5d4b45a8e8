from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from feedbrief.settings import ConfigError, load_settings, parse_duration
from tests.conftest import REPO


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feedbrief.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_default_config_is_valid() -> None:
    settings = load_settings(REPO / "config" / "feedbrief.toml", environ={})
    assert settings.database.url == "sqlite:///data/feedbrief.db"
    assert settings.digest.time == time(7, 0)
    assert settings.seeds.scan_interval == 300


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[database]\nurl = "sqlite:///a.db"\n')
    env = {
        "FEEDBRIEF_DATABASE_URL": "sqlite:///b.db",
        "FEEDBRIEF_DIGEST_DIR": "/srv/digests",
        "FEEDBRIEF_SEEDS_DIR": "/srv/seeds",
    }
    settings = load_settings(path, environ=env)
    assert settings.database.url == "sqlite:///b.db"
    assert settings.digest.dir == Path("/srv/digests")
    assert settings.seeds.dir == Path("/srv/seeds")


def test_feedbrief_config_variable_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[digest]\nsentences = 5\n")
    assert load_settings(environ={"FEEDBRIEF_CONFIG": str(path)}).digest.sentences == 5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[digest]\ncolour = 'blue'\n", "digest.colour: unknown key"),
        ("[nonsense]\n", "nonsense: unknown key"),
        ("[digest]\nsentences = 'three'\n", "digest.sentences"),
        ("[digest]\ntime = '7 o clock'\n", "digest.time: '7 o clock' is not a time of day"),
        ("[digest]\ntimezone = 'Mars/Olympus'\n", "digest.timezone: unknown time zone"),
        ("[database]\nurl = 'not a url'\n", "database.url: not a valid SQLAlchemy database URL"),
        ("[seeds]\nscan_interval = 'soon'\n", "seeds.scan_interval: 'soon' is not a duration"),
        ("[digest\n", "not valid TOML"),
        (
            "[[feeds.subscriptions]]\nurl = 'http://x.example/'\nblock = 'sport(s'\n",
            "feeds.subscriptions.0.block: not a valid regular expression 'sport(s'",
        ),
        (
            "[[feeds.subscriptions]]\nurl = 'http://x.example/'\nweight = -2\n",
            "feeds.subscriptions.0.weight: a weight must be a positive finite number",
        ),
        (
            "[[feeds.subscriptions]]\nurl = 'http://x.example/'\nweight = 'nan'\n",
            "feeds.subscriptions.0.weight: a weight must be a positive finite number",
        ),
    ],
)
def test_invalid_config_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match="config error") as info:
        load_settings(write(tmp_path, text), environ={})
    assert message in str(info.value)


def test_a_named_config_file_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "missing.toml", environ={})


@pytest.mark.parametrize(
    ("value", "seconds"), [(90, 90), ("90s", 90), ("30m", 1800), ("2h", 7200), ("1d", 86400)]
)
def test_durations(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


def test_a_subscription_carries_its_category_weight_and_rules(tmp_path: Path) -> None:
    text = (
        "[[feeds.subscriptions]]\nurl = 'http://x.example/rss'\ncategory = 'World'\n"
        "weight = 2\nblock = '(?i)horoscope'\nkeep = 'ukraine|gaza'\n"
    )

    [subscription] = load_settings(write(tmp_path, text), environ={}).feeds.subscriptions

    assert (subscription.category, subscription.weight) == ("World", 2.0)
    assert (subscription.block, subscription.keep) == ("(?i)horoscope", "ukraine|gaza")
