"""Credit records in the state database (SQLite and PostgreSQL): numbered once per order, saved
only over the version read, fenced by the lease, logged on the order."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ccvbird.adapters.db.store import SqlStore
from ccvbird.domain.credit_records import CreditState
from ccvbird.domain.errors import LeaseLost, RecordMoved
from tests.integration.test_engine import connect


def reference(seq: int) -> str:
    return f"1001-C{seq}"


def test_each_credit_of_an_order_gets_the_next_number_once(store: SqlStore) -> None:
    connection = connect(store)
    first = store.credit_record(connection, "7001", "ccv:1", reference)
    second = store.credit_record(connection, "7001", "cancel", reference)
    again = store.credit_record(connection, "7001", "ccv:1", reference)
    other = store.credit_record(connection, "7002", "ccv:9", reference)
    assert (first.seq, first.reference, second.seq, second.reference) == (
        1,
        "1001-C1",
        2,
        "1001-C2",
    )
    assert (again.seq, other.seq) == (1, 1)
    assert [c.credit_key for c in store.credit_records(connection, "7001")] == ["ccv:1", "cancel"]


def test_a_saved_credit_reads_back_with_its_decimals_and_reason(store: SqlStore) -> None:
    connection = connect(store)
    store.record(connection, "7001")
    record = store.credit_record(connection, "7001", "ccv:1", reference)
    record.state = CreditState.PARKED
    record.reason_code, record.reason_params = "credit_exceeds_remaining", {"amount": "9.72"}
    record.total = Decimal("9.72")
    record.vat = {"9": Decimal("-0.80")}
    record.quantities = {"900000001": Decimal("1.5")}
    record.credit_intent = True
    store.save_credit(record, "credit_parked", "too much")
    (read,) = store.credit_records(connection, "7001")
    assert (read.state, read.reason_code, dict(read.reason_params)) == (
        CreditState.PARKED, "credit_exceeds_remaining", {"amount": "9.72"},
    )  # fmt: skip
    assert (read.total, dict(read.vat), dict(read.quantities)) == (
        Decimal("9.72"), {"9": Decimal("-0.80")}, {"900000001": Decimal("1.5")},
    )  # fmt: skip
    assert read.credit_intent and read.version == 1
    assert [(e.event, e.message) for e in store.events(connection, "7001")][-1] == (
        "credit_parked",
        "1001-C1: too much",
    )
    assert store.count_credit_states(connection) == {CreditState.PARKED: 1}


def test_a_fenced_save_over_a_stale_version_or_a_lost_lease_writes_nothing(
    store: SqlStore,
) -> None:
    connection = connect(store)
    lease = store.acquire_lease(connection, "worker a")
    assert lease is not None
    fenced = store.fenced(lease)
    record = store.credit_record(connection, "7001", "ccv:1", reference)
    stale = store.credit_record(connection, "7001", "ccv:1", reference)
    record.credit_id = "m1"
    fenced.save_credit(record, "credit_created")
    stale.credit_id = "m2"
    with pytest.raises(RecordMoved):
        fenced.save_credit(stale, "credit_created")
    store.release_lease(lease)
    assert store.acquire_lease(connection, "worker b") is not None
    record.sent = True
    with pytest.raises(LeaseLost):
        fenced.save_credit(record, "credit_sent")
    (read,) = store.credit_records(connection, "7001")
    assert (read.credit_id, read.sent) == ("m1", False)
