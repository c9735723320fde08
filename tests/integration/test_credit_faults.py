"""A fault or a crash at every Moneybird call of every credit path, on SQLite and PostgreSQL:
each still ends with exactly one credit invoice, booked, settled once, for the right amount.

The paths: a CCV credit refunded (sales invoice: duplicate, edit, send, negative payment), the
same set off against an unpaid original (``register_payment_creditinvoice``), a cancellation
credited by itself (``cancellations = "credit"``) and by a person (``credit_order``), a credit
that waits for its original and follows its booking, an order credited in full before booking
(``credited_before_booking = "both"``), and external sales invoices refunded and set off
(``invoices_settlement``). Faults: ``before`` (a timeout before the request left), ``after`` (a
lost answer: Moneybird did it), ``crash_before`` / ``crash_after`` (the process dies: nothing
catches it), ``5xx``. After each, ccvbird runs again as the scheduler or the person would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from ccvbird.adapters.db.store import SqlStore
from ccvbird.domain.credit_records import CreditState
from ccvbird.service.sync import SyncEngine, Trigger
from tests.fakes import Crash, FakeBooks, FakeShop, Faults
from tests.integration.test_engine import connect, engine, paid_order
from tests.integration.test_engine_credit_paths import (
    beans_credit,
    cancelled,
    external_profile,
    full_credit,
    with_credits,
)

ORDER = "500001001"
KINDS = ["before", "after", "crash_before", "crash_after", "5xx"]


@dataclass(frozen=True)
class Path:
    """One credit path: how the order is booked first, then what credits it."""

    profile: str
    #: Books the original (no faults counted here); ``None``: booked together with the credit.
    prepare: Callable[[SyncEngine, int, FakeShop], None] | None
    #: What makes ccvbird credit the order (and, run again, finish it).
    act: Callable[[SyncEngine, int, FakeShop], Any]
    #: What the credit takes off, and how it is settled.
    credited: Decimal
    settle: str
    documents: Callable[[], dict[str, Any]] = paid_order


def _book(sync: SyncEngine, connection: int, shop: FakeShop) -> None:
    sync.sync_order(connection, ORDER)


def _ccv_credit(sync: SyncEngine, connection: int, shop: FakeShop) -> Any:
    shop.credit_invoices[ORDER] = [beans_credit(shop)]
    return sync.sync_order(connection, ORDER, trigger=Trigger.CREDIT)


def _cancel_then_sync(sync: SyncEngine, connection: int, shop: FakeShop) -> Any:
    shop.put(cancelled(paid_order()))
    return sync.sync_order(connection, ORDER, trigger=Trigger.WEBHOOK)


def _book_unpaid_then_cancel(sync: SyncEngine, connection: int, shop: FakeShop) -> None:
    sync.sync_order(connection, ORDER)
    shop.put(cancelled(paid_order(is_paid=False)))
    sync.sync_order(connection, ORDER, trigger=Trigger.WEBHOOK)  # waits for a person


def _person_credits(sync: SyncEngine, connection: int, shop: FakeShop) -> Any:
    return sync.credit_order(connection, ORDER)


def _completed_with_waiting_credit(sync: SyncEngine, connection: int, shop: FakeShop) -> Any:
    document = paid_order(status=6)
    shop.put(document)
    shop.credit_invoices[ORDER] = [beans_credit(shop)]
    sync.sync_order(connection, ORDER, trigger=Trigger.CREDIT)  # waits: not completed yet
    document["order"]["status"] = 7
    shop.put(document)
    return sync.sync_order(connection, ORDER, trigger=Trigger.WEBHOOK)


def _credited_before_booking(sync: SyncEngine, connection: int, shop: FakeShop) -> Any:
    shop.credit_invoices[ORDER] = [full_credit(shop)]
    return sync.sync_order(connection, ORDER, trigger=Trigger.CREDIT)


UNPAID = "require_paid = true"
PATHS = {
    "refund": Path(with_credits(), _book, _ccv_credit, Decimal("27.25"), "refund"),
    "set_off": Path(
        with_credits().replace(UNPAID, "require_paid = false"), _book_unpaid_then_cancel,
        _person_credits, Decimal("182.45"), "set_off", lambda: paid_order(is_paid=False),
    ),
    "cancellation": Path(
        with_credits(cancellations="credit"), _book, _cancel_then_sync, Decimal("182.45"),
        "refund",
    ),
    "credit_order": Path(
        with_credits(), lambda s, c, shop: (_book(s, c, shop), _cancel_then_sync(s, c, shop)),
        _person_credits, Decimal("182.45"), "refund",
    ),
    "waiting": Path(
        with_credits(), None, _completed_with_waiting_credit, Decimal("27.25"), "refund"
    ),
    "before_booking": Path(
        with_credits(credited_before_booking="both"), None, _credited_before_booking,
        Decimal("182.45"), "refund",
    ),
    "external_refund": Path(external_profile(), _book, _ccv_credit, Decimal("27.25"), "refund"),
    "external_set_off": Path(
        external_profile().replace(UNPAID, "require_paid = false"), _book_unpaid_then_cancel,
        _person_credits, Decimal("182.45"), "set_off", lambda: paid_order(is_paid=False),
    ),
}  # fmt: skip


def _run(store: SqlStore, path: Path, name: str, faults: Faults) -> tuple[FakeBooks, int]:
    """Book ``path`` with ``faults``, running again (as the scheduler or the person would)
    after each failure or crash; returns the books and the connection."""
    connection = connect(store, profile=path.profile, ccv_public=name)
    shop, books = FakeShop([path.documents()]), FakeBooks(faults)
    sync = engine(store, shop, books)
    if path.prepare is not None:
        path.prepare(sync, connection, shop)
    for attempt in range(8):
        try:
            if attempt == 0 or path.act is _person_credits:
                path.act(sync, connection, shop)
            else:  # the scheduler takes up what is due
                sync.sync_order(connection, ORDER, trigger=Trigger.RETRY)
        except Crash:
            sync = engine(store, shop, books)  # a new process
            continue
        credits = store.credit_records(connection, ORDER)
        if credits and all(c.state is CreditState.BOOKED for c in credits):
            break
        record = store.record(connection, ORDER)
        record.next_attempt_at = None
    return books, connection


def _check(store: SqlStore, books: FakeBooks, connection: int, path: Path, label: Any) -> None:
    (record,) = store.credit_records(connection, ORDER)
    assert (record.state, record.settle_method) == (CreditState.BOOKED, path.settle), label
    (credit,) = books.invoices_for("1001-C1")
    (original,) = books.invoices_for("1001")
    drafts = [i for i in books.invoices.values() if i.id not in (credit.id, original.id)]
    assert drafts == [], (label, "a second credit was made")
    assert (credit.total, credit.state) == (-path.credited, "paid"), label
    assert len(credit.payments) == 1, (label, credit.payments)
    assert sum(p for _, p in credit.payments) == -path.credited, label
    if path.settle == "set_off":  # no money moved: the original is settled by the credit
        assert original.payments == [(original.payments[0][0], path.credited)], label
        assert original.state == "paid", label
    else:
        assert original.total == Decimal("182.45") and len(original.payments) == 1, label


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", list(PATHS))
def test_a_fault_at_every_call_of_every_credit_path_books_one_credit(
    store: SqlStore, name: str, kind: str
) -> None:
    path = PATHS[name]
    clean, connection = _run(store, path, f"clean-{name}-{kind}", Faults())
    _check(store, clean, connection, path, (name, "clean"))
    # The calls of the credit (with the original's own where they are booked together).
    first = 1
    if path.prepare is not None:
        probe = FakeBooks()
        probe_shop = FakeShop([path.documents()])
        probe_connection = connect(store, profile=path.profile, ccv_public=f"probe-{name}-{kind}")
        path.prepare(engine(store, probe_shop, probe), probe_connection, probe_shop)
        first = probe.faults.calls + 1
    last = clean.faults.calls
    assert last - first >= 2, (name, clean.faults.log)
    for k in range(first, last + 1):
        books, connection = _run(store, path, f"{name}-{kind}-{k}", Faults({k: kind}))
        _check(store, books, connection, path, (name, kind, k, books.faults.log))
