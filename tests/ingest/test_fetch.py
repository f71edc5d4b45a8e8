"""Fetcher against a real HTTP server on 127.0.0.1: every behaviour goes over the wire."""

from __future__ import annotations

import gzip
import json
import socket
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import brotli
import pytest
from pytest_httpserver import HTTPServer
from structlog.testing import capture_logs
from werkzeug import Request, Response
from werkzeug.datastructures import Headers

from feedbrief import USER_AGENT

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

from ingest.fetch import (
    DEFAULT_MAX_BODY,
    Fetcher,
    FetchLimits,
    MiB,
    cache_lifetime,
    parse_retry_after,
)
from ingest.schedule import MAX_HINT

REPO = Path(__file__).resolve().parents[2]
FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    with Fetcher(
        FetchLimits(connect_timeout=2, read_timeout=2, total_timeout=10), user_agent=USER_AGENT
    ) as fetcher:
        yield fetcher


# --- conditional GET --------------------------------------------------------------------


def test_200_returns_body_and_both_validators(http: HTTPServer, fetcher: Fetcher) -> None:
    http.expect_request("/feed").respond_with_data(
        FEED,
        content_type="application/rss+xml",
        headers={"ETag": '"v1"', "Last-Modified": "Wed, 31 Dec 2025 10:00:00 GMT"},
    )

    result = fetcher.fetch_feed(http.url_for("/feed"))

    assert result.ok and result.status == 200 and not result.not_modified
    assert result.content == FEED
    assert result.etag == '"v1"'
    assert result.last_modified == "Wed, 31 Dec 2025 10:00:00 GMT"
    assert result.headers["content-type"] == "application/rss+xml"


class _Verbatim(Response):
    """A response sent with exactly its headers: werkzeug drops Last-Modified from a 304,
    which RFC 9110 allows, but servers such as nginx send it and we must read it."""

    def get_wsgi_headers(self, environ: WSGIEnvironment) -> Headers:
        return self.headers


def test_304_returns_validators_from_the_304_response(http: HTTPServer, fetcher: Fetcher) -> None:
    http.expect_request(
        "/feed",
        headers={"If-None-Match": '"v1"', "If-Modified-Since": "Wed, 31 Dec 2025 10:00:00 GMT"},
    ).respond_with_response(
        _Verbatim(
            status=304,
            headers={"ETag": '"v1-gzip"', "Last-Modified": "Wed, 31 Dec 2025 11:00:00 GMT"},
        )
    )

    result = fetcher.fetch_feed(
        http.url_for("/feed"), etag='"v1"', last_modified="Wed, 31 Dec 2025 10:00:00 GMT"
    )

    assert result.ok and result.not_modified and result.status == 304
    assert result.content is None
    assert result.etag == '"v1-gzip"'
    assert result.last_modified == "Wed, 31 Dec 2025 11:00:00 GMT"


def test_304_without_validators_keeps_the_ones_sent(http: HTTPServer, fetcher: Fetcher) -> None:
    http.expect_request("/feed").respond_with_data(b"", status=304)

    result = fetcher.fetch_feed(http.url_for("/feed"), etag='"v1"', last_modified="yesterday")

    assert result.not_modified
    assert (result.etag, result.last_modified) == ('"v1"', "yesterday")


