"""Webhook deliveries: record, deduplicate, enqueue — and answer quickly.

A CCV webhook only says "order X changed"; the engine re-reads the order, so a delivery that
arrives twice, late, or out of order does no harm. Each delivery is recorded once (a unique key
per source), which makes repeats visible as repeats and keeps the queue free of them — but a
delivery is a repeat only once its order reached the queue.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from ccvbird.ports import Queue, Store

#: The CCV events that can make an order due (or change a booked one).
ORDER_EVENTS = frozenset({"orders.created", "orders.updated.ispaid", "orders.updated.status"})
#: Events about credits whose body names an invoice or a return, not the order: what is queued
#: is ``invoice:<id>`` / ``return:<id>``, which the engine reads to find the order, and then
#: syncs that order's credits (``SyncEngine.sync_order``).
CREDIT_EVENTS = {
    "invoices.updated.status": "invoice",
    "returns.created": "return",
    "returns.updated": "return",
}


#: A queued ``credited:<order id>``: polling saw a credit invoice of a booked order that ccvbird
#: has not booked (its webhook never came): the order's credits are read and booked.
CREDITED = "credited"


def credit_source(target: str) -> tuple[str, str] | None:
    """``("invoice", "7001")`` for a queued ``invoice:7001`` (``return:…``, ``credited:<order
    id>`` alike); ``None`` for an order id."""
    kind, _, resource_id = target.partition(":")
    if resource_id and kind in ("invoice", "return", CREDITED) and resource_id.isdigit():
        return kind, resource_id
    return None


class Received(StrEnum):
    ENQUEUED = "enqueued"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class Delivery:
    """What a webhook endpoint learnt from a verified delivery."""

    connection_id: int
    event: str
    order_id: str
    raw_body: bytes


def delivery_key(event: str, raw_body: bytes) -> str:
    """CCV sends no delivery id; a retried delivery repeats its body (``triggered_at``
    included), so the body and the event identify it."""
    return hashlib.sha256(event.encode() + b"\n" + raw_body).hexdigest()


def receive_ccv_delivery(delivery: Delivery, *, store: Store, queue: Queue) -> Received:
    """Record a CCV order webhook and put the order on the queue (once per delivery).

    The delivery counts as handled only once the queue took it: when queueing fails the error
    propagates (the endpoint answers 500) and the delivery stays unqueued, so CCV's identical
    retry is queued rather than answered "duplicate".
    """
    known = delivery.event in ORDER_EVENTS or delivery.event in CREDIT_EVENTS
    if not known or not delivery.order_id:
        return Received.IGNORED
    target = delivery.order_id
    if delivery.event in CREDIT_EVENTS:  # the body's id is the invoice's or the return's
        target = f"{CREDIT_EVENTS[delivery.event]}:{delivery.order_id}"
    key = delivery_key(delivery.event, delivery.raw_body)
    if not store.delivery_to_queue(delivery.connection_id, "ccv", key, delivery.event, target):
        return Received.DUPLICATE
    queue.enqueue_order(delivery.connection_id, target)
    store.delivery_queued("ccv", key)
    return Received.ENQUEUED
