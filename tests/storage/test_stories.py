"""Stories at the storage level: which items share one, tombstones, and pruning.

Fingerprints are the real ones from ``dedup.fingerprint``, and the matcher is the real
``match_encoded`` unless a test needs to show what the injected matcher decides.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from dedup.canonical import canonical_url
from dedup.fingerprint import encode, fingerprint, match_encoded
from dedup.linking import StoryLinker, StoryMatcher
from ingest.outcome import Outcome
from storage import ItemData, SaveResult, Storage, SummaryData
from storage.models import Story, Tombstone
from tests.conftest import SEED
from tests.storage.helpers import digest_days, raw_session, save_item

T0 = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
SUMMARY = SummaryData(algorithm="default", sentences=("A sentence.",))
NOTE = "This story was first published by a partner site and is republished with permission."
TRAM = (
    "The regional council voted on Tuesday to extend the tram line to the harbour, a project "
    "that has been debated for more than a decade. Supporters say the line will cut journeys "
    "by a third, while opponents warn about the cost overruns seen on the first section."
)
FERRY = (
    "Harbour authorities published plans for a new ferry terminal on Monday. The building "
    "would replace the old sheds on the north quay and open in three years, and fishermen "
    "were promised a separate consultation about the winter moorings they have always used."
)


def seed() -> tuple[str, list[str]]:
    title, _, body = SEED.read_text(encoding="utf-8").partition("\n")
    return title.strip(), [p.strip() for p in body.split("\n\n") if p.strip()]


def article(
    guid: str, text: str, title: str = "Title", url: str | None = None, canonical: str | None = None
) -> ItemData:
    """An item as the pipeline would hand it over: content hash and real fingerprint."""
    fp = fingerprint(text)
    return ItemData(
        guid=guid,
        title=title,
        text=text,
        content_hash=hashlib.sha256(f"{title}\n\n{text}".encode()).hexdigest(),
        url=url,
        canonical_url=canonical,
        fingerprint=encode(fp) if fp else None,
        band_keys=fp.band_keys if fp else (),
    )


@contextmanager
def open_store(url: str, matcher: StoryMatcher | None) -> Iterator[Storage]:
    storage = Storage.open(url, linker=StoryLinker(matcher))
    try:
        yield storage
    finally:
        storage.close()


@pytest.fixture
def store(database_url: str) -> Iterator[Storage]:
    with open_store(database_url, match_encoded) as storage:
        yield storage


def sources(store: Storage, *names: str) -> list[int]:
    return [store.ensure_source("feed", f"http://{name}.example/feed", name, T0) for name in names]


def count(store: Storage, model: type) -> int:
    with raw_session(store) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_same_canonical_url_in_two_sources_is_one_story(store: Storage) -> None:
    a, b = sources(store, "a", "b")
    page = "https://news.example/tram"
    first = save_item(store, a, article("a1", TRAM, canonical=page), SUMMARY, T0)
    # Another text entirely (a teaser): only the URL says it is the same article.
    second = save_item(store, b, article("b1", "Tram vote.", canonical=page), SUMMARY, T0)
    assert (first.outcome, first.linked) == (Outcome.NEW, False)
    assert (second.outcome, second.linked) == (Outcome.NEW, True)
    assert second.story_id == first.story_id is not None


def test_identical_content_in_two_sources_is_one_story(database_url: str) -> None:
    # No matcher: the content hash alone links them.
    with open_store(database_url, None) as exact_only:
        a, b = sources(exact_only, "a", "b")
        first = save_item(exact_only, a, article("a1", TRAM), SUMMARY, T0)
        second = save_item(exact_only, b, article("b1", TRAM), SUMMARY, T0)
    assert second.linked
    assert second.story_id == first.story_id


@pytest.mark.parametrize("text", ["", "The tram line will be extended to the harbour."])
def test_identical_short_content_alone_is_not_one_story(store: Storage, text: str) -> None:
    # Photo posts titled "Photo" with no words, untitled stubs from unrelated feeds: too
    # little text to say they are one article.
    a, b, c = sources(store, "a", "b", "c")
    first = save_item(store, a, article("a1", text, title="Photo"), SUMMARY, T0)
    other_feed = save_item(store, b, article("b1", text, title="Photo"), SUMMARY, T0)
    same_feed = store.save_items(a, [(article("a2", text, title="Photo"), SUMMARY)], now=T0)
    # The same guid in another feed is the same item syndicated.
    same_guid = save_item(store, c, article("a1", text, title="Photo"), SUMMARY, T0)

    assert not other_feed.linked and other_feed.story_id != first.story_id
    assert not same_feed[0].linked
    assert (same_guid.linked, same_guid.story_id) == (True, first.story_id)


def test_identical_short_content_under_one_canonical_url_is_one_story(store: Storage) -> None:
    a, b = sources(store, "a", "b")
    page = "https://news.example/tram"
    first = save_item(store, a, article("a1", "", canonical=page), SUMMARY, T0)
    second = save_item(store, b, article("b1", "", canonical=page), SUMMARY, T0)
    assert (second.linked, second.story_id) == (True, first.story_id)


SCHOOL = (
    "The new primary school on the hill opened its doors to two hundred pupils this week, "
    "after two years of building work and a long argument about the playground. Teachers "
    "said the classrooms were bright and quiet, and parents asked for a safer crossing."
)
EPISODES = [
    article(f"episode-{n}", text, f"Show {n}") for n, text in enumerate([TRAM, FERRY, SCHOOL])
]


def home_page(item: ItemData, page: str) -> ItemData:
    return replace(item, url=page, canonical_url=page)


def test_a_url_one_feed_gives_items_with_different_guids_links_nothing(store: Storage) -> None:
    # A podcast whose every episode links to the show's home page: one batch, then a
    # later episode, then another feed pointing at the same page.
    page = "https://show.example/"
    a, b = sources(store, "a", "b")
    batch = store.save_items(a, [(home_page(e, page), SUMMARY) for e in EPISODES[:2]], now=T0)
    later = save_item(store, a, home_page(EPISODES[2], page), SUMMARY, T0 + timedelta(days=7))
    teaser = article("b1", "Listen to the show.", canonical=page)
    elsewhere = save_item(store, b, teaser, SUMMARY, T0)

    stories = [result.story_id for result in [*batch, later, elsewhere]]
    assert len(set(stories)) == 4
    assert not any(result.linked for result in [*batch, later, elsewhere])


def test_posts_of_one_page_told_apart_by_fragment_are_separate_stories(store: Storage) -> None:
    # scripting.com's posts of a day: one page, each post an anchor; canonical URLs drop
    # the fragment, so only the guids tell the posts apart.
    [a] = sources(store, "a")
    posts = [
        replace(
            episode,
            guid=f"http://scripting.com/2017/06/26.html#{anchor}",
            url=f"http://scripting.com/2017/06/26.html#{anchor}",
            canonical_url=canonical_url(f"http://scripting.com/2017/06/26.html#{anchor}"),
        )
        for episode, anchor in zip(EPISODES, ["a080605", "a030658", "a090112"], strict=True)
    ]
    assert len({post.canonical_url for post in posts}) == 1
    first = store.save_items(a, [(post, SUMMARY) for post in posts[:2]], now=T0)
    later = save_item(store, a, posts[2], SUMMARY, T0 + timedelta(hours=5))

    assert len({result.story_id for result in [*first, later]}) == 3


def test_retouched_copy_of_the_seed_joins_the_seed_story(store: Storage) -> None:
    title, paragraphs = seed()
    original = article("seed", "\n\n".join(paragraphs), title=title)
    copy = article(
        "wire-1",
        "\n\n".join([*paragraphs[:-1], NOTE]),
        title=f"UPDATED: {title}",
        canonical="https://wire.example/ukraine-troops",
    )
    a, b = sources(store, "a", "b")
    first = save_item(store, a, original, SUMMARY, T0)
    second = save_item(store, b, copy, SUMMARY, T0 + timedelta(hours=1))
    assert (second.outcome, second.linked) == (Outcome.NEW, True)
    assert second.story_id == first.story_id


def test_the_injected_matcher_decides_between_band_candidates(database_url: str) -> None:
    title, paragraphs = seed()
    copy = "\n\n".join([*paragraphs[:-1], NOTE])
    with open_store(database_url, lambda new, candidate: None) as refuse:
        a, b = sources(refuse, "a", "b")
        first = save_item(refuse, a, article("s", "\n\n".join(paragraphs), title), SUMMARY, T0)
        second = save_item(refuse, b, article("c", copy, f"UPDATED: {title}"), SUMMARY, T0)
        assert not second.linked
        assert second.story_id != first.story_id


def test_copies_saved_in_concurrent_transactions_share_a_story(
    store: Storage, request: pytest.FixtureRequest
) -> None:
    """Two feeds stored at once by two workers: the copy's transaction runs while the
    original's has linked it but not yet committed. The second must still find the first
    (by waiting for it), or a copy is left in a story of its own."""
    a, b = sources(store, "a", "b")
    title, paragraphs = seed()
    text = "\n\n".join(paragraphs)
    linked_first = threading.Event()
    second_done = threading.Event()

    def hold_the_first_open(conn, cursor, statement: str, *args: object) -> None:  # type: ignore[no-untyped-def]
        if threading.current_thread().name == "first" and statement.lstrip().upper().startswith(
            "INSERT INTO ITEM_BANDS"
        ):
            linked_first.set()
            # Where the second waits for this transaction, this one goes on after a while.
            second_done.wait(timeout=1)

    results: dict[str, SaveResult] = {}

    def save(name: str, source: int, data: ItemData) -> None:
        results[name] = save_item(store, source, data, SUMMARY, T0)

    event.listen(store.engine, "before_cursor_execute", hold_the_first_open)
    first = threading.Thread(
        target=save, args=("first", a, article("seed", text, title)), name="first"
    )
    try:
        first.start()
        assert linked_first.wait(timeout=30)
        save("second", b, article("copy", f"{text}\n\n{NOTE}", f"UPDATED: {title}"))
        second_done.set()
        first.join(timeout=30)
    finally:
        second_done.set()
        event.remove(store.engine, "before_cursor_execute", hold_the_first_open)
    assert results["second"].linked
    assert results["second"].story_id == results["first"].story_id


def test_distinct_articles_are_distinct_stories(store: Storage) -> None:
    a, b = sources(store, "a", "b")
    title, paragraphs = seed()
    results = [
        save_item(store, a, article("tram", TRAM), SUMMARY, T0),
        save_item(store, b, article("ferry", FERRY), SUMMARY, T0),
        save_item(store, b, article("seed", "\n\n".join(paragraphs), title), SUMMARY, T0),
    ]
    assert not any(result.linked for result in results)
    assert len({result.story_id for result in results}) == 3


def test_short_texts_are_never_merged_on_similarity(database_url: str) -> None:
    # Even a matcher that calls everything the same story cannot merge texts too short
    # to fingerprint: they have no band keys, so they are never candidates.
    with open_store(database_url, lambda new, candidate: 1.0) as store:
        a, b = sources(store, "a", "b")
        brief = "Watch: the mayor opens the new tram stop on the harbour front this morning."
        other = "Watch: the mayor opens the new ferry stop on the harbour front this morning."
        assert fingerprint(brief) is None
        first = save_item(store, a, article("a1", brief), SUMMARY, T0)
        second = save_item(store, b, article("b1", other), SUMMARY, T0)
        assert not second.linked
        assert second.story_id != first.story_id


def test_an_update_in_place_keeps_the_story_and_counts_the_version(store: Storage) -> None:
    a, b = sources(store, "a", "b")
    title, paragraphs = seed()
    first = save_item(store, a, article("s", "\n\n".join(paragraphs), title), SUMMARY, T0)
    copy = article("c", "\n\n".join([*paragraphs, NOTE]), f"{title} | Wire")
    save_item(store, b, copy, SUMMARY, T0)
    edited = article("s", "\n\n".join(paragraphs[:-2]), f"{title} (corrected)")
    later = T0 + timedelta(hours=5)
    update = save_item(store, a, edited, SummaryData("default", ("Edited.",)), later)
    assert (update.outcome, update.first_seen, update.story_id) == (
        Outcome.UPDATED,
        T0,
        first.story_id,
    )
    stored = {item.guid: item for item in store.iter_items()}
    assert stored["s"].version == 2
    assert stored["s"].title == f"{title} (corrected)"
    assert stored["s"].summary == ("Edited.",)
    assert stored["c"].story_id == first.story_id


def test_stories_first_seen_groups_items_and_leads_with_the_first(store: Storage) -> None:
    a, b, c = sources(store, "a", "b", "c")
    title, paragraphs = seed()
    text = "\n\n".join(paragraphs)
    save_item(store, b, article("first", text, title), SUMMARY, T0)
    save_item(store, a, article("tram", TRAM), SUMMARY, T0 + timedelta(hours=1))
    save_item(
        store,
        c,
        article("copy", f"{text}\n\n{NOTE}", f"UPDATED: {title}"),
        SUMMARY,
        T0 + timedelta(hours=2),
    )
    # The next day's copy joins the story of the day it was first seen, not its own day.
    next_day = T0 + timedelta(days=1)
    save_item(store, a, article("late", "\n\n".join(paragraphs[:-1]), title), SUMMARY, next_day)

    day = datetime(2026, 11, 25, tzinfo=UTC)
    rows = store.stories_first_seen(day, day + timedelta(days=1))
    assert [row.lead.guid for row in rows] == ["first", "tram"]
    assert [item.guid for item in rows[0].items] == ["first", "copy", "late"]
    assert {item.source for item in rows[0].items} == {
        "http://a.example/feed",
        "http://b.example/feed",
        "http://c.example/feed",
    }
    assert store.stories_first_seen(day + timedelta(days=1), day + timedelta(days=2)) == []


def test_a_pruned_item_is_buried_under_its_guid_and_its_canonical_url(store: Storage) -> None:
    a, b = sources(store, "a", "b")
    page = "https://news.example/tram"
    save_item(store, a, article("a1", TRAM, canonical=page), SUMMARY, T0)
    now = T0 + timedelta(days=91)
    assert store.prune(T0 + timedelta(days=1), now) == 1
    again = save_item(store, a, article("a1", TRAM, canonical=page), SUMMARY, now)
    assert again.outcome == Outcome.BURIED
    assert again.story_id is None
    same_page = save_item(store, b, article("b1", FERRY, canonical=page), SUMMARY, now)
    assert same_page.outcome == Outcome.BURIED
    other_page = article("b2", FERRY, canonical="https://news.example/ferry")
    assert save_item(store, b, other_page, SUMMARY, now).outcome == Outcome.NEW
    assert store.count_items() == 1


def test_prune_deletes_in_batches_and_keeps_the_tombstones(store: Storage) -> None:
    [a] = sources(store, "a")
    for number in range(5):
        data = article(f"old{number}", f"{TRAM} {number}", canonical=f"https://x.example/{number}")
        save_item(store, a, data, SUMMARY, T0 + timedelta(minutes=number))
    save_item(store, a, article("new", FERRY), SUMMARY, T0 + timedelta(days=10))
    deletes: list[str] = []

    def note_delete(conn, cursor, statement: str, *args: object) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("DELETE FROM ITEMS"):
            deletes.append(statement)

    event.listen(store.engine, "before_cursor_execute", note_delete)
    try:
        pruned = store.prune(T0 + timedelta(days=1), T0 + timedelta(days=91), batch=2)
    finally:
        event.remove(store.engine, "before_cursor_execute", note_delete)
    assert pruned == 5
    assert len(deletes) == 3  # 2 + 2 + 1
    assert [item.guid for item in store.iter_items()] == ["new"]
    assert count(store, Tombstone) == 10  # an identity key and a URL key per item
    # A second prune finds nothing and leaves the tombstones as they are.
    assert store.prune(T0 + timedelta(days=1), T0 + timedelta(days=92), batch=2) == 0
    assert count(store, Tombstone) == 10


def test_prune_removes_orphaned_stories_and_leaves_digest_records(store: Storage) -> None:
    a, b = sources(store, "a", "b")
    title, paragraphs = seed()
    text = "\n\n".join(paragraphs)
    old_only = save_item(store, a, article("tram", TRAM), SUMMARY, T0)
    shared = save_item(store, a, article("seed", text, title), SUMMARY, T0)
    # A copy seen after the cut keeps its story alive, led now by the copy.
    late = T0 + timedelta(days=3)
    save_item(store, b, article("copy", f"{text}\n\n{NOTE}", f"UPDATED: {title}"), SUMMARY, late)
    store.record_digest(date(2026, 11, 25), T0 + timedelta(hours=20), "UTC", 2)

    assert store.prune(T0 + timedelta(days=1), T0 + timedelta(days=91)) == 2

    with raw_session(store) as session:
        remaining = set(session.scalars(select(Story.id)))
    assert remaining == {shared.story_id}
    assert old_only.story_id not in remaining
    assert digest_days(store) == [date(2026, 11, 25)]
    [row] = store.stories_first_seen(T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    assert row.lead.guid == "copy"
    assert [item.guid for item in row.items] == ["copy"]
