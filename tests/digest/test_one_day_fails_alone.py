"""One day that cannot be built fails alone (issue 16): the other days are written, and
the failure is one error line naming the day. The disk's or the database's failure is
every day's, and is raised."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from digest import build as digests_module
from digest.build import DigestWriter
from digest.model import Digest
from storage import Storage
from tests.digest.test_build import BASE_URL, Clock, store_story

DAY = date(2026, 11, 20)
BAD_DAY = DAY + timedelta(days=1)


@pytest.fixture
def writer(tmp_path: Path) -> DigestWriter:
    storage = Storage.open(f"sqlite:///{tmp_path / 'feedbrief.db'}")
    for n, day in enumerate((DAY, BAD_DAY, DAY + timedelta(days=2))):
        store_story(
            storage, n, datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=9)
        )
    clock = Clock(datetime(2026, 11, 23, 12, tzinfo=UTC))
    return DigestWriter(
        storage, tmp_path / "digests", tz=UTC, tz_name="UTC", base_url=BASE_URL, clock=clock
    )


def test_a_day_that_cannot_be_built_fails_alone(
    writer: DigestWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = digests_module.render_html_body

    def failing_on_one_day(digest: Digest) -> str:
        if digest.date == BAD_DAY:
            raise OverflowError("date value out of range")
        return real(digest)

    monkeypatch.setattr(digests_module, "render_html_body", failing_on_one_day)
    with capture_logs() as logs:
        written = writer.write_days([DAY, BAD_DAY, DAY + timedelta(days=2)])

    names = {path.name for path in written}
    assert {"2026-11-20.html", "2026-11-22.html"} <= names
    assert not any(name.startswith("2026-11-21") for name in names)
    [failed] = [
        log for log in logs if log["event"] == "digest.write_failed" and log["log_level"] == "error"
    ]
    assert failed["day"] == "2026-11-21" and "OverflowError" in failed["error"]


def test_a_disk_failure_is_every_days_and_is_raised(
    writer: DigestWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(digest: Digest) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(digests_module, "render_html_body", disk_full)
    with pytest.raises(OSError, match="No space left"):
        writer.write_days([DAY, BAD_DAY])
