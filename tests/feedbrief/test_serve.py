"""``feedbrief serve`` over real sockets: digests, feed, health check, metrics, and the
files it must never hand out."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import http.client
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import feedparser
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine

from digest.model import Digest, DigestStory
from digest.publish import write_digest, write_feed
from digest.render_html import CONTENT_SECURITY_POLICY
from feedbrief.scrape import scrape_registry
from feedbrief.serve import STALE_AFTER, DigestServer, server_for
from storage import SourceUpdate, Storage
from tests.conftest import REPO

DAYS = (dt.date(2026, 11, 23), dt.date(2026, 11, 25), dt.date(2026, 11, 24))
STORY = DigestStory(
    id=1,
    title="Rover finds ice",
    url="https://space.example/rover",
    source="Space Weekly",
    published=dt.datetime(2026, 11, 25, 5, 10, tzinfo=dt.UTC),
    summary=("The rover found ice near the equator.",),
)
BASE = "http://127.0.0.1:8080/"


def write_digests(directory: Path) -> list[Digest]:
    digests = [
        Digest(day, dt.datetime.combine(day, dt.time(7), dt.UTC), "UTC", (STORY,)) for day in DAYS
    ]
    for digest in digests:
        write_digest(digest, directory)
    write_feed(digests, directory, feed_url=f"{BASE}feed.xml", html_base_url=BASE)
    return digests


@dataclass
class Running:
    url: str
    digest_dir: Path
    storage: Storage
    metrics_dir: Path
    clock_now: list[dt.datetime]


def start(server: DigestServer) -> threading.Thread:
    # A short poll interval only makes shutdown quicker; requests are answered at once.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    return thread


def stop(server: DigestServer, thread: threading.Thread) -> None:
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def serving(tmp_path: Path, url: str) -> Iterator[Running]:
    digest_dir = tmp_path / "digests"
    digest_dir.mkdir()
    metrics_dir = tmp_path / "metrics"
    storage = Storage.open(url)
    now = [dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC)]
    server = server_for(
        digest_dir,
        storage,
        scrape_registry(metrics_dir, storage),
        port=0,
        clock=lambda: now[0],
    )
    thread = start(server)
    try:
        yield Running(server.url, digest_dir, storage, metrics_dir, now)
    finally:
        stop(server, thread)
        storage.close()


@pytest.fixture
def site(tmp_path: Path, sqlite_url: str) -> Iterator[Running]:
    yield from serving(tmp_path, sqlite_url)


@pytest.fixture
def client(site: Running) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.url, timeout=10) as http:
        yield http


def raw_get(site: Running, path: str, method: str = "GET") -> http.client.HTTPResponse:
    """Send *path* byte for byte: httpx would normalise dot segments away."""
    host, port = site.url.removeprefix("http://").rstrip("/").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest(method, path, skip_accept_encoding=True)
    connection.endheaders()
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def test_index_lists_the_days_newest_first_with_links_to_their_pages(
    site: Running, client: httpx.Client
) -> None:
    write_digests(site.digest_dir)
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    links = [f'href="{day.isoformat()}.html"' for day in sorted(DAYS, reverse=True)]
    positions = [response.text.index(link) for link in links]
    assert positions == sorted(positions)
    assert 'type="application/atom+xml"' in response.text


def test_index_without_digests_says_so(client: httpx.Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "No digests yet." in response.text


def test_each_days_files_are_served_with_their_content_type(
    site: Running, client: httpx.Client
) -> None:
    write_digests(site.digest_dir)
    for suffix, content_type in (
        (".html", "text/html; charset=utf-8"),
        ("-all.html", "text/html; charset=utf-8"),  # the full list the front page links
        (".md", "text/markdown; charset=utf-8"),
        (".json", "application/json"),
    ):
        response = client.get(f"/2026-11-24{suffix}")
        assert response.status_code == 200
        assert response.headers["content-type"] == content_type
        assert response.content == (site.digest_dir / f"2026-11-24{suffix}").read_bytes()
    assert client.get("/2026-11-24-all.md").status_code == 404
    assert json.loads(client.get("/2026-11-24.json").text)["date"] == "2026-11-24"


def test_responses_forbid_sniffing_and_carry_the_digest_pages_policy(
    site: Running, client: httpx.Client
) -> None:
    write_digests(site.digest_dir)
    for path in ("/", "/2026-11-25.html", "/feed.xml", "/healthz", "/nothing-here"):
        response = client.get(path)
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
    page = (site.digest_dir / "2026-11-25.html").read_text(encoding="utf-8")
    [declared] = re.findall(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page)
    assert html.unescape(declared) == CONTENT_SECURITY_POLICY


def test_the_index_stylesheet_is_the_one_the_policy_allows(client: httpx.Client) -> None:
    """The index reuses the digest stylesheet, so the same hash-based policy admits it."""
    text = client.get("/").text
    [style] = re.findall(r"<style>(.*?)</style>", text, flags=re.S)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in CONTENT_SECURITY_POLICY


def test_feed_is_valid_atom_with_one_entry_per_day(site: Running, client: httpx.Client) -> None:
    write_digests(site.digest_dir)
    response = client.get("/feed.xml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert len(parsed.entries) == len(DAYS)


def test_an_unchanged_file_answers_304_to_its_validators(
    site: Running, client: httpx.Client
) -> None:
    write_digests(site.digest_dir)
    first = client.get("/feed.xml")
    by_etag = client.get("/feed.xml", headers={"If-None-Match": first.headers["etag"]})
    assert by_etag.status_code == 304
    assert by_etag.content == b""
    by_date = client.get("/feed.xml", headers={"If-Modified-Since": first.headers["last-modified"]})
    assert by_date.status_code == 304
    write_digests(site.digest_dir)  # rewritten: a new version
    os.utime(site.digest_dir / "feed.xml", ns=(0, 10**18))
    again = client.get("/feed.xml", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 200
    assert again.headers["etag"] != first.headers["etag"]


def test_head_gives_the_headers_of_get_without_the_body(
    site: Running, client: httpx.Client
) -> None:
    write_digests(site.digest_dir)
    got = client.get("/2026-11-25.html")
    head = client.head("/2026-11-25.html")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == got.headers["content-length"] != "0"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_methods_other_than_get_and_head_are_refused(
    site: Running, client: httpx.Client, method: str
) -> None:
    write_digests(site.digest_dir)
    response = client.request(method, "/2026-11-25.html", content=b"x=1")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert (site.digest_dir / "2026-11-25.html").exists()


@pytest.mark.parametrize(
    "path",
    [
        "/../config/feedbrief.toml",
        "/../secret.html",
        "/%2e%2e/secret.html",
        "/%2E%2E%2Fsecret.html",
        "/..%2fsecret.html",
        "//etc/passwd",
        "/etc/passwd",
        "/" + str(REPO / "config" / "feedbrief.toml"),
        "/2026-11-25.html/../../secret.html",
        "/./2026-11-25.html",
        "/2026-11-25.txt",
        "/.hidden.html",
    ],
)
def test_nothing_outside_the_published_names_is_served(site: Running, path: str) -> None:
    write_digests(site.digest_dir)
    (site.digest_dir.parent / "secret.html").write_text("top secret", encoding="utf-8")
    (site.digest_dir / ".hidden.html").write_text("top secret", encoding="utf-8")
    response = raw_get(site, path)
    assert response.status == 404


def test_a_symlink_out_of_the_digest_directory_is_not_followed(
    site: Running, client: httpx.Client
) -> None:
    secret = site.digest_dir.parent / "secret.html"
    secret.write_text("top secret", encoding="utf-8")
    (site.digest_dir / "2026-01-01.html").symlink_to(secret)
    (site.digest_dir / "feed.xml").symlink_to(secret)
    assert client.get("/2026-01-01.html").status_code == 404
    assert client.get("/feed.xml").status_code == 404


def test_health_is_503_until_a_worker_ticks_then_200_until_the_tick_is_old(
    tmp_path: Path, database_url: str
) -> None:
    for site in serving(tmp_path, database_url):
        with httpx.Client(base_url=site.url, timeout=10) as client:
            before = client.get("/healthz")
            assert before.status_code == 503
            assert "heartbeat" in before.text

            site.storage.record_tick("host:1", site.clock_now[0] - dt.timedelta(seconds=20))
            ticked = client.get("/healthz")
            assert (ticked.status_code, ticked.text) == (200, "ok\n")
            assert ticked.headers["cache-control"] == "no-store"

            site.clock_now[0] += STALE_AFTER
            stale = client.get("/healthz")
            assert stale.status_code == 503
            assert "last heartbeat 200 s ago" in stale.text


def test_health_is_503_when_the_database_does_not_answer(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    storage = Storage(create_engine(f"sqlite:///{blocker / 'feedbrief.db'}"))
    server = server_for(tmp_path, storage, scrape_registry(tmp_path / "metrics", storage), port=0)
    thread = start(server)
    try:
        response = httpx.get(f"{server.url}healthz", timeout=10)
    finally:
        stop(server, thread)
        storage.close()
    assert response.status_code == 503
    assert response.text == "database unavailable\n"


def test_metrics_show_what_a_worker_process_counted_and_the_database_state(
    site: Running, client: httpx.Client
) -> None:
    script = f"""
