"""``feedbrief serve``: the digest directory, the feed, a health check and metrics over HTTP.

The digest files are written by the service; this server only reads them, and answers
``/search?q=`` from the database. It serves a
fixed set of names (``YYYY-MM-DD.{html,md,json}`` and ``feed.xml``) matched against the
raw request path, so no decoding trick (``..``, ``%2e%2e``, absolute paths) can name
another file, and a file is served only if it really lies inside the digest directory
once symlinks are resolved.
"""

from __future__ import annotations

import email.utils
import os
import re
import signal
import socket
import threading
from dataclasses import dataclass, field
from datetime import date, timedelta
from html import escape
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from urllib.parse import parse_qs, urlsplit

import structlog
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from sqlalchemy.exc import SQLAlchemyError

from digest.publish import FEED_FILE_NAME
from digest.render_html import CONTENT_SECURITY_POLICY, STYLESHEET
from feedbrief.pipeline import Clock, utc_now
from feedbrief.search_page import (
    MAX_QUERY_CHARS,
    RESULTS_PER_PAGE,
    SEARCH_PATH,
    render_search,
    search_box,
)
from feedbrief.service import HEARTBEAT_SECONDS
from ingest.dates import parse_date
from storage import Storage

log = structlog.get_logger(__name__)

DIGEST_FILE = re.compile(r"\A(\d{4}-\d{2}-\d{2})\.(html|md|json)\Z")
# A day's full list of stories, linked from its front page.
FULL_LIST_FILE = re.compile(r"\A\d{4}-\d{2}-\d{2}-all\.html\Z")
CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "json": "application/json",
    "xml": "application/atom+xml; charset=utf-8",
}
TEXT = "text/plain; charset=utf-8"

# A worker records a tick every HEARTBEAT_SECONDS; allow two misses before alarming.
STALE_AFTER = timedelta(seconds=3 * HEARTBEAT_SECONDS)

# An idle keep-alive connection is dropped after this long, so slow or silent clients
# cannot pile up threads.
IDLE_TIMEOUT_SECONDS = 30

# Connections the kernel holds while the accept loop catches up (capped by the system's
# net.core.somaxconn). The library's 5 made a burst of 200 clients wait up to half a
# minute for SYN retries, and dropped some.
LISTEN_BACKLOG = 1024

# Probes arrive every few seconds; their successes are logged at DEBUG only.
PROBE_PATHS = frozenset({"/healthz", "/metrics"})


@dataclass(frozen=True, slots=True)
class Response:
    status: HTTPStatus
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def text_response(status: HTTPStatus, text: str, **headers: str) -> Response:
    return Response(status, TEXT, (text + "\n").encode(), headers)


@dataclass(frozen=True)
class Site:
    """What the server needs to answer: the digest directory, the database, the metrics."""

    digest_dir: Path
    storage: Storage
    registry: CollectorRegistry
    clock: Clock = utc_now
    stale_after: timedelta = STALE_AFTER

    def health(self) -> tuple[bool, str]:
        """Healthy when the database answers and some worker ticked recently."""
        try:
            self.storage.ping()
            last_tick = self.storage.last_tick()
        except SQLAlchemyError as exc:
            log.warning("health_check.database_failed", error=str(exc))
            return False, "database unavailable"
        if last_tick is None:
            return False, "no worker has recorded a heartbeat"
        age = self.clock() - last_tick
        if age > self.stale_after:
            return False, f"last heartbeat {age.total_seconds():.0f} s ago"
        return True, "ok"

    def digest_dates(self) -> list[date]:
        """Days that have an HTML digest, newest first."""
        if not self.digest_dir.is_dir():
            return []
        days = []
        for path in self.digest_dir.iterdir():
            match = DIGEST_FILE.match(path.name)
            if match and match[2] == "html":
                try:
                    days.append(date.fromisoformat(match[1]))
                except ValueError:  # a name like 2026-13-45.html; not ours to list
                    continue
        return sorted(days, reverse=True)

    def published_file(self, name: str) -> Path | None:
        """The file *name* in the digest directory, unless it resolves outside it."""
        root = self.digest_dir.resolve()
        path = (root / name).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return None
        return path


