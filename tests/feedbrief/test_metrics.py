"""Metrics: counted in worker processes, added up by the scraping process; state gauges
read from a real database at scrape time."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import create_engine

from feedbrief.metrics import record_fetch
from feedbrief.scrape import StorageCollector, scrape_registry
from storage import ItemData, SourceUpdate, Storage, SummaryData
from tests.conftest import REPO
from tests.storage.helpers import save_item

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def run_worker(metrics_dir: Path, body: str) -> None:
    """Run *body* in a fresh interpreter that set up metrics in *metrics_dir*, as a
    ``feedbrief run`` worker does."""
    script = "from pathlib import Path\n" + textwrap.dedent(body)
    script = script.replace("METRICS_DIR", repr(str(metrics_dir)))
    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr


WORKER = """
    from feedbrief import metrics
    metrics.setup_metrics(Path(METRICS_DIR))
    metrics.record_fetch("ok", 0.2)
    metrics.record_fetch("ok", 0.3)
    metrics.record_fetch("error", 12.0)
    metrics.record_items(new=3, updated=1)
    metrics.record_duplicates(2)
    metrics.record_summarise(0.0001)
    metrics.record_summarise(0.004)
"""


@pytest.fixture
def storage(sqlite_url: str) -> Iterator[Storage]:
    store = Storage.open(sqlite_url)
    yield store
    store.close()


def test_counts_from_two_worker_processes_are_added_up(tmp_path: Path, storage: Storage) -> None:
    metrics_dir = tmp_path / "metrics"
    run_worker(metrics_dir, WORKER)
    run_worker(metrics_dir, WORKER)
    registry = scrape_registry(metrics_dir, storage)

    def sample(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert sample("feedbrief_fetches_total", outcome="ok") == 4
    assert sample("feedbrief_fetches_total", outcome="error") == 2
    assert sample("feedbrief_fetches_total", outcome="gone") == 0
    assert sample("feedbrief_fetches_total", outcome="not_modified") == 0
    assert sample("feedbrief_items_stored_total", outcome="new") == 6
    assert sample("feedbrief_items_stored_total", outcome="updated") == 2
    assert sample("feedbrief_duplicates_linked_total") == 4
    assert sample("feedbrief_fetch_seconds_count") == 6
    assert sample("feedbrief_fetch_seconds_sum") == pytest.approx(2 * 12.5)
    assert sample("feedbrief_fetch_seconds_bucket", le="0.25") == 2
    assert sample("feedbrief_fetch_seconds_bucket", le="+Inf") == 6
    assert sample("feedbrief_summarise_seconds_count") == 4
    assert sample("feedbrief_summarise_seconds_bucket", le="0.005") == 4


def test_setup_works_when_the_variable_was_set_before_prometheus_client_was_imported(
    tmp_path: Path, storage: Storage
) -> None:
    """The documented deployment: PROMETHEUS_MULTIPROC_DIR set before start (a systemd
    unit's Environment=), so whatever imports the library first, it counts into files."""
    metrics_dir = tmp_path / "metrics"
    run_worker(
        metrics_dir,
        """
        import os
        os.makedirs(METRICS_DIR)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = METRICS_DIR
        import prometheus_client
        prometheus_client.Counter("unrelated", "made before set-up", registry=None).inc()
        from feedbrief import metrics
        metrics.setup_metrics(Path(METRICS_DIR))
        metrics.record_fetch("gone", 0.1)
        """,
    )
    registry = scrape_registry(metrics_dir, storage)
    assert registry.get_sample_value("feedbrief_fetches_total", {"outcome": "gone"}) == 1


def test_setup_refuses_once_prometheus_client_was_imported_without_the_variable(
    tmp_path: Path,
) -> None:
    """The library chose in-process values when it was imported: counting on would be
    counting into nothing the scraper sees, so setup says why instead."""
    metrics_dir = tmp_path / "metrics"
    run_worker(
        metrics_dir,
        """
        import prometheus_client
        from feedbrief import metrics
        try:
            metrics.setup_metrics(Path(METRICS_DIR))
        except metrics.MetricsTooLate as exc:
            assert "PROMETHEUS_MULTIPROC_DIR" in str(exc), exc
        else:
            raise AssertionError("set up after prometheus_client was imported")
        """,
    )


def test_feedbrief_run_counts_into_the_metrics_directory(tmp_path: Path, storage: Storage) -> None:
    """Nothing ``feedbrief run`` imports before it sets up metrics imports
    prometheus_client: a real run's counts reach the scraper."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "bridge.txt").write_text(
        "Council approves the new bridge\n\nThe city council approved the new bridge on "
        "Tuesday after a long debate. Work will start in the spring.\n",
        encoding="utf-8",
    )
    metrics_dir = tmp_path / "metrics"
    environ = {
        **os.environ,
        "FEEDBRIEF_DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
        "FEEDBRIEF_DIGEST_DIR": str(tmp_path / "digests"),
        "FEEDBRIEF_SEEDS_DIR": str(seeds),
        "FEEDBRIEF_METRICS_DIR": str(metrics_dir),
        "PYTHONPATH": str(REPO),
    }
    for variable in ("FEEDBRIEF_CONFIG", "PROMETHEUS_MULTIPROC_DIR"):
        environ.pop(variable, None)
    completed = subprocess.run(
        [sys.executable, "-m", "feedbrief", "run", "--once"],
        cwd=tmp_path,  # no feedbrief.toml here: the defaults and the variables above
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    registry = scrape_registry(metrics_dir, storage)
    assert registry.get_sample_value("feedbrief_summarise_seconds_count") == 1


def test_a_process_that_never_set_up_metrics_writes_no_files(tmp_path: Path) -> None:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    script = f"""
        import os
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = {str(metrics_dir)!r}
        from feedbrief import metrics
        metrics.record_fetch("ok", 0.1)
        metrics.record_items(new=1, updated=0)
    """
    completed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert list(metrics_dir.iterdir()) == []


def test_an_unknown_fetch_outcome_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown fetch outcome"):
        record_fetch("timeout", 1.0)


def add_feed(storage: Storage, url: str) -> int:
    return storage.ensure_source("feed", url, None, NOW)


def test_feed_gauges_count_feeds_by_state(storage: Storage) -> None:
    add_feed(storage, "https://ok.example/feed")
    failing = add_feed(storage, "https://failing.example/feed")
    storage.update_source(failing, SourceUpdate(checked_at=NOW, error="timeout"))
    storage.update_source(failing, SourceUpdate(checked_at=NOW, error="timeout"))
    recovered = add_feed(storage, "https://recovered.example/feed")
    storage.update_source(recovered, SourceUpdate(checked_at=NOW, error="HTTP 500"))
    storage.update_source(recovered, SourceUpdate(checked_at=NOW))
    gone = add_feed(storage, "https://gone.example/feed")
    storage.update_source(
        gone, SourceUpdate(checked_at=NOW, error="HTTP 410", retired_reason="410 Gone")
    )
    seed = storage.ensure_source("seed", "seed:a.txt", "A", NOW)
    data = ItemData(guid="a", title="A", text="Some text.", content_hash="h")
    save_item(storage, seed, data, SummaryData("default", ("Some text.",)), NOW)

    registry = CollectorRegistry()
    registry.register(StorageCollector(storage))

    def gauge(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert gauge("feedbrief_database_up") == 1
    assert gauge("feedbrief_feeds", state="healthy") == 2
    assert gauge("feedbrief_feeds", state="failing") == 1
    assert gauge("feedbrief_feeds", state="retired") == 1
    assert gauge("feedbrief_feeds_failing") == 1
    assert gauge("feedbrief_feeds_in_backoff") == 1  # the deprecated name, same figure
    assert gauge("feedbrief_items") == 1
    assert gauge("feedbrief_last_tick_timestamp_seconds") is None

    storage.record_tick("host:1", NOW - timedelta(seconds=30))
    ticked = NOW - timedelta(seconds=30)
    assert gauge("feedbrief_last_tick_timestamp_seconds") == ticked.timestamp()


def test_a_database_that_does_not_answer_reports_down_instead_of_failing_the_scrape(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    storage = Storage(create_engine(f"sqlite:///{blocker / 'feedbrief.db'}"))
    registry = CollectorRegistry()
    registry.register(StorageCollector(storage))
    assert registry.get_sample_value("feedbrief_database_up") == 0
    assert registry.get_sample_value("feedbrief_feeds_failing") is None
    storage.close()
