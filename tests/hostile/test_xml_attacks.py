"""XML tricks in a feed: entity expansion, external entities, external DTDs.

Each runs a whole refresh (fetch, parse, summarise, store) in a child process against a
feed that was fine before; the feed must neither blow up memory nor reach outside the
document, and the other feed of the pass must not notice.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.hostile.conftest import (
    Arena,
    ChildRefresh,
    HostileServer,
    assert_contained,
    document,
    fixture_text,
    rss,
    rss_item,
)


def everything_stored(arena: Arena) -> str:
    """Every piece of text the refresh may have written, in the database or on disk."""
    parts: list[str] = []
    for item in arena.app.storage.iter_items():
        parts += [item.title, item.text, item.author or "", item.url or "", *item.summary]
    for state in arena.app.storage.sources():
        parts += [state.title or "", state.last_error or "", state.site_url or ""]
    digests = arena.workdir / "digests"
    parts += [path.read_text() for path in sorted(digests.glob("*")) if path.is_file()]
    return "\n".join(parts)


def assert_malformed_feed_reported(outcome: ChildRefresh, arena: Arena, words: str) -> None:
    """The victim is stored as a malformed feed: a warning naming it, and the reason kept
    as its last error, so `feedbrief feeds status` shows what is wrong."""
    warnings = [
        event
        for event in outcome.events_for(arena.victim)
        if event.get("level") == "warning" and words in str(event.get("bozo"))
    ]
    assert warnings, outcome.events_for(arena.victim)
    assert words in (arena.source(arena.victim).last_error or "")


def test_billion_laughs_is_not_expanded(arena: Arena) -> None:
    primed = arena.prime()

    outcome = arena.attack(document(fixture_text("billion_laughs.rss")))

    assert_contained(outcome, arena, primed)
    assert "lol" * 10 not in everything_stored(arena)
    assert outcome.result(arena.victim)["status"] == "ok"
    [laughs] = [item for item in arena.items(arena.victim) if item.guid == "laughs-1"]
    assert "ferry timetable" in laughs.text
    assert_malformed_feed_reported(outcome, arena, "undefined entity")


# 100 KB referenced 10,000 times is a gigabyte from a 140 KB document. The declaration
# is one that feedparser's DOCTYPE filter keeps (no '&' in it): expat refuses the
# amplification, and feedparser's fallback parser then expands it by itself.
QUADRATIC = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<!DOCTYPE rss [\n<!ENTITY big "'
    + "a" * 100_000
    + '">\n]>\n'
    + rss([rss_item("quadratic-1", "Quadratic &big;", "&big;" * 10_000)])
    .decode()
    .split("?>", 1)[1]
    .replace("&amp;big;", "&big;")
)


def test_quadratic_entity_blowup_stays_within_memory(arena: Arena) -> None:
    primed = arena.prime()

    outcome = arena.attack(document(QUADRATIC.encode()))

    assert_contained(outcome, arena, primed)
    assert "a" * 200_000 not in everything_stored(arena)


def test_external_entities_read_no_local_file_and_fetch_nothing(
    arena: Arena, server: HostileServer, tmp_path: Path
) -> None:
    marker = f"CANARY-{uuid.uuid4().hex}"
    canary = tmp_path / "canary.txt"
    canary.write_text(f"{marker}\n")
    server.routes["/entity.txt"] = document(marker.encode(), "text/plain")
    primed = arena.prime()
    feed = fixture_text(
        "external_entity.rss",
        canary_url=canary.as_uri(),
        entity_url=server.url("/entity.txt"),
    )

    outcome = arena.attack(document(feed))

    assert_contained(outcome, arena, primed)
    assert marker not in everything_stored(arena)
    assert "/entity.txt" not in server.requests
    [item] = [item for item in arena.items(arena.victim) if item.guid == "xxe-1"]
    assert "ferry timetable" in item.text
    assert (arena.source(arena.victim).last_error or "").startswith("malformed feed:")


@pytest.mark.parametrize(
    ("fixture", "guid"), [("external_dtd.rss", "dtd-1"), ("parameter_entity.rss", "param-1")]
)
def test_external_dtd_is_never_fetched(
    arena: Arena, server: HostileServer, fixture: str, guid: str
) -> None:
    marker = f"DTD-{uuid.uuid4().hex}"
    server.routes["/marker.dtd"] = document(
        fixture_text("marker.dtd", marker=marker), "application/xml-dtd"
    )
    primed = arena.prime()
    feed = fixture_text(fixture, dtd_url=server.url("/marker.dtd"))

    outcome = arena.attack(document(feed))

    assert_contained(outcome, arena, primed)
    assert "/marker.dtd" not in server.requests
    assert marker not in everything_stored(arena)
    [item] = [item for item in arena.items(arena.victim) if item.guid == guid]
    assert "ferry timetable" in item.text
