"""The whole app against both sandboxes: exactly once, to the cent, nothing silent."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from ccvbird import bootstrap
from ccvbird.domain.sync import SyncState
from ccvbird.entrypoints import worker
from ccvbird.sandbox.moneybird import Fault
from ccvbird.service.sync import Trigger
from ccvbird.service.webhooks import Delivery, Received, receive_ccv_delivery
from tests.e2e.world import World

NewWorld = Callable[..., World]


def test_an_import_books_every_eligible_order_once_to_the_cent(new_world: NewWorld) -> None:
    world = new_world(orders=80, seed=2)
    world.import_all()
    counts = world.check_exactly_once_to_the_cent()
    assert counts[SyncState.BOOKED] >= 50
    assert sum(counts.values()) == len(world.shop_orders()) - sum(
        1 for o in world.shop_orders().values() if not o.is_completed
    )


def test_running_again_makes_no_moneybird_write(new_world: NewWorld) -> None:
    world = new_world(orders=40, seed=3)
    world.import_all()
    writes = world.moneybird_writes()
    world.import_all()
    for record in world.store.records(world.connection_id):
        world.app.engine_for(world.connection_id).sync_order(world.connection_id, record.order_id)
    assert world.moneybird_writes() == writes


def test_a_lost_response_on_every_create_is_adopted(new_world: NewWorld) -> None:
    world = new_world(orders=30, seed=4)
    faults = world.sandboxes.moneybird.faults
    for path in ("/contacts", "/sales_invoices", "/payments"):
        faults.add(Fault.LOST_RESPONSE, method="POST", path=path, times=5)
    faults.add(Fault.LOST_RESPONSE, method="PATCH", path="/send_invoice", times=5)
    world.import_all(rounds=5)
    assert [f for f, *_ in faults.history].count(Fault.LOST_RESPONSE) >= 15
    counts = world.check_exactly_once_to_the_cent()
    assert counts.get(SyncState.BOOKING, 0) == 0


def test_1000_orders_with_10_percent_faults(new_world: NewWorld) -> None:
    rates = {"lost_response": 0.04, "server_error": 0.03, "timeout": 0.02, "rate_limit": 0.01}
    world = new_world(
        orders=1000, seed=5, moneybird_faults=rates, ccv_fault_rate=0.10, max_attempts=20
    )
    world.import_all(rounds=10)
    counts = world.check_exactly_once_to_the_cent()
    assert counts.get(SyncState.BOOKING, 0) == 0, "orders left half-booked"
    assert counts[SyncState.BOOKED] > 700
    assert len(world.sandboxes.moneybird.faults.history) > 300
    assert sum(world.sandboxes.shop.faults.injected.values()) > 100


def test_duplicated_and_reordered_webhooks_book_once(new_world: NewWorld) -> None:
    deliveries: list[tuple[str, bytes]] = []
    world = new_world(
        orders=0, poster=lambda url, body, headers: deliveries.append((url, body)) or 200
    )
    shop = world.sandboxes.shop
    token = world.store.webhook_token(world.connection_id)
    for event in ("orders.created", "orders.updated.ispaid", "orders.updated.status"):
        shop.add_webhook(event, f"http://ccvbird.test/webhooks/ccv/{token}?event={event}")
    order_id = shop.create_order(status=4, paid=False)
    shop.set_paid(order_id, True)
    shop.set_status(order_id, 7)
    assert len(deliveries) == 3

    class Pending:
        def __init__(self) -> None:
            self.orders: list[str] = []

        def enqueue_order(
            self, connection_id: int, order: str, *, delay_seconds: float = 0
        ) -> None:
            self.orders.append(order)

    queue = Pending()
    received = []
    for url, body in [*reversed(deliveries), *deliveries]:  # out of order, then all again
        event, oid = bootstrap.parse_ccv_webhook(body, event=url.rsplit("event=", 1)[1])
        received.append(
            receive_ccv_delivery(
                Delivery(world.connection_id, event, oid, body), store=world.store, queue=queue
            )
        )
    assert received.count(Received.ENQUEUED) == 3 and received.count(Received.DUPLICATE) == 3
    engine = world.app.engine_for(world.connection_id)
    outcomes = [
        engine.sync_order(world.connection_id, oid, trigger=Trigger.WEBHOOK).outcome.value
        for oid in queue.orders
    ]
    assert outcomes == ["booked", "already_booked", "already_booked"]
    world.check_exactly_once_to_the_cent()
    assert len(world.invoices()) == 1


@pytest.mark.postgres
def test_two_workers_on_postgres_share_a_connection(new_world: NewWorld, database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("this test is about two workers on PostgreSQL")
    world = new_world(orders=60, seed=6, database_url=database_url)
    second = world.another_app()
    order_ids = sorted(world.shop_orders())
    busy = []

    def work(app: bootstrap.App) -> None:
        pending = list(order_ids)
        while pending:
            order_id = pending.pop(0)
            outcome, _ = worker.run_sync(app, world.connection_id, order_id, Trigger.WEBHOOK)
            if outcome == worker.BUSY:
                busy.append(order_id)
                pending.append(order_id)

    threads = [threading.Thread(target=work, args=(app,)) for app in (world.app, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert busy, "the workers never met: the lease was not exercised"
    world.check_exactly_once_to_the_cent()
