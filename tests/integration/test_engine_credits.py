"""Credits of booked orders through the engine, on SQLite and PostgreSQL: a fault or crash at
every credit call (duplicate, rewrite, send, settle; lost answers) still books one credit."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ccvbird.adapters.db.store import SqlStore
from ccvbird.domain.credit_records import CreditState
from ccvbird.domain.credits import CcvCredit, CcvCreditRow, CcvCreditStatus
from ccvbird.service.sync import Trigger
from tests.fakes import Crash, FakeBooks, FakeShop, Faults
from tests.integration.test_engine import connect, engine, paid_order

ORDER = "500001001"


def returned_beans(shop: FakeShop) -> None:
    order = shop.get_order(ORDER)
    beans = order.rows[1]  # 2 × Bonen 54.50 at 9%: one returned, 27.25
    shop.credit_invoices[ORDER] = [
        CcvCredit(
            invoice_id="7001", number="C-7001", order_id=ORDER,
            created_at=datetime(2026, 6, 1, 9, tzinfo=UTC), status=CcvCreditStatus.REIMBURSED,
            rows=(CcvCreditRow("1", beans.row_id, beans.name, Decimal(1), Decimal("27.25"),
                               Decimal(9), Decimal("27.25")),),
            total=Decimal("27.25"),
        )
    ]  # fmt: skip


def credits_of(books: FakeBooks) -> list[object]:
    return [i for i in books.invoices.values() if i.original_id is not None]


def test_a_credit_invoice_of_a_booked_order_is_booked_once_and_a_repeat_does_nothing(
    store: SqlStore,
) -> None:
    connection, shop, books = connect(store), FakeShop([paid_order()]), FakeBooks()
    engine(store, shop, books).sync_order(connection, ORDER)
    # Before its first booking CCV is asked once what it credited already (an order credited
    # before booking is never booked as what is left of it)...
    assert shop.credit_reads == 1
    engine(store, shop, books).sync_order(connection, ORDER)
    assert shop.credit_reads == 1  # ...and a booked order nobody touched is not asked again
    returned_beans(shop)
    engine(store, shop, books).sync_order(connection, ORDER, trigger=Trigger.CREDIT)
    engine(store, shop, books).sync_order(connection, ORDER, trigger=Trigger.CREDIT)
    (credit,) = credits_of(books)
    assert (credit.reference, credit.total, credit.state) == ("1001-C1", Decimal("-27.25"), "paid")
    assert credit.lines == ((Decimal(-1), Decimal("27.25"), "470000000000010009"),)
    (record,) = store.credit_records(connection, ORDER)
    assert (record.state, record.total, record.settle_method) == (
        CreditState.BOOKED, Decimal("27.25"), "refund",
    )  # fmt: skip


@pytest.mark.parametrize("kind", ["after", "before", "crash_after", "crash_before", "5xx"])
def test_a_fault_at_every_credit_call_still_books_exactly_one_credit(
    store: SqlStore, kind: str
) -> None:
    clean_shop, clean = FakeShop([paid_order()]), FakeBooks()
    first = connect(store, ccv_public=f"clean-{kind}")
    engine(store, clean_shop, clean).sync_order(first, ORDER)
    booked_calls = clean.faults.calls
    returned_beans(clean_shop)
    engine(store, clean_shop, clean).sync_order(first, ORDER, trigger=Trigger.CREDIT)
    credit_calls = clean.faults.calls - booked_calls
    assert credit_calls >= 4
    for k in range(booked_calls + 1, booked_calls + credit_calls + 1):
        connection = connect(store, ccv_public=f"pub-{kind}-{k}")
        shop, books = FakeShop([paid_order()]), FakeBooks(Faults({k: kind}))
        engine(store, shop, books).sync_order(connection, ORDER)
        returned_beans(shop)
        for _attempt in range(6):
            try:
                engine(store, shop, books).sync_order(connection, ORDER, trigger=Trigger.CREDIT)
            except Crash:
                continue
            (record,) = store.credit_records(connection, ORDER)
            if record.state is CreditState.BOOKED:
                break
            record.next_attempt_at = None
        assert len(credits_of(books)) == 1, (kind, k, books.faults.log)
        assert store.credit_records(connection, ORDER)[0].state is CreditState.BOOKED, (kind, k)
