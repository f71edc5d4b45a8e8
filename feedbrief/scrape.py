"""Prometheus metrics, the scraping side: what ``feedbrief serve`` exposes at /metrics.

The workers' counters and histograms are added up from the files they write (see
:mod:`feedbrief.metrics`) by prometheus-client's ``MultiProcessCollector``, in a fresh
registry as its multiprocess documentation prescribes. Figures that describe the stored
state rather than events (feeds by state, items, the last heartbeat) are read from the
database on each scrape, so they are right whichever worker changed the state, and
survive restarts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

import structlog
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from feedbrief.metrics import FEED_STATES, feed_state
from storage import SourceState, Storage

log = structlog.get_logger(__name__)


class StorageCollector(Collector):
    """Gauges read from the database at scrape time.

    A database that does not answer gives ``feedbrief_database_up 0`` and no other
    database figure, rather than a failed scrape: the worker counters are still worth
    having, and the alert should name the database.
    """

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def collect(self) -> Iterable[GaugeMetricFamily]:
        up = GaugeMetricFamily("feedbrief_database_up", "1 when the database answered.")
        try:
            feeds = self.storage.sources("feed")
            items = self.storage.count_items()
            last_tick = self.storage.last_tick()
        except SQLAlchemyError as exc:
            log.warning("metrics.database_failed", error=str(exc))
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from _feed_gauges(feeds)
        yield GaugeMetricFamily("feedbrief_items", "Items stored.", value=items)
        if last_tick is not None:
            yield _tick_gauge(last_tick)


def _feed_gauges(feeds: list[SourceState]) -> Iterator[GaugeMetricFamily]:
    counts = dict.fromkeys(FEED_STATES, 0)
    for feed in feeds:
        counts[feed_state(feed)] += 1
    by_state = GaugeMetricFamily("feedbrief_feeds", "Subscribed feeds by state.", labels=["state"])
    for state, count in counts.items():
        by_state.add_metric([state], count)
    yield by_state
    yield GaugeMetricFamily(
        "feedbrief_feeds_failing",
        "Feeds whose last fetches failed and that are not retired.",
        value=counts["failing"],
    )
    # The gauge's name before "failing" became the one word for it; kept so that existing
    # dashboards and alerts keep working.
    yield GaugeMetricFamily(
        "feedbrief_feeds_in_backoff",
        "Deprecated: the same figure as feedbrief_feeds_failing.",
        value=counts["failing"],
    )


def _tick_gauge(last_tick: datetime) -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "feedbrief_last_tick_timestamp_seconds",
        "When a worker last recorded its heartbeat (Unix time).",
        value=last_tick.timestamp(),
    )


def scrape_registry(directory: Path, storage: Storage) -> CollectorRegistry:
    """The registry ``serve`` exposes: the workers' files plus the database gauges."""
    directory.mkdir(parents=True, exist_ok=True)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(directory))
    registry.register(StorageCollector(storage))
    return registry