def render_index(days: list[date]) -> str:
    """The list of digests, styled like the digests so one policy covers both."""
    if days:
        rows = "".join(_index_row(day) for day in days)
        listing = f'<ul class="days">\n{rows}</ul>\n'
    else:
        listing = '<p class="empty">No digests yet.</p>\n'
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>feedbrief digests</title>
<link rel="alternate" type="application/atom+xml" title="feedbrief" href="{FEED_FILE_NAME}">
<style>{STYLESHEET}</style>
</head>
<body>
<header>
<h1>feedbrief</h1>
<p class="meta">Daily digests, newest first · <a href="{FEED_FILE_NAME}">Atom feed</a></p>
{search_box()}</header>
<main>
{listing}</main>
</body>
</html>
"""


def _index_row(day: date) -> str:
    stem = escape(day.isoformat())
    label = escape(f"{day:%A} {day.day} {day:%B %Y}")
    return (
        f'<li><a href="{stem}.html">{label}</a> '
        f'<span class="meta">(<a href="{stem}.md">Markdown</a>, '
        f'<a href="{stem}.json">JSON</a>)</span></li>\n'
    )


class DigestServer(ThreadingHTTPServer):
    """One thread per connection, so a slow client holds only its own."""

    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(self, address: tuple[str, int], site: Site) -> None:
        self.site = site
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, DigestRequestHandler)

    def handle_error(self, request: object, client_address: tuple[str, int]) -> None:
        """A failure the handler did not expect: one JSON log line (with its traceback as
        a field), not the library's traceback printed on stderr."""
        log.error("request.crashed", client=str(client_address[0]), exc_info=True)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        shown = f"[{host}]" if ":" in str(host) else str(host)
        return f"http://{shown}:{port}/"


class DigestRequestHandler(BaseHTTPRequestHandler):
    server: DigestServer
    protocol_version = "HTTP/1.1"
    server_version = "feedbrief"
    sys_version = ""
    timeout = IDLE_TIMEOUT_SECONDS
    # Unset by the library when the request line itself is malformed.
    path = ""

    def handle(self) -> None:
        try:
            super().handle()
        except ConnectionError as exc:
            # A client that hung up (a closed tab, a timed-out probe) is no server fault.
            self.close_connection = True
            log.info(
                "request.client_disconnected",
                path=self.path,
                client=self.client,
                error=type(exc).__name__,
            )

    def do_GET(self) -> None:
        self._respond(self._route(), body=True)

    def do_HEAD(self) -> None:
        self._respond(self._route(), body=False)

    def _not_allowed(self) -> None:
        response = text_response(
            HTTPStatus.METHOD_NOT_ALLOWED,
            "method not allowed",
            Allow="GET, HEAD",
            Connection="close",
        )
        # The request body is never read; close rather than parse it as the next request.
        self.close_connection = True
        self._respond(response, body=True)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _not_allowed

    def _route(self) -> Response:
        path = urlsplit(self.path).path
        site = self.server.site
        if path == "/":
            return Response(HTTPStatus.OK, CONTENT_TYPES["html"], _index_bytes(site))
        if path == "/healthz":
            healthy, reason = site.health()
            status = HTTPStatus.OK if healthy else HTTPStatus.SERVICE_UNAVAILABLE
            return text_response(status, reason, **{"Cache-Control": "no-store"})
        if path == "/metrics":
            encoder, content_type = choose_encoder(self.headers.get("Accept", ""))
            return Response(
                HTTPStatus.OK, content_type, encoder(site.registry), {"Cache-Control": "no-store"}
            )
        if path == SEARCH_PATH:
            return _search(site, urlsplit(self.path).query)
        name = path.removeprefix("/")
        match = DIGEST_FILE.match(name)
        if name == FEED_FILE_NAME or match:
            return self._file(name, match[2] if match else "xml")
        if FULL_LIST_FILE.match(name):
            return self._file(name, "html")
        return text_response(HTTPStatus.NOT_FOUND, "not found")

    def _file(self, name: str, kind: str) -> Response:
        path = self.server.site.published_file(name)
        if path is None:
            return text_response(HTTPStatus.NOT_FOUND, "not found")
        # Read through one descriptor: the writer replaces files atomically, so the
        # validators and the bytes always describe the same version.
        with path.open("rb") as handle:
            stat = os.fstat(handle.fileno())
            validators = {
                "ETag": f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"',
                "Last-Modified": email.utils.formatdate(stat.st_mtime, usegmt=True),
                "Cache-Control": "no-cache",
            }
            if self._not_modified(validators["ETag"], stat.st_mtime):
                return Response(HTTPStatus.NOT_MODIFIED, CONTENT_TYPES[kind], b"", validators)
            return Response(HTTPStatus.OK, CONTENT_TYPES[kind], handle.read(), validators)

    def _not_modified(self, etag: str, mtime: float) -> bool:
        """RFC 9110 13.2.2: If-None-Match wins; If-Modified-Since only without it."""
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
            return "*" in tags or etag in tags
        moment = parse_date(self.headers.get("If-Modified-Since"))
        return moment is not None and moment.timestamp() >= int(mtime)

    def _respond(self, response: Response, *, body: bool) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        if response.status != HTTPStatus.NOT_MODIFIED:
            self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if body and response.status != HTTPStatus.NOT_MODIFIED:
            self.wfile.write(response.body)

    def end_headers(self) -> None:
        # Here rather than in _respond so the library's own errors (400, 414, 501) get
        # them too.
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        self.send_header("Referrer-Policy", "no-referrer")
        super().end_headers()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = urlsplit(self.path).path
        status = int(code) if str(code).isdigit() else 0
        emit = log.debug if path in PROBE_PATHS and status < 400 else log.info
        emit("request", method=self.command, path=self.path, status=status, client=self.client)

    def log_message(self, format: str, *args: object) -> None:
        # Only the library's own error replies come here; log_request records their status.
        log.debug("request.failed", message=format % args, client=self.client)

    @property
    def client(self) -> str:
        return str(self.client_address[0])


