"""Workers and the scheduler: Huey tasks that run the engine.

``sync_order`` books one order; ``poll_due`` (every minute) queues each connection's bookings
whose retry time has come — whatever the order's date, also those ``ccvbird import`` or
``ccvbird sync`` left — and polls each connection whose polling interval has passed. A retry
lives in the state database (the record's ``next_attempt_at``), not in the queue, so it
survives a lost or flushed queue and is never taken twice.

One worker handles a connection at a time: a task first takes the connection's lease in the
state database (shared by every worker and machine) and puts itself back on the queue a moment
later when another worker holds it.
An order waits on the queue at most once (``adapters/queue.py``): the task clears the
order's "queued" mark when it starts.
A worker that loses the lease while it books (it waited or stalled longer than the lease)
writes nothing more — its writes are fenced by the lease's token — and puts the order back on
the queue the same way.

SIGTERM (and Ctrl+C) stop a worker cleanly (:class:`StoppingConsumer`): no new task is taken,
a task that is sending finishes its booking, and a task that waits (for the Moneybird request
budget, or before a retry) stops waiting and hands the order back — its record is due again
at once, its lease is released. A second SIGTERM or Ctrl+C stops at once; what was under way
is then resumed from its intents when the lease has run out (docs/engine.md).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from huey import Huey, crontab
from huey.consumer import Consumer
from structlog.contextvars import bound_contextvars

from ccvbird import bootstrap
from ccvbird.domain.errors import CcvbirdError, Interrupted, LeaseLost
from ccvbird.ports import Queue
from ccvbird.service.sync import RESUMABLE, Outcome, Trigger
from ccvbird.service.triggers import enqueue_due, poll

log = logging.getLogger(__name__)

#: How long a worker's lease on a connection lasts; renewed by every write and while it waits.
LEASE = bootstrap.LEASE
#: When another worker holds the connection, try again after this many seconds.
BUSY_RETRY_SECONDS = 2.0


BUSY = "busy"
#: The lease ran out while booking and another worker took the connection: nothing more was
#: written; the order goes back on the queue like a busy one.
LEASE_LOST = "lease_lost"


def worker_name() -> str:
    return bootstrap.lease_owner("worker")


def run_sync(
    app: bootstrap.App, connection_id: int, order_id: str, trigger: Trigger
) -> tuple[str, float | None]:
    """Book one order while holding the connection's lease: (outcome, seconds until a retry).

    ``"busy"`` when another worker holds the connection, ``"lease_lost"`` when this worker lost
    the lease while booking (and wrote nothing after); the caller tries again shortly.
    """
    lease = app.store.acquire_lease(connection_id, worker_name(), LEASE)
    if lease is None:
        return BUSY, None
    try:
        result = app.sync_leased(lease, order_id, trigger=trigger)
    except LeaseLost as exc:
        log.warning("%s; order %s goes back on the queue", exc, order_id)
        return LEASE_LOST, None
    finally:
        app.store.release_lease(lease)
    retry_in = (
        result.retry_in.total_seconds()
        if result.outcome is Outcome.RETRY_LATER and result.retry_in
        else None
    )
    return result.outcome.value, retry_in


def _queue_retry(task: Any, shares: Any, connection_id: int, order_id: str) -> None:
    # Ready now; its ``eta`` says since when (the queue's oldest-job age reads it), and its
    # priority is its connection's fair share.
    task.schedule(
        (connection_id, order_id, Trigger.RETRY.value),
        eta=datetime.now(UTC),
        priority=shares.priority(connection_id),
    )


#: Outcomes that mean "the paid invoice is booked now" (the paid-to-booked histogram).
PAID_INVOICE = frozenset({Outcome.BOOKED.value, Outcome.PAID.value})


def _observe_booked(app: bootstrap.App, outcome: str, queued_at: float | None) -> None:
    # The wall clock the "queued" marks are set by (``adapters/queue.py``).
    if app.observer is not None and queued_at is not None and outcome in PAID_INVOICE:
        app.observer.paid_invoice_booked(time.time() - queued_at)


def _retried_by_scheduler(app: bootstrap.App, connection_id: int, order_id: str) -> bool:
    """Whether the order's record carries its retry time, which ``poll_due`` follows (a second,
    queued retry would book it twice as often as its backoff says)."""
    record = app.store.find_record(connection_id, order_id)
    return record is not None and record.state in RESUMABLE


@dataclass
class Tasks:
    huey: Huey
    sync_order: Any
    poll_due: Any

    def queue(self) -> Queue:
        return bootstrap.huey_queue(self.sync_order)


def register(app: bootstrap.App, huey: Huey) -> Tasks:
    """Define ccvbird's tasks on ``huey`` (the same names in every process)."""

    marks = bootstrap.pending_marks(huey)
    shares = bootstrap.fair_shares(huey)

    @huey.task(name="ccvbird.sync_order")  # type: ignore[untyped-decorator]
    def sync_order(
        connection_id: int,
        order_id: str,
        trigger: str = Trigger.WEBHOOK.value,
        queued_at: float | None = None,
    ) -> str:
        """``queued_at``: when the trigger queued the order (epoch seconds), carried by a copy
        put back on the queue so the paid-to-booked time counts its waits."""
        # A task queued now carries the order's "queued" mark (a scheduled retry does not).
        # Taking the task clears it before the order is read, so a trigger from here on
        # queues another run rather than being absorbed by this one. The mark says when the
        # order was queued.
        marked = trigger != Trigger.RETRY.value
        if marked:
            since = marks.release(connection_id, order_id)
            queued_at = queued_at if queued_at is not None else since
        with bound_contextvars(connection_id=connection_id, order_id=order_id):
            outcome, retry_in = run_sync(app, connection_id, order_id, Trigger(trigger))
        _observe_booked(app, outcome, queued_at)
        if outcome in (BUSY, LEASE_LOST):
            # Back on the queue holding the mark again — unless a newer copy is waiting
            # already, which will do the work.
            if not marked or marks.claim(connection_id, order_id):
                sync_order.schedule(
                    (connection_id, order_id, trigger, queued_at),
                    delay=BUSY_RETRY_SECONDS,
                    priority=shares.priority(connection_id, delay=BUSY_RETRY_SECONDS),
                )
        elif retry_in is not None and not _retried_by_scheduler(app, connection_id, order_id):
            sync_order.schedule(
                (connection_id, order_id, Trigger.RETRY.value, queued_at),
                delay=retry_in,
                priority=shares.priority(connection_id, delay=retry_in),
            )
        return outcome

    @huey.periodic_task(crontab(minute="*"), name="ccvbird.poll_due")  # type: ignore[untyped-decorator]
    def poll_due() -> int:
        polled = 0
        now = app.clock.now()
        interval = timedelta(minutes=app.settings.poll_minutes)
        queue = bootstrap.huey_queue(sync_order)
        for connection in app.store.connections():
            if not connection.enabled or connection.paused_reason:
                continue
            try:
                enqueue_due(
                    connection.id,
                    store=app.store,
                    clock=app.clock,
                    enqueue=partial(_queue_retry, sync_order, shares, connection.id),
                )
            except Exception:
                log.exception("queueing the due retries of connection %s failed", connection.id)
            if connection.last_sync_at is not None and now - connection.last_sync_at < interval:
                continue
            try:
                # The first booking after a poll reads the tax rates again (in this process).
                app.tax_rates.invalidate(connection.id)
                poll(
                    connection.id,
                    store=app.store,
                    shop=app.shop_for(connection.id),
                    queue=queue,
                    clock=app.clock,
                    lookback=timedelta(days=app.settings.lookback_days),
                )
                polled += 1
            except CcvbirdError as exc:
                # The reason is on the connection (``status`` shows it); no traceback for it.
                log.warning(
                    "polling connection %s failed; the next poll tries again: %s",
                    connection.id,
                    exc,
                )
            except Exception:
                log.exception(
                    "polling connection %s failed; the next poll tries again", connection.id
                )
        return polled

    return Tasks(huey=huey, sync_order=sync_order, poll_due=poll_due)


