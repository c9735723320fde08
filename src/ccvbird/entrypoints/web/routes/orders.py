"""The order list (search, filters, CSV) and one order's page with its event log."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from ccvbird import bootstrap
from ccvbird.domain.credit_records import CreditState
from ccvbird.domain.money import format_amount
from ccvbird.domain.profile import InvoiceKind
from ccvbird.domain.reasons import Reason
from ccvbird.domain.sync import OrderRecord, SyncState
from ccvbird.entrypoints.web.credit_labels import CREDIT_ATTENTION, credit_answer_words
from ccvbird.entrypoints.web.i18n import _, current_language
from ccvbird.entrypoints.web.labels import state_label
from ccvbird.entrypoints.web.limits import MAX_ID, ORDER_ID_IN_PATH
from ccvbird.entrypoints.web.pages import flash
from ccvbird.entrypoints.web.reasons import record_words
from ccvbird.entrypoints.web.routes.common import pages, queue, see_other
from ccvbird.entrypoints.web.security import (
    Backend,
    ConnectionId,
    Installed,
    NotFoundPage,
    check_csrf,
)
from ccvbird.service.sync import CANCELLED_AFTER_BOOKING_ASK
from ccvbird.wiring import WebBackend
from ccvbird.wiring.moneybird import invoice_pages, invoice_url

router = APIRouter(dependencies=[Depends(check_csrf)])

OrderId = Annotated[str, ORDER_ID_IN_PATH]

PAGE_SIZE = 50
#: States whose order page reloads itself: something is about to happen.
MOVING = {SyncState.WAITING, SyncState.BOOKING}


#: The order list's credit filters: orders with credits booked by ccvbird (and those a person
#: credited in Moneybird, as ``ccvbird orders --state credited`` lists them), and orders with
#: a credit that needs a person.
CREDITED = "credited"
CREDIT_NEEDS_ATTENTION = "credit_needs_attention"
CREDIT_FILTERS = (CREDITED, CREDIT_NEEDS_ATTENTION)


def _states(state: str) -> list[SyncState] | None:
    if state == CREDITED:
        return [SyncState.CREDITED]
    if state == CREDIT_NEEDS_ATTENTION:
        return []
    return [SyncState(state)] if state in {s.value for s in SyncState} else None


def _credit_states(state: str) -> frozenset[CreditState] | None:
    if state == CREDITED:
        return frozenset({CreditState.BOOKED})
    return CREDIT_ATTENTION if state == CREDIT_NEEDS_ATTENTION else None


def filter_count(backend: WebBackend, connection_id: int, state: str) -> int:
    """How many orders the list shows for the filter ``state`` (the dashboard's credit tiles)."""
    return backend.app.store.count_records(
        connection_id, states=_states(state), credit_states=_credit_states(state)
    )


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
        limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE, credit_states=_credit_states(state),
    )  # fmt: skip
    connection = backend.app.store.connection(connection_id)
    external = connection.profile.invoice_kind is InvoiceKind.EXTERNAL_SALES_INVOICE
    return pages(request).render(
        request, "orders.html", connection=connection,
        records=records[:PAGE_SIZE], more=len(records) > PAGE_SIZE, q=q, state=state,
        page=page, states=[s for s in SyncState if s is not SyncState.CREDITED],
        credit_filters=CREDIT_FILTERS,
        invoice_pages=invoice_pages(backend, connection_id, external),
    )  # fmt: skip


