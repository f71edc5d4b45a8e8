"""The CPU-bound stages in worker processes, so that ingest uses every core.

Feed threads fetch concurrently, but parsing, cleaning, fingerprinting and summarising are
pure Python: under one interpreter's lock they take turns on one core, and on a two-core
machine that halved ingest. ``Offload`` hands those stages to a pool of processes and
waits for the result in the calling thread (the lock is free meanwhile, for fetching and
storing); with one process, or where none can be forked, it calls them in place.

The pool is forked once, before the database, the run lock or any thread is opened, so
the children inherit no connection, no lock and no half-held mutex. They ignore SIGINT and
SIGTERM (the service finishes the work in hand, then stops them) and exit by themselves
when the service dies, even by SIGKILL.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import ParamSpec, TypeVar

import structlog

log = structlog.get_logger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

# How often a worker process checks that the service that forked it is still alive.
ORPHAN_CHECK_SECONDS = 0.5


class WorkerDied(RuntimeError):
    """A worker process died while working on this input (killed, or crashed)."""


class Offload:
    """Run a function in a worker process, or in place when there is no pool."""

    def __init__(
        self, processes: int = 1, *, before_fork: Callable[[], None] | None = None
    ) -> None:
        """*before_fork* runs only when a pool is forked: loading there what the work
        loads on first use gives it to every worker once, instead of to each of them."""
        self._pool: ProcessPoolExecutor | None = None
        if processes > 1 and _can_fork():
            if before_fork is not None:
                before_fork()
            # Everything imported so far lives as long as the process: out of the
            # collector's sight, it is neither traversed again nor, in the children,
            # copied page by page when a collection touches it.
            gc.freeze()
            self._pool = ProcessPoolExecutor(
                processes,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_init_worker,
                initargs=(os.getpid(),),
            )
            # Fork every worker now, from this thread: forked later, from a feed thread,
            # they could inherit a lock another thread held at that moment.
            for future in [self._pool.submit(os.getpid) for _ in range(processes)]:
                future.result()

    @property
    def pooled(self) -> bool:
        return self._pool is not None

    def call(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``function(*args, **kwargs)``, in a worker process when there is a pool.

        If a worker dies (the OOM killer, a crash in a C library on hostile input), the
        input it held fails with ``WorkerDied`` and the pool is not forked again (that is
        safe only at start): the rest of the run works in place.
        """
        pool = self._pool
        if pool is None:
            return function(*args, **kwargs)
        try:
            return pool.submit(function, *args, **kwargs).result()
        except BrokenProcessPool as exc:
            if self._pool is pool:
                self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
                log.error("a worker process died; parsing and summarising in the service now")
            raise WorkerDied(f"a worker process died while handling this input: {exc}") from exc

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def default_processes() -> int:
    """One process per CPU this service may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _can_fork() -> bool:
    # Forking is the only start method that needs no second import of everything (two
    # seconds at start); macOS can fork but its system libraries are not fork-safe.
    return sys.platform.startswith("linux")


def _init_worker(service_pid: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.Thread(
        target=_exit_when_orphaned, args=(service_pid,), name="orphan-check", daemon=True
    ).start()


def _exit_when_orphaned(service_pid: int) -> None:
    """Exit once the service is gone: a killed parent never shuts its pool down."""
    while os.getppid() == service_pid:
        time.sleep(ORPHAN_CHECK_SECONDS)
    os._exit(1)
