"""A story dated where no clock can show it (year 9999 east of UTC, issue 16): the digest
model drops the date and every renderer writes the page."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from digest.model import Digest, DigestStory, load_digest_json, render_json
from digest.render_html import render_html
from digest.render_markdown import render_markdown

DAY = dt.date(2026, 11, 25)
MORNING = dt.datetime(2026, 11, 25, 6, 30, tzinfo=dt.UTC)
FAR = [
    dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC),
    dt.datetime(9999, 12, 31, 23, 59, 59),  # naive: UTC, as storage keeps it
    dt.datetime(9999, 12, 31, 20, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
    dt.datetime(1, 1, 1, 0, 0, tzinfo=dt.UTC),
    dt.datetime(1969, 12, 31, 23, 59, tzinfo=dt.UTC),
    dt.datetime(2201, 1, 1, tzinfo=dt.UTC),
]


def story(published: dt.datetime | None) -> DigestStory:
    return DigestStory(
        id=1,
        title="From the far future",
        url="https://news.example/far",
        source="Example News",
        published=published,
        summary=("It has not happened yet.",),
    )


@pytest.mark.parametrize("published", FAR)
@pytest.mark.parametrize("zone", ["Asia/Tokyo", "Europe/Berlin", "America/New_York", "UTC"])
def test_an_unshowable_date_is_dropped_and_the_digest_renders(
    published: dt.datetime, zone: str, tmp_path: Path
) -> None:
    digest = Digest(date=DAY, generated_at=MORNING, timezone=zone, stories=(story(published),))
    assert digest.stories[0].published is None
    assert "From the far future" in render_html(digest)
    assert "From the far future" in render_markdown(digest)
    path = tmp_path / "2026-11-25.json"
    path.write_text(render_json(digest), encoding="utf-8")
    assert load_digest_json(path) == digest


def test_a_digest_file_holding_a_far_date_reads_back_undated(tmp_path: Path) -> None:
    early = dt.datetime(2026, 11, 25, 5, 0, tzinfo=dt.UTC)
    digest = Digest(date=DAY, generated_at=MORNING, timezone="UTC", stories=(story(early),))
    text = render_json(digest)
    assert '"2026-11-25T05:00:00Z"' in text
    text = text.replace('"2026-11-25T05:00:00Z"', '"9999-12-31T23:59:59Z"')
    path = tmp_path / "2026-11-25.json"
    path.write_text(text, encoding="utf-8")
    loaded = load_digest_json(path)
    assert loaded.stories[0].published is None
    assert "From the far future" in render_html(replace(loaded, timezone="Asia/Tokyo"))


def test_local_time_never_overflows() -> None:
    digest = Digest(date=DAY, generated_at=MORNING, timezone="Asia/Tokyo", stories=())
    edge = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
    assert digest.local_time(edge) == edge
    assert digest.local_time(MORNING).utcoffset() == dt.timedelta(hours=9)
