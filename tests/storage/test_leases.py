"""Sharing one database between workers: feed leases, the cluster-wide lock, and item
inserts that two workers may race on. Times are explicit ``now`` values, never the clock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from ingest.outcome import Outcome
from storage import ItemData, SourceUpdate, Storage, SummaryData
from storage.models import Item, Source, Summary
from tests.storage.helpers import digest_days, raw_session
from tests.storage.timing import hold_commits, wait_until

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
LEASE = timedelta(minutes=10)
SUMMARY = SummaryData(algorithm="default", sentences=("The council voted.",))


def item(guid: str, text: str = "The council voted on the tram line.") -> ItemData:
    return ItemData(guid=guid, title=f"Story {guid}", text=text, content_hash=f"h-{guid}-{text}")


@pytest.fixture
def store(database_url: str) -> Iterator[Storage]:
    storage = Storage.open(database_url)
    yield storage
    storage.close()


@pytest.fixture
def other_store(database_url: str, store: Storage) -> Iterator[Storage]:
    """A second worker's view of the same database: its own engine and connections."""
    storage = Storage.open(database_url, migrate=False)
    yield storage
    storage.close()


def add_feeds(store: Storage, count: int, due: datetime = NOW) -> list[str]:
    urls = [f"http://feeds.example/{number}.xml" for number in range(count)]
    for url in urls:
        store.add_feed(url, due)
    return urls


def leases(store: Storage) -> dict[str, tuple[str | None, datetime | None]]:
    with raw_session(store) as session:
        rows = session.execute(select(Source.url, Source.lease_owner, Source.lease_until))
        return {url: (owner, until) for url, owner, until in rows}


def claimed_urls(store: Storage, worker: str, now: datetime, limit: int = 100) -> set[str]:
    return {feed.url for feed in store.claim_due_feeds(worker, now, LEASE, limit)}


def test_claim_gives_each_due_feed_to_one_worker(store: Storage, other_store: Storage) -> None:
    urls = add_feeds(store, 5)
    first = claimed_urls(store, "a", NOW, limit=3)
    second = claimed_urls(other_store, "b", NOW, limit=10)
    assert len(first) == 3
    assert first.isdisjoint(second)
    assert first | second == set(urls)
    assert claimed_urls(store, "c", NOW) == set()
    owners = leases(store)
    assert {owners[url] for url in first} == {("a", NOW + LEASE)}
    assert {owners[url] for url in second} == {("b", NOW + LEASE)}


def test_claim_takes_the_feeds_due_longest_first(store: Storage) -> None:
    store.add_feed("http://feeds.example/recent.xml", NOW)
    store.add_feed("http://feeds.example/overdue.xml", NOW - timedelta(hours=2))
    [feed] = store.claim_due_feeds("a", NOW, LEASE, 1)
    assert feed.url == "http://feeds.example/overdue.xml"


def test_a_leased_feed_is_not_claimed_again_until_its_lease_runs_out(
    store: Storage, other_store: Storage
) -> None:
    [url] = add_feeds(store, 1)
    assert claimed_urls(store, "a", NOW) == {url}
    assert claimed_urls(other_store, "b", NOW + LEASE - timedelta(seconds=1)) == set()
    assert leases(store)[url] == ("a", NOW + LEASE)
    # Worker a died without storing anything: its lease runs out and b takes over.
    assert claimed_urls(other_store, "b", NOW + LEASE) == {url}
    assert leases(store)[url] == ("b", NOW + LEASE + LEASE)


def test_storing_the_feeds_new_state_ends_its_lease(store: Storage) -> None:
    [url] = add_feeds(store, 1)
    [feed] = store.claim_due_feeds("a", NOW, LEASE, 1)
    store.save_items(
        feed.id,
        [(item("g1"), SUMMARY)],
        SourceUpdate(checked_at=NOW, next_check_at=NOW + timedelta(minutes=30)),
    )
    assert leases(store)[url] == (None, None)
    assert claimed_urls(store, "b", NOW + timedelta(minutes=29)) == set()
    assert claimed_urls(store, "b", NOW + timedelta(minutes=30)) == {url}


def test_a_failed_refresh_ends_the_lease_too(store: Storage) -> None:
    [url] = add_feeds(store, 1)
    [feed] = store.claim_due_feeds("a", NOW, LEASE, 1)
    # Due again at once (a retry): another worker may take it well before the lease's end.
    store.update_source(feed.id, SourceUpdate(checked_at=NOW, error="timed out", next_check_at=NOW))
    assert leases(store)[url] == (None, None)
    assert claimed_urls(store, "b", NOW + timedelta(seconds=1)) == {url}