from pathlib import Path
from feedbrief import metrics
metrics.setup_metrics(Path({str(site.metrics_dir)!r}))
metrics.record_fetch("not_modified", 0.05)
metrics.record_fetch("ok", 0.4)
metrics.record_items(new=5, updated=2)
metrics.record_duplicates(1)
metrics.record_summarise(0.02)
"""
    worker = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert worker.returncode == 0, worker.stderr
    now = site.clock_now[0]
    failing = site.storage.ensure_source("feed", "https://failing.example/feed", None, now)
    site.storage.update_source(failing, SourceUpdate(checked_at=now, error="HTTP 503"))

    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }
    assert samples[("feedbrief_fetches_total", (("outcome", "not_modified"),))] == 1
    assert samples[("feedbrief_fetches_total", (("outcome", "ok"),))] == 1
    assert samples[("feedbrief_items_stored_total", (("outcome", "new"),))] == 5
    assert samples[("feedbrief_items_stored_total", (("outcome", "updated"),))] == 2
    assert samples[("feedbrief_duplicates_linked_total", ())] == 1
    assert samples[("feedbrief_fetch_seconds_count", ())] == 2
    assert samples[("feedbrief_summarise_seconds_count", ())] == 1
    assert samples[("feedbrief_feeds_failing", ())] == 1
    assert samples[("feedbrief_feeds", (("state", "failing"),))] == 1
    assert samples[("feedbrief_items", ())] == 0
    assert samples[("feedbrief_database_up", ())] == 1


def test_metrics_speak_openmetrics_when_asked(client: httpx.Client) -> None:
    response = client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.rstrip().endswith("# EOF")


def test_the_serve_command_answers_and_exits_0_on_sigterm(tmp_path: Path) -> None:
    digest_dir = tmp_path / "digests"
    write_digests(digest_dir)
    env = {
        **os.environ,
        "FEEDBRIEF_CONFIG": str(REPO / "config" / "feedbrief.toml"),
        "FEEDBRIEF_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'feedbrief.db'}",
        "FEEDBRIEF_DIGEST_DIR": str(digest_dir),
        "FEEDBRIEF_SEEDS_DIR": str(tmp_path / "seeds"),
    }
    command = [sys.executable, "-m", "feedbrief", "serve", "--port", "0"]
    command += ["--metrics-dir", str(tmp_path / "metrics")]
    process = subprocess.Popen(
        command, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        url = _wait_for_url(process)
        assert httpx.get(f"{url}2026-11-25.html", timeout=10).status_code == 200
        assert httpx.get(f"{url}healthz", timeout=10).status_code == 503
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert code == 0
    assert process.stderr is not None
    assert "server.stopped" in process.stderr.read()


def _wait_for_url(process: subprocess.Popen[str]) -> str:
    """The address from the "server.started" log line (a JSON line, stderr not being a tty)."""
    assert process.stderr is not None
    lines = []
    for line in process.stderr:
        lines.append(line)
        if '"server.started"' in line:
            return str(json.loads(line)["url"])
    raise AssertionError("serve exited before listening:\n" + "".join(lines))


CLIENTS = 200
REQUEST = b"GET /2026-11-25.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


def test_two_hundred_clients_arriving_at_once_are_all_answered(
    tmp_path: Path, sqlite_url: str
) -> None:
    """Every client connects while the server is not yet accepting (as when a burst
    outruns the accept loop): the listen backlog holds all of them, and each is then
    answered. How long they wait is measured by ``bench.serve_bench``."""
    digest_dir = tmp_path / "digests"
    write_digests(digest_dir)
    storage = Storage.open(sqlite_url)
    server = server_for(digest_dir, storage, scrape_registry(tmp_path / "m", storage), port=0)
    host, port = server.server_address[:2]
    sockets = []
    try:
        for _ in range(CLIENTS):
            # A backlog too short leaves the handshake unanswered: connect times out.
            sockets.append(socket.create_connection((host, port), timeout=10))
        for connection in sockets:
            connection.sendall(REQUEST)
        thread = start(server)
        statuses = []
        for connection in sockets:
            with connection.makefile("rb") as reply:
                statuses.append(reply.readline().split()[1])
        stop(server, thread)
    finally:
        for connection in sockets:
            connection.close()
        server.server_close()
        storage.close()
    assert statuses == [b"200"] * CLIENTS


def test_a_client_hanging_up_mid_response_is_one_json_log_line(tmp_path: Path) -> None:
    digest_dir = tmp_path / "digests"
    write_digests(digest_dir)
    # Far more than the socket buffers hold, so the server is still writing at the hang-up.
    (digest_dir / "2026-11-26.html").write_bytes(b"<p>news</p>\n" * 3_000_000)
    process, lines, url = _start_serve(tmp_path, digest_dir)
    try:
        host, port = url.removeprefix("http://").rstrip("/").rsplit(":", 1)
        connection = socket.create_connection((host, int(port)), timeout=10)
        connection.sendall(b"GET /2026-11-26.html HTTP/1.1\r\nHost: x\r\n\r\n")
        assert connection.recv(1024).startswith(b"HTTP/1.1 200")
        # Close with a reset, as a browser tab or a killed client does.
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.close()
        _wait_for_line(lines, "request.client_disconnected")
        assert httpx.get(f"{url}2026-11-25.html", timeout=10).status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    _wait_for_line(lines, "server.stopped")
    assert all(line.startswith("{") for line in lines if line.strip()), "".join(lines)
    events = [json.loads(line) for line in lines if line.strip()]
    (hang_up,) = [e for e in events if e["event"] == "request.client_disconnected"]
    assert hang_up["path"] == "/2026-11-26.html"
    assert not [e for e in events if e["level"] == "error"]


def _start_serve(tmp_path: Path, digest_dir: Path) -> tuple[subprocess.Popen[str], list[str], str]:
    """``feedbrief serve`` on a free port; its stderr lines collected as they come."""
    env = {
        **os.environ,
        "FEEDBRIEF_CONFIG": str(REPO / "config" / "feedbrief.toml"),
        "FEEDBRIEF_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'feedbrief.db'}",
        "FEEDBRIEF_DIGEST_DIR": str(digest_dir),
        "FEEDBRIEF_SEEDS_DIR": str(tmp_path / "seeds"),
    }
    command = [sys.executable, "-m", "feedbrief", "serve", "--port", "0"]
    command += ["--metrics-dir", str(tmp_path / "metrics")]
    process = subprocess.Popen(
        command, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    lines: list[str] = []

    def read() -> None:
        assert process.stderr is not None
        lines.extend(process.stderr)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    line = _wait_for_line(lines, "server.started")
    return process, lines, str(json.loads(line)["url"])


def _wait_for_line(lines: list[str], event: str, seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for line in list(lines):
            if f'"{event}"' in line:
                return line
        time.sleep(0.05)
    raise AssertionError(f"no {event} within {seconds:g} s:\n" + "".join(lines))
