"""The ``[digest]`` settings of the front page: defaults, values and errors naming the key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from digest.sections import Layout
from digest.select import DEFAULT_MAX_AGE
from feedbrief.app import App
from feedbrief.settings import ConfigError, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feedbrief.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_front_page_defaults_are_the_digest_modules_defaults(tmp_path: Path) -> None:
    digest = load_settings(write(tmp_path, ""), environ={}).digest
    assert timedelta(seconds=digest.max_age) == DEFAULT_MAX_AGE
    layout = Layout()
    assert (
        digest.top_stories,
        digest.section_stories,
        digest.section_headlines,
        digest.reading_minutes,
    ) == (
        layout.top_stories,
        layout.section_stories,
        layout.section_headlines,
        layout.reading_minutes,
    )
    assert digest.block == [] and digest.keep == []


def test_front_page_settings_reach_the_digest_writer(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""[database]
url = "sqlite:///{tmp_path / "feedbrief.db"}"
[digest]
dir = "{tmp_path / "digests"}"
max_age = "36h"
top_stories = 4
section_stories = 2
section_headlines = 3
reading_minutes = 5
block = ["^sponsored", "(?i)horoscope"]
keep = ["climate|energy"]
""",
    )
    app = App(load_settings(path, environ={}))
    try:
        writer = app.digests
        assert writer.rules.max_age == timedelta(hours=36)
        assert [p.pattern for p in writer.rules.block] == ["^sponsored", "(?i)horoscope"]
        assert writer.rules.block[0].search("SPONSORED: a car")
        assert [p.pattern for p in writer.rules.keep] == ["climate|energy"]
        assert writer.layout == Layout(
            top_stories=4, section_stories=2, section_headlines=3, reading_minutes=5
        )
    finally:
        app.close()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("block = ['ok', 'sport(s']", "digest.block.1: not a valid regular expression 'sport(s'"),
        ("keep = ['[unclosed']", "digest.keep.0: not a valid regular expression '[unclosed'"),
        ("keep = 'climate'", "digest.keep: Input should be a valid list"),
        ("max_age = 'a while'", "digest.max_age: 'a while' is not a duration"),
        ("max_age = 0", "digest.max_age: a duration must be positive"),
        ("top_stories = -1", "digest.top_stories"),
        ("section_stories = 'five'", "digest.section_stories"),
        ("section_headlines = -3", "digest.section_headlines"),
        ("reading_minutes = 0", "digest.reading_minutes"),
    ],
)
def test_invalid_front_page_settings_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("[", r"\[")):
        load_settings(write(tmp_path, f"[digest]\n{text}\n"), environ={})
