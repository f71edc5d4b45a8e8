"""``python -m bench [NAME ...]``: run every benchmark in this package, in turn.

A benchmark is a module here with a ``main()``; each runs as ``python -m bench.NAME`` in
a process of its own, so one's imports, threads and ``sys.exit`` cannot touch the next.
The exit status is 1 if any of them failed, after all have run.
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
import time
from pathlib import Path


def benchmarks() -> list[str]:
    """Names of the modules of this package that have a ``main()``."""
    package = Path(__file__).parent
    names = []
    for module in pkgutil.iter_modules([str(package)]):
        if module.name.startswith("_"):
            continue
        if callable(getattr(importlib.import_module(f"bench.{module.name}"), "main", None)):
            names.append(module.name)
    return sorted(names)


def main() -> None:
    available = benchmarks()
    chosen = sys.argv[1:] or available
    unknown = sorted(set(chosen) - set(available))
    if unknown:
        sys.exit(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(available)}")
    failed = []
    for name in chosen:
        print(f"\n===== bench.{name} =====", flush=True)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", f"bench.{name}"], check=False)
        seconds = time.perf_counter() - started
        print(f"===== bench.{name}: exit {done.returncode} in {seconds:.0f} s =====", flush=True)
        if done.returncode != 0:
            failed.append(name)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
