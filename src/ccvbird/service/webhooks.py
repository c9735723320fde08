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
    if delivery.event not in ORDER_EVENTS or not delivery.order_id:
        return Received.IGNORED
    key = delivery_key(delivery.event, delivery.raw_body)
    if not store.delivery_to_queue(
        delivery.connection_id, "ccv", key, delivery.event, delivery.order_id
    ):
        return Received.DUPLICATE
    queue.enqueue_order(delivery.connection_id, delivery.order_id)
    store.delivery_queued("ccv", key)
    return Received.ENQUEUED
