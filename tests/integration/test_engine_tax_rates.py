"""The engine checks the profile's tax rates against a recent copy of the administration's
before it books, and Moneybird's figures against its prediction before it sends or pays."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from ccvbird.adapters.db.store import SqlStore
from ccvbird.domain.administration import TaxRateInfo
from ccvbird.domain.sync import SyncState
from ccvbird.sandbox.moneybird import constants as mb
from ccvbird.service.sync import Outcome, Trigger
from tests.fakes import FakeBooks, FakeShop, FixedClock
from tests.integration.test_engine import connect, engine, paid_order


def _switch_off(books: FakeBooks, rate_id: str) -> None:
    rate = books.rates[rate_id]
    books.rates[rate_id] = TaxRateInfo(
        rate.id, rate.name, rate.percentage, rate.country, False, active=False
    )


def _orders(count: int) -> FakeShop:
    return FakeShop([paid_order(str(1001 + i), email=f"klant{i}@example.nl") for i in range(count)])


def test_the_rates_are_read_once_per_pass_and_when_older_than_the_limit(store: SqlStore) -> None:
    connection = connect(store)
    shop, books, clock = _orders(4), FakeBooks(), FixedClock()
    sync = engine(store, shop, books)
    sync.clock = clock
    sync.begin_pass(connection)
    for order_id in ("500001001", "500001002"):
        assert sync.sync_order(connection, order_id).outcome is Outcome.BOOKED
    assert books.tax_rate_reads == 1  # not a request per order

    clock.current += timedelta(minutes=9)
    sync.sync_order(connection, "500001003")
    assert books.tax_rate_reads == 1  # the copy is still fresh
    clock.current += timedelta(minutes=2)
    sync.sync_order(connection, "500001004")
    assert books.tax_rate_reads == 2  # older than 10 minutes: read again
    sync.begin_pass(connection)
    sync.sync_order(connection, "500001004")  # booked already: nothing to check
    assert books.tax_rate_reads == 2


def test_a_rate_switched_off_pauses_the_connection_before_the_next_booking(
    store: SqlStore,
) -> None:
    connection = connect(store)
    shop, books, clock = _orders(2), FakeBooks(), FixedClock()
    sync = engine(store, shop, books, tax_rate_refresh=timedelta(minutes=5))
    sync.clock = clock
    assert sync.sync_order(connection, "500001001").outcome is Outcome.BOOKED
    _switch_off(books, mb.TAX_RATE_9)  # a person switches the 9% rate off in Moneybird
    clock.current += timedelta(minutes=6)
    writes = books.summary()

    result = sync.sync_order(connection, "500001002", trigger=Trigger.WEBHOOK)

    assert result.outcome is Outcome.PAUSED
    paused = store.connection(connection)
    assert paused.paused_code == "profile_mismatch"
    assert paused.paused_params["fields"] == 'tax_rates.domestic."9"'
    assert 'tax_rates.domestic."9"' in paused.paused_reason
    assert "is not active in Moneybird" in paused.paused_reason  # what is wrong with it
    assert books.summary() == writes  # no contact, no invoice, no payment
    assert store.record(connection, "500001002").state is SyncState.WAITING


def test_a_changed_percentage_is_named_with_both_percentages(store: SqlStore) -> None:
    connection = connect(store)
    books = FakeBooks()
    rate = books.rates[mb.TAX_RATE_9]
    books.rates[mb.TAX_RATE_9] = TaxRateInfo(rate.id, rate.name, Decimal(21), None, True)
    result = engine(store, _orders(1), books).sync_order(connection, "500001001")
    assert result.outcome is Outcome.PAUSED
    paused = store.connection(connection)
    assert (paused.paused_code, paused.paused_params["fields"]) == (
        "profile_mismatch",
        'tax_rates.domestic."9"',
    )
    assert "is 9% VAT, but it is mapped to" in paused.paused_reason
    assert "of 21%; map it to a 9% rate" in paused.paused_reason
    assert books.summary() == {"invoices": 0, "payments": 0, "contacts": 0}


def test_a_draft_with_other_figures_is_deleted_and_a_retry_books_it_once(
    store: SqlStore,
) -> None:
    connection = connect(store)
    books = FakeBooks()
    sync = engine(store, _orders(1), books)
    sync.begin_pass(connection)
    sync.sync_order(connection, "500001001")  # reads the rates (and books the order)
    shop = FakeShop([paid_order("1002", email="nieuw@example.nl")])
    sync.shop = shop
    rate = books.rates[mb.TAX_RATE_9]  # after ccvbird's check, before the create
    books.rates[mb.TAX_RATE_9] = TaxRateInfo(rate.id, rate.name, Decimal(21), None, True)

    result = sync.sync_order(connection, "500001002")

    assert result.outcome is Outcome.PARKED
    assert result.record.reason_code == "moneybird_figures_differ"
    assert (
        f"VAT on tax rate {mb.TAX_RATE_9} (9% in the profile): ccvbird predicted 4.68, "
        "Moneybird computed 9.83"
    ) in result.record.reason
    assert books.invoices_for("1002") == []  # the draft is deleted
    assert "send_invoice" not in books.faults.log[-3:]
    assert "register_payment" not in books.faults.log[-3:]

    books.rates[mb.TAX_RATE_9] = rate
    sync.tax_rates.invalidate(connection)
    retried = sync.sync_order(connection, "500001002", trigger=Trigger.RETRY)
    assert retried.outcome is Outcome.BOOKED
    assert [i.state for i in books.invoices_for("1002")] == ["paid"]
