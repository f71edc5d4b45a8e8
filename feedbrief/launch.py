"""The ``feedbrief`` command's entry point: refuse, in one line, a system it cannot run on.

The service needs POSIX: ``fcntl`` locks (the run lock), ``os.fork`` (the worker pool)
and ``signal.pthread_sigmask`` (a clean stop on SIGTERM). Linux and macOS have them;
elsewhere (Windows) the first import of ``fcntl`` would end in a traceback. So this module
imports nothing of ours before it has looked, and ``feedbrief.cli`` only after.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import sys
from collections.abc import Collection

REQUIRED = ("fcntl", "os.fork", "signal.pthread_sigmask")


def unsupported_platform(platform: str, available: Collection[str]) -> str | None:
    """Why feedbrief cannot run on *platform* with the *available* features (names as in
    REQUIRED), or None when it can."""
    missing = [feature for feature in REQUIRED if feature not in available]
    if not missing and not platform.startswith("win"):
        return None
    lacking = f" (it has no {', '.join(missing)})" if missing else ""
    return f"feedbrief runs on Linux and macOS (POSIX) only, not on {platform}{lacking}"


def available_features() -> set[str]:
    found = set()
    if importlib.util.find_spec("fcntl") is not None:
        found.add("fcntl")
    if hasattr(os, "fork"):
        found.add("os.fork")
    if hasattr(signal, "pthread_sigmask"):
        found.add("signal.pthread_sigmask")
    return found


def main() -> None:
    reason = unsupported_platform(sys.platform, available_features())
    if reason is not None:
        sys.stderr.write(f"error: {reason}\n")
        raise SystemExit(1)
    from feedbrief import collector

    # Resumed by each command once it is set up: see feedbrief.collector.
    collector.pause()
    from feedbrief.cli import main as cli_main

    cli_main()