def test_changed_etag_brings_new_content_and_new_etag(http: HTTPServer, fetcher: Fetcher) -> None:
    def handler(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"v2"':
            return Response(status=304, headers={"ETag": '"v2"'})
        return Response(FEED, headers={"ETag": '"v2"'})

    http.expect_request("/feed").respond_with_handler(handler)

    changed = fetcher.fetch_feed(http.url_for("/feed"), etag='"v1"')
    unchanged = fetcher.fetch_feed(http.url_for("/feed"), etag=changed.etag)

    assert changed.content == FEED and changed.etag == '"v2"' and not changed.not_modified
    assert unchanged.not_modified and unchanged.content is None


def test_no_conditional_headers_without_stored_validators(
    http: HTTPServer, fetcher: Fetcher
) -> None:
    seen: list[Request] = []
    http.expect_request("/feed").respond_with_handler(
        lambda request: seen.append(request) or Response(FEED)
    )

    fetcher.fetch_feed(http.url_for("/feed"))

    assert "If-None-Match" not in seen[0].headers
    assert "If-Modified-Since" not in seen[0].headers


def test_user_agent_and_accept_encoding_are_sent(http: HTTPServer, fetcher: Fetcher) -> None:
    http.expect_request("/feed", headers={"User-Agent": USER_AGENT}).respond_with_data(FEED)
    seen: list[Request] = []
    http.expect_request("/page").respond_with_handler(
        lambda request: seen.append(request) or Response(b"<html></html>")
    )

    assert fetcher.fetch_feed(http.url_for("/feed")).ok
    assert fetcher.fetch_page(http.url_for("/page")).ok
    assert seen[0].headers["User-Agent"] == USER_AGENT
    assert seen[0].headers["Accept"].startswith("text/html")
    assert set(seen[0].headers["Accept-Encoding"].split(", ")) == {"gzip", "deflate", "br"}


# --- redirects --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "permanent"), [(301, True), (308, True), (302, False), (303, False), (307, False)]
)
def test_only_301_and_308_report_a_permanent_url(
    http: HTTPServer, fetcher: Fetcher, status: int, permanent: bool
) -> None:
    http.expect_request("/old").respond_with_data(b"", status=status, headers={"Location": "/new"})
    http.expect_request("/new").respond_with_data(FEED)

    result = fetcher.fetch_feed(http.url_for("/old"))

    assert result.ok and result.content == FEED
    assert result.url == http.url_for("/new")
    assert result.permanent_url == (http.url_for("/new") if permanent else None)


def test_permanent_move_stops_at_the_first_temporary_hop(
    http: HTTPServer, fetcher: Fetcher
) -> None:
    http.expect_request("/a").respond_with_data(b"", status=301, headers={"Location": "/b"})
    http.expect_request("/b").respond_with_data(b"", status=302, headers={"Location": "/c"})
    http.expect_request("/c").respond_with_data(b"", status=301, headers={"Location": "/d"})
    http.expect_request("/d").respond_with_data(FEED)

    result = fetcher.fetch_feed(http.url_for("/a"))

    assert result.url == http.url_for("/d")
    assert result.permanent_url == http.url_for("/b")


def test_permanent_move_to_a_broken_url_is_not_reported(http: HTTPServer, fetcher: Fetcher) -> None:
    http.expect_request("/old").respond_with_data(b"", status=301, headers={"Location": "/new"})
    http.expect_request("/new").respond_with_data(b"missing", status=404)

    result = fetcher.fetch_feed(http.url_for("/old"))

    assert result.error == "HTTP 404 Not Found"
    assert result.permanent_url is None


def test_redirect_loop_is_a_clear_error(http: HTTPServer, fetcher: Fetcher) -> None:
    http.expect_request("/a").respond_with_data(b"", status=302, headers={"Location": "/b"})
    http.expect_request("/b").respond_with_data(b"", status=302, headers={"Location": "/a"})

    result = fetcher.fetch_feed(http.url_for("/a"))

    assert result.error == f"redirect loop at {http.url_for('/a')}"
    assert result.content is None


def test_too_many_redirects_is_a_clear_error(http: HTTPServer) -> None:
    for hop in range(4):
        http.expect_request(f"/{hop}").respond_with_data(
            b"", status=302, headers={"Location": f"/{hop + 1}"}
        )
    http.expect_request("/4").respond_with_data(FEED)

    with (
        Fetcher(FetchLimits(max_redirects=3), user_agent=USER_AGENT) as strict,
        Fetcher(FetchLimits(max_redirects=4), user_agent=USER_AGENT) as lax,
    ):
        assert strict.fetch_feed(http.url_for("/0")).error == "too many redirects (more than 3)"
        assert lax.fetch_feed(http.url_for("/0")).content == FEED