def _safe_cell(value: object) -> str:
    """No formula injection: a cell a spreadsheet would evaluate starts with a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_headers() -> list[str]:
    return [
        _("Order id"), _("Order number"), _("Ordered at"), _("State"), _("Reason code"),
        _("Why"), _("Invoice id"), _("Invoice number"), _("Booked amount"), _("Attempts"),
        _("Updated at"), _("Invoice date"), _("Payment date"),
    ]  # fmt: skip


def _csv_amount(value: Decimal | None, decimal_comma: bool) -> str:
    if value is None:
        return ""
    text = format_amount(value)
    return text.replace(".", ",") if decimal_comma else text


@router.get("/connections/{connection_id}/orders.csv")
def order_csv(
    connection_id: ConnectionId, backend: Backend, q: str = "", state: str = ""
) -> Response:
    """The list as a spreadsheet. In Dutch: semicolons, decimal commas and Dutch headers (what
    Dutch Excel expects); in English: commas and points. A byte-order mark tells Excel the
    file is UTF-8; dates are ISO, which every spreadsheet reads."""
    dutch = current_language() == "nl"
    records = backend.app.store.records(
        connection_id, states=_states(state), search=q.strip(),
        credit_states=_credit_states(state),
    )  # fmt: skip
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if dutch else ",")
    writer.writerow(_csv_headers())
    for r in records:
        writer.writerow(
            [_safe_cell(v) for v in (
                r.order_id, r.order_number,
                r.order_created_at.isoformat() if r.order_created_at else "",
                state_label(r.state), r.reason_code, record_words(r, html=False),
                r.invoice_id, r.invoice_number,
                _csv_amount(r.booked_total, dutch), r.attempts,
                r.updated_at.isoformat() if r.updated_at else "",
                r.invoice_date.isoformat() if r.invoice_date else "",
                r.payment_date.isoformat() if r.payment_date else "",
            )]
        )  # fmt: skip
    name = f"ccvbird-connection-{connection_id}-orders.csv"
    return Response(
        "\ufeff" + out.getvalue(),
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
    credits = store.credit_records(connection_id, order_id)
    credit_links = {
        c.reference: invoice_url(backend, connection_id, c.credit_id, c.external)
        for c in credits
        if c.credit_id
    }
    return pages(request).render(
        request, "order.html", connection=connection, record=record,
        events=store.events(connection_id, order_id), invoice_link=link,
        refresh=record.state in MOVING, retry=retry_kind(record), credits=credits,
        credit_links=credit_links, credit_it=offers_credit_it(record),
    )  # fmt: skip


def offers_credit_it(record: OrderRecord) -> bool:
    """*Credit it* is offered for a booked order cancelled in CCV Shop that the profile leaves
    to a person (``cancellations = "ask"``)."""
    return record.reason_code == CANCELLED_AFTER_BOOKING_ASK and record.invoice_id is not None


#: Where a retry can book what is not booked: the order's main button.
RETRY_BOOKS = frozenset({SyncState.NEEDS_ATTENTION, SyncState.INVOICE_DELETED})
#: Where it only reads the order again (booked, waiting for CCV, flagged): a quiet button.
RETRY_LOOKS = frozenset(
    {SyncState.BOOKED, SyncState.AWAITING_PAYMENT, SyncState.CHANGED, SyncState.WAITING}
)


def retry_kind(record: OrderRecord) -> str:
    """ "book" (a primary retry), "look" (a secondary "check again") or "" (nothing a retry can
    change: skipped, credited in Moneybird, or being booked right now). A cancelled order
    waiting for *Credit it* is booked: a retry only looks again (for CCV's credit invoices)."""
    if offers_credit_it(record):
        return "look"
    if record.state in RETRY_BOOKS or (record.state is SyncState.BOOKING and record.attempts > 0):
        return "book"
    return "look" if record.state in RETRY_LOOKS else ""


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
            record.state = SyncState.WAITING
            record.explain(None)
        record.attempts, record.next_attempt_at = 0, None
        store.save(record, "retry.requested", Reason("event.retry.dashboard"))
        queue(request).enqueue_order(connection_id, order_id)
        flash(request, _("The order is back in the queue."))
    return see_other(f"/connections/{connection_id}/orders/{order_id}")


#: How often *Credit it* asks for the connection's lease (a second apart) before it says
#: ccvbird is busy: a worker books one order in well under that; an import holds it longer.
CREDIT_LEASE_TRIES = 10


@router.post("/connections/{connection_id}/orders/{order_id}/credit")
def credit_it(
    request: Request, connection_id: Installed, order_id: OrderId, backend: Backend
) -> Response:
    """*Credit it*: the full credit of a booked order cancelled in CCV Shop, booked now (a few
    Moneybird requests, as ``ccvbird credit`` does it: under the connection's lease), and what
    happened in words. Pressing it twice books one credit."""
    if backend.app.store.find_record(connection_id, order_id) is None:
        raise NotFoundPage
    answer = bootstrap.credit_order(
        backend.app, connection_id, order_id, kind="web", tries=CREDIT_LEASE_TRIES
    )
    kind = {"booked": "info", "retry_later": "warning"}.get(answer.outcome, "error")
    if answer.outcome == "refused" and answer.code == "already_credited":
        kind = "warning"
    flash(request, credit_answer_words(answer.outcome, answer.code, answer.credits), kind)
    return see_other(f"/connections/{connection_id}/orders/{order_id}")
