"""Machinery for the hostile-input tests: a server that misbehaves on purpose, feeds to
feed it, and a refresh pass run in a child process whose memory and time are measured.

Memory is measured in a child because a test process holds the server, hypothesis and
every earlier test's garbage; only a process that does nothing but the refresh says what
a refresh costs. The children fork from a multiprocessing forkserver that has imported
feedbrief once, so each costs a fork rather than seconds of imports, and their RSS still
counts every imported module, as a real ``feedbrief run`` would. The peak is the larger of
the child's own ``ru_maxrss`` and its VmRSS as polled by the parent (which kills it past
the limit); ``RUSAGE_CHILDREN`` would not do, as it keeps the maximum over every child
the test process ever waited for.
"""

from __future__ import annotations

import contextlib
import faulthandler
import json
import multiprocessing
import random
import resource
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import pytest

from feedbrief.app import App
from feedbrief.logs import configure_logging
from feedbrief.settings import Settings
from storage import SourceState, StoredItem

MiB = 2**20
# The bound for any single input, whatever it contains.
RSS_LIMIT = 300 * MiB
# How long one refresh pass may take in a child before it is declared stuck.
REFRESH_SECONDS = 30.0
# Tight network limits, so that a server that never finishes is cut off in seconds.
TIGHT_FEEDS = {"connect_timeout": 2, "read_timeout": 2, "total_timeout": 5}
DATA = Path(__file__).resolve().parents[1] / "data" / "hostile"

# Over Python's 4,300-digit limit for int(): json.loads raises a plain ValueError.
HUGE_NUMBER = "1" * 5000

VICTIM = "/victim.xml"
BYSTANDER = "/bystander.xml"


# --- feeds -------------------------------------------------------------------------------

_WORDS = [
    "council", "budget", "housing", "minister", "report", "city", "police", "court",
    "judge", "school", "teachers", "hospital", "doctors", "patients", "river", "bridge",
    "railway", "station", "company", "shares", "workers", "union", "strike", "talks",
    "agreement", "government", "election", "voters", "party", "leader", "campaign",
    "village", "farm", "weather", "storm", "flood", "rescue", "fire", "crew", "families",
    "residents", "children", "survey", "scientists", "study", "results", "energy",
    "prices", "winter", "summer", "plan", "funding", "tax",
]  # fmt: skip


def article_paragraphs(key: str, paragraphs: int = 2) -> list[str]:
    """Ordinary news-like paragraphs, different for every key and the same on every call,
    so an item's text (and so its content hash) is stable across fetches."""
    rng = random.Random(key)
    out = []
    for _ in range(paragraphs):
        sentences = [" ".join(rng.choices(_WORDS, k=rng.randint(9, 16))) for _ in range(3)]
        out.append(" ".join(f"{s[0].upper()}{s[1:]}." for s in sentences))
    return out


def rss_item(guid: str, title: str, html: str, link: str | None = None) -> str:
    link_tag = f"<link>{escape(link)}</link>" if link else ""
    return (
        f'<item><guid isPermaLink="false">{escape(guid)}</guid><title>{escape(title)}</title>'
        f"{link_tag}<description>{escape(html)}</description></item>"
    )


def rss(items: Iterable[str], title: str = "Hostile Test Feed") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>http://example.com/</link>{''.join(items)}"
        "</channel></rss>"
    ).encode()


def news_items(prefix: str, count: int) -> list[str]:
    """RSS items of *count* ordinary articles with guids ``{prefix}-0`` ..."""
    items = []
    for n in range(count):
        guid = f"{prefix}-{n}"
        html = "".join(f"<p>{p}</p>" for p in article_paragraphs(guid))
        items.append(rss_item(guid, f"Story {guid}", html, f"http://example.com/{guid}"))
    return items


def news_feed(prefix: str, count: int, title: str = "Hostile Test Feed") -> bytes:
    return rss(news_items(prefix, count), title)


# --- a server that misbehaves on purpose -----------------------------------------------------

Route = Callable[["HostileHandler"], None]


class HostileHandler(BaseHTTPRequestHandler):
    """Hands each GET to the route registered for its path; a route writes what it likes.

    HTTP/1.0, so a body without Content-Length ends when the connection closes and may
    go on for as long as the route keeps writing.
    """

    server: HostileServer

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        self.server.requests.append(path)
        route = self.server.routes.get(path)
        if route is None:
            self.send_error(404)
            return
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            # The client hanging up at its limit is exactly what the test wants.
            route(self)

    def send_head(self, content_type: str, headers: Mapping[str, str] = {}) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


class HostileServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), HostileHandler)
        self.routes: dict[str, Route] = {}
        self.requests: list[str] = []
        self.stopping = threading.Event()

    def url(self, path: str) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}{path}"

    def pause(self, seconds: float) -> bool:
        """Sleep for a trickling route; False once the server is stopping, so that every
        route ends with the test even if its client never hangs up."""
        return not self.stopping.wait(seconds)


