"""Making a storage's transactions wait, and waiting for what other threads do."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event

from storage import Storage


def hold_commits(storage: Storage) -> tuple[threading.Event, threading.Event]:
    """Make *storage*'s next commit wait: returns (reached, release)."""
    reached, release = threading.Event(), threading.Event()

    def before_commit(_connection: Any) -> None:
        reached.set()
        release.wait(timeout=30)

    event.listen(storage.engine, "commit", before_commit)
    return reached, release


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)
