"""``feedbrief serve`` under a burst: 200 clients ask for a day's page at the same moment.

``python -m bench.serve_bench`` starts the server in this process on a free port, releases
200 client threads together (each opens its own connection and reads the whole page),
and prints the median and slowest answer. Issue 16 asks that every client be answered
"within a few seconds"; the run fails past TARGET_SECONDS or on any refused or dropped
connection.
"""

from __future__ import annotations

import http.client
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime
from datetime import time as clock_time
from pathlib import Path

from digest.model import Digest, DigestStory
from digest.publish import write_digest
from feedbrief.logs import configure_logging
from feedbrief.scrape import scrape_registry
from feedbrief.serve import server_for
from storage import Storage

CLIENTS = 200
ROUNDS = 3
TARGET_SECONDS = 3.0
DAY = date(2026, 11, 25)


def _digest(directory: Path) -> None:
    stories = tuple(
        DigestStory(
            id=n,
            title=f"Story {n}: council approves the new bridge",
            url=f"https://news.example/{n}",
            source="Bench News",
            published=datetime(2026, 11, 25, 6, n % 60, tzinfo=UTC),
            summary=("The council approved the bridge after a long debate.",) * 3,
        )
        for n in range(40)
    )
    generated = datetime.combine(DAY, clock_time(7), UTC)
    write_digest(Digest(DAY, generated, "UTC", stories), directory)


def _client(host: str, port: int, go: threading.Event, out: list[float | str]) -> None:
    go.wait()
    started = time.perf_counter()
    try:
        connection = http.client.HTTPConnection(host, port, timeout=60)
        connection.request("GET", f"/{DAY.isoformat()}.html")
        response = connection.getresponse()
        response.read()
        connection.close()
        seconds = time.perf_counter() - started
        out.append(seconds if response.status == 200 else str(response.status))
    except OSError as exc:
        out.append(f"{type(exc).__name__}: {exc}")


def burst(host: str, port: int) -> tuple[list[float], list[str]]:
    go = threading.Event()
    results: list[float | str] = []
    threads = [
        threading.Thread(target=_client, args=(host, port, go, results)) for _ in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    go.set()
    for thread in threads:
        thread.join()
    times = [r for r in results if isinstance(r, float)]
    return times, [r for r in results if isinstance(r, str)]


def main() -> None:
    configure_logging("WARNING")  # one line per request would drown the figures
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _digest(root / "digests")
        storage = Storage.open(f"sqlite:///{root / 'feedbrief.db'}")
        server = server_for(
            root / "digests", storage, scrape_registry(root / "metrics", storage), port=0
        )
        host, port = server.server_address[:2]
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        worst = 0.0
        failures: list[str] = []
        try:
            for round_ in range(1, ROUNDS + 1):
                times, failed = burst(str(host), int(port))
                failures += failed
                worst = max([worst, *times])
                print(
                    f"round {round_}: {len(times)}/{CLIENTS} answered, "
                    f"median {statistics.median(times):.3f} s, slowest {max(times):.3f} s, "
                    f"failed {len(failed)}"
                )
        finally:
            server.shutdown()
            server.server_close()
            storage.close()
    if failures or worst > TARGET_SECONDS:
        sys.exit(f"slowest {worst:.2f} s (target {TARGET_SECONDS:g} s); failures: {failures[:5]}")


if __name__ == "__main__":
    main()
