"""The linking rule on its own, table-driven: plain candidates in, a story out."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dedup.linking import Candidates, choose_story

SOURCE = 1
OTHER = 2
LONG = " ".join(f"word{n}" for n in range(40))
SHORT = "Photo of the day."
PAGE = "https://show.example/"


@dataclass(frozen=True)
class New:
    guid: str = "new"
    text: str = LONG
    canonical_url: str | None = None
    content_hash: str = "hash-new"
    fingerprint: bytes | None = None
    band_keys: tuple[int, ...] = ()


# (stored page rows, stored text rows) as (key, item id, story, source, guid).
Row = tuple[str, int, int, int, str]


@pytest.mark.parametrize(
    ("item", "pages", "texts", "expected"),
    [
        pytest.param(New(canonical_url=PAGE), [(PAGE, 5, 50, OTHER, "x")], [], 50, id="url"),
        pytest.param(
            New(canonical_url=PAGE),
            [(PAGE, 5, 50, SOURCE, "episode-1")],
            [],
            None,
            id="url-of-same-feed-other-guid",
        ),
        pytest.param(
            New(canonical_url=PAGE),
            [(PAGE, 5, 50, OTHER, "x"), (PAGE, 6, 60, OTHER, "y")],
            [],
            None,
            id="url-another-feed-gives-two-guids",
        ),
        pytest.param(
            New(canonical_url=PAGE),
            [(PAGE, 5, 50, OTHER, "x"), (PAGE, 6, 60, SOURCE + 2, "x")],
            [],
            50,
            id="url-earliest-of-two-feeds",
        ),
        pytest.param(New(), [], [("hash-new", 7, 70, OTHER, "x")], 70, id="long-text"),
        pytest.param(New(text=SHORT), [], [("hash-new", 7, 70, OTHER, "x")], None, id="short-text"),
        pytest.param(New(text=""), [], [("hash-new", 7, 70, OTHER, "x")], None, id="empty"),
        pytest.param(
            New(text=""),
            [],
            [("hash-new", 7, 70, OTHER, "x"), ("hash-new", 8, 80, OTHER + 1, "new")],
            80,
            id="empty-same-guid",
        ),
        pytest.param(
            New(text="", guid="sha256:0f1e"),
            [],
            [("hash-new", 8, 80, OTHER, "sha256:0f1e")],
            None,
            id="empty-same-guid-made-from-the-content",
        ),
        pytest.param(
            New(text="", canonical_url=PAGE),
            [(PAGE, 9, 90, OTHER, "x")],
            [("hash-new", 9, 90, OTHER, "x")],
            90,
            id="empty-same-url",
        ),
        pytest.param(
            New(canonical_url=PAGE),
            [(PAGE, 9, 90, OTHER, "x")],
            [("hash-new", 4, 40, OTHER + 1, "y")],
            40,
            id="earliest-of-url-and-text",
        ),
    ],
)
def test_choose_story_over_stored_candidates(
    item: New, pages: list[Row], texts: list[Row], expected: int | None
) -> None:
    candidates = Candidates(SOURCE)
    for row in pages:
        candidates.add_stored_page(*row)
    for row in texts:
        candidates.add_stored_text(*row)

    assert choose_story(item, candidates) == expected


def test_items_of_one_batch_sharing_a_url_do_not_link() -> None:
    candidates = Candidates(SOURCE)
    first = New(guid="episode-1", canonical_url=PAGE, content_hash="h1")
    candidates.add(1 << 62, -1, -1, first)

    assert choose_story(New(guid="episode-2", canonical_url=PAGE), candidates) is None


def test_a_batch_item_links_a_later_copy_from_the_same_content() -> None:
    candidates = Candidates(SOURCE)
    candidates.add(1 << 62, -1, -1, New(guid="a", content_hash="same"))

    assert choose_story(New(guid="b", content_hash="same"), candidates) == -1
