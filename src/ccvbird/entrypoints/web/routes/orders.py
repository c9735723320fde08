"""The order list (search, filters, CSV) and one order's page with its event log."""

from __future__ import annotations

import csv
import io
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from ccvbird.domain.profile import InvoiceKind
from ccvbird.domain.sync import SyncState
from ccvbird.entrypoints.web.i18n import _
from ccvbird.entrypoints.web.limits import MAX_ID, ORDER_ID_IN_PATH
from ccvbird.entrypoints.web.pages import flash
from ccvbird.entrypoints.web.routes.common import pages, queue, see_other
from ccvbird.entrypoints.web.security import (
    Backend,
    ConnectionId,
    Installed,
    NotFoundPage,
    check_csrf,
)
from ccvbird.wiring.moneybird import invoice_url

router = APIRouter(dependencies=[Depends(check_csrf)])

OrderId = Annotated[str, ORDER_ID_IN_PATH]

PAGE_SIZE = 50
#: States whose order page reloads itself: something is about to happen.
MOVING = {SyncState.WAITING, SyncState.BOOKING}


def _states(state: str) -> list[SyncState] | None:
    return [SyncState(state)] if state in {s.value for s in SyncState} else None


@router.get("/connections/{connection_id}/orders")
def order_list(
    request: Request,
    connection_id: ConnectionId,
    backend: Backend,
    q: str = "",
    state: str = "",
    page: Annotated[int, Query(le=MAX_ID // 1000)] = 1,
) -> Response:
    page = max(page, 1)
    records = backend.app.store.records(
        connection_id, states=_states(state), search=q.strip()[:100],
        limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE,
    )  # fmt: skip
    return pages(request).render(
        request, "orders.html", connection=backend.app.store.connection(connection_id),
        records=records[:PAGE_SIZE], more=len(records) > PAGE_SIZE, q=q, state=state,
        page=page, states=list(SyncState),
    )  # fmt: skip


def _safe_cell(value: object) -> str:
    """No formula injection: a cell a spreadsheet would evaluate starts with a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@router.get("/connections/{connection_id}/orders.csv")
def order_csv(
    connection_id: ConnectionId, backend: Backend, q: str = "", state: str = ""
) -> Response:
    records = backend.app.store.records(connection_id, states=_states(state), search=q.strip())
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["order_id", "order_number", "order_created_at", "state", "reason_code", "reason",
         "invoice_id", "invoice_number", "booked_total", "attempts", "updated_at",
         "invoice_date", "payment_date"]
    )  # fmt: skip
    for r in records:
        writer.writerow(
            [_safe_cell(v) for v in (
                r.order_id, r.order_number,
                r.order_created_at.isoformat() if r.order_created_at else "",
                r.state.value, r.reason_code, r.reason, r.invoice_id, r.invoice_number,
                r.booked_total, r.attempts, r.updated_at.isoformat() if r.updated_at else "",
                r.invoice_date.isoformat() if r.invoice_date else "",
                r.payment_date.isoformat() if r.payment_date else "",
            )]
        )  # fmt: skip
    name = f"ccvbird-connection-{connection_id}-orders.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/connections/{connection_id}/orders/{order_id}")
def order_page(
    request: Request, connection_id: ConnectionId, order_id: OrderId, backend: Backend
) -> Response:
    store = backend.app.store
    record = store.find_record(connection_id, order_id)
    if record is None:  # perhaps not yet: a webhook may be on its way — look again shortly
        return pages(request).render(
            request, "message.html", status=404, refresh_seconds=3,
            title=_("Order %(number)s", number=order_id),
            message=_("ccvbird has not seen this order (yet)."),
            back=f"/connections/{connection_id}/orders",
        )  # fmt: skip
    connection = store.connection(connection_id)
    external = connection.profile.invoice_kind is InvoiceKind.EXTERNAL_SALES_INVOICE
    link = (
        invoice_url(backend, connection_id, record.invoice_id, external)
        if record.invoice_id
        else ""
    )
    return pages(request).render(
        request, "order.html", connection=connection, record=record,
        events=store.events(connection_id, order_id), invoice_link=link,
        refresh=record.state in MOVING,
    )  # fmt: skip


@router.post("/connections/{connection_id}/orders/{order_id}/retry")
def retry_one(
    request: Request, connection_id: Installed, order_id: OrderId, backend: Backend
) -> Response:
    store = backend.app.store
    record = store.find_record(connection_id, order_id)
    if record is None:
        raise NotFoundPage
    if record.state is SyncState.CREDITED:
        flash(request, _("A credited order is left as it is."), "warning")
    else:
        if record.state is SyncState.INVOICE_DELETED:
            record.state, record.reason, record.reason_code = SyncState.WAITING, "", ""
        record.attempts, record.next_attempt_at = 0, None
        store.save(record, "retry.requested", "retry requested from the dashboard")
        queue(request).enqueue_order(connection_id, order_id)
        flash(request, _("The order is back in the queue."))
    return see_other(f"/connections/{connection_id}/orders/{order_id}")
