"""Webhooks: a CCV delivery is recorded once and queued; Moneybird tells which invoices a
person deleted or credited, and the order says so."""

from __future__ import annotations

from ccvbird.domain.sync import SyncState
from ccvbird.sandbox.moneybird import constants as mb
from tests.web.conftest import World, first_start, set_up


def moneybird_token(world: World, connection_id: int) -> str:
    token: str = world.client.app.state.backend.installs.moneybird_address_token(connection_id)  # type: ignore[attr-defined]
    return token


def booked_order(world: World) -> tuple[int, str]:
    first_start(world)
    connection_id = set_up(world)
    order_id = str(world.shop.create_order(scenario="consumer", status=7, paid=False))
    world.shop.set_paid(int(order_id))
    world.drain()
    record = world.app.store.find_record(connection_id, order_id)
    assert record is not None and record.state is SyncState.BOOKED
    return connection_id, order_id


def test_a_ccv_delivery_is_recorded_once_and_queued(world: World) -> None:
    first_start(world)
    connection_id = set_up(world)
    order_id = world.shop.create_order(scenario="consumer", status=7, paid=False)
    assert world.queue.items == [(connection_id, str(order_id))]
    delivery = world.shop.deliveries[-1]
    assert delivery.status == 202
    repeat = world.client.post(delivery.address, content=delivery.body)
    assert repeat.status_code == 202
    assert repeat.json() == {"result": "duplicate"}
    assert len(world.queue.items) == 1


def test_a_ccv_delivery_about_another_shop_or_unreadable_is_refused(world: World) -> None:
    first_start(world)
    connection_id = set_up(world)
    world.shop.create_order(scenario="consumer", status=7, paid=False)
    delivery = world.shop.deliveries[-1]
    world.queue.items.clear()
    other = delivery.body.replace(world.shop.base_url.encode(), b"http://other.shop.test")
    assert world.client.post(delivery.address, content=other).status_code == 400
    assert world.client.post(delivery.address, content=b"not json").status_code == 400
    assert world.queue.items == []
    assert connection_id


def test_an_invoice_credited_in_moneybird_marks_the_order_credited(world: World) -> None:
    connection_id, order_id = booked_order(world)
    record = world.app.store.find_record(connection_id, order_id)
    assert record is not None and record.invoice_id
    world.moneybird.books(mb.ADMINISTRATION_ID).duplicate_credit_invoice(record.invoice_id)
    assert world.moneybird.deliver_webhooks() >= 1
    credited = world.app.store.find_record(connection_id, order_id)
    assert credited is not None and credited.state is SyncState.CREDITED
    assert (
        "gecrediteerd" in world.client.get(f"/connections/{connection_id}/orders/{order_id}").text
    )
    # A later change in CCV does not book it again.
    world.shop.set_status(int(order_id), 5)
    world.drain()
    assert world.app.store.find_record(connection_id, order_id).state is SyncState.CREDITED  # type: ignore[union-attr]
    assert len(world.moneybird.invoices()) == 2  # the invoice and its credit invoice


def test_a_deleted_invoice_is_shown_and_retry_books_it_anew(world: World) -> None:
    connection_id, order_id = booked_order(world)
    record = world.app.store.find_record(connection_id, order_id)
    assert record is not None and record.invoice_id
    books = world.moneybird.books(mb.ADMINISTRATION_ID)
    invoice = books.sales_invoices[record.invoice_id]
    invoice.payments.clear()  # Moneybird deletes only invoices without payments
    books.delete_sales_invoice(record.invoice_id)
    world.moneybird.deliver_webhooks()
    deleted = world.app.store.find_record(connection_id, order_id)
    assert deleted is not None and deleted.state is SyncState.INVOICE_DELETED
    assert deleted.invoice_id is None
    # Nothing books it by itself...
    world.shop.set_status(int(order_id), 7)
    world.queue.items.append((connection_id, order_id))
    world.drain()
    assert world.app.store.find_record(connection_id, order_id).state is SyncState.INVOICE_DELETED  # type: ignore[union-attr]
    # ...until a person presses retry.
    page = f"/connections/{connection_id}/orders/{order_id}"
    response = world.post_form(page, f"{page}/retry")
    assert response.status_code == 303
    world.drain()
    again = world.app.store.find_record(connection_id, order_id)
    assert again is not None and again.state is SyncState.BOOKED
    assert again.invoice_id != record.invoice_id


