from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.model import (
    Digest,
    DigestFileError,
    DigestStory,
    SourceRef,
    load_digest_json,
    load_recent_digests,
    newest_per_date,
    render_json,
)

DAY = dt.date(2026, 11, 25)
MORNING = dt.datetime(2026, 11, 25, 6, 30, tzinfo=dt.UTC)


def make_story(story_id: int = 1, **changes: object) -> DigestStory:
    story = DigestStory(
        id=story_id,
        title=f"Story {story_id}: café prices rise",
        url=f"https://news.example/{story_id}",
        source="Example News",
        published=dt.datetime(2026, 11, 25, 5, 0, tzinfo=dt.UTC),
        summary=("Prices rose by 4%.", "Growers blame the weather."),
        sources=(
            SourceRef("Example News", f"https://news.example/{story_id}"),
            SourceRef("seed:docs/coffee.txt", None),
        ),
    )
    return replace(story, **changes)


def make_digest(
    day: dt.date = DAY, generated_at: dt.datetime = MORNING, **changes: object
) -> Digest:
    digest = Digest(
        date=day,
        generated_at=generated_at,
        timezone="Europe/Paris",
        stories=(make_story(1), make_story(2, url=None, published=None, sources=())),
    )
    return replace(digest, **changes)


def test_json_round_trip_gives_back_an_equal_digest(tmp_path: Path) -> None:
    digest = make_digest(title="morning brief")
    path = tmp_path / "2026-11-25.json"
    path.write_text(render_json(digest), encoding="utf-8")
    assert load_digest_json(path) == digest


def test_json_has_the_documented_shape_with_iso_dates() -> None:
    data = json.loads(render_json(make_digest()))
    assert {"date", "generated_at", "timezone", "stories"} <= data.keys()
    assert data["date"] == "2026-11-25"
    assert dt.datetime.fromisoformat(data["generated_at"]) == MORNING
    assert data["timezone"] == "Europe/Paris"
    first, second = data["stories"]
    assert first.keys() == {
        *("id", "title", "url", "source", "published", "summary", "sources"),
        *("rank", "coverage", "section", "category", "language"),
        *("front_page", "headline_only", "shown_sentences"),
    }
    assert first["summary"] == ["Prices rose by 4%.", "Growers blame the weather."]
    assert first["sources"][1] == {"name": "seed:docs/coffee.txt", "url": None}
    assert dt.datetime.fromisoformat(first["published"]) == make_story(1).published
    assert second["published"] is None and second["url"] is None and second["sources"] == []


def test_json_written_before_the_front_page_still_loads(tmp_path: Path) -> None:
    """A digest of an earlier release: no layout fields; every story was on the page."""
    data = json.loads(render_json(make_digest()))
    for key in ("sections", "base_url"):
        del data[key]
    for story in data["stories"]:
        for key in list(story)[7:]:
            del story[key]
    path = tmp_path / "2026-11-25.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    loaded = load_digest_json(path)
    assert loaded == make_digest()
    assert loaded.sections is None
    assert all(s.front_page and s.shown_summary == s.summary for s in loaded.stories)


def test_json_keeps_non_ascii_text_unescaped() -> None:
    assert "café" in render_json(make_digest())


def test_regenerating_a_day_changes_only_generated_at() -> None:
    first = render_json(make_digest(generated_at=MORNING))
    later = render_json(make_digest(generated_at=MORNING + dt.timedelta(hours=3)))
    assert first != later
    first_data, later_data = json.loads(first), json.loads(later)
    assert first_data.pop("generated_at") != later_data.pop("generated_at")
    assert first_data == later_data
    assert first.splitlines()[3:] == later.splitlines()[3:]  # same text, same key order


def test_stories_keep_the_order_the_caller_gave() -> None:
    stories = tuple(make_story(i) for i in (5, 1, 3))
    data = json.loads(render_json(make_digest(stories=stories)))
    assert [s["id"] for s in data["stories"]] == [5, 1, 3]


def test_naive_generated_at_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        make_digest(generated_at=dt.datetime(2026, 11, 25, 7, 0))


def test_unknown_timezone_is_rejected() -> None:
    with pytest.raises(ValueError, match="Mars/Olympus_Mons"):
        make_digest(timezone="Mars/Olympus_Mons")


def test_local_time_uses_the_digest_zone_and_reads_naive_times_as_utc() -> None:
    digest = make_digest()
    assert digest.local_time(dt.datetime(2026, 11, 25, 5, 0)).isoformat() == (
        "2026-11-25T06:00:00+01:00"
    )
    summer = dt.datetime(2026, 7, 1, 5, 0, tzinfo=dt.UTC)
    assert digest.local_time(summer).hour == 7


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda text: text[: len(text) // 2], id="truncated"),
        pytest.param(lambda text: text.replace('"id": 1', '"id": "1"'), id="id-as-string"),
        pytest.param(lambda text: text.replace('"Europe/Paris"', '"Nowhere/Else"'), id="bad-zone"),
        pytest.param(lambda text: "[]", id="not-an-object"),
    ],
)
def test_damaged_json_file_is_refused_naming_the_file(tmp_path: Path, damage) -> None:
    path = tmp_path / "2026-11-25.json"
    path.write_text(damage(render_json(make_digest())), encoding="utf-8")
    with pytest.raises(DigestFileError, match=r"2026-11-25\.json"):
        load_digest_json(path)


def test_recent_digests_are_newest_first_and_skip_damaged_files(tmp_path: Path) -> None:
    days = [DAY - dt.timedelta(days=n) for n in range(4)]
    for day in days:
        (tmp_path / f"{day}.json").write_text(render_json(make_digest(day)), encoding="utf-8")
    (tmp_path / f"{days[1]}.json").write_text("{", encoding="utf-8")
    (tmp_path / "notes.json").write_text("{}", encoding="utf-8")

    loaded = load_recent_digests(tmp_path, limit=2)

    assert [d.date for d in loaded] == [days[0], days[2]]


def test_newest_per_date_keeps_the_latest_generation_of_each_day() -> None:
    early = make_digest(generated_at=MORNING)
    late = make_digest(generated_at=MORNING + dt.timedelta(hours=2), title="rerun")
    yesterday = make_digest(DAY - dt.timedelta(days=1))
    assert newest_per_date([yesterday, late, early]) == [late, yesterday]


_text = st.text(max_size=40)
_moments = st.datetimes(
    min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)
)
_stories = st.builds(
    DigestStory,
    id=st.integers(min_value=0, max_value=2**62),
    title=_text,
    url=st.none() | _text,
    source=_text,
    published=st.none() | _moments,
    summary=st.tuples(_text, _text),
    sources=st.lists(st.builds(SourceRef, name=_text, url=st.none() | _text), max_size=3).map(
        tuple
    ),
)


@given(stories=st.lists(_stories, max_size=4).map(tuple), generated_at=_moments, title=_text)
def test_any_digest_survives_the_json_round_trip(
    tmp_path_factory: pytest.TempPathFactory, stories, generated_at, title
) -> None:
    digest = Digest(DAY, generated_at, "Asia/Kolkata", stories, title=title)
    path = tmp_path_factory.mktemp("rt") / "digest.json"
    path.write_text(render_json(digest), encoding="utf-8")
    assert load_digest_json(path) == digest
