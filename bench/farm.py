"""The shared feed farm (``../shared/tools/feedfarm.py``) as a context manager.

Benchmarks start it as a subprocess on a free port, wait until it answers, read its
``/opml``, ``/stats`` and ``/truth``, and stop it on the way out. Running it out of
process keeps its serving threads off the benchmarked interpreter's GIL.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from ingest.opml import read_opml

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FEEDFARM = SHARED / "tools" / "feedfarm.py"
DATA = SHARED / "data"

# The farm builds every feed before it listens; 1,200 items take well under a second.
STARTUP_SECONDS = 30.0


class FarmError(RuntimeError):
    """The farm could not be started or did not answer."""


def free_port() -> int:
    """A port nobody listens on right now (the farm binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Farm:
    """``with Farm(data, feeds=100, items=12) as farm: farm.opml() ...``"""

    def __init__(
        self,
        data: Sequence[Path],
        *,
        feeds: int,
        items: int,
        extra_args: Sequence[str] = (),
    ) -> None:
        missing = [str(p) for p in (FEEDFARM, *data) if not p.exists()]
        if missing:
            raise FarmError(
                f"the farm needs the shared data and tools: missing {', '.join(missing)}"
            )
        self.data = tuple(data)
        self.feeds = feeds
        self.items = items
        self.extra_args = tuple(extra_args)
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Farm:
        self.port = free_port()
        command = [
            sys.executable,
            str(FEEDFARM),
            "--data",
            ",".join(str(p) for p in self.data),
            "--feeds",
            str(self.feeds),
            "--items",
            str(self.items),
            "--port",
            str(self.port),
            *self.extra_args,
        ]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            self._wait_until_up()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stderr is not None:
            self._process.stderr.close()
        self._process = None

    @property
    def _delay(self) -> float:
        """Seconds the farm holds every response (``--delay-ms``), /stats included."""
        args = list(self.extra_args)
        return int(args[args.index("--delay-ms") + 1]) / 1000 if "--delay-ms" in args else 0.0

    def _wait_until_up(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                _, stderr = self._process.communicate()
                raise FarmError(
                    f"feedfarm exited with {self._process.returncode}: "
                    f"{stderr.decode(errors='replace').strip()}"
                )
            try:
                httpx.get(f"{self.base_url}/stats", timeout=1 + self._delay).raise_for_status()
            except httpx.HTTPError:
                time.sleep(0.05)
                continue
            return
        raise FarmError(f"feedfarm did not answer on port {self.port} in {STARTUP_SECONDS:g} s")

    def _get(self, path: str) -> httpx.Response:
        response = httpx.get(f"{self.base_url}{path}", timeout=10 + self._delay)
        response.raise_for_status()
        return response

    def opml(self) -> bytes:
        return self._get("/opml").content

    def stats(self) -> dict[str, Any]:
        """Request counts: ``{"200": n, "304": n, "500": n, "paths": {path: n}}``."""
        return dict(self._get("/stats").json())

    def truth(self) -> dict[str, str]:
        """Syndicated copy guid -> original guid (empty without ``--overlap``)."""
        return dict(self._get("/truth").json())

    def feed_urls(self) -> list[str]:
        return [feed.url for feed in read_opml(self.opml())]
