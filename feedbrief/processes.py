"""The CPU-bound stages in worker processes, so that ingest uses every core.

Feed threads fetch concurrently, but parsing, cleaning, fingerprinting and summarising are
pure Python: under one interpreter's lock they take turns on one core while the others
stay idle. ``Offload`` hands those stages to a pool of processes and waits for the result
in the calling thread (the lock is free meanwhile, for fetching and storing); with one
process, or where none can be forked, it calls them in place.

The pool is forked while the calling thread is the only one, so the children inherit no
half-held mutex, and after *release* has closed what they must not share (the database's
connections). An ``Offload`` forks its pool when it is made, so make it before starting
any thread; a ``deferred`` one forks it at the first piece of work (if the calling thread
is then alone), so that a command with nothing to do never pays for it (a run lock taken
before then is let go of in the children: see ``feedbrief.runlock``). The workers ignore
SIGINT and SIGTERM (the service finishes the work in hand, then stops them) and exit by
themselves when the service dies, even by SIGKILL.

If a worker dies (the OOM killer, a C library crashing on hostile input), the pool is
replaced in the background from a fork server: a fresh interpreter that imports the
pipeline once and forks the new workers, since forking the service itself is no longer
safe once it runs threads. Meanwhile the work runs in the service. A deferred pool whose
first work comes when other threads run is started the same way.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import structlog

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing.context import BaseContext

# multiprocessing and the process pool are imported where a pool is started or used: a
# pass with nothing to parse never starts one.

log = structlog.get_logger(__name__)

P = ParamSpec("P")
T = TypeVar("T")
A = TypeVar("A")

# How often a worker process checks that the process that forked it is still alive.
ORPHAN_CHECK_SECONDS = 0.5
# A pool that dies again within this long after being replaced is not replaced again
# until it has passed: input that kills every worker must not make the service spend its
# time starting interpreters.
REPLACE_AT_MOST_EVERY_SECONDS = 60.0
# Offload.map: chunks of work per process, and the most items sent in one chunk.
CHUNKS_PER_PROCESS = 4
MAX_CHUNK = 64
# What a replacement fork server imports once for all its workers.
_PRELOAD = ["feedbrief.pipeline"]


class WorkerDied(RuntimeError):
    """A worker process died while working on this input (killed, or crashed)."""


class Offload:
    """Run a function in a worker process, or in place when there is no pool."""

    def __init__(
        self,
        processes: int = 1,
        *,
        before_fork: Callable[[], None] | None = None,
        release: Callable[[], None] | None = None,
        deferred: bool = False,
    ) -> None:
        """*before_fork* runs only when a pool is forked: loading there what the work
        loads on first use gives it to every worker once, instead of to each of them.
        A replacement pool's workers run it themselves, once each. *release* runs just
        before this process forks, to close what the children must not inherit (its
        owner reopens it on next use).

        A ``deferred`` pool is started by :meth:`start`, or by the first :meth:`call` or
        :meth:`map`, rather than now.
        """
        self._executor: ProcessPoolExecutor | None = None
        self._processes = processes
        self._before_fork = before_fork
        self._release = release
        self._lock = threading.Lock()
        self._replacing: threading.Thread | None = None
        self._replaced_at = -REPLACE_AT_MOST_EVERY_SECONDS
        self._closing = threading.Event()
        self._pending = processes > 1 and _can_fork()
        if self._pending and not deferred:
            # The caller's promise (see the module's docstring): no other thread yet.
            self._pending = False
            self._fork_pool()

    def start(self) -> None:
        """Start the pool if it is still to be started: forked from this process if the
        calling thread is its only one (call it before starting threads that will hand
        work over), else from a fork server in the background, the work running in
        place until it is ready."""
        with self._lock:
            if not self._pending or self._closing.is_set():
                return
            self._pending = False
            if threading.active_count() > 1:
                # Forking now could give a child a lock that another thread holds.
                self._replace_in_background(0.0, replacing=False)
                return
            self._fork_pool()

    def _fork_pool(self) -> None:
        if self._before_fork is not None:
            self._before_fork()
        if self._release is not None:
            self._release()
        # Everything loaded so far lives as long as the process: out of the collector's
        # sight, it is neither traversed again nor, in the children, copied page by page
        # when a collection touches it.
        gc.freeze()
        self._executor = _start_pool(self._processes, _context("fork"), None)

    def call(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``function(*args, **kwargs)``, in a worker process when there is a pool.

        If a worker dies, the input it held fails with ``WorkerDied``; the pool is
        replaced in the background and the work goes on in place until it is ready.
        """
        if self._pending:
            self.start()
        pool = self._executor
        if pool is None:
            return function(*args, **kwargs)
        from concurrent.futures.process import BrokenProcessPool

        try:
            return pool.submit(function, *args, **kwargs).result()
        except BrokenProcessPool as exc:
            self._broken(pool)
            raise WorkerDied(f"a worker process died while handling this input: {exc}") from exc

    def map(
        self, function: Callable[[A], T], items: Sequence[A], *, chunksize: int | None = None
    ) -> list[T]:
        """``[function(item) for item in items]``, spread over the pool's processes in
        chunks (of ``chunksize`` items, else :func:`chunk_size`'s), results in input
        order; in place when there is no pool.

        If a worker dies, the whole call fails with ``WorkerDied`` (the pool is replaced
        as for :meth:`call`).
        """
        if self._pending:
            self.start()
        pool = self._executor
        if pool is None:
            return [function(item) for item in items]
        if chunksize is None:
            chunksize = chunk_size(len(items), self._processes)
        from concurrent.futures.process import BrokenProcessPool

        try:
            return list(pool.map(function, items, chunksize=chunksize))
        except BrokenProcessPool as exc:
            self._broken(pool)
            raise WorkerDied(f"a worker process died while handling this input: {exc}") from exc

    def close(self) -> None:
        self._closing.set()
        with self._lock:
            replacing = self._replacing
        if replacing is not None:
            replacing.join()  # at most the few seconds a fork server takes to start
        with self._lock:
            pool, self._executor = self._executor, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _broken(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is not pool:
                return  # another caller saw it break first
            self._executor = None
            pool.shutdown(wait=False, cancel_futures=True)
            if self._closing.is_set() or self._replacing is not None:
                return
            wait = self._replaced_at + REPLACE_AT_MOST_EVERY_SECONDS - time.monotonic()
            self._replace_in_background(max(0.0, wait), replacing=True)
        log.error("worker_pool.process_died")

    def _replace_in_background(self, delay: float, *, replacing: bool) -> None:
        # Called with self._lock held.
        self._replacing = threading.Thread(
            target=self._replace, args=(delay, replacing), name="replace-workers", daemon=True
        )
        self._replacing.start()

    def _replace(self, delay: float, replacing: bool) -> None:
        """Start a new pool from a fork server (after *delay*), then hand work to it:
        a replacement for a broken pool, or a deferred pool's first."""
        from concurrent.futures.process import BrokenProcessPool

        pool = None
        try:
            if self._closing.wait(delay):
                return
            context = _context("forkserver")
            context.set_forkserver_preload(_PRELOAD)
            pool = _start_pool(self._processes, context, self._before_fork)
        except (OSError, BrokenProcessPool) as exc:  # out of memory or of processes
            log.error("worker_pool.replace_failed", error=str(exc))
        finally:
            with self._lock:
                self._replacing = None
                if pool is not None and not self._closing.is_set():
                    self._executor, pool = pool, None
                    self._replaced_at = time.monotonic()
                    if replacing:
                        log.info("worker_pool.replaced", processes=self._processes)
                    else:
                        log.info("worker_pool.started", processes=self._processes)
            if pool is not None:  # closed while it started
                pool.shutdown(wait=True, cancel_futures=True)


def chunk_size(items: int, processes: int) -> int:
    """How many of ``items`` to send a worker at once: a few chunks per process, for
    fewer round trips than one item at a time while a process that finishes early
    still finds work as the others end theirs."""
    return max(1, min(MAX_CHUNK, items // (CHUNKS_PER_PROCESS * processes)))


def default_processes() -> int:
    """One process per CPU this service may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _can_fork() -> bool:
    # Forking is the only start method that needs no second import of everything (the
    # bulk of start-up); macOS can fork but its system libraries are not fork-safe.
    return sys.platform.startswith("linux")


def _context(method: str) -> BaseContext:
    import multiprocessing

    return multiprocessing.get_context(method)


def _start_pool(
    processes: int, context: BaseContext, warm_up: Callable[[], None] | None
) -> ProcessPoolExecutor:
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(
        processes, mp_context=context, initializer=_init_worker, initargs=(os.getpid(), warm_up)
    )
    # Start every worker now, from this thread: forked later, from a feed thread, they
    # could inherit a lock another thread held at that moment.
    for future in [pool.submit(os.getpid) for _ in range(processes)]:
        future.result()
    return pool


def _init_worker(service_pid: int, warm_up: Callable[[], None] | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    started = _start_time(service_pid)
    if started is None:
        os._exit(1)
    threading.Thread(
        target=_exit_when_orphaned, args=(service_pid, started), name="orphan-check", daemon=True
    ).start()
    if warm_up is not None:
        warm_up()


def _exit_when_orphaned(service_pid: int, started: str) -> None:
    """Exit once the service is gone: a killed service never shuts its pool down.

    The service is known by its process id and start time (an id alone may be reused),
    not as this process's parent: a replacement worker's parent is the fork server,
    which in turn lives as long as any of its workers does.
    """
    while _start_time(service_pid) == started:
        time.sleep(ORPHAN_CHECK_SECONDS)
    os._exit(1)


def _start_time(pid: int) -> str | None:
    """When process *pid* started (in clock ticks since boot), or None if it is not
    running (gone, or a zombie waiting to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return None if fields[0] in ("Z", "X") else fields[19]