def _search(site: Site, query_string: str) -> Response:
    query = parse_qs(query_string).get("q", [""])[0][:MAX_QUERY_CHARS]
    try:
        hits = site.storage.search(query, limit=RESULTS_PER_PAGE) if query.strip() else []
    except SQLAlchemyError as exc:
        log.warning("search.database_failed", error=str(exc))
        return text_response(HTTPStatus.SERVICE_UNAVAILABLE, "database unavailable")
    headers = {"Cache-Control": "no-store"}
    return Response(
        HTTPStatus.OK, CONTENT_TYPES["html"], render_search(query, hits).encode(), headers
    )


def _index_bytes(site: Site) -> bytes:
    return render_index(site.digest_dates()).encode()


def serve_until_stopped(server: DigestServer, stop: threading.Event | None = None) -> None:
    """Serve until SIGINT or SIGTERM (or *stop* is set), then close the socket.

    ``serve_forever`` runs in a thread because ``shutdown`` must be called from another
    one; the main thread only waits, so it is free to run the signal handler.
    """
    stop = stop or threading.Event()
    _stop_on_signals(stop)
    thread = threading.Thread(target=server.serve_forever, name="http", daemon=True)
    thread.start()
    log.info("server.started", url=server.url, digest_dir=str(server.site.digest_dir))
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    thread.join()
    log.info("server.stopped")


def _stop_on_signals(stop: threading.Event) -> None:
    def handle(_signum: int, _frame: FrameType | None) -> None:
        # Only set the event: logging from a signal handler can deadlock on a lock.
        stop.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


def server_for(
    digest_dir: Path,
    storage: Storage,
    registry: CollectorRegistry,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    clock: Clock = utc_now,
) -> DigestServer:
    """A bound (not yet serving) server; port 0 picks a free port (see ``url``)."""
    return DigestServer((host, port), Site(digest_dir, storage, registry, clock=clock))
