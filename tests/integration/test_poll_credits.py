"""Polling is the safety net for credit webhooks, as it is for order webhooks: a credit of a
booked order whose webhook never came is found by the next poll and booked once; a credit
booked already queues nothing again. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import timedelta

from ccvbird.adapters.db.store import SqlStore
from ccvbird.domain.credit_records import CreditState
from ccvbird.service.sync import Trigger
from ccvbird.service.triggers import poll
from tests.fakes import FakeBooks, FakeShop, FixedClock
from tests.integration.test_engine import connect, engine, paid_order
from tests.integration.test_engine_credits import ORDER, credits_of, returned_beans


@dataclass
class Queued:
    items: list[str] = field(default_factory=list)

    def enqueue_order(self, connection_id: int, order_id: str, *, delay_seconds: float = 0) -> None:
        self.items.append(order_id)


def test_a_credit_whose_webhook_never_came_is_found_by_the_next_poll_and_booked_once(
    store: SqlStore,
) -> None:
    connection, shop, books, clock = (
        connect(store),
        FakeShop([paid_order()]),
        FakeBooks(),
        FixedClock(),
    )
    engine(store, shop, books).sync_order(connection, ORDER)
    first = Queued()
    poll(connection, store=store, shop=shop, queue=first, clock=clock)
    assert first.items == []  # booked, nothing credited: nothing to do
    # CCV credits a returned bag; its webhook is lost.
    returned_beans(shop)
    credit = shop.credit_invoices[ORDER][0]
    shop.credit_invoices[ORDER] = [dataclasses.replace(credit, created_at=clock.now())]
    clock.current += timedelta(minutes=1)
    second = Queued()
    poll(connection, store=store, shop=shop, queue=second, clock=clock)
    assert second.items == [f"credited:{ORDER}"]
    for target in second.items:  # what a worker does with the queued task
        engine(store, shop, books).sync_order(connection, target, trigger=Trigger.POLL)
    (booked,) = credits_of(books)
    assert booked.reference == "1001-C1"
    (record,) = store.credit_records(connection, ORDER)
    assert record.state is CreditState.BOOKED
    # The next poll (its window still holds the credit) queues nothing: it is booked.
    clock.current += timedelta(minutes=1)
    third = Queued()
    poll(connection, store=store, shop=shop, queue=third, clock=clock)
    assert third.items == []
    assert len(credits_of(books)) == 1


def test_a_credit_of_an_order_not_booked_is_left_to_its_booking(store: SqlStore) -> None:
    connection, shop, clock = connect(store), FakeShop([paid_order()]), FixedClock()
    returned_beans(shop)
    credit = shop.credit_invoices[ORDER][0]
    shop.credit_invoices[ORDER] = [dataclasses.replace(credit, created_at=clock.now())]
    queued = Queued()
    poll(connection, store=store, shop=shop, queue=queued, clock=clock)
    # Not queued as a credit: the order's own booking (its webhook, or the order list's poll)
    # reads its credits first, and books it as the profile says of orders credited before.
    assert f"credited:{ORDER}" not in queued.items
    assert store.credit_records(connection, ORDER) == []
