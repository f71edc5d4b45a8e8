"""Replay writes the digest of every day its seeds' items belong to; the service's
periodic seed scan rewrites only the days whose items changed."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from feedbrief.app import App
from feedbrief.service import Service
from feedbrief.settings import Settings
from tests.conftest import SEED

# Late evening in UTC, already the next day in Paris: digests are named by the local day.
DAY_ONE = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)  # 2 March in Paris
DAY_TWO = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
DAY_THREE = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
SECOND_SEED = (
    "Harbour bridge reopens after repairs\n\n"
    "The harbour bridge reopened to traffic on Thursday after six months of repairs. "
    "Engineers replaced the cables and repainted the deck.\n\n"
    "The city expects the bridge to carry twelve thousand cars a day again. "
    "Cyclists get a lane of their own on the north side.\n"
)

MakeApp = Callable[[datetime, Path], App]


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    shutil.copy(SEED, folder / SEED.name)
    return folder


@pytest.fixture
def make_app(database_url: str, seeds: Path) -> Iterator[MakeApp]:
    """Apps over one database and seeds folder, each with its clock and digest folder."""
    apps: list[App] = []

    def make(now: datetime, digests: Path) -> App:
        settings = Settings.model_validate(
            {
                "database": {"url": database_url},
                "seeds": {"dir": str(seeds)},
                "digest": {"dir": str(digests), "timezone": "Europe/Paris"},
            }
        )
        apps.append(App(settings, clock=lambda: now))
        return apps[-1]

    yield make
    for application in apps:
        application.close()


def days_written(folder: Path) -> set[str]:
    return {path.stem for path in folder.glob("*.json")} if folder.is_dir() else set()


def stories(folder: Path, day: str) -> list[dict]:
    return json.loads((folder / f"{day}.json").read_text(encoding="utf-8"))["stories"]


def test_replay_writes_every_day_of_its_seeds_changed_or_not(
    make_app: MakeApp, seeds: Path, tmp_path: Path
) -> None:
    first = tmp_path / "digests"
    make_app(DAY_ONE, first).replay()
    (seeds / "bridge.txt").write_text(SECOND_SEED, encoding="utf-8")
    make_app(DAY_TWO, first).replay()
    assert days_written(first) == {"2026-03-02", "2026-03-05"}

    # Nothing changed since, and seeds that fail or are skipped belong to no day.
    (seeds / "empty.txt").write_bytes(b"")
    (seeds / "notes.pdf").write_bytes(b"%PDF")
    fresh = tmp_path / "fresh"
    rows = make_app(DAY_THREE, fresh).replay()
    assert {row.file: row.status for row in rows} == {
        SEED.name: "unchanged",
        "bridge.txt": "unchanged",
        "empty.txt": "error",
        "notes.pdf": "skipped",
    }
    assert days_written(fresh) == {"2026-03-02", "2026-03-05"}
    for day in days_written(fresh):
        assert stories(fresh, day) == stories(first, day)
    assert [story["title"] for story in stories(fresh, "2026-03-05")] == [
        "Harbour bridge reopens after repairs"
    ]


def test_the_service_seed_scan_rewrites_only_days_that_changed(
    make_app: MakeApp, seeds: Path, tmp_path: Path
) -> None:
    make_app(DAY_ONE, tmp_path / "digests").replay()
    (seeds / "bridge.txt").write_text(SECOND_SEED, encoding="utf-8")
    make_app(DAY_TWO, tmp_path / "digests").replay()

    fresh = tmp_path / "fresh"
    service = Service(make_app(DAY_THREE, fresh))
    service.scan_seeds()
    assert days_written(fresh) == set()

    edited = SECOND_SEED.replace("twelve thousand", "fifteen thousand")
    (seeds / "bridge.txt").write_text(edited, encoding="utf-8")
    service.scan_seeds()
    assert days_written(fresh) == {"2026-03-05"}  # the day the edited item was first seen


def test_a_seed_item_dated_years_ahead_is_stored_and_digested_with_the_replay_time(
    make_app: MakeApp, seeds: Path, tmp_path: Path
) -> None:
    wire = [
        {
            "id": "ahead",
            "title": "Ferry terminal plans published",
            "text": SECOND_SEED.replace("bridge", "ferry terminal"),
            "published": "2035-08-19T08:00:00Z",
        },
        {
            "id": "dated",
            "title": "Harbour bridge reopens after repairs",
            "text": SECOND_SEED,
            "published": "2026-03-01T20:00:00Z",
        },
    ]
    (seeds / "wire.json").write_text(json.dumps(wire), encoding="utf-8")
    digests = tmp_path / "digests"
    application = make_app(DAY_ONE, digests)
    with capture_logs() as logs:
        application.replay()
    published = {item.title: item.published_at for item in application.storage.iter_items()}
    assert published["Ferry terminal plans published"] == DAY_ONE
    assert published["Harbour bridge reopens after repairs"] == datetime(2026, 3, 1, 20, tzinfo=UTC)
    shown = {story["title"]: story["published"] for story in stories(digests, "2026-03-02")}
    assert datetime.fromisoformat(shown["Ferry terminal plans published"]) == DAY_ONE
    warnings = [log for log in logs if log["event"] == "date.future_replaced"]
    assert [(log["seed"], log["items"], log["latest"]) for log in warnings] == [
        ("wire.json", 1, "2035-08-19T08:00:00+00:00")
    ]

    # The service's seed scan replays the unchanged file again: nothing stored, no warning.
    with capture_logs() as logs:
        make_app(DAY_TWO, digests).replay()
    assert [log for log in logs if log["event"] == "date.future_replaced"] == []
    again = {item.title: item.published_at for item in application.storage.iter_items()}
    assert again["Ferry terminal plans published"] == DAY_ONE