def document(
    body: bytes,
    content_type: str = "application/rss+xml",
    headers: Mapping[str, str] = {},
) -> Route:
    """A well-behaved response: the whole body, with its Content-Length."""

    def route(handler: HostileHandler) -> None:
        handler.send_head(content_type, {"Content-Length": str(len(body)), **headers})
        handler.wfile.write(body)

    return route


def stream(
    chunks: Callable[[], Iterable[bytes]],
    content_type: str = "application/rss+xml",
    headers: Mapping[str, str] = {},
) -> Route:
    """A body of unannounced length, written chunk by chunk until the client hangs up."""

    def route(handler: HostileHandler) -> None:
        handler.send_head(content_type, headers)
        for chunk in chunks():
            if handler.server.stopping.is_set():
                return
            handler.wfile.write(chunk)
            handler.wfile.flush()

    return route


@pytest.fixture
def server() -> Iterator[HostileServer]:
    hostile = HostileServer()
    thread = threading.Thread(target=hostile.serve_forever, daemon=True)
    thread.start()
    yield hostile
    hostile.stopping.set()
    hostile.shutdown()
    hostile.server_close()


# --- a refresh in a child process --------------------------------------------------------------


@dataclass(frozen=True)
class ChildRefresh:
    """What one refresh pass in a child process did and cost.

    ``killed`` says why the watchdog stopped the child (memory, time), or is None.
    ``results`` are the RefreshResults by feed URL; ``events`` the structured log lines.
    """

    killed: str | None
    peak_rss: int
    seconds: float | None
    results: dict[str, dict[str, Any]]
    events: list[dict[str, Any]]
    log: str

    def result(self, url: str) -> dict[str, Any]:
        assert url in self.results, f"no result for {url}: {self.killed or self.log[-3000:]}"
        return self.results[url]

    def events_for(self, url: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event.get("feed") == url]


def _refresh_child(
    settings: dict[str, Any], feeds: list[str], limit: float, out: str, log: str
) -> None:
    """The child: one ``App.refresh_feeds`` of the given feeds, logging JSON lines to *log*
    and its result, with its own peak RSS, to *out*. A pass still running after *limit*
    seconds dumps every thread's stack to the log and exits, so a hang shows where it
    hangs."""
    sys.stderr = open(log, "w", buffering=1)  # noqa: SIM115 - the child's stderr until it exits
    configure_logging("INFO", json=True)
    app = App(Settings.model_validate(settings))
    states = [app.storage.source(url) for url in feeds]
    faulthandler.dump_traceback_later(limit, exit=True, file=sys.stderr)
    started = time.monotonic()
    results = app.refresh_feeds([state for state in states if state is not None])
    seconds = time.monotonic() - started
    faulthandler.cancel_dump_traceback_later()
    app.close()
    report = {
        "seconds": seconds,
        "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "results": {
            r.url: {"status": r.status, "new": r.new, "updated": r.updated, "error": r.error}
            for r in results
        },
    }
    Path(out).write_text(json.dumps(report))


_context: multiprocessing.context.ForkServerContext | None = None


def forkserver() -> multiprocessing.context.ForkServerContext:
    """Children forked from a process that has imported feedbrief already."""
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(["feedbrief.app"])
    return _context


