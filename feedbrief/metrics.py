"""Prometheus metrics, the counting side: counted in the ``feedbrief run`` workers.

``run`` and ``serve`` are separate processes, so the workers use prometheus-client's
multiprocess mode as its documentation sets it up: ``PROMETHEUS_MULTIPROC_DIR`` names a
directory before prometheus-client is first imported, every worker writes its counters
and histograms to memory-mapped files there, and ``serve`` adds them up at scrape time
with a ``MultiProcessCollector`` (:mod:`feedbrief.scrape`). The library chooses where
values live when it is imported, so this module imports it only in ``setup_metrics``,
after setting the variable, and nothing ``feedbrief run`` imports before that may import
it either (a test guards this).

Figures that describe the stored state rather than events (feeds by state, items) are
not counted at all: ``serve`` reads them from the database on each scrape.

Importing this module has no side effect. Until ``setup_metrics`` has run, the
``record_*`` functions do nothing: commands such as ``replay`` and the unit tests of the
pipeline call the same code without leaving files behind. Workers therefore hold no
gauges of their own, and nothing needs ``mark_process_dead`` when they exit.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from feedbrief.delivery import DeliveryOutcome
from ingest.outcome import FEED_OUTCOMES, Outcome
from storage import SourceState

if TYPE_CHECKING:
    from prometheus_client import Counter, Histogram

log = structlog.get_logger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

FETCH_OUTCOMES: tuple[Outcome, ...] = FEED_OUTCOMES
FEED_STATES = ("healthy", "failing", "retired")
# Attempts to mail a day: skipped ones (already sent, being sent) are not counted.
EMAIL_OUTCOMES: tuple[DeliveryOutcome, ...] = (DeliveryOutcome.SENT, DeliveryOutcome.FAILED)

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
    emails: Counter


_metrics: _WorkerMetrics | None = None


class MetricsTooLate(RuntimeError):
    """prometheus-client was imported before multiprocess mode was chosen."""


def setup_metrics(directory: Path) -> None:
    """Make this process count into *directory*, where ``serve`` will read it.

    Call it once at start, before anything imports prometheus-client: the variable it
    sets is what puts the library in multiprocess mode, and worker processes started
    afterwards inherit it. Raises :class:`MetricsTooLate` if the library was imported
    before ``PROMETHEUS_MULTIPROC_DIR`` named *directory*, since its counts would then
    stay in this process and never reach the scraper.
    """
    global _metrics
    directory.mkdir(parents=True, exist_ok=True)
    if os.environ.get(MULTIPROC_ENV) != str(directory) and "prometheus_client" in sys.modules:
        raise MetricsTooLate(
            f"prometheus_client was imported before {MULTIPROC_ENV} was set to {directory}; "
            f"set it before start, or call setup_metrics before importing prometheus_client"
        )
    os.environ[MULTIPROC_ENV] = str(directory)
    _metrics = _create_worker_metrics()
    log.debug("metrics.set_up", directory=str(directory))


def _create_worker_metrics() -> _WorkerMetrics:
    # Imported only now, with the variable set: see the module's docstring.
    from prometheus_client import Counter, Histogram

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
    for outcome in (Outcome.NEW, Outcome.UPDATED):
        items_stored.labels(outcome)
    emails = Counter(
        "feedbrief_emails",
        "Digest emails by outcome: sent, or failed (and retried).",
        ["outcome"],
        registry=None,
    )
    for outcome in EMAIL_OUTCOMES:
        emails.labels(outcome)
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
        emails=emails,
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
    _metrics.items_stored.labels(Outcome.NEW).inc(new)
    _metrics.items_stored.labels(Outcome.UPDATED).inc(updated)


def record_duplicates(linked: int) -> None:
    if _metrics is None:
        return
    _metrics.duplicates_linked.inc(linked)


def record_summarise(seconds: float) -> None:
    if _metrics is None:
        return
    _metrics.summarise_seconds.observe(seconds)


def record_email(outcome: str) -> None:
    """Count one attempt to mail a day's digest; *outcome* is one of ``EMAIL_OUTCOMES``."""
    if outcome not in EMAIL_OUTCOMES:
        raise ValueError(f"unknown email outcome {outcome!r}; expected one of {EMAIL_OUTCOMES}")
    if _metrics is None:
        return
    _metrics.emails.labels(outcome).inc()


def feed_state(source: SourceState) -> str:
    """``retired`` (gone for good), ``failing`` (its last fetches failed; retried later,
    backing off) or ``healthy``: the words of ``feedbrief status`` and of the
    ``feedbrief_feeds`` gauge."""
    if source.retired_at is not None:
        return "retired"
    if source.error_count > 0:
        return "failing"
    return "healthy"
