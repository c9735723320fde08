"""What Moneybird tells us about invoices ccvbird booked: deleted or credited by a person.

Moneybird's webhook push names an action and carries the invoice. Two actions change what
ccvbird says about an order:

* ``sales_invoice_destroyed`` / ``external_sales_invoice_destroyed`` — the order's invoice is
  gone. The order becomes ``invoice_deleted``: its Moneybird ids are forgotten, nothing is booked
  again by itself, and *retry* books it anew.
* ``credit_invoice_created_from_original`` — the push carries the credit invoice, whose
  ``original_sales_invoice_id`` is the order's invoice. The order becomes ``credited`` —
  unless the credit is ccvbird's own (the booking of a CCV credit or cancellation).

Any other action, or an invoice ccvbird did not book, is ignored. A repeat of a push is harmless:
the second one finds the order in its new state already.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Protocol

from ccvbird.domain.credit_records import CreditRecord
from ccvbird.domain.reasons import Reason
from ccvbird.domain.sync import OrderRecord, SyncState

DESTROYED = frozenset({"sales_invoice_destroyed", "external_sales_invoice_destroyed"})
CREDITED = "credit_invoice_created_from_original"
#: What ccvbird asks Moneybird to push.
EVENTS = (*sorted(DESTROYED), CREDITED)


class Applied(StrEnum):
    DELETED = "deleted"
    CREDITED = "credited"
    IGNORED = "ignored"


class InvoiceRecords(Protocol):
    def record_for_invoice(self, connection_id: int, invoice_id: str) -> OrderRecord | None: ...

    def credit_records(
        self, connection_id: int, order_id: str | None = None
    ) -> list[CreditRecord]: ...

    def save(self, record: OrderRecord, event: str, message: Reason | str = "") -> None: ...


def apply_invoice_event(
    store: InvoiceRecords,
    connection_id: int,
    *,
    action: str,
    entity_id: str | None,
    entity: Mapping[str, Any],
) -> Applied:
    """Reflect a verified Moneybird push in the order it concerns."""
    if action in DESTROYED and entity_id:
        record = store.record_for_invoice(connection_id, entity_id)
        if record is None or record.state is SyncState.INVOICE_DELETED:
            return Applied.IGNORED
        number = record.invoice_number or record.invoice_id
        record.state = SyncState.INVOICE_DELETED
        record.explain(Reason("invoice_deleted", {"invoice": number or ""}))
        record.invoice_id = record.invoice_number = record.payment_id = None
        record.contact_intent = record.invoice_intent = False
        record.send_intent = record.payment_intent = record.sent = False
        record.fingerprint, record.booked_total = None, None
        record.invoice_date = record.payment_date = None
        record.attempts, record.next_attempt_at = 0, None
        store.save(record, "moneybird.invoice_deleted", record.why)
        return Applied.DELETED
    if action == CREDITED:
        original = entity.get("original_sales_invoice_id")
        if not original:
            return Applied.IGNORED
        record = store.record_for_invoice(connection_id, str(original))
        if record is None or record.state is SyncState.CREDITED:
            return Applied.IGNORED
        if _ours(store.credit_records(connection_id, record.order_id), entity_id, entity):
            return Applied.IGNORED  # ccvbird's own credit of a CCV credit or cancellation
        credit_number = entity.get("invoice_number") or entity_id or ""
        record.state = SyncState.CREDITED
        params = {"invoice": record.invoice_number or record.invoice_id or ""}
        if credit_number:
            params.update(credit_part="credited.number", credit_invoice=str(credit_number))
        record.explain(Reason("credited", params))
        store.save(record, "moneybird.credited", record.why)
        return Applied.CREDITED
    return Applied.IGNORED


def _ours(credits: list[CreditRecord], entity_id: str | None, entity: Mapping[str, Any]) -> bool:
    """Whether the credit invoice is one ccvbird makes: its id is a credit's, its reference a
    credit's, or a credit of the order is being created right now (a ``duplicate_creditinvoice``
    pushes before its answer is stored, still carrying the original's reference)."""
    reference = str(entity.get("reference") or "")
    return any(
        (entity_id is not None and c.credit_id == entity_id)
        or c.reference == reference
        or c.credit_intent
        for c in credits
    )
