"""Orders invoiced before they are paid (``require_paid = false``) and booked orders read again
(``invoice_date = "booking_date"``), on a real state database with fakes that fail on command.

An unpaid order's invoice stays open until CCV says it is paid; then exactly one payment is
registered, dated the day ccvbird first saw it paid. A booked order read again the next day is
compared with the invoice date it was booked with, so a correct invoice is never flagged.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ccvbird.adapters.db.store import SqlStore
from ccvbird.domain.errors import RequestTimeout
from ccvbird.domain.sync import SyncState
from ccvbird.service.sync import Outcome, SyncEngine, Trigger
from ccvbird.service.triggers import poll
from tests.builders import example_profile_text
from tests.fakes import Crash, FakeBooks, FakeShop, Faults
from tests.integration.test_engine import connect, paid_order

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
ORDER = "500001001"


class ShopClock:
    """An injected clock like the real one: ``now`` in UTC, ``today`` in Amsterdam."""

    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def today(self) -> date:
        return self.current.astimezone(AMSTERDAM).date()


class Pending:
    """A queue that only remembers what was put on it."""

    def __init__(self) -> None:
        self.orders: list[str] = []

    def enqueue_order(self, connection_id: int, order_id: str, *, delay_seconds: float = 0) -> None:
        self.orders.append(order_id)


def profile(*, require_paid: bool = True, invoice_date: str = "order_date") -> str:
    text = example_profile_text()
    text = text.replace("require_paid = true", f"require_paid = {str(require_paid).lower()}", 1)
    return text.replace('invoice_date = "order_date"', f'invoice_date = "{invoice_date}"', 1)


def on_account(store: SqlStore, **options: Any) -> int:
    """A connection of a shop that sells on account: completed orders are invoiced unpaid."""
    return connect(store, profile=profile(require_paid=False), **options)


def unpaid(number: str = "1001", **facts: Any) -> dict[str, Any]:
    return paid_order(
        number, f"klant{number}@example.nl", is_paid=False, created="2026-11-20T10:00:00Z", **facts
    )


def mark_paid(shop: FakeShop, document: dict[str, Any], paid: bool = True) -> None:
    document["order"]["paid"] = paid
    shop.put(document)


def order_id(document: dict[str, Any]) -> str:
    return str(document["order"]["id"])


# -- require_paid = false -------------------------------------------------------------------------


def test_unpaid_orders_are_invoiced_and_sent_but_stay_open(store: SqlStore) -> None:
    connection = on_account(store)
    documents = [unpaid("1001"), unpaid("1002"), unpaid("1003")]
    shop, books = FakeShop(documents), FakeBooks()
    sync = SyncEngine(store=store, shop=shop, books=books, clock=ShopClock(datetime.now(UTC)))
    outcomes = [sync.sync_order(connection, order_id(d)).outcome for d in documents]
    assert outcomes == [Outcome.AWAITING_PAYMENT] * 3
    assert books.summary() == {"invoices": 3, "payments": 0, "contacts": 3}
    assert "register_payment" not in books.faults.log
    for invoice in books.invoices.values():
        assert invoice.state == "open" and invoice.number is not None
        assert invoice.remote().total_unpaid == invoice.total == Decimal("182.45")
    for document in documents:
        record = store.record(connection, order_id(document))
        assert record.state is SyncState.AWAITING_PAYMENT
        assert record.reason_code == "awaiting_payment"
        assert "not paid yet" in record.reason and record.invoice_number
        assert record.payment_id is None and record.sent
    counts = store.count_states(connection)
    assert counts[SyncState.AWAITING_PAYMENT] == 3 and SyncState.BOOKED not in counts
    listed = store.records(connection, states=[SyncState.AWAITING_PAYMENT])
    assert sorted(r.order_number for r in listed) == ["1001", "1002", "1003"]


def test_the_payment_is_registered_once_when_ccv_says_paid_dated_that_day(
    store: SqlStore,
) -> None:
    connection = on_account(store)
    documents = [unpaid("1001"), unpaid("1002"), unpaid("1003")]
    shop, books = FakeShop(documents), FakeBooks()
    clock = ShopClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
    sync = SyncEngine(store=store, shop=shop, books=books, clock=clock)
    for document in documents:
        sync.sync_order(connection, order_id(document))

    # Paid a week later; the webhook arrives at 23:30 UTC: the 29th in Amsterdam already.
    clock.current = datetime(2026, 11, 28, 23, 30, tzinfo=UTC)
    for document in documents:
        mark_paid(shop, document)
        result = sync.sync_order(connection, order_id(document), trigger=Trigger.WEBHOOK)
        assert result.outcome is Outcome.PAID
        assert result.record.state is SyncState.BOOKED and result.record.reason == ""
        assert result.record.payment_date == date(2026, 11, 29)
    assert books.summary()["payments"] == 3
    for invoice in books.invoices.values():
        assert invoice.state == "paid"
        ((payment_id, amount),) = invoice.payments
        assert amount == Decimal("182.45")
        assert books.payment_dates[payment_id] == date(2026, 11, 29)
        assert books.invoice_dates[invoice.id] == date(2026, 11, 20)  # the order date

    requests = books.requests
    clock.current += timedelta(days=1)
    for document in documents:  # a second webhook, a retry: nothing is paid again
        for trigger in (Trigger.WEBHOOK, Trigger.RETRY, Trigger.POLL):
            again = sync.sync_order(connection, order_id(document), trigger=trigger)
            assert again.outcome is Outcome.ALREADY_BOOKED
    assert books.requests == requests
    assert books.summary()["payments"] == 3
    events = [e.event for e in store.events(connection, order_id(documents[0]))]
    assert events.count("booked.awaiting_payment") == 1 and events.count("booked") == 1


@pytest.mark.parametrize("kind", ["after", "crash_after", "before", "crash_before", "5xx"])
def test_a_failed_payment_call_is_adopted_not_repeated(store: SqlStore, kind: str) -> None:
    connection = on_account(store)
    document = unpaid()
    shop, faults = FakeShop([document]), Faults()
    books = FakeBooks(faults)
    clock = ShopClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
    sync = SyncEngine(store=store, shop=shop, books=books, clock=clock)
    assert sync.sync_order(connection, ORDER).outcome is Outcome.AWAITING_PAYMENT

    mark_paid(shop, document)
    clock.current = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    # The invoice is read (is it paid already?), then the payment is registered: that call fails.
    faults.plan[faults.calls + 2] = kind
    outcomes: list[object] = []
    for _attempt in range(4):
        clock.current += timedelta(hours=12)  # retries come later, the next day: the date stays
        try:
            outcomes.append(sync.sync_order(connection, ORDER, trigger=Trigger.RETRY).outcome)
        except Crash:
            outcomes.append("crash")
        if outcomes[-1] in (Outcome.PAID, Outcome.ALREADY_BOOKED):
            break
    repeated = kind in ("before", "5xx", "crash_before")  # the first call never took effect
    assert faults.log.count("register_payment") == (2 if repeated else 1), faults.log
    (invoice,) = books.invoices.values()
    ((payment_id, _amount),) = invoice.payments
    assert invoice.state == "paid"
    assert books.payment_dates[payment_id] == date(2026, 11, 24)
    record = store.record(connection, ORDER)
    assert record.state is SyncState.BOOKED and record.payment_id == payment_id
    assert sync.sync_order(connection, ORDER, trigger=Trigger.WEBHOOK).outcome is (
        Outcome.ALREADY_BOOKED
    )
    assert len(invoice.payments) == 1


def test_a_lost_payment_answer_is_adopted(store: SqlStore) -> None:
    """The payment is registered, the answer is lost: the next run finds it on the invoice."""
    connection, document, shop, books, sync = open_world(store)
    sync.sync_order(connection, ORDER)
    original = books.faults.around

    def lose_the_payment_answer(name: str, action: Any) -> Any:
        if name == "register_payment":
            books.faults.around = original  # type: ignore[method-assign]
            action()
            raise RequestTimeout("register_payment: the answer was lost")
        return original(name, action)

    books.faults.around = lose_the_payment_answer  # type: ignore[method-assign]
    mark_paid(shop, document)
    assert sync.sync_order(connection, ORDER, trigger=Trigger.WEBHOOK).outcome is (
        Outcome.RETRY_LATER
    )
    assert store.record(connection, ORDER).payment_intent
    assert sync.sync_order(connection, ORDER, trigger=Trigger.POLL).outcome is Outcome.PAID
    assert books.summary()["payments"] == 1
    assert "register_payment" not in books.faults.log  # the retry only read the invoice
    assert [e.event for e in store.events(connection, ORDER)].count("payment.adopted") == 1


def test_polling_leaves_open_invoices_alone_until_ccv_says_paid(store: SqlStore) -> None:
    connection = on_account(store)
    documents = [unpaid("1001"), unpaid("1002"), unpaid("1003")]
    shop, books = FakeShop(documents), FakeBooks()
    clock = ShopClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
    sync = SyncEngine(store=store, shop=shop, books=books, clock=clock)
    for document in documents:
        sync.sync_order(connection, order_id(document))

    queue = Pending()
    poll(connection, store=store, shop=shop, queue=queue, clock=clock)
    assert queue.orders == []  # booked, unpaid, unchanged: nothing to read again
    reads = shop.reads

    mark_paid(shop, documents[1])  # no webhook: only the list page says so
    poll(connection, store=store, shop=shop, queue=queue, clock=clock)
    assert queue.orders == [order_id(documents[1])]
    assert shop.reads == reads
    for queued in queue.orders:
        assert sync.sync_order(connection, queued).outcome is Outcome.PAID
    assert books.summary()["payments"] == 1

    queue.orders.clear()
    poll(connection, store=store, shop=shop, queue=queue, clock=clock)
    assert queue.orders == []  # paid and booked now: settled


def test_a_status_change_of_an_unpaid_order_is_read_once(store: SqlStore) -> None:
    connection = on_account(store)
    document = unpaid(number="1001")
    shop, books = FakeShop([document]), FakeBooks()
    clock = ShopClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
    sync = SyncEngine(store=store, shop=shop, books=books, clock=clock)
    sync.sync_order(connection, ORDER)
    document["order"]["status"] = 5  # shipped: CCV sends orders.updated.status, not "paid"
    shop.put(document)
    queue = Pending()
    poll(connection, store=store, shop=shop, queue=queue, clock=clock)
    assert queue.orders == [ORDER]
    assert sync.sync_order(connection, ORDER).outcome is Outcome.AWAITING_PAYMENT
    queue.orders.clear()
    poll(connection, store=store, shop=shop, queue=queue, clock=clock)
    assert queue.orders == []
    assert books.summary()["payments"] == 0


def open_world(
    store: SqlStore,
) -> tuple[int, dict[str, Any], FakeShop, FakeBooks, SyncEngine]:
    """A connection on account, with one completed, unpaid order in the shop."""
    connection = on_account(store)
    document = unpaid()
    shop, books = FakeShop([document]), FakeBooks()
    sync = SyncEngine(store=store, shop=shop, books=books, clock=ShopClock(datetime.now(UTC)))
    return connection, document, shop, books, sync


def test_an_order_cancelled_before_it_was_paid_is_never_paid(store: SqlStore) -> None:
    connection, document, shop, books, sync = open_world(store)
    assert sync.sync_order(connection, ORDER).outcome is Outcome.AWAITING_PAYMENT

    document["order"]["status"] = 8
    shop.put(document)
    result = sync.sync_order(connection, ORDER, trigger=Trigger.WEBHOOK)
    assert result.outcome is Outcome.CHANGED
    assert result.record.state is SyncState.CHANGED
    assert result.record.reason_code == "cancelled_after_booking"
    assert "registers no payment" in result.record.reason

    mark_paid(shop, document)  # even when CCV then says paid
    for trigger in (Trigger.WEBHOOK, Trigger.RETRY):
        assert sync.sync_order(connection, ORDER, trigger=trigger).outcome is not Outcome.PAID
    assert books.summary()["payments"] == 0
    assert "register_payment" not in books.faults.log
    assert next(iter(books.invoices.values())).state == "open"
    assert store.record(connection, ORDER).payment_date is None


def test_an_open_invoice_whose_order_changed_is_flagged_and_not_paid(store: SqlStore) -> None:
    connection, document, shop, books, sync = open_world(store)
    sync.sync_order(connection, ORDER)
    changed = copy.deepcopy(document)
    changed["orderrows"]["items"][1]["total_price"] = Decimal("81.75")
    changed["orderrows"]["items"][1]["total_price_with_attributes"] = Decimal("81.75")
    changed["order"]["total_price"] = Decimal("209.70")
    changed["order"]["paid"] = True
    shop.put(changed)
    result = sync.sync_order(connection, ORDER, trigger=Trigger.WEBHOOK)
    assert result.outcome is Outcome.CHANGED
    assert "182.45" in result.record.reason and "209.70" in result.record.reason
    assert sync.sync_order(connection, ORDER, trigger=Trigger.RETRY).outcome is Outcome.CHANGED
    assert books.summary()["payments"] == 0


def test_a_payment_a_person_registered_in_moneybird_is_adopted(store: SqlStore) -> None:
    connection, document, shop, books, sync = open_world(store)
    sync.sync_order(connection, ORDER)
    (invoice,) = books.invoices.values()
    invoice.payments.append(("480000000000009999", invoice.total))  # the bank was reconciled
    invoice.state = "paid"
    mark_paid(shop, document)
    assert sync.sync_order(connection, ORDER, trigger=Trigger.WEBHOOK).outcome is Outcome.PAID
    assert len(invoice.payments) == 1
    assert store.record(connection, ORDER).payment_id == "480000000000009999"


def test_an_order_ccv_says_is_unpaid_is_never_paid_whatever_the_profile(store: SqlStore) -> None:
    """``require_paid = true``: paid when the booking began, unpaid again (a charge-back) before
    its payment was registered: the invoice stays open."""
    connection = connect(store)
    document = paid_order(created="2026-11-20T10:00:00Z")
    shop = FakeShop([document])
    books = FakeBooks(Faults({5: "crash_before"}))  # versions, contact, invoice, send, payment
    sync = SyncEngine(store=store, shop=shop, books=books, clock=ShopClock(datetime.now(UTC)))
    with pytest.raises(Crash):
        sync.sync_order(connection, ORDER)
    assert books.faults.log[-1] == "register_payment"
    mark_paid(shop, document, paid=False)
    assert sync.sync_order(connection, ORDER).outcome is Outcome.AWAITING_PAYMENT
    assert books.summary()["payments"] == 0
    mark_paid(shop, document)
    assert sync.sync_order(connection, ORDER).outcome is Outcome.PAID
    assert books.summary()["payments"] == 1


# -- invoice_date = "booking_date": a booked order read again -------------------------------------

ORDERED = "2026-10-23T12:00:00Z"
#: (booked at, read again at): a minute either side of midnight in Amsterdam, the night summer
#: time ends (25 October), a day later, and a day after summer time begins (29 March).
MOMENTS = {
    "midnight": (
        datetime(2026, 10, 24, 21, 59, tzinfo=UTC),
        datetime(2026, 10, 24, 22, 1, tzinfo=UTC),
    ),
    "dst_ends": (
        datetime(2026, 10, 24, 21, 59, tzinfo=UTC),
        datetime(2026, 10, 25, 23, 30, tzinfo=UTC),
    ),
    "dst_begins": (
        datetime(2026, 3, 28, 22, 59, tzinfo=UTC),
        datetime(2026, 3, 29, 22, 30, tzinfo=UTC),
    ),
}


def booked_then_read_again(
    store: SqlStore, policy: str, booked_at: datetime, ordered: str = ORDERED
) -> tuple[int, dict[str, Any], FakeShop, FakeBooks, ShopClock, SyncEngine]:
    connection = connect(store, profile=profile(invoice_date=policy), ccv_public=f"pub-{policy}")
    document = paid_order(created=ordered)
    shop, books, clock = FakeShop([document]), FakeBooks(), ShopClock(booked_at)
    sync = SyncEngine(store=store, shop=shop, books=books, clock=clock)
    assert sync.sync_order(connection, ORDER).outcome is Outcome.BOOKED
    return connection, document, shop, books, clock, sync


@pytest.mark.parametrize("moment", MOMENTS)
@pytest.mark.parametrize("policy", ["order_date", "booking_date"])
def test_a_booked_order_read_again_the_next_day_is_not_flagged(
    store: SqlStore, policy: str, moment: str
) -> None:
    booked_at, read_at = MOMENTS[moment]
    ordered = (booked_at - timedelta(days=1, hours=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    connection, _, _, books, clock, sync = booked_then_read_again(store, policy, booked_at, ordered)
    (invoice,) = books.invoices.values()
    booked_day = booked_at.astimezone(AMSTERDAM).date()
    expected = booked_day if policy == "booking_date" else booked_day - timedelta(days=1)
    assert books.invoice_dates[invoice.id] == expected
    assert store.record(connection, ORDER).invoice_date == expected
    assert read_at.astimezone(AMSTERDAM).date() > booked_day

    clock.current = read_at
    calls = books.requests
    for trigger in (Trigger.WEBHOOK, Trigger.RETRY, Trigger.POLL):
        result = sync.sync_order(connection, ORDER, trigger=trigger)
        assert result.outcome is Outcome.ALREADY_BOOKED, result.record.reason
        assert result.record.state is SyncState.BOOKED
    assert books.requests == calls


@pytest.mark.parametrize("policy", ["order_date", "booking_date"])
def test_a_real_change_the_next_day_is_still_flagged(store: SqlStore, policy: str) -> None:
    booked_at, read_at = MOMENTS["dst_ends"]
    connection, document, shop, _, clock, sync = booked_then_read_again(store, policy, booked_at)
    clock.current = read_at
    changed = copy.deepcopy(document)
    changed["orderrows"]["items"][1]["total_price"] = Decimal("81.75")
    changed["orderrows"]["items"][1]["total_price_with_attributes"] = Decimal("81.75")
    changed["order"]["total_price"] = Decimal("209.70")
    shop.put(changed)
    result = sync.sync_order(connection, ORDER, trigger=Trigger.WEBHOOK)
    assert result.outcome is Outcome.CHANGED
    assert "182.45" in result.record.reason and "209.70" in result.record.reason


@pytest.mark.parametrize("policy", ["order_date", "booking_date"])
def test_a_record_booked_before_the_invoice_date_was_kept_recovers_it(
    store: SqlStore, policy: str
) -> None:
    booked_at, read_at = MOMENTS["dst_ends"]
    connection, document, shop, _, clock, sync = booked_then_read_again(store, policy, booked_at)
    record = store.record(connection, ORDER)
    kept = record.invoice_date
    record.invoice_date = None  # as every record booked before this change
    store.save(record, "test", "a record from before the invoice date was kept")

    clock.current = read_at + timedelta(days=30)
    assert sync.sync_order(connection, ORDER, trigger=Trigger.WEBHOOK).outcome is (
        Outcome.ALREADY_BOOKED
    )
    assert store.record(connection, ORDER).invoice_date == kept
    assert "invoice_date.recovered" in [e.event for e in store.events(connection, ORDER)]

    changed = copy.deepcopy(document)
    changed["order"]["total_price"] = Decimal("209.70")
    changed["orderrows"]["items"][1]["total_price"] = Decimal("81.75")
    changed["orderrows"]["items"][1]["total_price_with_attributes"] = Decimal("81.75")
    shop.put(changed)
    assert sync.sync_order(connection, ORDER, trigger=Trigger.WEBHOOK).outcome is Outcome.CHANGED


def test_a_legacy_record_whose_order_changed_is_flagged(store: SqlStore) -> None:
    booked_at, read_at = MOMENTS["midnight"]
    connection, document, shop, _, clock, sync = booked_then_read_again(
        store, "booking_date", booked_at
    )
    record = store.record(connection, ORDER)
    record.invoice_date = None
    store.save(record, "test", "a record from before the invoice date was kept")
    changed = copy.deepcopy(document)
    changed["order"]["total_price"] = Decimal("209.70")
    changed["orderrows"]["items"][1]["total_price"] = Decimal("81.75")
    changed["orderrows"]["items"][1]["total_price_with_attributes"] = Decimal("81.75")
    shop.put(changed)
    clock.current = read_at
    assert sync.sync_order(connection, ORDER, trigger=Trigger.RETRY).outcome is Outcome.CHANGED
    assert store.record(connection, ORDER).invoice_date is None
