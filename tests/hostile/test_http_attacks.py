"""Servers that misbehave: bombs, bodies without end, trickles, lies, loops.

tests/ingest/test_fetch.py checks the fetcher's answers to most of these; here each goes
through a whole refresh in a child process, which must end in bounded time and memory
with the feed's failure recorded and logged, its earlier items untouched, and the other
feed of the same pass stored as usual.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Iterator

from tests.hostile.conftest import (
    BYSTANDER,
    VICTIM,
    Arena,
    HostileHandler,
    HostileServer,
    MiB,
    Route,
    assert_contained,
    assert_failed_clearly,
    rss_item,
    stream,
)

# Shorter than TIGHT_FEEDS' total timeout: a trickle test waits for it to run out.
TOTAL_TIMEOUT = 3
# What a refresh cut off by the total timeout may take beyond it: the other feed, the
# digest, and a busy machine.
SLACK = 3.0
# When the child gives up on a trickling refresh: a hang fails in seconds, not minutes.
TRICKLE_LIMIT = TOTAL_TIMEOUT + SLACK + 1


def test_gzip_bomb_stops_at_the_body_cap(arena: Arena) -> None:
    primed = arena.prime()
    inflated: list[int] = []

    def ten_gigabytes_of_zeros() -> Iterator[bytes]:
        engine = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        zeros = bytes(MiB)
        for _ in range(10 * 1024):
            inflated.append(MiB)
            yield engine.compress(zeros) + engine.flush(zlib.Z_SYNC_FLUSH)
        yield engine.flush()

    outcome = arena.attack(stream(ten_gigabytes_of_zeros, headers={"Content-Encoding": "gzip"}))

    assert_contained(outcome, arena, primed)
    assert_failed_clearly(outcome, arena, "body exceeds 15 MiB cap")
    assert sum(inflated) < 100 * MiB, "the client read on long after its cap"


def test_endless_body_stops_at_the_body_cap(arena: Arena) -> None:
    primed = arena.prime()
    sent: list[int] = []

    def endless_feed() -> Iterator[bytes]:
        yield b'<?xml version="1.0"?><rss version="2.0"><channel><title>Endless</title>'
        for n in itertools.count():
            chunk = rss_item(f"endless-{n}", f"Item {n}", "More to come. " * 20).encode()
            sent.append(len(chunk))
            yield chunk

    outcome = arena.attack(stream(endless_feed))

    assert_contained(outcome, arena, primed)
    assert_failed_clearly(outcome, arena, "body exceeds 15 MiB cap")
    assert sum(sent) < 100 * MiB, "the client read on long after its cap"


def trickle(handler: HostileHandler, data: bytes) -> None:
    """One byte a second, well inside the read timeout, until the client hangs up."""
    for byte in itertools.cycle(data):
        if not handler.server.pause(1.0):
            return
        handler.wfile.write(bytes([byte]))
        handler.wfile.flush()


def slowloris_body(handler: HostileHandler) -> None:
    handler.send_head("application/rss+xml")
    handler.wfile.flush()
    trickle(handler, rss_item("slow", "Slow", "Slow news.").encode())


def slowloris_headers(handler: HostileHandler) -> None:
    handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
    handler.wfile.flush()
    trickle(handler, b"X-Padding: slow\r\n")


def test_slowloris_body_is_cut_off_by_the_total_timeout(arena: Arena) -> None:
    primed = arena.prime()

    outcome = arena.attack(slowloris_body, limit=TRICKLE_LIMIT, total_timeout=TOTAL_TIMEOUT)

    assert_contained(outcome, arena, primed, seconds=TOTAL_TIMEOUT + SLACK)
    assert_failed_clearly(outcome, arena, f"timeout after {TOTAL_TIMEOUT:g}s in total")


def test_slowloris_headers_are_cut_off_by_the_total_timeout(arena: Arena) -> None:
    primed = arena.prime()

    outcome = arena.attack(slowloris_headers, limit=TRICKLE_LIMIT, total_timeout=TOTAL_TIMEOUT)

    assert_contained(outcome, arena, primed, seconds=TOTAL_TIMEOUT + SLACK)
    assert_failed_clearly(outcome, arena, f"timeout after {TOTAL_TIMEOUT:g}s in total")


def test_server_closing_mid_body_is_a_broken_connection(arena: Arena) -> None:
    primed = arena.prime()
    whole = b"".join(
        rss_item(f"cut-{n}", f"Cut {n}", "Never finished. " * 20).encode() for n in range(50)
    )

    def close_mid_body(handler: HostileHandler) -> None:
        handler.send_head("application/rss+xml", {"Content-Length": str(len(whole))})
        handler.wfile.write(whole[: len(whole) // 3])
        handler.wfile.flush()
        handler.close_connection = True

    outcome = arena.attack(close_mid_body)

    assert_contained(outcome, arena, primed)
    assert_failed_clearly(outcome, arena, "connection broken reading body")
    assert not any(item.guid.startswith("cut-") for item in arena.items(arena.victim))


def test_redirect_loop_is_a_clear_error(arena: Arena, server: HostileServer) -> None:
    primed = arena.prime()

    def redirect_to(path: str) -> Route:
        def route(handler: HostileHandler) -> None:
            handler.send_response(302)
            handler.send_header("Location", server.url(path))
            handler.send_header("Content-Length", "0")
            handler.end_headers()

        return route

    server.routes["/loop-b.xml"] = redirect_to(VICTIM)
    outcome = arena.attack(redirect_to("/loop-b.xml"))

    assert_contained(outcome, arena, primed)
    assert_failed_clearly(outcome, arena, f"redirect loop at {arena.victim}")
    hops = [path for path in server.requests if path != BYSTANDER]
    assert len(hops) <= 2 + 1, hops  # the good fetch, then one round of the loop