def test_a_moneybird_push_is_handled_once(world: World) -> None:
    connection_id, order_id = booked_order(world)
    record = world.app.store.find_record(connection_id, order_id)
    assert record is not None and record.invoice_id
    world.moneybird.books(mb.ADMINISTRATION_ID).duplicate_credit_invoice(record.invoice_id)
    world.moneybird.deliver_webhooks()
    push = world.moneybird.outbox.delivered[-1]
    events_before = len(world.app.store.events(connection_id, order_id))
    webhook = world.moneybird.books(mb.ADMINISTRATION_ID).webhooks[push.webhook_id]
    from ccvbird.sandbox.moneybird.webhooks import signature_header

    headers = {
        "Idempotency-Key": push.key,
        "Moneybird-Signature": signature_header(
            webhook.secrets, push.body, int(world.moneybird.clock())
        ),
    }
    token = moneybird_token(world, connection_id)
    response = world.client.post(f"/webhooks/moneybird/{token}", content=push.body, headers=headers)
    assert response.json() == {"result": "duplicate"}
    assert len(world.app.store.events(connection_id, order_id)) == events_before


def test_a_delivery_before_setup_is_finished_is_acknowledged_not_queued(world: World) -> None:
    from tests.web.conftest import SHOP_URL, install

    first_start(world)
    connection_id = install(world)
    token = world.app.store.webhook_token(connection_id)
    body = f'{{"id": 1, "href": "{SHOP_URL}/api/rest/v1/orders/1"}}'.encode()
    response = world.client.post(f"/webhooks/ccv/{token}/orders.created", content=body)
    assert response.status_code == 200
    assert world.queue.items == []


class DownQueue:
    """A queue that is not there (Redis restarting, the SQLite file locked)."""

    def enqueue_order(self, connection_id: int, order_id: str, *, delay_seconds: float = 0) -> None:
        raise ConnectionError("the queue is down")


def test_a_delivery_that_could_not_be_queued_is_queued_when_ccv_repeats_it(world: World) -> None:
    first_start(world)
    connection_id = set_up(world)
    order_id = str(world.shop.create_order(scenario="consumer", status=7, paid=False))
    world.drain()  # created unpaid: nothing to book yet
    world.client.app.state.queue = DownQueue()  # type: ignore[attr-defined]
    world.shop.set_paid(int(order_id))
    paid = world.shop.deliveries[-1]
    assert paid.status == 500  # CCV is told it did not arrive
    world.client.app.state.queue = world.queue  # type: ignore[attr-defined]
    repeat = world.client.post(paid.address, content=paid.body)
    assert repeat.status_code == 202
    assert repeat.json() == {"result": "enqueued"}
    world.drain()
    record = world.app.store.find_record(connection_id, order_id)
    assert record is not None and record.state is SyncState.BOOKED
    again = world.client.post(paid.address, content=paid.body)
    assert again.json() == {"result": "duplicate"}  # queued once is queued


def test_the_moneybird_webhook_has_its_own_address_token(world: World) -> None:
    connection_id, order_id = booked_order(world)
    record = world.app.store.find_record(connection_id, order_id)
    assert record is not None and record.invoice_id
    books = world.moneybird.books(mb.ADMINISTRATION_ID)
    (webhook,) = books.webhooks.values()
    own, ccv = moneybird_token(world, connection_id), world.app.store.webhook_token(connection_id)
    assert own != ccv
    assert webhook.url.endswith(f"/webhooks/moneybird/{own}")
    books.duplicate_credit_invoice(record.invoice_id)
    world.moneybird.deliver_webhooks()
    push = world.moneybird.outbox.delivered[-1]
    from ccvbird.sandbox.moneybird.webhooks import signature_header

    headers = {
        "Idempotency-Key": push.key + "-again",
        "Moneybird-Signature": signature_header(
            webhook.secrets, push.body, int(world.moneybird.clock())
        ),
    }
    # The CCV token (in every CCV webhook address) does not open the Moneybird webhook.
    refused = world.client.post(f"/webhooks/moneybird/{ccv}", content=push.body, headers=headers)
    assert refused.status_code == 401
    accepted = world.client.post(f"/webhooks/moneybird/{own}", content=push.body, headers=headers)
    assert accepted.status_code == 200, accepted.text
    credited = world.app.store.find_record(connection_id, order_id)
    assert credited is not None and credited.state is SyncState.CREDITED
