"""The ``ccvbird preview`` input: an order, and optionally one of its CCV credit invoices.

``{"order": <GET /orders/:id>, "orderrows": <GET /orders/:id/orderrows>}`` is an order;
with ``"invoice": <GET /invoices/:id>`` (``type`` credit) and ``"invoicerows":
<GET /invoices/:id/invoicerows>`` it is that credit of the order. Every number is read as a
Decimal; the first malformed or missing field is named in the error.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ccvbird.adapters.ccvshop.credits import credit_from_invoice
from ccvbird.adapters.ccvshop.resources import Invoice, InvoiceRow
from ccvbird.adapters.ccvshop.wire import invalid_data, loads, parse_order
from ccvbird.domain.credits import CcvCredit
from ccvbird.domain.errors import InvalidOrderData
from ccvbird.domain.order import Order


def decode_preview_file(data: bytes) -> tuple[Order, CcvCredit | None]:
    """The order of a preview file, and its credit when the file has one."""
    try:
        document = loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidOrderData("file", f"not valid JSON ({exc})") from None
    if not isinstance(document, dict):
        raise InvalidOrderData("file", 'expected an object with "order" and "orderrows"')
    for key in ("order", "orderrows"):
        if key not in document:
            raise InvalidOrderData(key, "missing")
    order = parse_order(document["order"], document["orderrows"])
    has_invoice, has_rows = "invoice" in document, "invoicerows" in document
    if not has_invoice and not has_rows:
        return order, None
    if not has_invoice:
        raise InvalidOrderData("invoice", 'missing (the file has "invoicerows")')
    if not has_rows:
        raise InvalidOrderData("invoicerows", 'missing (the file has "invoice")')
    return order, _credit(document["invoice"], document["invoicerows"], order)


def _credit(invoice_body: Any, rows_body: Any, order: Order) -> CcvCredit:
    if not isinstance(invoice_body, dict):
        raise InvalidOrderData("invoice", "expected a JSON object")
    try:
        invoice = Invoice.model_validate(invoice_body)
    except ValidationError as exc:
        raise invalid_data(exc, "invoice") from None
    if not invoice.is_credit:
        kind = invoice.type.strip() or "no type"
        raise InvalidOrderData(
            "invoice.type", f'{kind!r}: a preview shows a credit invoice (type "credit")'
        )
    if invoice.order and invoice.order != order.order_id:
        raise InvalidOrderData(
            "invoice.order", f"the invoice is of order {invoice.order}, the file's order is "
            f"{order.order_id}",
        )  # fmt: skip
    if isinstance(rows_body, dict):
        rows_body = rows_body.get("items")
    if not isinstance(rows_body, list):
        raise InvalidOrderData("invoicerows", "expected a JSON object with items")
    rows = []
    for index, body in enumerate(rows_body):
        try:
            rows.append(InvoiceRow.model_validate(body))
        except ValidationError as exc:
            raise invalid_data(exc, f"invoicerows.items[{index}]") from None
    return credit_from_invoice(invoice, rows, order_id=order.order_id)
