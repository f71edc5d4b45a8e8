from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import event, insert, inspect
from sqlalchemy.exc import DBAPIError, IntegrityError, NoResultFound

from ingest.outcome import Outcome
from storage import ItemData, SourceUpdate, Storage, SummaryData
from storage.fulltext import include_in_models
from storage.models import Base, Item
from tests.storage.helpers import save_item
from tests.storage.timing import hold_commits, wait_until

T0 = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


def item(guid: str = "g1", text: str = "Body.", title: str = "Title") -> ItemData:
    return ItemData(guid=guid, title=title, text=text, content_hash=f"h-{title}-{text}")


SUMMARY = SummaryData(algorithm="default", sentences=("Body.",))


@pytest.fixture
def store(database_url: str) -> Storage:
    storage = Storage.open(database_url)
    yield storage
    storage.close()


def test_migrations_create_exactly_the_models_schema(store: Storage) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": include_in_models})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_opening_twice_is_a_no_op_upgrade(database_url: str) -> None:
    Storage.open(database_url).close()
    storage = Storage.open(database_url)
    assert {"sources", "items", "summaries", "digests"} <= set(
        inspect(storage.engine).get_table_names()
    )
    storage.close()


def test_removing_a_source_removes_its_items_and_no_other(store: Storage) -> None:
    gone, _ = store.add_feed("http://gone.example/feed", T0)
    kept, _ = store.add_feed("http://kept.example/feed", T0)
    save_item(store, gone, item("a", "Doomed body text.", "Doomed"), SUMMARY, T0)
    save_item(store, kept, item("b", "Kept body text.", "Kept"), SUMMARY, T0)
    assert store.remove_source("http://gone.example/feed")
    assert store.count_items() == 1
    assert [hit.title for hit in store.search("body")] == ["Kept"]
    assert not store.remove_source("http://gone.example/feed")


def test_same_guid_twice_is_unchanged_and_stores_one_row(store: Storage) -> None:
    source = store.ensure_source("seed", "seed:a.txt", None, T0)
    assert save_item(store, source, item(), SUMMARY, T0)[:2] == (Outcome.NEW, T0)
    later = T0 + timedelta(hours=1)
    assert save_item(store, source, item(), SUMMARY, later)[:2] == (Outcome.UNCHANGED, T0)
    assert store.count_items() == 1


def test_changed_content_updates_in_place_and_keeps_first_seen(store: Storage) -> None:
    source = store.ensure_source("seed", "seed:a.txt", None, T0)
    save_item(store, source, item(), SUMMARY, T0)
    later = T0 + timedelta(days=2)
    new_summary = SummaryData(algorithm="default", sentences=("Edited.",))
    outcome, first_seen, *_ = save_item(store, source, item(text="Edited."), new_summary, later)
    assert (outcome, first_seen) == (Outcome.UPDATED, T0)
    [stored] = list(store.iter_items())
    assert stored.version == 2
    assert stored.text == "Edited."
    assert stored.summary == ("Edited.",)
    assert stored.first_seen_at == T0
    assert stored.updated_at == later


def test_uniqueness_is_enforced_by_the_database_not_only_by_code(store: Storage) -> None:
    source = store.ensure_source("seed", "seed:a.txt", None, T0)
    save_item(store, source, item(), SUMMARY, T0)
    row = {
        "source_id": source,
        "guid": "g1",
        "title": "t",
        "text": "x",
        "content_hash": "other",
        "first_seen_at": T0,
        "updated_at": T0,
        "version": 1,
    }
    with pytest.raises(IntegrityError), store.engine.begin() as connection:
        connection.execute(insert(Item), row)


def test_datetimes_come_back_aware_utc(store: Storage) -> None:
    source = store.ensure_source("feed", "http://example.com/feed", "Example", T0)
    local = T0.astimezone(ZoneInfo("America/New_York"))
    data = ItemData(guid="g", title="t", text="x", content_hash="h", published_at=local)
    save_item(store, source, data, SUMMARY, T0)
    [stored] = list(store.iter_items())
    assert stored.published_at == T0
    assert stored.published_at.tzinfo is UTC
    assert stored.source_title == "Example"


def test_stories_first_seen_is_half_open_and_ordered(store: Storage) -> None:
    source = store.ensure_source("seed", "seed:a.txt", None, T0)
    times = [T0 + timedelta(hours=h) for h in (3, 0, 1, 24)]
    for number, moment in enumerate(times):
        save_item(store, source, item(guid=f"g{number}", title=str(number)), SUMMARY, moment)
    found = store.stories_first_seen(T0, T0 + timedelta(hours=24))
    assert [row.lead.guid for row in found] == ["g1", "g2", "g0"]