def _resident(pid: int) -> int:
    """Current resident set of *pid* in bytes (0 once it has gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def refresh_in_child(
    settings: dict[str, Any], feeds: list[str], workdir: Path, limit: float = REFRESH_SECONDS
) -> ChildRefresh:
    """Refresh *feeds* (already subscribed) in a fresh child that gives up after *limit*
    seconds; kill it the moment its RSS passes RSS_LIMIT, so a memory bomb fails the
    test in seconds instead of swapping."""
    workdir.mkdir(parents=True, exist_ok=True)
    out, log = workdir / "result.json", workdir / "child.log"
    out.unlink(missing_ok=True)
    child = forkserver().Process(
        target=_refresh_child, args=(settings, feeds, limit, str(out), str(log)), daemon=True
    )
    child.start()
    assert child.pid is not None
    peak, killed = 0, None
    # A backstop: the child's own timer ends a stuck pass, this a stuck start-up too.
    deadline = time.monotonic() + limit + 60
    while child.is_alive():
        peak = max(peak, _resident(child.pid))
        if peak > RSS_LIMIT:
            killed = f"RSS passed {RSS_LIMIT // MiB} MB ({peak // MiB} MB)"
        elif time.monotonic() > deadline:
            killed = "still running long after its own time limit"
        if killed:
            child.kill()
            break
        child.join(0.02)
    child.join()
    text = log.read_text() if log.exists() else ""
    if killed is None and not out.exists():
        killed = f"exited with code {child.exitcode} before finishing (stuck or crashed)"
    report = json.loads(out.read_text()) if out.exists() else {}
    return ChildRefresh(
        killed=killed,
        peak_rss=max(peak, report.get("peak_rss", 0)),
        seconds=report.get("seconds"),
        results=report.get("results", {}),
        events=[json.loads(line) for line in text.splitlines() if line.startswith("{")],
        log=text,
    )


# --- the arena: a feed that turns hostile next to one that does not -----------------------------


class Arena:
    """A victim feed fetched once in good health, then hostile; a bystander refreshed in
    the same pass. Whatever the victim serves, what was stored from it must stay, once,
    and the bystander's items must arrive."""

    PRIMED = 3  # items stored from the victim's good fetch
    BYSTANDER_ITEMS = 2

    def __init__(self, server: HostileServer, database_url: str, workdir: Path) -> None:
        self.server = server
        self.workdir = workdir
        self.database_url = database_url
        self.victim = server.url(VICTIM)
        self.bystander = server.url(BYSTANDER)
        self._app: App | None = None

    def settings(self, **feeds: Any) -> dict[str, Any]:
        return {
            "database": {"url": self.database_url},
            "digest": {"dir": str(self.workdir / "digests"), "timezone": "UTC"},
            "seeds": {"dir": str(self.workdir / "seeds")},
            "metrics": {"dir": str(self.workdir / "metrics")},
            "feeds": {**TIGHT_FEEDS, **feeds},
        }

    @property
    def app(self) -> App:
        """The test's own view of the database (and the in-process good fetch)."""
        if self._app is None:
            self._app = App(Settings.model_validate(self.settings()))
        return self._app

    def prime(self) -> set[str]:
        """Subscribe both feeds and store the victim's good items; their guids."""
        self.server.routes[VICTIM] = document(news_feed("victim", self.PRIMED))
        self.server.routes[BYSTANDER] = document(news_feed("bystander", self.BYSTANDER_ITEMS))
        for url in (self.victim, self.bystander):
            self.app.storage.add_feed(url, self.app.now())
        [result] = self.app.refresh_feeds([self.source(self.victim)])
        assert (result.status, result.new) == ("ok", self.PRIMED), result
        return {item.guid for item in self.items(self.victim)}

    def attack(self, route: Route, limit: float = REFRESH_SECONDS, **feeds: Any) -> ChildRefresh:
        """Serve *route* as the victim and refresh both feeds in a child process that
        gives up after *limit* seconds."""
        self.server.routes[VICTIM] = route
        return refresh_in_child(
            self.settings(**feeds), [self.victim, self.bystander], self.workdir / "child", limit
        )

    def source(self, url: str) -> SourceState:
        state = self.app.storage.source(url)
        assert state is not None, url
        return state

    def items(self, url: str) -> list[StoredItem]:
        return [item for item in self.app.storage.iter_items() if item.source == url]

    def close(self) -> None:
        if self._app is not None:
            self._app.close()


@pytest.fixture
def arena(server: HostileServer, sqlite_url: str, tmp_path: Path) -> Iterator[Arena]:
    playground = Arena(server, sqlite_url, tmp_path)
    yield playground
    playground.close()


@pytest.fixture
def arena_any_database(server: HostileServer, database_url: str, tmp_path: Path) -> Iterator[Arena]:
    """The arena on SQLite and on PostgreSQL (the two differ on what text they accept)."""
    playground = Arena(server, database_url, tmp_path)
    yield playground
    playground.close()


# --- what every hostile refresh must leave behind ------------------------------------------------


def assert_contained(
    outcome: ChildRefresh, arena: Arena, primed: set[str], seconds: float = REFRESH_SECONDS
) -> None:
    """Done within *seconds* and RSS_LIMIT, the victim's earlier items intact and single,
    the bystander's items stored with their summaries."""
    assert outcome.killed is None, f"{outcome.killed}\n{outcome.log[-4000:]}"
    assert outcome.seconds is not None and outcome.seconds < seconds
    assert outcome.peak_rss < RSS_LIMIT, f"peak RSS {outcome.peak_rss // MiB} MB"
    guids = [item.guid for item in arena.items(arena.victim)]
    assert len(guids) == len(set(guids)), "an item of the victim is stored twice"
    assert primed <= set(guids), "items stored from the earlier good fetch were lost"
    bystander = outcome.result(arena.bystander)
    assert (bystander["status"], bystander["new"]) == ("ok", arena.BYSTANDER_ITEMS)
    stored = arena.items(arena.bystander)
    assert len(stored) == arena.BYSTANDER_ITEMS
    assert all(item.summary for item in stored)


def assert_failed_clearly(outcome: ChildRefresh, arena: Arena, reason: str) -> None:
    """The victim's refresh failed with *reason* in its result, in the database and in an
    error log line naming the feed."""
    result = outcome.result(arena.victim)
    assert result["status"] == "error"
    assert reason in (result["error"] or ""), result
    assert reason in (arena.source(arena.victim).last_error or "")
    logged = [
        event
        for event in outcome.events_for(arena.victim)
        if event.get("level") == "error" and reason in str(event.get("error"))
    ]
    assert logged, f"no error line with feed={arena.victim}: {outcome.events_for(arena.victim)}"


def fixture_text(name: str, **values: str) -> bytes:
    """A fixture from tests/data/hostile with ``${name}`` placeholders filled in."""
    return Template((DATA / name).read_text(encoding="utf-8")).substitute(values).encode()
