"""A history import books the credits of its period after their originals, on SQLite and
PostgreSQL: the period's CCV credit invoices are listed once, the orders among them are imported
with their credits, and the credits of orders booked before follow at the end. An order CCV
edited before crediting it is booked as CCV first invoiced it, then credited."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any

from ccvbird.adapters.db.store import SqlStore
from ccvbird.domain.credit_records import CreditState
from ccvbird.domain.errors import ServiceUnavailable
from ccvbird.domain.sync import SyncState
from ccvbird.service.passes import import_history
from tests.fakes import FakeBooks, FakeShop
from tests.integration.test_engine import connect, engine, paid_order
from tests.integration.test_engine_credit_paths import (
    _beans,
    beans_credit,
    credits_of,
    full_credit,
    with_credits,
)

SINCE = date(2020, 1, 1)
ORDER = "500001001"


def run_import(store: SqlStore, connection: int, shop: FakeShop, books: FakeBooks) -> Any:
    return import_history(
        connection, since=SINCE, engine=engine(store, shop, books), store=store, shop=shop
    )


def test_an_import_books_a_credited_order_then_its_credit_and_reads_no_credits_otherwise(
    store: SqlStore,
) -> None:
    connection = connect(store)
    shop = FakeShop([paid_order(), paid_order("1002", "piet@example.nl")])
    books = FakeBooks()
    shop.credit_invoices[ORDER] = [beans_credit(shop)]
    report = run_import(store, connection, shop, books)
    assert report.outcomes["booked"] == 2 and report.stopped_reason == ""
    (credit,) = credits_of(books)
    assert (credit.reference, credit.total) == ("1001-C1", Decimal("-27.25"))
    assert books.invoices[credit.original_id].total == Decimal("182.45")
    # one listing for the period; the order without a credit never asked about credits
    assert (shop.credit_listings, shop.credit_reads) == (1, 1)
    (record,) = store.credit_records(connection, ORDER)
    assert record.state is CreditState.BOOKED
    # a second import books nothing more
    run_import(store, connection, shop, books)
    assert len(credits_of(books)) == 1 and len(books.invoices) == 3


def test_an_import_books_the_credits_of_orders_booked_before_it(store: SqlStore) -> None:
    connection, shop, books = connect(store), FakeShop([paid_order()]), FakeBooks()
    run_import(store, connection, shop, books)
    assert credits_of(books) == []
    shop.credit_invoices[ORDER] = [beans_credit(shop), beans_credit(shop, "7002")]
    report = run_import(store, connection, shop, books)  # the order is settled: not in the stream
    assert report.outcomes["already_booked"] == 1
    references = sorted(c.reference for c in credits_of(books))
    assert references == ["1001-C1", "1001-C2"]
    assert all(c.state is CreditState.BOOKED for c in store.credit_records(connection, ORDER))


def test_an_import_leaves_alone_a_credited_order_it_never_invoiced(store: SqlStore) -> None:
    connection, shop, books = connect(store), FakeShop([]), FakeBooks()
    shop.credit_invoices["500009999"] = [
        dataclasses.replace(beans_credit(FakeShop([paid_order()])), order_id="500009999")
    ]
    report = run_import(store, connection, shop, books)
    assert books.invoices == {} and store.find_record(connection, "500009999") is None
    assert dict(report.outcomes) == {}


def test_an_import_credited_in_full_before_booking_books_neither_or_both(store: SqlStore) -> None:
    neither = connect(store, ccv_public="neither")
    shop, books = FakeShop([paid_order()]), FakeBooks()
    shop.credit_invoices[ORDER] = [full_credit(shop)]
    run_import(store, neither, shop, books)
    assert books.invoices == {}
    assert store.record(neither, ORDER).reason_code == "credited_before_booking"

    both = connect(store, ccv_public="both", profile=with_credits(credited_before_booking="both"))
    books = FakeBooks()
    run_import(store, both, shop, books)
    (credit,) = credits_of(books)
    assert (books.invoices[credit.original_id].total, credit.total) == (
        Decimal("182.45"), Decimal("-182.45"),
    )  # fmt: skip


def test_an_order_edited_before_its_credit_is_booked_as_ccv_first_invoiced_it(
    store: SqlStore,
) -> None:
    """CCV credits the difference between the order as edited and its invoices (§5.1): the
    order read now is one bag of beans short, its debit invoice says 182.45."""
    connection = connect(store)
    shop, books = FakeShop([_beans(paid_order(), 1)]), FakeBooks()
    credit = dataclasses.replace(beans_credit(shop), invoiced=Decimal("182.45"))
    shop.credit_invoices[ORDER] = [credit]
    run_import(store, connection, shop, books)
    (booked,) = credits_of(books)
    original = books.invoices[booked.original_id]
    assert (original.total, booked.total) == (Decimal("182.45"), Decimal("-27.25"))
    assert original.total + booked.total == shop.get_order(ORDER).total_paid
    record = store.record(connection, ORDER)
    assert (record.state, record.booked_total) == (SyncState.BOOKED, Decimal("182.45"))
    # read again later: the credit explains the lower amount
    result = engine(store, shop, books).sync_order(connection, ORDER)
    assert store.record(connection, ORDER).state is SyncState.BOOKED, result


def test_a_credit_listing_that_fails_stops_the_import_before_anything_is_booked(
    store: SqlStore,
) -> None:
    connection, shop, books = connect(store), FakeShop([paid_order()]), FakeBooks()

    def unavailable(**_: Any) -> list[str]:
        raise ServiceUnavailable("invoices: 503")

    shop.credited_orders = unavailable  # type: ignore[method-assign]
    report = run_import(store, connection, shop, books)
    assert "credit invoices" in report.stopped_reason
    assert books.invoices == {}
