"""What puts an order on the queue: polling, the history import, retries.

Triggers decide nothing about an order; they only say "order X of connection C may need work".
The engine re-reads the order and decides (``service/sync.py``), so a duplicate or out-of-order
trigger is harmless.

CCV has no "modified since" filter and no payment date, so polling re-reads a window of orders by
creation date: everything created since the last poll (minus an overlap), plus — to catch status
and payment changes of older orders — the recent orders that are not booked or skipped yet, up to
the lookback (default 30 days).

Retries are not bound to that window: every record says when it is looked at again
(``next_attempt_at``: a transient failure's backoff, a booking under way should its process
die, an order that waits for its paused connection), and :func:`enqueue_due` takes up whatever
is due, however old the order — through an index, without reading every record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from ccvbird.domain.credit_records import CreditState
from ccvbird.domain.errors import CcvbirdError, InvalidOrderData
from ccvbird.domain.order import Order
from ccvbird.domain.reasons import Reason
from ccvbird.domain.sync import SyncState
from ccvbird.ports import Clock, Queue, Shop, Store
from ccvbird.service.webhooks import CREDITED

#: States that polling no longer needs to look at (a changed order is seen through webhooks).
#: ``awaiting_payment`` is not one: polling compares its paid flag on the list pages it reads
#: anyway, so an order invoiced while unpaid costs nothing until CCV says it is paid.
SETTLED = frozenset(
    {
        SyncState.BOOKED,
        SyncState.SKIPPED,
        SyncState.CHANGED,
        SyncState.CREDITED,
        SyncState.INVOICE_DELETED,
    }
)


@dataclass(frozen=True, slots=True)
class PollReport:
    seen: int
    enqueued: int
    window_start: datetime


def poll(
    connection_id: int,
    *,
    store: Store,
    shop: Shop,
    queue: Queue,
    clock: Clock,
    lookback: timedelta = timedelta(days=30),
    overlap: timedelta = timedelta(minutes=10),
) -> PollReport:
    """Enqueue every order of the lookback window that is new or changed.

    Reads list pages only (no rows): an order is enqueued when ccvbird has not seen it yet, or its
    status or paid flag differs from what ccvbird saw last, and it is not settled. Orders whose
    retry is due are :func:`enqueue_due`'s, in or outside the window (taking them here too would
    book them twice as often as their backoff says).
    """
    connection = store.connection(connection_id)
    now = clock.now()
    window_start = now - lookback
    if connection.start_date is not None:
        window_start = max(window_start, midnight(connection.start_date))
    known = {
        r.order_id: r
        for r in store.records(connection_id)
        if r.order_created_at is None or r.order_created_at >= window_start - overlap
    }
    seen = enqueued = 0
    try:
        for summary in shop.list_orders(created_from=window_start - overlap):
            seen += 1
            record = known.get(summary.order_id)
            if record is not None and (
                record.state in SETTLED
                or (record.ccv_status == summary.status and record.ccv_paid == summary.paid)
            ):
                continue
            queue.enqueue_order(connection_id, summary.order_id)
            enqueued += 1
        since = connection.last_sync_at - overlap if connection.last_sync_at else window_start
        enqueued += _unbooked_credits(connection_id, since, store=store, shop=shop, queue=queue)
    except CcvbirdError as exc:
        # Not one order's problem (those are parked one by one): the shop could not be read.
        # Kept on the connection so that ``status`` says why the last sync failed.
        store.mark_sync_failed(connection_id, now, f"Could not read the shop's orders: {exc}")
        raise
    store.mark_synced(connection_id, now, now)
    return PollReport(seen=seen, enqueued=enqueued, window_start=window_start)


def _unbooked_credits(
    connection_id: int, since: datetime, *, store: Store, shop: Shop, queue: Queue
) -> int:
    """Queue the booked orders with a CCV credit invoice (created since ``since``) that ccvbird
    has not booked or parked: the safety net for a credit webhook that never came, as the
    order list is for the order webhooks. One listing of CCV's invoices per poll; a credit
    already booked queues nothing. An order not booked yet is left to its own booking, which
    reads its credits first."""
    wanted: dict[str, None] = {}
    for order_id, invoice_id in shop.listed_credits(created_from=since):
        record = store.find_record(connection_id, order_id)
        if record is None or not record.has_invoice:
            continue
        done = {
            c.credit_key
            for c in store.credit_records(connection_id, order_id)
            if c.state in (CreditState.BOOKED, CreditState.PARKED)
        }
        if f"ccv:{invoice_id}" not in done:
            wanted.setdefault(order_id)
    for order_id in wanted:
        queue.enqueue_order(connection_id, f"{CREDITED}:{order_id}")
    return len(wanted)


#: How long a due order taken up by :func:`enqueue_due` is not taken again (the engine sets its
#: next time as soon as it runs; this only covers a task that never ran, e.g. a lost queue).
CLAIM = timedelta(minutes=10)


def enqueue_due(
    connection_id: int,
    *,
    store: Store,
    clock: Clock,
    enqueue: Callable[[str], None],
    limit: int = 500,
) -> int:
    """Put every order whose time to be looked at again has come on the queue; returns how many.

    Whatever the order's date: a booking that failed transiently, one interrupted by a crash,
    one that waited for its paused connection, a credit whose retry time has come. Each is
    claimed for :data:`CLAIM` as it is taken, so the next scheduler tick (or a second
    ``ccvbird sync``) does not take it again.
    """
    now = clock.now()
    due = store.claim_due(connection_id, now, until=now + CLAIM, limit=limit)
    # A credit's retry is the credit's own (its order is booked and not due itself).
    credits = store.claim_credits_due(connection_id, now, until=now + CLAIM, limit=limit)
    due += [order_id for order_id in credits if order_id not in due]
    for order_id in due:
        enqueue(order_id)
    return len(due)


def history(
    connection_id: int,
    *,
    since: date,
    shop: Shop,
    store: Store,
    until: datetime | None = None,
    on_invalid: Callable[[str, InvalidOrderData], None] | None = None,
) -> Iterator[Order]:
    """The orders created since ``since`` that are not settled yet, oldest first, with rows.

    A generator: the import streams orders, so memory stays flat however long the history is,
    and hands each order to the engine as read (no second read per order).
    """
    settled = {r.order_id for r in store.records(connection_id, states=SETTLED)}
    orders = shop.iter_orders(
        created_from=midnight(since), created_until=until, on_invalid=on_invalid
    )
    for order in orders:
        if order.order_id not in settled:
            yield order


def retry_failed(connection_id: int, *, store: Store, enqueue: Callable[[str], None]) -> int:
    """Put every order that needs attention back on the queue; returns how many."""
    records = store.records(connection_id, states=[SyncState.NEEDS_ATTENTION])
    for record in records:
        record.attempts = 0
        record.next_attempt_at = None
        store.save(record, "retry.requested", Reason("event.retry.requested"))
        enqueue(record.order_id)
    return len(records)


def midnight(day: date) -> datetime:
    """The start of ``day`` (UTC), where a create-date window begins."""
    return datetime.combine(day, time.min, tzinfo=UTC)