# --- errors, gone, slow down --------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (404, "HTTP 404 Not Found"),
        (500, "HTTP 500 Internal Server Error"),
        (403, "HTTP 403 Forbidden"),
    ],
)
def test_http_errors_are_values(
    http: HTTPServer, fetcher: Fetcher, status: int, error: str
) -> None:
    http.expect_request("/feed").respond_with_data(b"<html>error page</html>", status=status)

    result = fetcher.fetch_feed(http.url_for("/feed"))

    assert (result.status, result.error, result.content) == (status, error, None)
    assert not result.gone and result.retry_after is None


def test_410_marks_the_feed_gone(http: HTTPServer, fetcher: Fetcher) -> None:
    http.expect_request("/feed").respond_with_data(b"", status=410)

    result = fetcher.fetch_feed(http.url_for("/feed"))

    assert result.gone and result.status == 410 and not result.ok


def test_429_retry_after_seconds(http: HTTPServer, fetcher: Fetcher) -> None:
    http.expect_request("/feed").respond_with_data(b"", status=429, headers={"Retry-After": "120"})

    result = fetcher.fetch_feed(http.url_for("/feed"))

    assert result.error == "HTTP 429 Too Many Requests"
    assert result.retry_after == 120


def test_503_retry_after_http_date(http: HTTPServer, fetcher: Fetcher) -> None:
    later = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=10)
    http.expect_request("/feed").respond_with_data(
        b"", status=503, headers={"Retry-After": format_datetime(later, usegmt=True)}
    )

    result = fetcher.fetch_feed(http.url_for("/feed"))

    assert result.status == 503
    assert result.retry_after is not None and 590 <= result.retry_after <= 600


def test_connection_refused_is_a_value() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with Fetcher(user_agent=USER_AGENT) as fetcher:
        result = fetcher.fetch_feed(f"http://127.0.0.1:{port}/feed")
    assert result.status is None
    assert result.error is not None and result.error.startswith("connection failed")


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("file:///etc/passwd", "unsupported URL scheme 'file'"),
        ("ftp://example.org/feed", "unsupported URL scheme 'ftp'"),
    ],
)
def test_non_http_urls_are_refused_without_a_request(url: str, error: str) -> None:
    with Fetcher(user_agent=USER_AGENT) as fetcher:
        assert fetcher.fetch_feed(url).error == error


def test_cache_lifetime_from_response(http: HTTPServer, fetcher: Fetcher) -> None:
    http.expect_request("/feed").respond_with_data(
        FEED, headers={"Cache-Control": "public, max-age=900"}
    )

    assert fetcher.fetch_feed(http.url_for("/feed")).cache_lifetime == 900


