"""Whole passes over a connection: one polling pass (``ccvbird sync``) and the history import.

Both run the engine in this process, order after order, with the order as just read (no second
read per order). The history import first counts what is due from the list pages alone (one
request per page, no rows) so it can show progress and an ETA from the Moneybird budget, and
asks Moneybird once per page of orders which of them it has an invoice for already: those are
taken over, never booked twice. It also lists the period's CCV credit invoices once (one
request per page of invoices): an order with a credit is imported with its credits, which are
booked right after its invoice, and the credits of orders booked before are booked at the end.

Both book through the engine they are given; the entrypoints hand them one that takes the
connection's lease order by order (``bootstrap.LeasedEngine``), as the workers do, so a pass
and a worker never book the same order at once. When the lease keeps being taken away from it,
a pass stops and says so (run it again to go on).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import islice
from typing import Protocol

from ccvbird.domain.bounds import is_order_id
from ccvbird.domain.decisions import booking_blockers
from ccvbird.domain.errors import CcvbirdError, InvalidOrderData, LeaseLost
from ccvbird.domain.mapping import MappingResult, invoice_reference, map_order
from ccvbird.domain.order import Order
from ccvbird.domain.reasons import Reason
from ccvbird.domain.sync import RemoteInvoice, SyncState
from ccvbird.ports import Clock, ConnectionInfo, Shop, Store
from ccvbird.service.sync import Outcome, SyncEngine, Trigger
from ccvbird.service.triggers import SETTLED, enqueue_due, history, midnight, poll


class ProgressReporter(Protocol):
    def start(self, total: int) -> None: ...

    def advance(self, outcome: str) -> None: ...


class _Silent:
    def start(self, total: int) -> None:
        return None

    def advance(self, outcome: str) -> None:
        return None


@dataclass
class PassReport:
    connection_id: int
    seen: int = 0
    #: Orders taken up because their time to be looked at again had come (retries, resumes).
    due: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    #: Why the connection is paused (a person must act before anything is booked).
    paused_reason: str = ""
    #: Why this pass stopped early although the connection is not paused (run it again).
    stopped_reason: str = ""
    #: Orders that could not even be given a record (their id is unusable), each with why.
    unrecorded: list[str] = field(default_factory=list)

    @property
    def why_not_finished(self) -> str:
        return self.paused_reason or self.stopped_reason


class _Collector:
    """A ``Queue`` that just collects order ids, for a pass run in this process."""

    def __init__(self) -> None:
        self.order_ids: list[str] = []
        self._seen: set[str] = set()

    def enqueue_order(self, connection_id: int, order_id: str, *, delay_seconds: float = 0) -> None:
        if delay_seconds <= 0 and order_id not in self._seen:
            self._seen.add(order_id)
            self.order_ids.append(order_id)


def sync_pass(
    connection_id: int,
    *,
    engine: SyncEngine,
    store: Store,
    shop: Shop,
    clock: Clock,
    lookback: timedelta = timedelta(days=30),
) -> PassReport:
    """Poll once and book whatever is due — new and changed orders of the polling window, and
    every booking whose retry time has come, however old its order — in this process."""
    connection = store.connection(connection_id)
    report = PassReport(connection_id)
    if connection.paused_reason:
        report.paused_reason = connection.paused_reason
        return report
    collector = _Collector()
    try:
        polled = poll(
            connection_id, store=store, shop=shop, queue=collector, clock=clock, lookback=lookback
        )
    except CcvbirdError as exc:
        report.stopped_reason = (
            f"Could not read the shop's orders ({exc}); nothing was booked. The next sync tries "
            "again."
        )
        return report
    report.seen = polled.seen
    engine.begin_pass(connection_id)
    polled_ids = set(collector.order_ids)
    report.due = enqueue_due(
        connection_id,
        store=store,
        clock=clock,
        enqueue=lambda order_id: collector.enqueue_order(connection_id, order_id),
    )
    for order_id in collector.order_ids:
        trigger = Trigger.POLL if order_id in polled_ids else Trigger.RETRY
        try:
            result = engine.sync_order(connection_id, order_id, trigger=trigger)
        except LeaseLost as exc:
            report.stopped_reason = f"{exc}. Run it again to go on."
            break
        report.outcomes[result.outcome.value] += 1
        if result.outcome is Outcome.PAUSED and not report.paused_reason:
            # Go on: each further order only records that it waits for the connection (no
            # request), so it is taken up by itself once the connection resumes.
            report.paused_reason = store.connection(connection_id).paused_reason
    return report


@dataclass
class ImportPlan:
    """What an import will do, counted from the list pages before any order is read in full."""

    orders: int
    due: int
    settled: int


def plan_import(connection_id: int, *, since: date, store: Store, shop: Shop) -> ImportPlan:
    profile = store.connection(connection_id).profile
    settled = {r.order_id for r in store.records(connection_id, states=SETTLED)}
    # An open invoice is settled until CCV says it is paid (then its payment is due).
    open_invoices = {
        r.order_id for r in store.records(connection_id, states=[SyncState.AWAITING_PAYMENT])
    }
    orders = due = done = 0
    for summary in shop.list_orders(created_from=midnight(since)):
        orders += 1
        if summary.order_id in settled or (summary.order_id in open_invoices and not summary.paid):
            done += 1
        elif summary.status in profile.trigger_statuses and (
            summary.paid or not profile.require_paid
        ):
            due += 1
    return ImportPlan(orders=orders, due=due, settled=done)


def import_history(
    connection_id: int,
    *,
    since: date,
    engine: SyncEngine,
    store: Store,
    shop: Shop,
    progress: ProgressReporter | None = None,
    total: int | None = None,
    dry_run: bool = False,
    on_preview: Callable[[Order, MappingResult], None] | None = None,
) -> PassReport:
    """Book every order created since ``since`` that is not settled yet (oldest first).

    ``dry_run`` maps each order and hands it to ``on_preview`` instead of booking: nothing is
    written to Moneybird and no order record changes.
    """
    progress = progress or _Silent()
    progress.start(total or 0)
    report = PassReport(connection_id)
    connection = store.connection(connection_id)

    def unreadable(order_id: str, problem: InvalidOrderData) -> None:
        report.seen += 1
        if not is_order_id(order_id):
            # No record can hold it (and CCV could not be asked for it again): say so here.
            report.outcomes["invalid"] += 1
            report.unrecorded.append(
                f"An order in CCV Shop cannot be read and was not booked: {problem}. "
                "Check the shop's orders of this period in CCV Shop."
            )
        elif dry_run:
            report.outcomes["invalid"] += 1
        else:
            record = store.record(connection_id, order_id)
            record.state = SyncState.NEEDS_ATTENTION
            record.explain(Reason("invalid_data", {"error": str(problem)}))
            store.save(record, "needs_attention", record.why)
            report.outcomes[Outcome.PARKED.value] += 1
        progress.advance("invalid")

    engine.begin_pass(connection_id)
    credited: list[str] = []
    if not dry_run:
        try:
            credited = shop.credited_orders(created_from=midnight(since))
        except CcvbirdError as exc:
            # Booking without it would book an order CCV credited as if it never was.
            report.stopped_reason = (
                f"Could not read the shop's credit invoices of the period ({exc}); nothing "
                "was booked. Run the import again."
            )
            return report
    imported: set[str] = set()
    orders = history(connection_id, since=since, shop=shop, store=store, on_invalid=unreadable)
    for page in _pages(orders, IMPORT_PAGE):
        try:
            existing = engine.invoices_already_booked(page, connection.profile)
        except CcvbirdError as exc:
            # Booking without this check could duplicate what Moneybird has: stop instead.
            report.stopped_reason = (
                f"Could not check Moneybird for invoices it has already ({exc}); nothing was "
                "booked for these orders. Run the import again to go on where it stopped."
            )
            return report
        imported.update(o.order_id for o in page)
        stop = _import_page(
            page, existing, connection, engine, report, progress, dry_run, on_preview,
            credited=frozenset(credited),
        )  # fmt: skip
        if stop:
            return report
    _import_credits(
        [o for o in credited if o not in imported], connection, engine, report, progress
    )
    return report


def _import_credits(
    order_ids: list[str],
    connection: ConnectionInfo,
    engine: SyncEngine,
    report: PassReport,
    progress: ProgressReporter,
) -> None:
    """The period's credits of orders booked before this import (or created before its
    period): after every original, each such order's credits are read and booked. An order
    ccvbird never invoiced is left alone (an import books no order outside its period)."""
    for order_id in order_ids:
        record = engine.store.find_record(connection.id, order_id)
        if record is None or not record.has_invoice:
            continue
        try:
            synced = engine.sync_order(connection.id, order_id, trigger=Trigger.CREDIT)
        except LeaseLost as exc:
            report.stopped_reason = f"{exc}. Run the import again to go on where it stopped."
            return
        report.outcomes[synced.outcome.value] += 1
        progress.advance(synced.outcome.value)
        if synced.outcome is Outcome.PAUSED:
            report.paused_reason = engine.store.connection(connection.id).paused_reason
            return


#: Orders per batched check for invoices Moneybird has already (one or two requests a page).
IMPORT_PAGE = 100


def _import_page(
    page: list[Order],
    existing: dict[str, RemoteInvoice],
    connection: ConnectionInfo,
    engine: SyncEngine,
    report: PassReport,
    progress: ProgressReporter,
    dry_run: bool,
    on_preview: Callable[[Order, MappingResult], None] | None,
    *,
    credited: frozenset[str] = frozenset(),
) -> bool:
    """Book (or preview) one page of an import; ``True`` when the import must stop here (the
    connection paused, or the lease kept being lost)."""
    for order in page:
        report.seen += 1
        found = existing.get(invoice_reference(order, connection.profile))
        if dry_run:
            blockers = booking_blockers(order, connection.profile)
            result = map_order(order, connection.profile, booking_date=engine.clock.today())
            if found is not None and not blockers:
                outcome = "already_in_moneybird"
            else:
                outcome = "would_book" if not blockers and result.ok else "would_not_book"
            if on_preview is not None and not blockers and found is None:
                on_preview(order, result)
        else:
            try:
                synced = engine.sync_order(
                    connection.id,
                    order.order_id,
                    trigger=Trigger.IMPORT,
                    order=order,
                    existing=found,
                    credited=order.order_id in credited,
                )
            except LeaseLost as exc:
                report.stopped_reason = f"{exc}. Run the import again to go on where it stopped."
                return True
            outcome = synced.outcome.value
            if synced.outcome is Outcome.PAUSED:
                report.outcomes[outcome] += 1
                report.paused_reason = engine.store.connection(connection.id).paused_reason
                return True
        report.outcomes[outcome] += 1
        progress.advance(outcome)
    return False


def _pages(orders: Iterable[Order], size: int) -> Iterator[list[Order]]:
    """Consecutive lists of ``size`` orders (the last may be shorter), read lazily."""
    remaining = iter(orders)
    while page := list(islice(remaining, size)):
        yield page
