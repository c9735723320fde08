"""The connections overview and each connection's dashboard with its actions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import Response

from ccvbird.domain.reasons import Reason
from ccvbird.domain.sync import SyncState
from ccvbird.entrypoints.web.i18n import _, ngettext
from ccvbird.entrypoints.web.pages import flash
from ccvbird.entrypoints.web.routes.common import form_of, pages, queue, see_other
from ccvbird.entrypoints.web.routes.orders import CREDIT_FILTERS, filter_count
from ccvbird.entrypoints.web.security import (
    Backend,
    ConnectionId,
    Installed,
    Operator,
    check_csrf,
)
from ccvbird.ports import ConnectionInfo
from ccvbird.service.triggers import enqueue_due, retry_failed
from ccvbird.wiring import SETUP_REASON, Setup, WebBackend
from ccvbird.wiring.jobs import (
    budget_use,
    import_since_default,
    paused_by_hand,
    run_import,
    sync_now,
)

router = APIRouter(dependencies=[Depends(check_csrf)])

MANUAL_PAUSE = Reason("paused_by_hand")
#: The order of the state tiles: what needs the owner first, then what went well, then the
#: rest (the orders booked with an open invoice next to the booked ones). Orders credited in
#: Moneybird are counted in the "credited" tile (``CREDIT_FILTERS``), with the orders ccvbird
#: credited.
FIRST = [SyncState.NEEDS_ATTENTION, SyncState.CHANGED, SyncState.INVOICE_DELETED,
         SyncState.BOOKED, SyncState.AWAITING_PAYMENT, SyncState.WAITING]  # fmt: skip
TILES: list[SyncState] = FIRST + [
    s for s in SyncState if s not in FIRST and s is not SyncState.CREDITED
]
ALWAYS_SHOWN = {SyncState.BOOKED.value, SyncState.NEEDS_ATTENTION.value}
NEVER_SHOWN = {SyncState.SKIPPED.value, SyncState.BOOKING.value}


@dataclass
class Overview:
    connection: ConnectionInfo
    setup: Setup
    counts: dict[str, int]
    next_sync: datetime | None
    budget: tuple[int, int, float] | None

    @property
    def tiles(self) -> list[tuple[str, int]]:
        """The state tiles an owner acts on or wants to see: booked and needing attention
        always; waiting, open invoices and what changed in CCV or Moneybird when there are
        any. Skipped orders (cancelled, never finished) and the ones being booked this moment
        are left to the order list."""
        return [
            (state, count)
            for state, count in self.counts.items()
            if state in ALWAYS_SHOWN or (count and state not in NEVER_SHOWN)
        ]

    @property
    def in_setup(self) -> bool:
        return self.connection.paused_reason == SETUP_REASON


def overview(backend: WebBackend, connection_id: int) -> Overview:
    store = backend.app.store
    connection = store.connection(connection_id)
    counts = {state.value: 0 for state in TILES}
    counts.update(
        {state.value: n for state, n in store.count_states(connection_id).items() if state in TILES}
    )
    next_sync = None
    if connection.enabled and not connection.paused_reason:
        interval = timedelta(minutes=backend.settings.poll_minutes)
        next_sync = (connection.last_sync_at or backend.app.clock.now()) + interval
        if connection.last_sync_at is None:
            next_sync = backend.app.clock.now()
    return Overview(
        connection, backend.installs.setup(connection_id), counts, next_sync,
        budget_use(backend, connection_id),
    )  # fmt: skip


@router.get("/connections")
def connections(request: Request, account: Operator, backend: Backend) -> Response:
    items = [overview(backend, c.id) for c in backend.app.store.connections()]
    return pages(request).render(request, "connections.html", items=items)


@router.get("/connections/{connection_id}")
def dashboard(request: Request, connection_id: ConnectionId, backend: Backend) -> Response:
    view = overview(backend, connection_id)
    if view.in_setup:
        return see_other(f"/connections/{connection_id}/setup")
    attention = backend.app.store.records(
        connection_id, states=[SyncState.NEEDS_ATTENTION], limit=10
    )
    progress = backend.imports.latest(connection_id)
    since = ""
    if view.connection.enabled:  # an uninstalled shop is not asked (its keys are gone)
        since = import_since_default(backend, connection_id).isoformat()
    credit_tiles = {name: filter_count(backend, connection_id, name) for name in CREDIT_FILTERS}
    return pages(request).render(
        request, "dashboard.html", view=view, attention=attention, progress=progress,
        since=since, credit_tiles=credit_tiles,
    )  # fmt: skip


@router.post("/connections/{connection_id}/pause")
def pause(request: Request, connection_id: Installed, backend: Backend) -> Response:
    if not backend.app.store.connection(connection_id).paused_reason:
        paused_by_hand(backend, connection_id, MANUAL_PAUSE)
        flash(request, _("Paused: ccvbird books nothing until you resume."))
    return see_other(f"/connections/{connection_id}")


@router.post("/connections/{connection_id}/resume")
def resume(request: Request, connection_id: Installed, backend: Backend) -> Response:
    if backend.app.store.connection(connection_id).paused_reason == SETUP_REASON:
        flash(request, _("Finish the setup first."), "warning")
        return see_other(f"/connections/{connection_id}/setup")
    backend.app.store.resume(connection_id)
    # What arrived while paused waits with its time set to "now": queue it at once, rather
    # than at the scheduler's next tick (or never, where no scheduler runs).
    waiting = enqueue_due(
        connection_id,
        store=backend.app.store,
        clock=backend.app.clock,
        enqueue=partial(queue(request).enqueue_order, connection_id),
    )
    if waiting:
        flash(
            request,
            ngettext(
                "Resumed: ccvbird books again, starting with the %(num)s order that waited.",
                "Resumed: ccvbird books again, starting with the %(num)s orders that waited.",
                waiting,
            ),
        )
    else:
        flash(request, _("Resumed: ccvbird books again, from where it stopped."))
    return see_other(f"/connections/{connection_id}")


def _ready(request: Request, backend: WebBackend, connection_id: int) -> bool:
    connection = backend.app.store.connection(connection_id)
    if connection.paused_reason or not connection.enabled:
        flash(request, _("The connection is paused; resume it first."), "warning")
        return False
    return True


@router.post("/connections/{connection_id}/sync")
def sync(
    request: Request, connection_id: Installed, backend: Backend, tasks: BackgroundTasks
) -> Response:
    if _ready(request, backend, connection_id):
        tasks.add_task(sync_now, backend, connection_id, queue(request))
        flash(request, _("Looking for new and changed orders now."))
    return see_other(f"/connections/{connection_id}")


@router.post("/connections/{connection_id}/retry-failed")
def retry_all(request: Request, connection_id: Installed, backend: Backend) -> Response:
    if _ready(request, backend, connection_id):
        work = queue(request)
        count = retry_failed(
            connection_id,
            store=backend.app.store,
            enqueue=lambda order_id: work.enqueue_order(connection_id, order_id),
        )
        flash(request, _("%(count)s order(s) put back in the queue.", count=count))
    return see_other(f"/connections/{connection_id}")


@router.post("/connections/{connection_id}/import")
async def start_import(
    request: Request, connection_id: Installed, backend: Backend, tasks: BackgroundTasks
) -> Response:
    form = await form_of(request)
    try:
        since = date.fromisoformat(str(form.get("since", "")))
    except ValueError:
        flash(request, _("Enter the first day to import, like 2026-01-31."), "error")
        return see_other(f"/connections/{connection_id}")
    if not _ready(request, backend, connection_id):
        return see_other(f"/connections/{connection_id}")
    progress = backend.imports.begin(connection_id, since, backend.app.clock.now())
    if progress is None:
        flash(request, _("An import is running already."), "warning")
    else:
        tasks.add_task(run_import, backend, progress)
    return see_other(f"/connections/{connection_id}/import")


@router.get("/connections/{connection_id}/import")
def import_page(request: Request, connection_id: ConnectionId, backend: Backend) -> Response:
    context: dict[str, Any] = {
        "connection": backend.app.store.connection(connection_id),
        "progress": backend.imports.latest(connection_id),
    }
    return pages(request).render(request, "import.html", **context)