def test_retired_feeds_and_feeds_not_yet_due_are_never_claimed(store: Storage) -> None:
    retired, later = add_feeds(store, 2)
    gone, _ = store.claim_due_feeds("a", NOW, LEASE, 2)
    assert gone.url == retired
    store.update_source(
        gone.id, SourceUpdate(checked_at=NOW, error="HTTP 410 Gone", retired_reason="410 Gone")
    )
    store.add_feed("http://feeds.example/new.xml", NOW + timedelta(hours=1))
    store.ensure_source("seed", "seed:a.txt", None, NOW)
    # later is still leased to a; new is not due yet; the seed is not a feed.
    assert claimed_urls(store, "b", NOW + timedelta(minutes=5)) == set()
    expected = {later, "http://feeds.example/new.xml"}
    assert claimed_urls(store, "b", NOW + timedelta(hours=1)) == expected
    assert claimed_urls(store, "c", NOW + timedelta(days=365)) == expected


def test_concurrent_save_of_the_same_items_stores_each_once(
    store: Storage, other_store: Storage
) -> None:
    source = store.ensure_source("feed", "http://feeds.example/0.xml", None, NOW)
    batch = [(item(f"g{number}"), SUMMARY) for number in range(30)]
    start = threading.Barrier(2)

    def save(storage: Storage) -> list[Outcome]:
        start.wait(timeout=10)
        return [result.outcome for result in storage.save_items(source, batch, now=NOW)]

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(save, [store, other_store]))
    for first, second in zip(*outcomes, strict=True):
        assert [first, second].count(Outcome.NEW) == 1
    assert_one_row_with_summary_per_guid(store, 30)


def assert_one_row_with_summary_per_guid(store: Storage, expected: int) -> None:
    with raw_session(store) as session:
        guids = session.execute(
            select(Item.guid, func.count(Summary.item_id))
            .outerjoin(Summary, Summary.item_id == Item.id)
            .group_by(Item.guid)
        ).all()
    assert len(guids) == expected
    assert all(summaries == 1 for _, summaries in guids)
    assert store.count_items() == expected


# -- PostgreSQL only: row locks, advisory locks, unique-index waits -------------------------


postgres_only = pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@pytest.fixture
def pg_stores(database_url: str) -> Iterator[list[Storage]]:
    """Four workers' storages on one database, each with its own engine."""
    stores = [Storage.open(database_url)]
    stores += [Storage.open(database_url, migrate=False) for _ in range(3)]
    yield stores
    for storage in stores:
        storage.close()


@postgres_only
def test_claim_skips_rows_another_transaction_holds_instead_of_waiting(
    pg_stores: list[Storage],
) -> None:
    holder, claimer = pg_stores[:2]
    urls = add_feeds(holder, 6)
    locked = urls[:2]
    with (
        ThreadPoolExecutor(1) as pool,
        holder.engine.connect() as connection,
        connection.begin(),
    ):
        # A claim in progress elsewhere: its rows stay locked until it commits (or, should
        # the claim below wait for them, until this block rolls back and frees it).
        connection.execute(select(Source.id).where(Source.url.in_(locked)).with_for_update())
        claim = pool.submit(claimed_urls, claimer, "b", NOW)
        try:
            assert claim.result(timeout=10) == set(urls[2:])
        except FutureTimeout:
            pytest.fail("the claim waited for rows locked by another transaction")
    assert claimed_urls(claimer, "b", NOW) == set(locked)


@postgres_only
def test_concurrent_claimers_get_disjoint_feeds(pg_stores: list[Storage]) -> None:
    urls = add_feeds(pg_stores[0], 120)
    start = threading.Barrier(len(pg_stores))

    def drain(worker: int) -> list[str]:
        start.wait(timeout=10)
        got: list[str] = []
        while batch := pg_stores[worker].claim_due_feeds(f"w{worker}", NOW, LEASE, 3):
            got.extend(feed.url for feed in batch)
        return got

    with ThreadPoolExecutor(len(pg_stores)) as pool:
        claims = list(pool.map(drain, range(len(pg_stores))))
    everything = [url for claim in claims for url in claim]
    assert sorted(everything) == sorted(urls)  # each feed once, none lost
    owners = leases(pg_stores[0])
    for worker, claim in enumerate(claims):
        assert {owners[url][0] for url in claim} <= {f"w{worker}"}


