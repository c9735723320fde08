"""A shop that sells on account (``require_paid = false``), against both sandboxes: completed
unpaid orders are invoiced and left open in Moneybird; when the shop marks them paid (the CCV
sandbox's merchant endpoints fire ``orders.updated.ispaid``), each gets exactly one payment,
dated the day ccvbird saw it paid — checked on the Moneybird sandbox's own API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

from ccvbird import bootstrap
from ccvbird.domain.sync import SyncState
from ccvbird.sandbox.moneybird import Fault
from ccvbird.service.sync import Outcome, Trigger
from ccvbird.service.triggers import poll
from ccvbird.service.webhooks import Delivery, Received, receive_ccv_delivery
from tests.e2e.world import World
from tests.integration.test_open_invoices import Pending, ShopClock

NewWorld = Callable[..., World]
EVENTS = ("orders.created", "orders.updated.ispaid", "orders.updated.status")


class OnAccount:
    """A world whose shop sells on account, its webhooks captured, its APIs at hand."""

    def __init__(self, new_world: NewWorld) -> None:
        self.posted: list[tuple[str, bytes]] = []
        self.world = new_world(
            orders=0, poster=lambda url, body, headers: self.posted.append((url, body)) or 200
        )
        world, store = self.world, self.world.store
        self.cid = world.connection_id
        toml = store.profile_toml(self.cid)
        assert "require_paid = true" in toml
        store.set_profile(self.cid, toml.replace("require_paid = true", "require_paid = false", 1))
        self.clock = ShopClock(datetime(2026, 11, 2, 10, 0, tzinfo=UTC))
        world.app.clock = self.clock  # type: ignore[assignment]
        token = store.webhook_token(self.cid)
        for event in EVENTS:
            world.sandboxes.shop.add_webhook(
                event, f"http://ccvbird.test/webhooks/ccv/{token}?event={event}"
            )
        boxes = world.sandboxes
        self.ccv = httpx.Client(base_url=boxes.ccv_url, transport=boxes.transports[boxes.ccv_url])
        mb_root = boxes.moneybird_url.rsplit("/api", 1)[0]
        self.moneybird = httpx.Client(
            base_url=f"{boxes.moneybird_url}/{boxes.administration_id}",
            transport=boxes.transports[mb_root],
            headers={"Authorization": f"Bearer {boxes.moneybird_token}"},
        )

    def merchant(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.ccv.post(f"/_sandbox{path}", json=body)
        assert response.status_code in (200, 201), response.text
        result: dict[str, Any] = response.json()
        return result

    def deliver(self) -> list[str]:
        """Hand every webhook CCV posted to ccvbird, then book what they put on the queue."""
        queue = Pending()
        for url, body in self.posted:
            event, order_id = bootstrap.parse_ccv_webhook(body, event=url.rsplit("event=", 1)[1])
            received = receive_ccv_delivery(
                Delivery(self.cid, event, order_id, body), store=self.world.store, queue=queue
            )
            assert received in (Received.ENQUEUED, Received.DUPLICATE)
        self.posted.clear()
        return self.sync(queue.orders, Trigger.WEBHOOK)

    def sync(self, order_ids: list[str], trigger: Trigger) -> list[str]:
        engine = self.world.app.engine_for(self.cid)
        return [engine.sync_order(self.cid, o, trigger=trigger).outcome.value for o in order_ids]

    def invoice(self, order_id: str) -> dict[str, Any]:
        record = self.world.store.record(self.cid, order_id)
        assert record.invoice_id is not None
        response = self.moneybird.get(f"/sales_invoices/{record.invoice_id}.json")
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


def test_unpaid_orders_on_account_stay_open_and_are_paid_once_when_the_shop_says_so(
    new_world: NewWorld,
) -> None:
    shop = OnAccount(new_world)
    ids = [
        str(shop.merchant("/orders", {"scenario": "b2b", "status": 7, "paid": False})["id"])
        for _ in range(3)
    ]
    assert shop.deliver() == ["awaiting_payment"] * 3

    for order_id in ids:
        invoice = shop.invoice(order_id)
        assert invoice["state"] == "open" and invoice["invoice_id"]
        assert Decimal(invoice["total_unpaid"]) == Decimal(invoice["total_price_incl_tax"]) > 0
        assert invoice["payments"] == []
        assert shop.world.store.record(shop.cid, order_id).state is SyncState.AWAITING_PAYMENT
    counts = shop.world.store.count_states(shop.cid)
    assert counts == {SyncState.AWAITING_PAYMENT: 3}

    # Nothing changes while they are unpaid: a poll reads no order again.
    queue = Pending()
    poll(shop.cid, store=shop.world.store, shop=shop.world.app.shop_for(shop.cid),
         queue=queue, clock=shop.clock)  # fmt: skip
    assert queue.orders == []

    # The first payment call's answer is lost: the payment is found, not made twice.
    faults = shop.world.sandboxes.moneybird.faults
    faults.add(Fault.LOST_RESPONSE, method="POST", path="/payments", times=1)
    shop.clock.current = datetime(2026, 11, 9, 23, 30, tzinfo=UTC)  # 10 November in Amsterdam
    for order_id in ids:
        shop.merchant(f"/orders/{order_id}/paid", {"paid": True})
    assert sorted(shop.deliver()) == ["paid", "paid", "retry_later"]
    shop.clock.current = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
    stuck = [o for o in ids if shop.world.store.record(shop.cid, o).state is SyncState.BOOKING]
    assert shop.sync(stuck, Trigger.RETRY) == ["paid"]
    assert [f for f, *_ in faults.history].count(Fault.LOST_RESPONSE) == 1

    writes = shop.world.moneybird_writes()
    for order_id in ids:
        invoice = shop.invoice(order_id)
        assert invoice["state"] == "paid"
        assert Decimal(invoice["total_unpaid"]) == 0
        (payment,) = invoice["payments"]
        assert payment["payment_date"] == "2026-11-10"
        assert Decimal(payment["price"]) == Decimal(invoice["total_price_incl_tax"])
    shop.world.check_exactly_once_to_the_cent()

    # More webhooks (the shop unmarks and marks them paid again), a retry and a poll: nothing
    # is paid again.
    for order_id in ids:
        shop.merchant(f"/orders/{order_id}/paid", {"paid": False})
        shop.world.clock.now += 60  # a later delivery: another triggered_at
        shop.merchant(f"/orders/{order_id}/paid", {"paid": True})
    assert shop.deliver() == [Outcome.ALREADY_BOOKED.value] * 6
    assert shop.sync(ids, Trigger.RETRY) == [Outcome.ALREADY_BOOKED.value] * 3
    poll(shop.cid, store=shop.world.store, shop=shop.world.app.shop_for(shop.cid),
         queue=queue, clock=shop.clock)  # fmt: skip
    assert shop.sync(queue.orders, Trigger.POLL) == [Outcome.ALREADY_BOOKED.value] * len(
        queue.orders
    )
    assert shop.world.moneybird_writes() == writes
    for order_id in ids:
        assert len(shop.invoice(order_id)["payments"]) == 1


def test_an_order_on_account_cancelled_before_payment_is_never_paid(new_world: NewWorld) -> None:
    shop = OnAccount(new_world)
    order_id = str(shop.merchant("/orders", {"scenario": "b2b", "status": 7, "paid": False})["id"])
    assert shop.deliver() == ["awaiting_payment"]
    shop.merchant(f"/orders/{order_id}/status", {"status": 8})
    assert shop.deliver() == ["changed"]
    shop.merchant(f"/orders/{order_id}/paid", {"paid": True})
    shop.deliver()
    invoice = shop.invoice(order_id)
    assert invoice["state"] == "open" and invoice["payments"] == []
    record = shop.world.store.record(shop.cid, order_id)
    assert record.state is SyncState.CHANGED and record.reason_code == "cancelled_after_booking"


def test_an_open_invoice_credited_in_part_is_paid_for_what_remains(new_world: NewWorld) -> None:
    """Sold on account, invoiced open, then a bag returned before the customer paid: the credit
    is set off against the open invoice, and when the shop marks the order paid the invoice
    gets the rest — once, and nothing more."""
    shop = OnAccount(new_world)
    order_id = str(shop.merchant("/orders", {"scenario": "b2b", "status": 7, "paid": False})["id"])
    assert shop.deliver() == ["awaiting_payment"]
    original = shop.invoice(order_id)
    total = Decimal(original["total_price_incl_tax"])
    # The shop invoices the order in CCV (a debit invoice), then credits one item of a row.
    sandbox = shop.world.sandboxes.shop
    sandbox.invoice_difference(int(order_id))
    row = (sandbox.order_rows(int(order_id)) or [])[0]
    credit = shop.merchant(
        f"/orders/{order_id}/credit/rows", {"rows": [{"id": int(row["id"]), "count": 1}]}
    )
    credited = -Decimal(str(credit["total_price"]))
    assert 0 < credited < total
    shop.deliver()
    record = shop.world.store.record(shop.cid, order_id)
    assert record.state is SyncState.AWAITING_PAYMENT, (record.state, record.reason)
    (booked,) = shop.world.store.credit_records(shop.cid, order_id)
    assert booked.state.value == "booked" and booked.settle_method == "set_off"
    after = shop.invoice(order_id)
    assert Decimal(after["total_unpaid"]) == total - credited  # set off: the rest is open
    # Paid in CCV: the invoice gets what remains, and is paid.
    shop.merchant(f"/orders/{order_id}/paid", {"paid": True})
    assert shop.deliver() == ["paid"]
    paid = shop.invoice(order_id)
    assert paid["state"] == "paid" and Decimal(paid["total_unpaid"]) == 0
    assert sum(Decimal(p["price"]) for p in paid["payments"]) == total
    assert shop.world.store.record(shop.cid, order_id).state is SyncState.BOOKED
    # More of the same books nothing more.
    writes = shop.world.moneybird_writes()
    shop.sync([order_id], Trigger.RETRY)
    shop.sync([order_id], Trigger.CREDIT)
    assert shop.world.moneybird_writes() == writes