def test_an_expires_header_far_in_the_future_is_the_longest_hint(
    http: HTTPServer, fetcher: Fetcher
) -> None:
    http.expect_request("/feed").respond_with_data(
        FEED, headers={"Expires": "Fri, 31 Dec 9999 23:59:59 GMT"}
    )

    with capture_logs() as logs:
        result = fetcher.fetch_feed(http.url_for("/feed"))
    assert result.cache_lifetime == MAX_HINT.total_seconds()
    assert [log["event"] for log in logs if log["log_level"] == "warning"] == []


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"cache-control": "max-age=600"}, 600),
        ({"cache-control": 'public, max-age="600"'}, 600),
        ({"cache-control": "max-age=600", "age": "100"}, 500),
        ({"cache-control": "max-age=600", "expires": "Thu, 01 Jan 2026 14:00:00 GMT"}, 600),
        ({"expires": "Thu, 01 Jan 2026 13:00:00 GMT"}, 3600),
        ({"expires": "Thu, 01 Jan 2026 11:00:00 GMT"}, 0),
        ({"expires": "0"}, 0),
        # "Never expires" is a hint as long as the scheduler takes (a day), not a date to
        # drop as out of range and so "already expired".
        ({"expires": "Fri, 31 Dec 9999 23:59:59 GMT"}, 86400),
        ({"expires": "Sun, 01 Jan 2202 00:00:00 GMT"}, 86400),
        ({"expires": "Fri, 31 Dec 99999 23:59:59 GMT"}, 86400),
        ({"expires": "Wed, 31 Dec 1969 23:59:59 GMT"}, 0),
        ({"cache-control": "no-cache, max-age=600"}, None),
        ({"cache-control": "no-store"}, None),
        ({"cache-control": "s-maxage=600"}, None),
        ({}, None),
    ],
)
def test_cache_lifetime_rules(headers: dict[str, str], expected: float | None) -> None:
    assert cache_lifetime(headers, NOW) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120),
        ("0", 0),
        ("Thu, 01 Jan 2026 12:30:00 GMT", 1800),
        ("Thu, 01 Jan 2026 11:00:00 GMT", 0),
        ("Fri, 31 Dec 9999 23:59:59 GMT", 86400),
        ("soon", None),
        ("-5", None),
    ],
)
def test_retry_after_rules(value: str, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


# --- timeouts -----------------------------------------------------------------------------


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server that accepts connections (the kernel completes the handshake from the
    listen backlog) and never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/feed"


def test_server_that_never_answers_times_out(silent_server: str) -> None:
    with Fetcher(FetchLimits(read_timeout=0.3, total_timeout=5), user_agent=USER_AGENT) as fetcher:
        started = time.monotonic()
        result = fetcher.fetch_feed(silent_server)

    assert result.error == "timeout after 0.3s waiting for response"
    assert time.monotonic() - started < 3


def test_total_timeout_is_enforced_while_streaming(http: HTTPServer) -> None:
    def trickle() -> Iterator[bytes]:
        for _ in range(100):  # bounded: at most 10 s if the client never hung up
            yield b"<" * 10
            time.sleep(0.1)

    http.expect_request("/slow").respond_with_handler(lambda request: Response(trickle()))

    with Fetcher(FetchLimits(read_timeout=1, total_timeout=0.5), user_agent=USER_AGENT) as fetcher:
        started = time.monotonic()
        result = fetcher.fetch_feed(http.url_for("/slow"))

    assert result.error == "timeout after 0.5s in total"
    assert time.monotonic() - started < 2


def test_a_stop_request_abandons_a_fetch_in_progress(http: HTTPServer) -> None:
    def trickle() -> Iterator[bytes]:
        for _ in range(100):  # bounded: at most 10 s if the client never hung up
            yield b"<" * 10
            time.sleep(0.1)

    http.expect_request("/slow").respond_with_handler(lambda request: Response(trickle()))
    stop = threading.Event()
    limits = FetchLimits(read_timeout=5, total_timeout=30)

    with Fetcher(limits, user_agent=USER_AGENT, stop=stop) as fetcher:
        threading.Timer(0.3, stop.set).start()
        started = time.monotonic()
        result = fetcher.fetch_feed(http.url_for("/slow"))

    assert result.error == "fetch abandoned: stop requested"
    assert time.monotonic() - started < 2


class _KeepAliveHandler(BaseHTTPRequestHandler):
    """Answers every GET with FEED over HTTP/1.1, keeping the connection open (werkzeug's
    test server closes each one), and records the client port of each request."""

    protocol_version = "HTTP/1.1"
    server: _KeepAliveServer

    def do_GET(self) -> None:
        self.server.client_ports.append(self.client_address[1])
        self.send_response(200)
        self.send_header("Content-Length", str(len(FEED)))
        self.end_headers()
        self.wfile.write(FEED)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _KeepAliveServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _KeepAliveHandler)
        self.client_ports: list[int] = []


