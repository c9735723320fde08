"""Bookings whose retry time has come are finished, however old the order, and a pause strands
nothing: on a real state database (SQLite and PostgreSQL), with the in-memory fakes, and
through the worker's scheduler on both sandboxes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ccvbird import bootstrap
from ccvbird.adapters.db.store import SqlStore
from ccvbird.domain.errors import AuthenticationFailed, ServiceUnavailable
from ccvbird.domain.sync import SyncState
from ccvbird.entrypoints import worker
from ccvbird.sandbox.moneybird import Fault
from ccvbird.service.passes import PassReport, import_history, sync_pass
from ccvbird.service.sync import Outcome, SyncEngine, Trigger
from tests.e2e.world import make_world
from tests.fakes import Crash, FakeBooks, FakeShop, Faults, FixedClock
from tests.integration.test_engine import connect, paid_order

#: The tests' "now"; the orders are from about 200 days before, far outside the 30-day poll.
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
OLD = "2026-05-10T10:00:00Z"
#: An import of one new customer's order: look-up, contacts, contact, invoice, send, payment.
SEND_CALL = 5


def old_order(number: str = "1001", email: str = "sanne@example.nl") -> dict[str, Any]:
    return paid_order(number, email, created=OLD)


def setup(
    store: SqlStore, books: FakeBooks, *documents: dict[str, Any], **engine: Any
) -> tuple[int, FakeShop, SyncEngine, FixedClock]:
    clock = FixedClock(NOW)
    shop = FakeShop(documents or [old_order()])
    sync = SyncEngine(store=store, shop=shop, books=books, clock=clock, **engine)
    return connect(store), shop, sync, clock


def imported(connection: int, sync: SyncEngine, shop: FakeShop, store: SqlStore) -> PassReport:
    return import_history(connection, since=date(2026, 1, 1), engine=sync, store=store, shop=shop)


def a_pass(connection: int, sync: SyncEngine, shop: FakeShop, clock: FixedClock) -> PassReport:
    return sync_pass(connection, engine=sync, store=sync.store, shop=shop, clock=clock)


def booked_once(books: FakeBooks, reference: str) -> None:
    """What Moneybird (the fake) holds: one invoice for the order, paid, no draft anywhere."""
    (invoice,) = books.invoices_for(reference)
    assert invoice.state == "paid" and len(invoice.payments) == 1
    assert [i.id for i in books.invoices.values() if i.state == "draft"] == []


def test_a_transient_fault_in_an_old_orders_booking_is_finished_by_the_next_due_pass(
    store: SqlStore,
) -> None:
    books = FakeBooks(Faults({SEND_CALL: "5xx"}))
    connection, shop, sync, clock = setup(store, books)
    assert imported(connection, sync, shop, store).outcomes == {"retry_later": 1}
    record = store.record(connection, "500001001")
    assert record.state is SyncState.BOOKING
    assert [i.state for i in books.invoices.values()] == ["draft"]

    clock.current = NOW + timedelta(seconds=31)  # the first backoff is 30 s
    report = a_pass(connection, sync, shop, clock)

    assert report.outcomes == {"booked": 1}
    assert store.record(connection, "500001001").state is SyncState.BOOKED
    booked_once(books, "1001")


def test_a_booking_interrupted_by_a_crash_has_a_time_and_is_resumed_then(
    store: SqlStore,
) -> None:
    books = FakeBooks(Faults({SEND_CALL: "crash_before"}))
    connection, shop, sync, clock = setup(store, books)
    with pytest.raises(Crash):
        imported(connection, sync, shop, store)
    record = store.record(connection, "500001001")
    assert record.state is SyncState.BOOKING
    resumed_at = record.next_attempt_at  # every booking has one, from its first step on
    assert resumed_at is not None and NOW < resumed_at <= NOW + timedelta(minutes=10)

    clock.current = resumed_at - timedelta(seconds=1)
    assert a_pass(connection, sync, shop, clock).outcomes == {}  # maybe still under way
    clock.current = resumed_at + timedelta(seconds=1)
    assert a_pass(connection, sync, shop, clock).outcomes == {"booked": 1}
    booked_once(books, "1001")


def test_a_retry_not_yet_due_is_not_taken_and_one_due_a_second_ago_is(store: SqlStore) -> None:
    books = FakeBooks(Faults({SEND_CALL: "5xx"}))
    connection, shop, sync, clock = setup(store, books)
    imported(connection, sync, shop, store)
    due = store.record(connection, "500001001").next_attempt_at
    assert due is not None
    calls = books.requests

    clock.current = due - timedelta(seconds=1)
    assert a_pass(connection, sync, shop, clock).outcomes == {}
    assert books.requests == calls  # not even looked at
    clock.current = due + timedelta(seconds=1)
    assert a_pass(connection, sync, shop, clock).outcomes == {"booked": 1}
    booked_once(books, "1001")


def test_after_the_last_attempt_the_order_needs_attention_and_the_draft_is_named(
    store: SqlStore,
) -> None:
    books = FakeBooks()

    def unavailable(invoice_id: str) -> Any:
        raise ServiceUnavailable("Moneybird answered 503")

    books.send_invoice = unavailable  # type: ignore[method-assign]
    connection, shop, sync, clock = setup(store, books, max_attempts=3)
    imported(connection, sync, shop, store)
    for _ in range(2):
        clock.current += timedelta(hours=1)
        a_pass(connection, sync, shop, clock)

    record = store.record(connection, "500001001")
    assert (record.state, record.reason_code) == (SyncState.NEEDS_ATTENTION, "keeps_failing")
    (draft,) = books.invoices.values()
    assert draft.state == "draft"
    assert f"draft invoice for this order (id {draft.id}" in record.reason
    assert "failed 3 times" in record.reason
    assert record.next_attempt_at is None
    clock.current += timedelta(hours=1)
    assert a_pass(connection, sync, shop, clock).outcomes == {}  # a person's turn now


def test_a_refused_token_pauses_and_after_resume_the_next_pass_books_what_waited(
    store: SqlStore,
) -> None:
    books = FakeBooks()
    real_send = books.send_invoice

    def refused(invoice_id: str) -> Any:
        raise AuthenticationFailed("Moneybird refused the token (401)")

    books.send_invoice = refused  # type: ignore[method-assign]
    connection, shop, sync, clock = setup(
        store, books, old_order("1001"), old_order("1002", "joost@example.nl")
    )
    report = imported(connection, sync, shop, store)
    assert "Moneybird refused the token" in report.paused_reason
    # The order in hand, and one that arrives (a webhook) while the connection is paused:
    assert (
        sync.sync_order(connection, "500001002", trigger=Trigger.WEBHOOK).outcome is Outcome.PAUSED
    )
    for order_id in ("500001001", "500001002"):
        waiting = store.record(connection, order_id)
        assert waiting.state in (SyncState.BOOKING, SyncState.WAITING)
        assert waiting.reason_code == "connection_paused"
        assert "paused" in waiting.reason and "Moneybird refused the token" in waiting.reason
    clock.current += timedelta(minutes=1)
    assert a_pass(connection, sync, shop, clock).outcomes == {}  # paused: nothing moves

    books.send_invoice = real_send  # type: ignore[method-assign]
    store.resume(connection)  # the web app's "Hervatten", a profile import, a reconnect
    clock.current += timedelta(minutes=1)
    report = a_pass(connection, sync, shop, clock)

    assert report.outcomes == {"booked": 2}, report
    booked_once(books, "1001")
    booked_once(books, "1002")
    assert store.retries_waiting(connection) == (0, None)


def test_status_counts_the_bookings_waiting_for_a_retry(store: SqlStore) -> None:
    books = FakeBooks(Faults({SEND_CALL: "5xx"}))
    connection, shop, sync, _clock = setup(store, books)
    assert store.retries_waiting(connection) == (0, None)
    imported(connection, sync, shop, store)
    assert store.retries_waiting(connection) == (1, NOW + timedelta(seconds=30))


def test_the_scheduler_queues_due_bookings_of_old_orders(tmp_path: Path) -> None:
    """``ccvbird run``'s periodic ``poll_due`` queues a due booking whatever its order's date;
    the queued task finishes it in the Moneybird sandbox."""
    world = make_world(tmp_path, orders=0)
    try:
        app, connection = world.app, world.connection_id
        shop = world.sandboxes.shop
        shop.add_order(old_order())
        now = datetime.now(UTC).replace(microsecond=0)
        clock = FixedClock(now)
        app.clock = clock  # type: ignore[assignment]
        # The import meets a 500 when it finalises the invoice: a draft is left, retry later.
        world.sandboxes.moneybird.faults.add(
            Fault.SERVER_ERROR, method="PATCH", path="send_invoice", times=5
        )
        import_history(
            connection,
            since=date(2026, 1, 1),
            engine=app.engine_for(connection),
            store=app.store,
            shop=app.shop_for(connection),
        )
        assert app.store.record(connection, "500001001").state is SyncState.BOOKING
        assert [i.state for i in world.invoices()] == ["draft"]
        world.sandboxes.moneybird.faults.clear()

        settings = app.settings.model_copy(update={"data_dir": tmp_path / "queue"})
        huey = bootstrap.task_queue(settings)
        tasks = worker.register(app, huey)
        tasks.poll_due.call_local()
        assert huey.pending_count() == 0  # not due yet: 30 s to go
        clock.current = now + timedelta(seconds=31)
        tasks.poll_due.call_local()
        assert huey.pending_count() == 1
        assert huey.execute(huey.dequeue()) == "booked"
        tasks.poll_due.call_local()
        assert huey.pending_count() == 0  # nothing is due twice

        (invoice,) = world.invoices()
        assert (str(invoice.reference), invoice.state, len(invoice.payments)) == (
            "1001",
            "paid",
            1,
        )
    finally:
        world.close()