class Stopping:
    """Whether this process is stopping; its :meth:`sleep` is the app's ``sleep`` in a worker.

    Every wait of a booking goes through the app's ``sleep`` (the request budget, the pause
    before a retry), so a stopping worker need not sit out a wait of minutes: the sleep ends
    and raises :class:`Interrupted`, and the engine hands the order back.
    """

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def sleep(self, seconds: float) -> None:
        if self._event.wait(max(seconds, 0.0)):
            raise Interrupted("this worker is stopping; another worker books the order")


class StoppingConsumer(Consumer):  # type: ignore[misc]
    """Huey's consumer, with SIGTERM stopping gracefully as SIGINT does.

    Huey stops at once on SIGTERM: its thread workers die wherever they are, so a booking
    under way keeps its lease until the lease runs out. Here SIGTERM (what systemd, Docker and
    Kubernetes send) waits for the tasks under way, whose waits end early (:class:`Stopping`).
    A second SIGTERM or SIGINT while waiting stops at once.
    """

    # Huey's own flags (set in its ``__init__`` and signal handlers).
    _received_signal: bool
    _restart: bool
    _graceful: bool

    def __init__(
        self,
        *args: Any,
        stopping: Stopping,
        on_stop: Callable[[], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.stopping = stopping
        self.on_stop = on_stop

    def _set_signal_handlers(self) -> None:
        super()._set_signal_handlers()
        signal.signal(signal.SIGTERM, self._stop_gracefully)
        signal.signal(signal.SIGINT, self._stop_gracefully)

    def _stop_gracefully(self, signum: int, frame: object) -> None:
        if self._received_signal and not self._restart:
            raise KeyboardInterrupt  # asked twice: Huey's graceful stop gives up waiting
        self._logger.info("Received %s: finishing the tasks under way", signal.Signals(signum).name)
        self.stopping.set()
        self._received_signal = True
        self._restart = False
        self._graceful = True

    def stop(self, graceful: bool = False) -> None:
        """Stop (from the main loop, not the signal handler): ``on_stop`` says so first."""
        self.stopping.set()
        said, self.on_stop = self.on_stop, None
        if said is not None:
            said()
        super().stop(graceful=graceful)


def consumer(
    tasks: Tasks,
    *,
    workers: int,
    periodic: bool = True,
    stopping: Stopping | None = None,
    on_stop: Callable[[], None] | None = None,
) -> StoppingConsumer:
    """A Huey consumer with thread workers (``ccvbird run`` and ``ccvbird worker``).

    ``stopping``: the flag whose ``sleep`` the app's engines use (see :class:`Stopping`);
    ``on_stop``: called once when the consumer starts stopping (to tell the person)."""
    return StoppingConsumer(
        tasks.huey,
        workers=workers,
        worker_type="thread",
        periodic=periodic,
        check_worker_health=True,
        stopping=stopping or Stopping(),
        on_stop=on_stop,
    )
