"""The connection's lease in the state database (SQLite and PostgreSQL), on a fixed clock: a
new token per acquisition, the edge to the microsecond, and writes fenced by the token."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ccvbird.adapters.db.lease import LEASE
from ccvbird.adapters.db.store import SqlStore
from ccvbird.domain.errors import LeaseLost, RecordMoved
from ccvbird.domain.sync import SyncState
from tests.fakes import FixedClock
from tests.integration.test_engine import connect


def written(store: SqlStore, connection: int, order_id: str) -> tuple[object, ...]:
    return (
        store.find_record(connection, order_id),
        [(e.event, e.message) for e in store.events(connection, order_id)],
    )


def test_the_lease_is_held_to_its_last_microsecond_and_then_another_worker_may_take_it(
    timed_store: SqlStore, clock: FixedClock
) -> None:
    connection = connect(timed_store)
    first = timed_store.acquire_lease(connection, "worker a")
    assert first is not None
    assert timed_store.acquire_lease(connection, "worker b") is None
    clock.current = first.until  # exactly the end: still A's
    assert timed_store.acquire_lease(connection, "worker b") is None
    clock.current = first.until + timedelta(microseconds=1)
    second = timed_store.acquire_lease(connection, "worker b")
    assert second is not None and second.token != first.token
    with pytest.raises(LeaseLost):
        first.renew()
    with pytest.raises(LeaseLost):
        first.keep()


def test_a_write_fenced_with_a_lost_lease_writes_nothing(
    timed_store: SqlStore, clock: FixedClock
) -> None:
    connection = connect(timed_store)
    record = timed_store.record(connection, "500001001")
    lease = timed_store.acquire_lease(connection, "worker a")
    assert lease is not None
    mine = timed_store.fenced(lease)
    record.state = SyncState.BOOKING
    mine.save(record, "booking.start")
    before = written(timed_store, connection, "500001001")

    clock.current += LEASE + timedelta(seconds=1)
    taken = timed_store.acquire_lease(connection, "worker b")
    assert taken is not None
    record.invoice_intent = True
    with pytest.raises(LeaseLost):
        mine.save(record, "invoice.create", "creating invoice 1001")
    with pytest.raises(LeaseLost):
        mine.pause(connection, "should not happen")
    with pytest.raises(LeaseLost):
        mine.remember_contact(connection, "sanne@example.nl", "4700")
    assert written(timed_store, connection, "500001001") == before
    assert timed_store.connection(connection).paused_reason == ""
    assert timed_store.contact_id_for(connection, "sanne@example.nl") is None
    timed_store.release_lease(lease)  # a lost lease frees nothing
    assert timed_store.acquire_lease(connection, "worker c") is None


def test_a_lease_that_ran_out_while_nobody_took_it_is_still_good(
    timed_store: SqlStore, clock: FixedClock
) -> None:
    connection = connect(timed_store)
    record = timed_store.record(connection, "500001001")
    lease = timed_store.acquire_lease(connection, "worker a")
    assert lease is not None
    clock.current += LEASE * 2  # no other worker came: nobody wrote in between
    timed_store.fenced(lease).save(record, "booking.start")
    assert lease.until == clock.current + LEASE  # the write renewed the lease
    assert timed_store.acquire_lease(connection, "worker b") is None


def test_a_record_someone_else_changed_is_not_overwritten(timed_store: SqlStore) -> None:
    connection = connect(timed_store)
    lease = timed_store.acquire_lease(connection, "worker a")
    assert lease is not None
    mine = timed_store.fenced(lease)
    record = timed_store.record(connection, "500001001")
    mine.save(record, "booking.start")

    theirs = timed_store.record(connection, "500001001")
    theirs.state, theirs.reason = SyncState.INVOICE_DELETED, "deleted in Moneybird"
    timed_store.save(theirs, "moneybird.invoice_deleted", theirs.reason)  # a webhook, unfenced
    before = written(timed_store, connection, "500001001")

    record.invoice_intent = True
    with pytest.raises(RecordMoved):
        mine.save(record, "invoice.create")
    assert written(timed_store, connection, "500001001") == before
