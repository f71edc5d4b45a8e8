"""Email deliveries: a day is claimed once per recipient list, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest

from storage import Claim, Storage

DAY = date(2026, 12, 5)
LIST = "a" * 64
OTHER_LIST = "b" * 64
T0 = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)
STALE = timedelta(minutes=10)


@pytest.fixture
def store(database_url: str) -> Iterator[Storage]:
    storage = Storage.open(database_url)
    yield storage
    storage.close()


def claim(store: Storage, now: datetime = T0, worker: str = "w1", *, resend: bool = False) -> Claim:
    return store.claim_delivery(
        DAY, LIST, worker=worker, now=now, stale_before=now - STALE, resend=resend
    )


def test_a_day_is_claimed_once_and_sent_once(store: Storage) -> None:
    first = claim(store)
    assert first.claimed and first.delivery.state == "sending" and first.delivery.attempts == 1
    assert not claim(store, worker="w2").claimed  # being sent
    assert store.record_sent(DAY, LIST, attempt=1, now=T0, message_id="<m1@x>")
    later = claim(store, T0 + timedelta(days=1), worker="w2")
    assert not later.claimed
    assert later.delivery.state == "sent"
    assert later.delivery.message_id == "<m1@x>"
    assert later.delivery.sent_at == T0


def test_each_recipient_list_gets_the_day(store: Storage) -> None:
    assert claim(store).claimed
    assert store.claim_delivery(
        DAY, OTHER_LIST, worker="w1", now=T0, stale_before=T0 - STALE
    ).claimed


def test_a_resend_claims_a_sent_day_again(store: Storage) -> None:
    claim(store)
    store.record_sent(DAY, LIST, attempt=1, now=T0, message_id="<m1@x>")
    again = claim(store, T0 + timedelta(hours=1), resend=True)
    assert again.claimed and again.delivery.attempts == 2
    assert store.record_sent(DAY, LIST, attempt=2, now=T0 + timedelta(hours=1), message_id="<m2@x>")
    assert store.delivery(DAY, LIST).message_id == "<m2@x>"


def test_a_day_sent_with_refused_recipients_keeps_their_replies(store: Storage) -> None:
    claim(store)
    refused = {"gone@example.org": "550 5.1.1 User unknown", "full@example.org": "552 full"}
    assert store.record_sent(DAY, LIST, attempt=1, now=T0, message_id="<m1@x>", refused=refused)
    delivery = store.delivery(DAY, LIST)
    assert (delivery.state, dict(delivery.refused)) == ("sent", refused)
    # A resend that every recipient took clears them.
    claim(store, T0 + timedelta(hours=1), resend=True)
    assert store.record_sent(DAY, LIST, attempt=2, now=T0, message_id="<m2@x>")
    assert store.delivery(DAY, LIST).refused == {}


def test_a_failed_day_stays_unsent_and_is_due_at_its_retry_time(store: Storage) -> None:
    claim(store)
    retry_at = T0 + timedelta(minutes=1)
    assert store.record_failed(DAY, LIST, attempt=1, error="550 no such user", retry_at=retry_at)
    failed = store.delivery(DAY, LIST)
    assert (failed.state, failed.last_error, failed.next_attempt_at) == (
        "failed",
        "550 no such user",
        retry_at,
    )
    assert store.deliveries_due(LIST, now=T0, stale_before=T0 - STALE) == []
    assert store.deliveries_due(LIST, now=retry_at, stale_before=T0 - STALE) == [DAY]
    retried = claim(store, retry_at)
    assert retried.claimed and retried.delivery.attempts == 2
    assert retried.delivery.next_attempt_at is None
    # The error of the last attempt stays visible while the retry is under way.
    assert retried.delivery.last_error == "550 no such user"


def test_a_claim_abandoned_mid_send_is_taken_over_once_stale(store: Storage) -> None:
    claim(store, worker="dead")
    fresh = T0 + STALE - timedelta(seconds=1)
    assert not claim(store, fresh, worker="w2").claimed
    assert store.deliveries_due(LIST, now=fresh, stale_before=fresh - STALE) == []
    late = T0 + STALE + timedelta(seconds=1)
    assert store.deliveries_due(LIST, now=late, stale_before=late - STALE) == [DAY]
    taken = claim(store, late, worker="w2")
    assert taken.claimed and taken.delivery.claimed_by == "w2"
    # The dead worker's claim is no longer its own: it cannot record an outcome.
    assert not store.record_sent(DAY, LIST, attempt=1, now=late, message_id="<late@x>")
    assert store.record_sent(DAY, LIST, attempt=2, now=late, message_id="<m2@x>")


def test_deliveries_list_the_newest_days_first(store: Storage) -> None:
    for offset in range(3):
        day = DAY - timedelta(days=offset)
        store.claim_delivery(day, LIST, worker="w", now=T0, stale_before=T0 - STALE)
    assert [d.day for d in store.deliveries(LIST, limit=2)] == [DAY, DAY - timedelta(days=1)]
    assert store.deliveries(OTHER_LIST) == []


def sent(store: Storage, day: date, recipients: str = LIST) -> None:
    claimed = store.claim_delivery(day, recipients, worker="w", now=T0, stale_before=T0 - STALE)
    assert claimed.claimed
    store.record_sent(day, recipients, attempt=1, now=T0, message_id=f"<{day}@x>")


def test_the_last_day_a_list_has_a_row_for_before_a_day(store: Storage) -> None:
    assert store.last_delivery_before(LIST, DAY) is None
    sent(store, DAY - timedelta(days=3))
    sent(store, DAY - timedelta(days=2))
    sent(store, DAY - timedelta(days=1), OTHER_LIST)  # another list's
    sent(store, DAY)  # not before DAY
    assert store.last_delivery_before(LIST, DAY) == DAY - timedelta(days=2)
    assert store.last_delivery_before(LIST, DAY - timedelta(days=2)) == DAY - timedelta(days=3)


def test_a_day_sent_to_another_list(store: Storage) -> None:
    assert not store.sent_to_other_list(DAY, LIST)
    sent(store, DAY)
    assert not store.sent_to_other_list(DAY, LIST)  # the list's own row
    store.claim_delivery(DAY, OTHER_LIST, worker="w", now=T0, stale_before=T0 - STALE)
    assert not store.sent_to_other_list(DAY, LIST)  # being sent is not sent
    store.record_sent(DAY, OTHER_LIST, attempt=1, now=T0, message_id="<o@x>")
    assert store.sent_to_other_list(DAY, LIST)
    assert store.sent_to_other_list(DAY, OTHER_LIST)


def test_pruning_deletes_the_rows_of_the_days_before_a_day(store: Storage) -> None:
    for offset in range(4):
        sent(store, DAY - timedelta(days=offset))
        sent(store, DAY - timedelta(days=offset), OTHER_LIST)
    assert store.prune_deliveries(DAY - timedelta(days=1)) == 4
    assert [d.day for d in store.deliveries(LIST)] == [DAY, DAY - timedelta(days=1)]
    assert [d.day for d in store.deliveries(OTHER_LIST)] == [DAY, DAY - timedelta(days=1)]
    assert store.prune_deliveries(DAY - timedelta(days=1)) == 0


def test_the_days_with_a_digest_written(store: Storage) -> None:
    for offset in (0, 1, 3, 5):
        store.record_digest(DAY - timedelta(days=offset), T0, "UTC", 2)
    assert store.digest_days(DAY - timedelta(days=4), DAY - timedelta(days=1)) == [
        DAY - timedelta(days=3),
        DAY - timedelta(days=1),
    ]
    assert store.digest_days(None, DAY - timedelta(days=3)) == [
        DAY - timedelta(days=5),
        DAY - timedelta(days=3),
    ]
    assert store.digest_days(DAY, DAY) == []


@pytest.mark.postgres
def test_concurrent_workers_claim_a_day_once(postgres_server: str) -> None:
    from tests.conftest import _reset_postgres

    _reset_postgres(postgres_server)
    stores = [Storage.open(postgres_server) for _ in range(8)]
    try:
        start = threading.Barrier(len(stores))

        def race(index: int, now: datetime, resend: bool = False) -> bool:
            start.wait()
            return (
                stores[index]
                .claim_delivery(
                    DAY, LIST, worker=f"w{index}", now=now, stale_before=now - STALE, resend=resend
                )
                .claimed
            )

        with ThreadPoolExecutor(len(stores)) as pool:
            first = list(pool.map(race, range(len(stores)), [T0] * len(stores)))
        assert first.count(True) == 1
        winner = stores[0].delivery(DAY, LIST)
        assert stores[0].record_failed(
            DAY, LIST, attempt=winner.attempts, error="down", retry_at=T0
        )
        # The retry of a failed day is a compare-and-set: one worker again.
        with ThreadPoolExecutor(len(stores)) as pool:
            retry = list(pool.map(race, range(len(stores)), [T0 + STALE] * len(stores)))
        assert retry.count(True) == 1
        assert stores[0].delivery(DAY, LIST).attempts == 2
    finally:
        for storage in stores:
            storage.close()