def test_fetches_of_one_host_reuse_its_connection(fetcher: Fetcher) -> None:
    server = _KeepAliveServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/feed"
        results = [fetcher.fetch_feed(url) for _ in range(3)]
    finally:
        server.shutdown()
        server.server_close()

    assert all(result.content == FEED for result in results)
    assert len(server.client_ports) == 3
    assert len(set(server.client_ports)) == 1


# --- body cap and decoding ------------------------------------------------------------------


class _StreamingHandler(BaseHTTPRequestHandler):
    """Serves ``server.routes[path]() -> (headers, body chunks)``; HTTP/1.0, so the body
    ends when the connection closes and may be any length."""

    server: _StreamingServer

    def do_GET(self) -> None:
        headers, chunks = self.server.routes[self.path]()
        self.send_response(200)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        try:
            for chunk in chunks:
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up at its cap, which is what the test wants

    def log_message(self, format: str, *args: object) -> None:
        pass


class _StreamingServer(ThreadingHTTPServer):
    daemon_threads = True
    routes: dict[str, Callable[[], tuple[dict[str, str], Iterable[bytes]]]]

    def url(self, path: str) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}{path}"


@pytest.fixture
def streaming_server() -> Iterator[_StreamingServer]:
    server = _StreamingServer(("127.0.0.1", 0), _StreamingHandler)
    server.routes = {}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


# The client runs in its own process so that tracemalloc sees only the client: servers
# in this process allocate too (werkzeug reads 10 MB after every response).
_MEASURE_FETCH = """
import json, sys, tracemalloc
from ingest.fetch import Fetcher
with Fetcher(user_agent="feedbrief-test") as fetcher:
    tracemalloc.start()
    result = fetcher.fetch_feed(sys.argv[1])
    peak = tracemalloc.get_traced_memory()[1]
print(json.dumps({"error": result.error, "peak": peak}))
"""


