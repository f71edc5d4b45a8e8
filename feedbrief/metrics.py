"""Prometheus metrics: counted in the ``feedbrief run`` workers, scraped from ``feedbrief serve``.

The two are separate processes, so the workers use prometheus-client's multiprocess
mode: every worker writes its counters and histograms to memory-mapped files in one
directory, and ``serve`` adds them up at scrape time. Figures that describe the stored
state rather than events (feeds by state, feeds in backoff, items) are not counted at all:
``serve`` asks the database for them on each scrape, so they are right whichever worker
changed the state, and survive restarts.

Importing this module has no side effect. Until ``setup_metrics`` has run, the
``record_*`` functions do nothing: commands such as ``replay`` and the unit tests of the
pipeline call the same code without leaving files behind. Workers therefore hold no
gauges of their own, and nothing needs ``mark_process_dead`` when they exit.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram, values
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from storage import SourceState, Storage

log = structlog.get_logger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

FETCH_OUTCOMES = ("ok", "not_modified", "error", "gone")
FEED_STATES = ("healthy", "backoff", "retired")

# Fetches are network round trips with a 60 s total timeout; summaries are CPU work on
# one article, normally milliseconds.
FETCH_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
SUMMARISE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclass(frozen=True, slots=True)
class _WorkerMetrics:
    fetches: Counter
    fetch_seconds: Histogram
    items_stored: Counter
    duplicates_linked: Counter
    summarise_seconds: Histogram


_metrics: _WorkerMetrics | None = None


def setup_metrics(directory: Path) -> None:
    """Make this process count into *directory*, where ``serve`` will read it.

    Call it once at start, before the pipeline runs. prometheus-client chooses where
    values live when it is first imported, from ``PROMETHEUS_MULTIPROC_DIR``; we set the
    variable (so worker processes we start inherit it) and install the multiprocess value
    class explicitly, which makes the outcome independent of import order.
    """
    global _metrics
    directory.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROC_ENV] = str(directory)
    values.ValueClass = values.MultiProcessValue()
    _metrics = _create_worker_metrics()
    log.debug("metrics set up", directory=str(directory))


def _create_worker_metrics() -> _WorkerMetrics:
    # registry=None: in multiprocess mode the files are the registry; serve reads them.
    fetches = Counter(
        "feedbrief_fetches",
        "Feed fetches by outcome.",
        ["outcome"],
        registry=None,
    )
    items_stored = Counter(
        "feedbrief_items_stored",
        "Items stored, new or updated.",
        ["outcome"],
        registry=None,
    )
    # Every label value starts at zero, so a rate() over them works from the first scrape.
    for outcome in FETCH_OUTCOMES:
        fetches.labels(outcome)
    for outcome in ("new", "updated"):
        items_stored.labels(outcome)
    return _WorkerMetrics(
        fetches=fetches,
        fetch_seconds=Histogram(
            "feedbrief_fetch_seconds",
            "Time to fetch one feed, redirects included.",
            buckets=FETCH_BUCKETS,
            registry=None,
        ),
        items_stored=items_stored,
        duplicates_linked=Counter(
            "feedbrief_duplicates_linked",
            "Items linked to a story already stored from another source.",
            registry=None,
        ),
        summarise_seconds=Histogram(
            "feedbrief_summarise_seconds",
            "Time to summarise one item.",
            buckets=SUMMARISE_BUCKETS,
            registry=None,
        ),
    )


def record_fetch(outcome: str, seconds: float) -> None:
    """Count one fetch of a feed; *outcome* is one of ``FETCH_OUTCOMES``."""
    if outcome not in FETCH_OUTCOMES:
        # Label values are time series: an open set would grow without bound.
        raise ValueError(f"unknown fetch outcome {outcome!r}; expected one of {FETCH_OUTCOMES}")
    if _metrics is None:
        return
    _metrics.fetches.labels(outcome).inc()
    _metrics.fetch_seconds.observe(seconds)


def record_items(new: int, updated: int) -> None:
    if _metrics is None:
        return
    _metrics.items_stored.labels("new").inc(new)
    _metrics.items_stored.labels("updated").inc(updated)


def record_duplicates(linked: int) -> None:
    if _metrics is None:
        return
    _metrics.duplicates_linked.inc(linked)


def record_summarise(seconds: float) -> None:
    if _metrics is None:
        return
    _metrics.summarise_seconds.observe(seconds)


# -- the scraping side ---------------------------------------------------------------


def feed_state(source: SourceState) -> str:
    """``retired`` (gone for good), ``backoff`` (failing, retried later) or ``healthy``
    (the words of ``feedbrief status``)."""
    if source.retired_at is not None:
        return "retired"
    if source.error_count > 0:
        return "backoff"
    return "healthy"


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
            log.warning("metrics: database did not answer", error=str(exc))
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
        "feedbrief_feeds_in_backoff",
        "Feeds whose last fetches failed and that are not retired.",
        value=counts["backoff"],
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
