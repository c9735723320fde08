"""Credits beyond the basic path, on SQLite and PostgreSQL: cancellations (ask / credit, and
``credit_order``), credits that wait for their original, credits before booking, an amount that
went down, and the due-retry scheduler."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from ccvbird.adapters.ccvshop.webhooks import REGISTERED_EVENTS
from ccvbird.adapters.db.store import SqlStore
from ccvbird.domain.credit_records import CreditState
from ccvbird.domain.credits import CcvCredit, CcvCreditRow, CcvCreditStatus
from ccvbird.domain.sync import SyncState
from ccvbird.service.sync import (
    CANCELLED_AFTER_BOOKING_ASK,
    CREDITED_BEFORE_BOOKING,
    CreditOutcome,
    Outcome,
    SyncEngine,
    Trigger,
)
from ccvbird.service.triggers import enqueue_due
from ccvbird.service.webhooks import Delivery, receive_ccv_delivery
from tests.builders import example_profile_text
from tests.fakes import FakeBooks, FakeShop, FixedClock
from tests.integration.test_engine import connect, engine, paid_order

ORDER = "500001001"


def with_credits(**keys: str) -> str:
    """The example profile with ``[credits]`` keys set."""
    text = example_profile_text()
    for key, value in keys.items():
        line = f'{key} = "{value}"'
        if re.search(rf"^{key} = ", text, flags=re.MULTILINE):
            text = re.sub(rf"^{key} = .*$", line, text, count=1, flags=re.MULTILINE)
        else:
            text = text.replace("[credits]\n", f"[credits]\n{line}\n", 1)
    return text


def cancelled(document: dict[str, Any]) -> dict[str, Any]:
    document["order"]["status"] = 8
    return document


def beans_credit(shop: FakeShop, invoice_id: str = "7001", count: int = 1) -> CcvCredit:
    order = shop.get_order(ORDER)
    beans = order.rows[1]  # 2 × Bonen 54.50 at 9%
    amount = Decimal("27.25") * count
    return CcvCredit(
        invoice_id=invoice_id, number=f"C-{invoice_id}", order_id=ORDER,
        created_at=datetime(2026, 6, 1, 9, tzinfo=UTC), status=CcvCreditStatus.REIMBURSED,
        rows=(CcvCreditRow("1", beans.row_id, beans.name, Decimal(count), Decimal("27.25"),
                           Decimal(9), amount),),
        total=amount,
    )  # fmt: skip


def credits_of(books: FakeBooks) -> list[Any]:
    return [i for i in books.invoices.values() if i.original_id is not None]


# -- cancellations ------------------------------------------------------------------------------


def test_a_cancellation_asks_a_person_and_credit_order_credits_it_in_full_once(
    store: SqlStore,
) -> None:
    connection, shop, books = connect(store), FakeShop([paid_order()]), FakeBooks()
    engine(store, shop, books).sync_order(connection, ORDER)
    shop.put(cancelled(paid_order()))
    result = engine(store, shop, books).sync_order(connection, ORDER, trigger=Trigger.WEBHOOK)
    assert result.outcome is Outcome.PARKED
    record = store.record(connection, ORDER)
    assert (record.state, record.reason_code) == (
        SyncState.NEEDS_ATTENTION, CANCELLED_AFTER_BOOKING_ASK,
    )  # fmt: skip
    assert "ccvbird credit 1001" in record.reason
    assert credits_of(books) == []
    # a repeat (poll, retry) asks again without writing or booking anything
    version = record.version
    engine(store, shop, books).sync_order(connection, ORDER, trigger=Trigger.RETRY)
    assert store.record(connection, ORDER).version == version

    done = engine(store, shop, books).credit_order(connection, ORDER)
    assert (done.outcome, done.reason_code) == (CreditOutcome.CREDITED, "credited")
    (credit,) = credits_of(books)
    assert (credit.reference, credit.total) == ("1001-C1", Decimal("-182.45"))
    original = books.invoices[credit.original_id]
    assert original.total == Decimal("182.45")
    record = store.record(connection, ORDER)
    assert (record.state, record.reason_code) == (SyncState.BOOKED, "")
    again = engine(store, shop, books).credit_order(connection, ORDER)
    assert again.outcome is CreditOutcome.ALREADY_CREDITED
    engine(store, shop, books).sync_order(connection, ORDER, trigger=Trigger.CREDIT)
    assert len(credits_of(books)) == 1
    assert store.record(connection, ORDER).state is SyncState.BOOKED


def test_credit_order_refuses_what_it_cannot_credit_with_a_reason_code(store: SqlStore) -> None:
    connection, shop, books = connect(store), FakeShop([paid_order()]), FakeBooks()
    sync = engine(store, shop, books)
    assert sync.credit_order(connection, ORDER).outcome is CreditOutcome.NOT_FOUND
    sync.sync_order(connection, ORDER)
    refused = sync.credit_order(connection, ORDER)
    assert (refused.outcome, refused.reason_code) == (CreditOutcome.NOT_CANCELLED, "not_cancelled")
    unbooked = FakeShop([cancelled(paid_order("1002"))])
    engine(store, unbooked, books).sync_order(connection, "500001002")
    refused = engine(store, unbooked, books).credit_order(connection, "500001002")
    assert (refused.outcome, refused.reason_code) == (CreditOutcome.NOT_BOOKED, "not_booked")
    assert credits_of(books) == []


def test_cancellations_credit_books_the_full_credit_by_itself(store: SqlStore) -> None:
    connection = connect(store, profile=with_credits(cancellations="credit"))
    shop, books = FakeShop([paid_order()]), FakeBooks()
    engine(store, shop, books).sync_order(connection, ORDER)
    shop.put(cancelled(paid_order()))
    engine(store, shop, books).sync_order(connection, ORDER, trigger=Trigger.WEBHOOK)
    (credit,) = credits_of(books)
    assert (credit.reference, credit.total, credit.state) == (
        "1001-C1", Decimal("-182.45"), "paid",
    )  # fmt: skip
    assert store.record(connection, ORDER).state is SyncState.BOOKED
    (record,) = store.credit_records(connection, ORDER)
    assert (record.credit_key, record.state, record.settle_method) == (
        "cancel", CreditState.BOOKED, "refund",
    )  # fmt: skip


# -- waiting for the original, and the due-retry scheduler ---------------------------------------


def test_a_credit_of_an_order_not_booked_yet_waits_and_follows_its_booking(
    store: SqlStore,
) -> None:
    connection = connect(store)
    document = paid_order(status=6)  # paid, not completed yet
    shop, books = FakeShop([document]), FakeBooks()
    shop.credit_invoices[ORDER] = [beans_credit(shop)]
    result = engine(store, shop, books).sync_order(connection, ORDER, trigger=Trigger.CREDIT)
    assert result.outcome is Outcome.WAITING
    (waiting,) = store.credit_records(connection, ORDER)
    assert (waiting.state, waiting.reference, waiting.total) == (
        CreditState.WAITING, "1001-C1", Decimal("27.25"),
    )  # fmt: skip
    assert books.invoices == {}
    document["order"]["status"] = 7  # completed: due now; its webhook says nothing of credits
    shop.put(document)
    booked = engine(store, shop, books).sync_order(connection, ORDER, trigger=Trigger.WEBHOOK)
    assert booked.outcome is Outcome.BOOKED
    (credit,) = credits_of(books)
    assert (credit.reference, credit.total) == ("1001-C1", Decimal("-27.25"))
    assert store.credit_records(connection, ORDER)[0].state is CreditState.BOOKED


def test_a_credit_retry_due_hours_later_is_taken_up_by_the_scheduler(store: SqlStore) -> None:
    connection, shop = connect(store), FakeShop([paid_order()])
    books = FakeBooks()
    clock = FixedClock()
    sync = SyncEngine(store=store, shop=shop, books=books, clock=clock)
    sync.sync_order(connection, ORDER)
    shop.credit_invoices[ORDER] = [beans_credit(shop)]
    books.faults.plan[books.faults.calls + 1] = "5xx"  # the duplicate fails: retried later
    sync.sync_order(connection, ORDER, trigger=Trigger.CREDIT)
    (credit,) = store.credit_records(connection, ORDER)
    assert credit.state is CreditState.BOOKING and credit.next_attempt_at is not None
    queued: list[str] = []

    def due() -> int:
        return enqueue_due(connection, store=store, clock=clock, enqueue=queued.append)

    clock.current = credit.next_attempt_at - timedelta(seconds=1)
    assert due() == 0  # the near side: not yet
    clock.current = credit.next_attempt_at + timedelta(hours=5)
    assert due() == 1 and queued == [ORDER]  # the far side: taken up, whatever the order's date
    assert due() == 0  # claimed: a second tick does not take it again
    sync.sync_order(connection, ORDER, trigger=Trigger.RETRY)
    assert store.credit_records(connection, ORDER)[0].state is CreditState.BOOKED
    assert len(credits_of(books)) == 1


# -- credited before booking ----------------------------------------------------------------------


def full_credit(shop: FakeShop) -> CcvCredit:
    """Everything of ``paid_order()`` back: 121.00 + 54.50 + shipping 6.95."""
    mill, beans = shop.get_order(ORDER).rows
    rows = (
        CcvCreditRow(
            "1",
            mill.row_id,
            mill.name,
            Decimal(1),
            Decimal("121.00"),
            Decimal(21),
            Decimal("121.00"),
        ),
        CcvCreditRow(
            "2",
            beans.row_id,
            beans.name,
            Decimal(2),
            Decimal("27.25"),
            Decimal(9),
            Decimal("54.50"),
        ),
    )
    return CcvCredit(
        invoice_id="7009", number="C-7009", order_id=ORDER,
        created_at=datetime(2026, 6, 1, 9, tzinfo=UTC), status=CcvCreditStatus.REIMBURSED,
        rows=rows, shipping=Decimal("6.95"), total=Decimal("182.45"),
    )  # fmt: skip


def test_an_order_credited_in_full_before_booking_is_booked_neither_by_default(
    store: SqlStore,
) -> None:
    connection, shop, books = connect(store), FakeShop([paid_order()]), FakeBooks()
    shop.credit_invoices[ORDER] = [full_credit(shop)]
    result = engine(store, shop, books).sync_order(connection, ORDER, trigger=Trigger.CREDIT)
    assert result.outcome is Outcome.SKIPPED
    record = store.record(connection, ORDER)
    assert (record.state, record.reason_code) == (SyncState.SKIPPED, CREDITED_BEFORE_BOOKING)
    assert "Credited before booking" in record.reason
    assert books.invoices == {}


def test_credited_before_booking_both_books_the_invoice_then_its_credit(store: SqlStore) -> None:
    connection = connect(store, profile=with_credits(credited_before_booking="both"))
    shop, books = FakeShop([paid_order()]), FakeBooks()
    shop.credit_invoices[ORDER] = [full_credit(shop)]
    result = engine(store, shop, books).sync_order(connection, ORDER, trigger=Trigger.CREDIT)
    assert result.outcome is Outcome.BOOKED
    (credit,) = credits_of(books)
    original = books.invoices[credit.original_id]
    assert (original.total, credit.total) == (Decimal("182.45"), Decimal("-182.45"))
    assert store.credit_records(connection, ORDER)[0].state is CreditState.BOOKED


# -- credit webhooks ---------------------------------------------------------------------------


class _Queue:
    def __init__(self) -> None:
        self.queued: list[tuple[int, str]] = []

    def enqueue_order(self, connection_id: int, order_id: str) -> None:
        self.queued.append((connection_id, order_id))


def test_invoice_and_return_webhooks_find_their_order_and_book_its_credit(
    store: SqlStore,
) -> None:
    connection, shop, books = connect(store), FakeShop([paid_order()]), FakeBooks()
    engine(store, shop, books).sync_order(connection, ORDER)
    shop.credit_invoices[ORDER] = [beans_credit(shop)]
    shop.sources[("invoice", "7001")] = ORDER
    shop.sources[("return", "55")] = ORDER
    queue = _Queue()
    for event, body in (
        ("invoices.updated.status", b'{"id": 7001, "href": "https://shop.test/invoices/7001"}'),
        ("returns.created", b'{"id": 55, "href": "https://shop.test/returns/55"}'),
        ("products.updated", b'{"id": 9, "href": "https://shop.test/products/9"}'),
    ):
        delivery = Delivery(connection, event, body.split(b" ")[1].rstrip(b",").decode(), body)
        receive_ccv_delivery(delivery, store=store, queue=queue)
    assert queue.queued == [(connection, "invoice:7001"), (connection, "return:55")]
    for _, target in queue.queued:
        result = engine(store, shop, books).sync_order(connection, target)
        assert result.record.order_id == ORDER
    (credit,) = credits_of(books)
    assert (credit.reference, credit.total) == ("1001-C1", Decimal("-27.25"))
    # an invoice CCV no longer has: nothing recorded, nothing booked
    gone = engine(store, shop, books).sync_order(connection, "invoice:404")
    assert gone.outcome is Outcome.SKIPPED
    assert store.find_record(connection, "invoice:404") is None


def test_the_app_registers_the_credit_webhooks_at_install() -> None:
    assert {"invoices.updated.status", "returns.created", "returns.updated"} <= set(
        REGISTERED_EVENTS
    )


# -- the amount went down ------------------------------------------------------------------------


def _beans(document: dict[str, Any], count: int) -> dict[str, Any]:
    """The order with ``count`` bags of beans (27.25 each) instead of 2."""
    beans = document["orderrows"]["items"][1]
    old = beans["total_price"]
    beans["count"], beans["total_price"] = Decimal(count), Decimal("27.25") * count
    beans["total_price_with_attributes"] = beans["total_price"]
    difference = beans["total_price"] - old
    document["order"]["total_price"] += difference
    document["order"]["total_orderrow_price"] += difference
    return document


def test_an_amount_down_by_its_credit_stays_booked_and_an_increase_is_flagged(
    store: SqlStore,
) -> None:
    document = paid_order()
    connection, shop, books = connect(store), FakeShop([document]), FakeBooks()
    engine(store, shop, books).sync_order(connection, ORDER)
    shop.put(_beans(document, 1))  # one bag less: 155.20, and CCV's credit of 27.25
    shop.credit_invoices[ORDER] = [beans_credit(shop)]
    result = engine(store, shop, books).sync_order(connection, ORDER, trigger=Trigger.WEBHOOK)
    assert result.outcome is Outcome.ALREADY_BOOKED
    record = store.record(connection, ORDER)
    assert (record.state, record.booked_total) == (SyncState.BOOKED, Decimal("182.45"))
    (credit,) = credits_of(books)
    assert credit.total == Decimal("-27.25")
    # read again: the credit explains the lower amount; no write, no request for credits
    reads, version = shop.credit_reads, record.version
    engine(store, shop, books).sync_order(connection, ORDER, trigger=Trigger.WEBHOOK)
    assert (shop.credit_reads, store.record(connection, ORDER).version) == (reads, version)
    # more than was booked: flagged, never edited
    shop.put(_beans(document, 3))
    flagged = engine(store, shop, books).sync_order(connection, ORDER, trigger=Trigger.WEBHOOK)
    assert flagged.outcome is Outcome.CHANGED
    assert store.record(connection, ORDER).state is SyncState.CHANGED
    assert len(credits_of(books)) == 1 and books.invoices[credit.original_id].total == Decimal(
        "182.45"
    )


# -- external sales invoices ----------------------------------------------------------------------


def test_external_mode_credits_with_a_negative_external_invoice(store: SqlStore) -> None:
    profile = example_profile_text().replace(
        'kind = "sales_invoice"', 'kind = "external_sales_invoice"'
    )
    connection, shop, books = connect(store, profile=profile), FakeShop([paid_order()]), FakeBooks()
    engine(store, shop, books).sync_order(connection, ORDER)
    shop.credit_invoices[ORDER] = [beans_credit(shop)]
    engine(store, shop, books).sync_order(connection, ORDER, trigger=Trigger.CREDIT)
    (credit,) = [i for i in books.invoices.values() if i.reference == "1001-C1"]
    assert (credit.external, credit.total, credit.state) == (True, Decimal("-27.25"), "paid")
    (record,) = store.credit_records(connection, ORDER)
    assert (record.kind, record.state, record.settle_method) == (
        "external_sales_invoice", CreditState.BOOKED, "refund",
    )  # fmt: skip


def external_profile(**credits: str) -> str:
    return with_credits(**credits).replace(
        'kind = "sales_invoice"', 'kind = "external_sales_invoice"'
    )


def test_external_mode_sets_a_credit_off_against_its_unpaid_original(store: SqlStore) -> None:
    """The spec's way for external invoices: a payment on the credit with
    ``manual_payment_action = "invoices_settlement"`` and the original's ``invoice_id``."""
    profile = external_profile().replace("require_paid = true", "require_paid = false")
    connection, books = connect(store, profile=profile), FakeBooks()
    shop = FakeShop([paid_order(is_paid=False)])  # on account: booked open
    sync = engine(store, shop, books)
    assert sync.sync_order(connection, ORDER).outcome is Outcome.AWAITING_PAYMENT
    shop.put(cancelled(paid_order(is_paid=False)))
    sync.sync_order(connection, ORDER, trigger=Trigger.WEBHOOK)  # cancelled: for a person
    done = sync.credit_order(connection, ORDER)
    assert done.outcome is CreditOutcome.CREDITED, done.message
    (credit,) = [i for i in books.invoices.values() if i.reference == "1001-C1"]
    (original,) = books.invoices_for("1001")
    assert (credit.external, credit.total, credit.state) == (True, Decimal("-182.45"), "paid")
    assert original.payments[-1][1] == Decimal("182.45") and original.state == "paid"
    (record,) = store.credit_records(connection, ORDER)
    assert (record.state, record.settle_method) == (CreditState.BOOKED, "set_off")
    # no money moved: nothing went through a financial account
    assert len(credit.payments) == 1 and len(original.payments) == 1
