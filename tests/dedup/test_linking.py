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
    title: str = "Council approves the bridge"
    text: str = LONG
    canonical_url: str | None = None
    content_hash: str = "hash-new"
    fingerprint: bytes | None = None
    band_keys: tuple[int, ...] = ()


# (stored page rows, stored text rows) as (key, item id, story, source, guid).
Row = tuple[str, int, int, int, str]
TITLE = New.title


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
        candidates.add_stored_text(*row, TITLE)

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


def matcher(new: bytes, candidate: bytes) -> float | None:
    """Fingerprints here are the similarity they stand for, as text: b"0.55"."""
    score = float(candidate)
    return score if score >= 0.4 else None


EPISODE = "Stand Up: Ivan Petrov - school days"


@pytest.mark.parametrize(
    ("source", "guid", "title", "score", "expected"),
    [
        pytest.param(OTHER, "x", "Unrelated words entirely", "0.45", 70, id="other-feed-low"),
        pytest.param(OTHER, "x", "", "0.45", 70, id="other-feed-untitled"),
        pytest.param(SOURCE, "x", "UPDATED: " + TITLE, "0.65", 70, id="own-repost"),
        pytest.param(SOURCE, "x", TITLE, "0.45", None, id="own-repost-low"),
        pytest.param(SOURCE, "x", EPISODE, "0.95", None, id="own-template-other-title"),
        pytest.param(SOURCE, "x", "", "0.95", None, id="own-untitled"),
        pytest.param(SOURCE, "new", EPISODE, "0.45", 70, id="own-same-guid"),
    ],
)
def test_near_duplicates_of_the_same_feed_need_stronger_evidence(
    source: int, guid: str, title: str, score: str, expected: int | None
) -> None:
    candidates = Candidates(SOURCE, matcher)
    candidates.add_stored_band(11, 7)
    candidates.add_stored_fingerprint(7, 70, score.encode(), source, guid, title)
    item = New(title=TITLE if title else "", fingerprint=b"new", band_keys=(11,))

    assert choose_story(item, candidates) == expected


@pytest.mark.parametrize(
    ("source", "title", "expected"),
    [
        pytest.param(OTHER, "Show notes", 70, id="other-feed"),
        pytest.param(SOURCE, TITLE + " (corrected)", 70, id="own-repost"),
        pytest.param(SOURCE, "Episode 12: the bridge", None, id="own-next-episode"),
    ],
)
def test_the_same_text_in_the_same_feed_needs_a_like_title(
    source: int, title: str, expected: int | None
) -> None:
    candidates = Candidates(SOURCE)
    candidates.add_stored_text("hash-new", 7, 70, source, "x", title)

    assert choose_story(New(), candidates) == expected


def test_a_batch_item_of_the_same_feed_with_another_title_is_no_repost() -> None:
    candidates = Candidates(SOURCE, matcher)
    first = New(
        guid="a", title="Episode 1", content_hash="same", fingerprint=b"0.9", band_keys=(3,)
    )
    candidates.add(1 << 62, -1, -1, first)
    later = New(guid="b", title="Episode 2", content_hash="same", fingerprint=b"x", band_keys=(3,))

    assert choose_story(later, candidates) is None