@postgres_only
def test_exclusive_is_held_by_one_connection_at_a_time(pg_stores: list[Storage]) -> None:
    first, second = pg_stores[:2]
    with first.exclusive("feedbrief:daily-digest") as mine:
        assert mine
        with second.exclusive("feedbrief:daily-digest") as theirs:
            assert not theirs
        with second.exclusive("feedbrief:another-job") as other_name:
            assert other_name
    with second.exclusive("feedbrief:daily-digest") as theirs_now:
        assert theirs_now


@postgres_only
def test_exclusive_is_released_when_its_holder_fails(pg_stores: list[Storage]) -> None:
    first, second = pg_stores[:2]
    with pytest.raises(RuntimeError), first.exclusive("feedbrief:daily-digest") as mine:
        assert mine
        raise RuntimeError("the digest could not be written")
    with second.exclusive("feedbrief:daily-digest") as theirs:
        assert theirs


def test_exclusive_is_always_granted_on_sqlite(sqlite_url: str) -> None:
    first, second = Storage.open(sqlite_url), Storage.open(sqlite_url)
    try:
        with (
            first.exclusive("feedbrief:daily-digest") as mine,
            second.exclusive("feedbrief:daily-digest") as theirs,
        ):
            assert (mine, theirs) == (True, True)
    finally:
        first.close()
        second.close()


def waiting_on_locks(storage: Storage) -> int:
    """Sessions of this database waiting for another transaction's lock."""
    with storage.engine.connect() as connection:
        return int(
            connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
            or 0
        )


@postgres_only
def test_an_insert_that_loses_the_race_on_the_unique_guid_joins_the_winners_row(
    pg_stores: list[Storage],
) -> None:
    first, second, observer = pg_stores[:3]
    source = first.ensure_source("feed", "http://feeds.example/0.xml", None, NOW)
    reached, release = hold_commits(first)
    later = NOW + timedelta(seconds=5)
    with ThreadPoolExecutor(2) as pool:
        winner = pool.submit(first.save_items, source, [(item("g1"), SUMMARY)], None, NOW)
        assert reached.wait(timeout=10), "the first insert never reached its commit"
        # The first row is inserted but not committed: the second insert must wait on the
        # unique index, then find the first one's row instead of failing.
        loser = pool.submit(
            second.save_items, source, [(item("g1", "Edited text."), SUMMARY)], None, later
        )

        wait_until(lambda: waiting_on_locks(observer) > 0, "the second insert to wait")
        release.set()
        [won] = winner.result(timeout=10)
        [lost] = loser.result(timeout=10)
    assert won.outcome == Outcome.NEW
    assert lost.outcome == Outcome.UPDATED
    assert lost.first_seen == NOW  # the winner's row, not a second one
    assert_one_row_with_summary_per_guid(observer, 1)
    [stored] = observer.iter_items()
    assert stored.text == "Edited text."


@postgres_only
def test_two_workers_recording_the_same_days_digest_at_once_both_succeed(
    pg_stores: list[Storage],
) -> None:
    first, second, observer = pg_stores[:3]
    reached, release = hold_commits(first)
    day = NOW.date()
    with ThreadPoolExecutor(2) as pool:
        earlier = pool.submit(first.record_digest, day, NOW, "UTC", 3)
        assert reached.wait(timeout=10), "the first record never reached its commit"
        later = pool.submit(second.record_digest, day, NOW + timedelta(seconds=1), "UTC", 4)
        wait_until(lambda: waiting_on_locks(observer) > 0, "the second record to wait")
        release.set()
        earlier.result(timeout=10)
        later.result(timeout=10)
    assert digest_days(observer) == [day]
    assert observer.digest_generated_at(day) == NOW + timedelta(seconds=1)


def test_any_feed_due_answers_what_a_claim_would_find(store: Storage) -> None:
    assert not store.any_feed_due(NOW)  # no feed at all
    [url] = add_feeds(store, 1, due=NOW)
    assert store.any_feed_due(NOW)
    assert claimed_urls(store, "w1", NOW) == {url}
    assert not store.any_feed_due(NOW)  # leased to w1
    assert store.any_feed_due(NOW + LEASE)  # the lease ran out
    store.release_leases()
    [feed] = store.sources("feed")
    store.update_source(feed.id, SourceUpdate(checked_at=NOW, next_check_at=NOW + LEASE))
    assert not store.any_feed_due(NOW)  # checked, next time not come
    assert store.any_feed_due(NOW + LEASE) == bool(claimed_urls(store, "w1", NOW + LEASE))