def test_iter_items_pages_through_everything_and_filters_by_since(store: Storage) -> None:
    source = store.ensure_source("seed", "seed:a.txt", None, T0)
    for number in range(7):
        moment = T0 + timedelta(days=number)
        save_item(store, source, item(guid=f"g{number}", title=str(number)), SUMMARY, moment)
    assert [i.guid for i in store.iter_items(batch=3)] == [f"g{n}" for n in range(7)]
    since = T0 + timedelta(days=5)
    assert [i.guid for i in store.iter_items(since=since, batch=2)] == ["g5", "g6"]


def test_source_errors_are_counted_and_cleared_by_success(store: Storage) -> None:
    source = store.ensure_source("feed", "http://example.com/feed", None, T0)
    store.update_source(source, SourceUpdate(T0, error="HTTP 500"))
    store.update_source(source, SourceUpdate(T0, error="HTTP 502"))
    [state] = store.sources()
    assert (state.error_count, state.last_error) == (2, "HTTP 502")
    store.update_source(source, SourceUpdate(T0))
    [state] = store.sources()
    assert state.error_count == 0
    assert state.last_success_at == T0


def test_items_and_source_state_commit_together_or_not_at_all(store: Storage) -> None:
    source = store.ensure_source("feed", "http://example.com/feed", None, T0)
    good = (item(guid="a"), SUMMARY)
    clash = (ItemData(guid="b", title=None, text="x", content_hash="h"), SUMMARY)  # type: ignore[arg-type]
    update = SourceUpdate(T0, validators=True, etag='"v2"', next_check_at=T0)
    with pytest.raises(DBAPIError):
        store.save_items(source, [good, clash], update)
    assert store.count_items() == 0
    [state] = store.sources()
    assert state.etag is None and state.last_checked_at is None


def test_content_hashes_finds_stored_guids_in_batches(store: Storage) -> None:
    source = store.ensure_source("seed", "seed:a.txt", None, T0)
    rows = [(item(guid=f"g{n}", title=str(n)), SUMMARY) for n in range(1203)]
    store.save_items(source, rows, now=T0)
    hashes = store.content_hashes(source, [f"g{n}" for n in range(0, 1300, 100)])
    assert sorted(hashes) == sorted(f"g{n}" for n in range(0, 1203, 100))
    assert hashes["g5" + "00"] == "h-500-Body."


def test_first_seen_times_are_those_of_the_first_save(store: Storage) -> None:
    source = store.ensure_source("seed", "seed:a.txt", None, T0)
    other = store.ensure_source("seed", "seed:b.txt", None, T0)
    store.save_items(source, [(item(guid=f"g{n}"), SUMMARY) for n in range(1203)], now=T0)
    later = T0 + timedelta(days=2)
    store.save_items(source, [(item(guid="g7", text="Edited."), SUMMARY)], now=later)
    store.save_items(source, [(item(guid="g1300"), SUMMARY)], now=later)
    store.save_items(other, [(item(guid="g100"), SUMMARY)], now=later)
    times = store.first_seen_times(source, [f"g{n}" for n in range(1400)])
    assert len(times) == 1204 and times["g7"] == T0  # an update keeps its item's day
    assert {guid: moment for guid, moment in times.items() if moment != T0} == {"g1300": later}


def test_last_tick_is_the_newest_tick_of_any_worker(store: Storage) -> None:
    assert store.last_tick() is None
    store.record_tick("host-a:1", T0)
    store.record_tick("host-b:2", T0 + timedelta(minutes=5))
    store.record_tick("host-a:1", T0 + timedelta(minutes=2))
    assert store.last_tick() == T0 + timedelta(minutes=5)


def count_commits(storage: Storage) -> list[int]:
    commits: list[int] = []
    event.listen(storage.engine, "commit", lambda _connection: commits.append(1))
    return commits


def queued_saves(storage: Storage) -> int:
    return len(storage._saves._queued)


def test_saves_queued_behind_a_writer_share_one_transaction(store: Storage) -> None:
    sources = [store.ensure_source("feed", f"http://example.com/{n}", None, T0) for n in range(3)]
    commits = count_commits(store)
    reached, release = hold_commits(store)
    with ThreadPoolExecutor(3) as pool:
        first = pool.submit(store.save_items, sources[0], [(item("a"), SUMMARY)], None, T0)
        assert reached.wait(timeout=10)
        queued = [
            pool.submit(store.save_items, source, [(item(guid), SUMMARY)], None, T0)
            for source, guid in zip(sources[1:], "bc", strict=True)
        ]
        wait_until(lambda: queued_saves(store) == 2, "both saves to queue")
        release.set()
        results = [future.result(timeout=10) for future in (first, *queued)]
    assert [[r.outcome for r in result] for result in results] == [[Outcome.NEW]] * 3
    assert len(commits) == 2  # the held one, then both queued saves together
    assert store.count_items() == 3


