"""The engine's ``Shop`` port on the CCV Shop client."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from ccvbird.adapters.ccvshop.client import CcvShopClient, InvoiceFilter, OrderFilter
from ccvbird.adapters.ccvshop.credits import credit_from_invoice
from ccvbird.adapters.ccvshop.wire import WireOrder
from ccvbird.domain.bounds import is_order_id, storable
from ccvbird.domain.credits import CcvCredit
from ccvbird.domain.errors import InvalidOrderData, NotFound
from ccvbird.domain.money import ZERO
from ccvbird.domain.order import Order, OrderSummary

log = logging.getLogger(__name__)

InvalidHandler = Callable[[str, InvalidOrderData], None]


def summary_of(body: dict[str, Any]) -> OrderSummary:
    """The polling view of a list item: no rows, nothing to validate beyond the basics."""
    order = WireOrder.model_validate({**body, "total_price": body.get("total_price") or 0})
    return OrderSummary(
        order_id=order.id,
        number=order.number,
        created_at=order.create_date,
        status=order.status,
        paid=order.paid,
        is_completed=bool(
            order.is_completed if order.is_completed is not None else order.status is not None
        ),
    )


class CcvShop:
    """``Shop`` for one CCV shop."""

    def __init__(self, client: CcvShopClient) -> None:
        self.client = client

    def close(self) -> None:
        self.client.close()

    def get_order(self, order_id: str) -> Order:
        return self.client.order(order_id)

    def order_of(self, kind: str, resource_id: str) -> str:
        """The order a CCV invoice (``kind`` ``invoice``) or return (``return``) belongs to:
        one request. :class:`NotFound` when it has none."""
        found = (
            self.client.invoice(resource_id).order
            if kind == "invoice"
            else self.client.return_(resource_id).order
        )
        if not found:
            raise NotFound(f"{kind} {resource_id} names no order", status=404)
        return found

    def credits(self, order: Order) -> list[CcvCredit]:
        """The order's CCV credit invoices: one request for its invoices
        (``GET /invoices?ordernumber_full=…``), one more per credit for its rows. Each carries
        what the order's debit invoices add up to (``invoiced``)."""
        found = []
        invoiced = ZERO
        for invoice in self.client.invoices(InvoiceFilter(ordernumber_full=order.number)):
            if invoice.order and invoice.order != order.order_id:
                continue  # another order with the same number (another shop of the account)
            if not invoice.is_credit:
                invoiced += abs(invoice.total_price)
                continue
            rows = self.client.invoice_rows(invoice.id)
            found.append(credit_from_invoice(invoice, rows, order_id=order.order_id))
        # What the debit invoices add up to tells whether the order was edited before its
        # credits (``domain.credits.order_before_credits``).
        return [dataclasses.replace(c, invoiced=invoiced) for c in found]

    def credited_orders(
        self, *, created_from: datetime, created_until: datetime | None = None
    ) -> list[str]:
        """``GET /invoices`` with ``min_create_date``/``max_create_date``, credits kept: CCV
        documents no ``type`` filter, so the period's debit invoices are listed too (and
        passed over here)."""
        listed = self.listed_credits(created_from=created_from, created_until=created_until)
        return list(dict.fromkeys(order_id for order_id, _invoice in listed))

    def listed_credits(
        self, *, created_from: datetime, created_until: datetime | None = None
    ) -> list[tuple[str, str]]:
        """(order id, credit invoice id) from one ``GET /invoices`` listing of the window."""
        filters = InvoiceFilter(min_create_date=created_from, max_create_date=created_until)
        return [
            (invoice.order, invoice.id)
            for invoice in self.client.invoices(filters)
            if invoice.is_credit and invoice.order and is_order_id(invoice.order)
        ]

    def iter_orders(
        self,
        *,
        created_from: datetime,
        created_until: datetime | None = None,
        on_invalid: InvalidHandler | None = None,
    ) -> Iterator[Order]:
        filters = OrderFilter(min_create_date=created_from, max_create_date=created_until)
        yield from self.client.orders(filters, on_invalid=on_invalid)

    def list_orders(
        self, *, created_from: datetime, created_until: datetime | None = None
    ) -> Iterator[OrderSummary]:
        filters = OrderFilter(min_create_date=created_from, max_create_date=created_until)
        for body in self.client.order_bodies(filters):
            order_id = str(body.get("id", ""))
            if not is_order_id(order_id):
                # Not an id CCV Shop can be asked about again: nothing to enqueue or record. The
                # import names it (``on_invalid``); polling only logs it.
                log.warning(
                    "CCV Shop lists an order with an unusable id %r", storable(order_id, 50)
                )
                continue
            try:
                yield summary_of(body)
            except ValidationError:
                # Unreadable here too: hand the id on; the engine parks it with the reason.
                yield OrderSummary(order_id, "", created_from, None, False, True)
