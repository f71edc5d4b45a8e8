"""The long-running service: a local APScheduler ticker hands work to the pipeline.

The scheduler only decides *when*; every job is a plain method that does one pass and
returns. SIGINT/SIGTERM set a stop event that the pipeline checks between items, so the
item in hand is finished (its transaction committed) and the process exits 0.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from types import FrameType
from typing import TYPE_CHECKING

import structlog

from feedbrief.app import App
from feedbrief.delivery import DeliveryOutcome
from feedbrief.metrics import record_email
from feedbrief.operator_errors import describe
from ingest.outcome import Outcome

if TYPE_CHECKING:
    from feedbrief.delivery import DeliveryResult

log = structlog.get_logger(__name__)

# How often a running worker records that it is alive; /healthz allows a few misses.
HEARTBEAT_SECONDS = 60
# How often a worker looks for digest emails due (again, or late after a sleep or a
# restart); the shortest backoff is a minute.
EMAIL_RETRY_SECONDS = 30


def report_email(result: DeliveryResult, *, server: str) -> None:
    """The service's log line for one attempt (a command prints its own), and its count
    in the metrics."""
    if result.outcome in (DeliveryOutcome.SENT, DeliveryOutcome.FAILED):
        record_email(result.outcome)
    day = result.day.isoformat()
    delivery = result.delivery
    if result.outcome == DeliveryOutcome.SENT:
        log.info(
            "email.sent",
            day=day,
            server=server,
            message_id=delivery.message_id,
            attempt=delivery.attempts,
        )
    elif result.outcome == DeliveryOutcome.FAILED:
        retry_at = delivery.next_attempt_at
        log.error(
            "email.failed",
            day=day,
            server=server,
            error=result.error,
            attempt=delivery.attempts,
            retry_at=None if retry_at is None else retry_at.isoformat(),
        )
    elif result.outcome == DeliveryOutcome.IN_PROGRESS:
        log.info("email.skipped_in_progress", day=day, by=delivery.claimed_by)
    else:
        log.info("email.skipped_already_sent", day=day, message_id=delivery.message_id)


class Service:
    def __init__(self, app: App) -> None:
        self.app = app
        self._lock = threading.Lock()  # one pass at a time, whatever the scheduler does
        self._signal: str | None = None
        self._seeds_missing_reported = False
        # Catch-up reports made, so that a tick every 30 s says each thing once.
        self._missed_reported: set[date] = set()
        self._skips_reported: set[tuple[date, str]] = set()
        self.worker = f"{socket.gethostname()}:{os.getpid()}"

    def heartbeat(self) -> None:
        """Record that this worker's ticker is alive (``/healthz`` reads it)."""
        self.app.storage.record_tick(self.worker, self.app.now())

    def scan_seeds(self) -> None:
        if not self.app.seeds_dir.is_dir():
            # Reported, not failed: a service may read feeds only. Once, not every scan.
            if not self._seeds_missing_reported:
                log.warning("seeds.dir_missing", dir=str(self.app.seeds_dir))
                self._seeds_missing_reported = True
            return
        self._seeds_missing_reported = False
        rows = self.app.replay(unchanged=False)
        changed = [row for row in rows if row.status in (Outcome.NEW, Outcome.UPDATED)]
        if changed:
            log.info("seeds.scanned", files=len(rows), changed=len(changed))

    def refresh_feeds(self) -> None:
        results = self.app.refresh_feeds(worker=self.worker)
        if results:
            log.info(
                "feeds.refreshed",
                feeds=len(results),
                failed=sum(1 for r in results if r.status in (Outcome.ERROR, Outcome.GONE)),
                new=sum(r.new for r in results),
            )

    def write_today(self, unless_written_since: datetime | None = None) -> None:
        """Write today's digest, even an empty one, unless this pass already did."""
        today = self.app.today()
        written = self.app.storage.digest_generated_at(today)
        if unless_written_since and written and written >= unless_written_since:
            return
        self.app.digests.write(today)

    def daily_digest(self) -> None:
        """At the configured time: finalise yesterday's digest and start today's, prune
        what is past retention, then mail yesterday's digest (``[email]``)."""
        self.finish_day(self.app.today() - timedelta(days=1))

    def finish_day(self, day: date) -> None:
        """Finalise *day*'s digest and write the next day's, prune what is past
        retention, then mail *day*'s digest: the daily job, for the day whose email is
        due (the catch-up calls it for a day the job missed).

        With several workers, each takes the lock in turn and writes unless another
        already rewrote the day's digest since it was due. Waiting for the lock, rather
        than leaving the job to whoever holds it, is what makes a worker that dies while
        holding it harmless: the next one finds the digest unwritten.
        """
        from digest.mailing import due_at

        digest = self.app.settings.digest
        scheduled = due_at(day, digest.time, digest.tz)
        with self.app.storage.exclusive("feedbrief:daily-digest", wait=True):
            written = self.app.storage.digest_generated_at(day)
            if written is not None and written >= scheduled:
                log.info("digest.skipped_already_written", day=str(day))
            else:
                self.app.digests.write_days([day, day + timedelta(days=1)])
                pruned = self.app.prune()
                if pruned.items or pruned.deliveries:
                    log.info(
                        "items.pruned",
                        items=pruned.items,
                        deliveries=pruned.deliveries,
                        days=self.app.settings.retention_days,
                    )
        # Every worker asks, outside the lock: the day's claim lets one of them send it,
        # and one that finds the digest written by a worker that died before sending
        # still sends it.
        self.send_email(day)

    def send_email(self, day: date) -> None:
        """Mail *day*'s final digest unless it was sent; a failure is retried by
        ``retry_email`` with backoff."""
        if self.app.settings.email.enabled:
            mailer = self.app.mailer
            report_email(mailer.deliver(day, worker=self.worker), server=mailer.server_address)

    def mail_due(self) -> None:
        """The email pass of every tick: catch up on a day the daily job missed, then
        send the days whose retry time has come."""
        self.catch_up_email()
        self.retry_email()

    def catch_up_email(self) -> None:
        """Send the most recent day whose email is due if nobody did (the service was
        not running, or the machine asleep, at ``digest.time``); report once the older
        days the list never got (``digest.mailing``)."""
        from digest.mailing import CATCH_UP_AFTER, catch_up, due_at, due_day, in_hand

        if not self.app.settings.email.enabled:
            return
        digest = self.app.settings.digest
        storage = self.app.storage
        recipients = self.app.mailer.recipients
        day = due_day(self.app.now(), digest.time, digest.tz, after=CATCH_UP_AFTER)
        own = storage.delivery(day, recipients)
        if in_hand(own):
            return  # the common case: one read per tick
        last_own = storage.last_delivery_before(recipients, day)
        # A list with no earlier row misses nothing: only the day's own digest matters.
        since = last_own if last_own is not None else day - timedelta(days=1)
        decision = catch_up(
            day,
            own=own,
            last_own=last_own,
            digest_days=storage.digest_days(since, day),
            sent_to_other_list=storage.sent_to_other_list(day, recipients),
        )
        missed = [d for d in decision.missed if d not in self._missed_reported]
        if missed:
            self._missed_reported.update(missed)
            log.warning(
                "email.days_missed",
                days=[d.isoformat() for d in missed],
                hint="feedbrief digest --send --date DAY sends one",
            )
        if decision.skip is not None:
            if (day, decision.skip) not in self._skips_reported:
                self._skips_reported.add((day, decision.skip))
                log.info("email.catch_up_skipped", day=day.isoformat(), reason=decision.skip)
            return
        log.info(
            "email.catch_up_started",
            day=day.isoformat(),
            due_at=due_at(day, digest.time, digest.tz).isoformat(),
        )
        self.finish_day(day)

    def retry_email(self) -> None:
        """Send the days whose retry time has come (or whose sender died mid-send)."""
        if self.app.settings.email.enabled:
            mailer = self.app.mailer
            for result in mailer.retry_due(worker=self.worker):
                report_email(result, server=mailer.server_address)

    def release_stale_leases(self) -> None:
        """On SQLite the run lock proves no other service is alive: leases left by a
        killed run are stale, and would hide their feeds until they expire."""
        if self.app.storage.dialect == "sqlite":
            self.app.storage.release_leases()

    def run_once(self) -> dict[str, str]:
        """One pass of every job; the jobs that failed as a whole, with why (a feed's or
        a seed's failure is that feed's or seed's, not its job's)."""
        started = self.app.now()
        jobs: dict[str, Callable[[], None]] = {
            "leases": self.release_stale_leases,
            "heartbeat": self.heartbeat,
            "subscriptions": self.app.sync_subscriptions,
            "seeds": self.scan_seeds,
            "feeds": self.refresh_feeds,
            "digest": lambda: self.write_today(unless_written_since=started),
            "email": self.mail_due,
        }
        failed: dict[str, str] = {}
        for job, work in jobs.items():
            reason = self._guarded(job, work)
            if reason is not None:
                failed[job] = reason
        return failed

    def run_once_until_stopped(self) -> dict[str, str]:
        """One pass, as ``run --once`` makes it: SIGINT/SIGTERM end it as they end the
        service, after the item in hand, so it exits 0 with nothing half-written."""
        self.stop_on_signals()
        failed = self.run_once()
        if self.app.stop.is_set():
            log.info("service.stop_requested", signal=self._signal)
        return failed

    def run_forever(self) -> None:
        # Here, not at the top: ``run --once`` has no scheduler to load.
        from apscheduler.schedulers.background import BackgroundScheduler

        self.stop_on_signals()
        self.run_once()
        settings = self.app.settings
        scheduler = BackgroundScheduler(
            timezone=settings.digest.tz,
            job_defaults={"max_instances": 1, "coalesce": True},
        )
        every = {
            "seeds": (self.scan_seeds, settings.seeds.scan_interval),
            "feeds": (self.refresh_feeds, settings.feeds.tick),
            "heartbeat": (self.heartbeat, HEARTBEAT_SECONDS),
            "email": (self.mail_due, EMAIL_RETRY_SECONDS),
        }
        for job, (work, seconds) in every.items():
            scheduler.add_job(self._guarded, "interval", args=(job, work), seconds=seconds, id=job)
        scheduler.add_job(
            self._guarded,
            "cron",
            args=("daily-digest", self.daily_digest),
            hour=settings.digest.time.hour,
            minute=settings.digest.time.minute,
            misfire_grace_time=3600,
            id="daily-digest",
        )
        scheduler.start()
        log.info(
            "service.started",
            seeds=str(self.app.seeds_dir),
            digest_dir=str(settings.digest.dir),
            digest_time=settings.digest.time.isoformat("minutes"),
        )
        # Wait in short slices: a bare Event.wait() can keep the main thread from
        # running the signal handler that is supposed to end it.
        while not self.app.stop.wait(0.5):
            pass
        log.info("service.stop_requested", signal=self._signal)
        scheduler.shutdown(wait=True)
        log.info("service.stopped")

    def _guarded(self, job: str, work: Callable[[], None]) -> str | None:
        """Run one pass; None if it went through, else why it failed. Whatever it raised
        (a database down, a full disk, a surprise) is logged and the job retried on the
        next tick, instead of killing a service that is meant to run unattended: one
        line, the traceback at debug level. Passes take turns; the heartbeat does not
        wait for them, so a long ingest still looks alive."""
        if self.app.stop.is_set():
            return None
        with contextlib.nullcontext() if job == "heartbeat" else self._lock:
            try:
                work()
            except Exception as exc:  # a pass must never end the service
                error = describe(exc, self.app.settings.database.url)
                log.error("service.pass_failed", job=job, error=error)
                log.debug("service.pass_failed", job=job, exc_info=True)
                return error
        return None

    def stop_on_signals(self) -> None:
        def handle(signum: int, _frame: FrameType | None) -> None:
            # Only set the event: logging here could deadlock on the logger's lock if
            # the signal lands while the main thread is inside a log call.
            self._signal = signal.Signals(signum).name
            self.app.stop.set()

        signal.signal(signal.SIGINT, handle)
        signal.signal(signal.SIGTERM, handle)
        # A parent may have started us with these blocked (the mask is inherited);
        # a service that cannot be stopped by its supervisor is worse than useless.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