def test_a_failing_save_in_a_group_fails_alone(store: Storage) -> None:
    sources = [store.ensure_source("feed", f"http://example.com/{n}", None, T0) for n in range(3)]
    bad = ItemData(guid="bad", title=None, text="x", content_hash="h")  # type: ignore[arg-type]
    update = SourceUpdate(T0, validators=True, etag='"v2"', next_check_at=T0)
    reached, release = hold_commits(store)
    with ThreadPoolExecutor(3) as pool:
        first = pool.submit(store.save_items, sources[0], [(item("a"), SUMMARY)], None, T0)
        assert reached.wait(timeout=10)
        good = pool.submit(store.save_items, sources[1], [(item("b"), SUMMARY)], update, T0)
        failing = pool.submit(store.save_items, sources[2], [(bad, SUMMARY)], update, T0)
        wait_until(lambda: queued_saves(store) == 2, "both saves to queue")
        release.set()
        assert first.result(timeout=10)[0].outcome == Outcome.NEW
        assert good.result(timeout=10)[0].outcome == Outcome.NEW
        with pytest.raises(DBAPIError):
            failing.result(timeout=10)
    states = {state.id: state for state in store.sources()}
    assert states[sources[1]].etag == '"v2"' and states[sources[1]].items == 1
    assert states[sources[2]].etag is None and states[sources[2]].items == 0


def test_saving_for_a_source_that_is_gone_fails(store: Storage) -> None:
    with pytest.raises(NoResultFound):
        store.save_items(12345, [(item(), SUMMARY)], SourceUpdate(T0))
    assert store.count_items() == 0


def test_add_feed_writes_the_options_given_and_keeps_the_others(store: Storage) -> None:
    url = "http://news.example/rss"
    store.add_feed(url, T0, interval=3600, category="World", weight=2.0, block="horoscope")

    # An OPML re-import names only the category: interval, weight and rules stay.
    _, created = store.add_feed(url, T0, category="Europe")

    state = store.source(url)
    assert created is False and state is not None
    assert (state.category, state.weight, state.interval_seconds) == ("Europe", 2.0, 3600)
    assert (state.block, state.keep) == ("horoscope", None)


def test_a_new_feed_weighs_one_and_has_no_category(store: Storage) -> None:
    store.add_feed("http://news.example/rss", T0)

    state = store.source("http://news.example/rss")
    assert state is not None and (state.category, state.weight) == (None, 1.0)


def test_story_items_carry_their_feed_options_and_text_only_when_asked(store: Storage) -> None:
    source, _ = store.add_feed("http://news.example/rss", T0, category="World", keep="bridge")
    data = ItemData(
        guid="g1", title="Bridge", text="The bridge opened.", content_hash="h1", language="de"
    )
    save_item(store, source, data, SUMMARY, T0)
    window = (T0 - timedelta(hours=1), T0 + timedelta(hours=1))

    [row] = store.stories_first_seen(*window)
    [with_text] = store.stories_first_seen(*window, with_text=True)

    lead = row.lead
    assert (lead.category, lead.weight, lead.keep, lead.block) == ("World", 1.0, "bridge", None)
    assert (lead.first_seen_at, lead.language, lead.summary) == (T0, "de", ("Body.",))
    assert lead.text is None
    assert with_text.lead.text == "The bridge opened."


def test_story_items_carry_text_only_for_the_sources_asked(store: Storage) -> None:
    ruled, _ = store.add_feed("http://ruled.example/rss", T0, block="casino")
    kept, _ = store.add_feed("http://kept.example/rss", T0, keep="bridge")
    store.add_feed("http://blank.example/rss", T0, block="", keep="")
    plain, _ = store.add_feed("http://plain.example/rss", T0)
    for source in (ruled, kept, plain):
        save_item(store, source, item(f"g{source}", text=f"Text {source}."), SUMMARY, T0)
    window = (T0 - timedelta(hours=1), T0 + timedelta(hours=1))

    def texts(with_text: bool | set[int]) -> dict[str, str | None]:
        rows = store.stories_first_seen(*window, with_text=with_text)
        return {i.source.split("/")[2]: i.text for row in rows for i in row.items}

    assert store.feeds_with_rules() == {ruled, kept}
    assert texts({ruled, kept}) == {
        "ruled.example": f"Text {ruled}.",
        "kept.example": f"Text {kept}.",
        "plain.example": None,
    }
    assert texts({plain}) == {
        "ruled.example": None,
        "kept.example": None,
        "plain.example": f"Text {plain}.",
    }
    assert set(texts(set()).values()) == set(texts(False).values()) == {None}
    assert None not in texts(True).values()
    # More source ids than a statement takes parameters (65,535 on PostgreSQL).
    assert None not in texts(set(range(1, 70_000))).values()


def test_save_outcomes_are_values_of_the_one_outcome_enum() -> None:
    from typing import get_args

    from storage import SaveOutcome

    assert set(get_args(SaveOutcome)) == {
        Outcome.NEW.value,
        Outcome.UPDATED.value,
        Outcome.UNCHANGED.value,
        Outcome.BURIED.value,
    }