def _fetch_measuring_memory(url: str) -> tuple[str | None, int]:
    """(error, peak traced bytes) of one fetch with default limits, in a fresh process."""
    completed = subprocess.run(
        [sys.executable, "-c", _MEASURE_FETCH, url],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    outcome = json.loads(completed.stdout.strip().splitlines()[-1])
    return outcome["error"], outcome["peak"]


# What the client may hold beyond the body cap: a few decode pieces and network buffers.
MEMORY_SLACK = 4 * MiB


def test_50_mb_body_is_aborted_at_the_cap_with_bounded_memory(
    streaming_server: _StreamingServer,
) -> None:
    chunk = b"<item>" + b"x" * (64 * 1024 - 6)
    sent: list[int] = []

    def fifty_megabytes() -> Iterator[bytes]:
        for _ in range(50 * MiB // len(chunk)):
            sent.append(len(chunk))
            yield chunk

    # No Content-Length: the cap must be enforced while streaming, not from the header.
    streaming_server.routes["/huge"] = lambda: ({}, fifty_megabytes())

    error, peak = _fetch_measuring_memory(streaming_server.url("/huge"))

    assert error == "body exceeds 15 MiB cap"
    assert peak < DEFAULT_MAX_BODY + MEMORY_SLACK
    assert sum(sent) < 40 * MiB  # the client hung up instead of reading on


def test_declared_oversize_body_is_refused_before_reading(http: HTTPServer) -> None:
    http.expect_request("/big").respond_with_data(b"x" * 2048)

    with Fetcher(FetchLimits(max_body_bytes=1024), user_agent=USER_AGENT) as fetcher:
        assert fetcher.fetch_feed(http.url_for("/big")).error == "body exceeds 1 KiB cap"


def _gzip_zeros(size: int) -> bytes:
    engine = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(MiB)
    return b"".join([*(engine.compress(block) for _ in range(size // MiB)), engine.flush()])


def _brotli_zeros(size: int) -> bytes:
    engine = brotli.Compressor(quality=5)
    block = bytes(MiB)
    return b"".join([*(engine.process(block) for _ in range(size // MiB)), engine.finish()])


@pytest.mark.parametrize(("encoding", "bomb"), [("gzip", _gzip_zeros), ("br", _brotli_zeros)])
def test_decompression_bomb_stops_at_the_cap_with_bounded_memory(
    streaming_server: _StreamingServer,
    encoding: str,
    bomb: Callable[[int], bytes],
) -> None:
    body = bomb(200 * MiB)
    assert len(body) < MiB  # 200 MiB decoded from well under one
    streaming_server.routes["/bomb"] = lambda: ({"Content-Encoding": encoding}, [body])

    error, peak = _fetch_measuring_memory(streaming_server.url("/bomb"))

    assert error == "body exceeds 15 MiB cap"
    assert peak < DEFAULT_MAX_BODY + MEMORY_SLACK


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data, wbits=-zlib.MAX_WBITS)),  # raw, as IIS sent
        ("br", brotli.compress),
        ("identity", lambda data: data),
    ],
)
def test_compressed_bodies_are_decoded(
    http: HTTPServer, fetcher: Fetcher, encoding: str, encode: Callable[[bytes], bytes]
) -> None:
    body = FEED * 2000  # larger than one decode piece
    http.expect_request("/feed").respond_with_data(
        encode(body), headers={"Content-Encoding": encoding}
    )

    assert fetcher.fetch_feed(http.url_for("/feed")).content == body


def test_corrupt_compressed_body_is_an_error(http: HTTPServer, fetcher: Fetcher) -> None:
    http.expect_request("/feed").respond_with_data(
        b"plain text, not gzip", headers={"Content-Encoding": "gzip"}
    )

    error = fetcher.fetch_feed(http.url_for("/feed")).error

    assert error is not None and error.startswith("could not decode gzip body")


def test_unknown_content_encoding_is_an_error(http: HTTPServer, fetcher: Fetcher) -> None:
    http.expect_request("/feed").respond_with_data(b"??", headers={"Content-Encoding": "lzma"})

    assert fetcher.fetch_feed(http.url_for("/feed")).error == "unsupported Content-Encoding 'lzma'"


# --- concurrency ------------------------------------------------------------------------------


class _ConcurrencyProbe:
    """A handler that holds each request briefly and records the most seen at once, per host."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = 0
        self.peak = 0

    def __call__(self, request: Request) -> Response:
        with self._lock:
            self._active += 1
            self.peak = max(self.peak, self._active)
        time.sleep(0.2)
        with self._lock:
            self._active -= 1
        return Response(FEED)


def test_per_host_limit_is_honoured(http: HTTPServer) -> None:
    probe = _ConcurrencyProbe()
    http.expect_request("/feed").respond_with_handler(probe)

    with (
        Fetcher(FetchLimits(per_host=2), user_agent=USER_AGENT) as fetcher,
        ThreadPoolExecutor(6) as pool,
    ):
        results = list(
            pool.map(lambda n: fetcher.fetch_feed(http.url_for(f"/feed?n={n}")), range(6))
        )

    assert all(result.ok for result in results)
    assert probe.peak == 2


def test_different_hosts_are_fetched_in_parallel(http: HTTPServer) -> None:
    probe = _ConcurrencyProbe()
    http.expect_request("/feed").respond_with_handler(probe)
    urls = [
        f"http://{host}:{http.port}/feed?n={n}"
        for host in ("127.0.0.1", "localhost")
        for n in range(2)
    ]

    with (
        Fetcher(FetchLimits(per_host=1), user_agent=USER_AGENT) as fetcher,
        ThreadPoolExecutor(4) as pool,
    ):
        results = list(pool.map(fetcher.fetch_feed, urls))

    assert all(result.ok for result in results)
    assert probe.peak == 2  # one per host, never two on the same host
