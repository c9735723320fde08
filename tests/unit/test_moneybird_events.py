"""Moneybird's word on booked invoices, reflected in the order (with an in-memory store)."""

from __future__ import annotations

from ccvbird.domain.credit_records import CreditRecord
from ccvbird.domain.sync import OrderRecord, SyncState
from ccvbird.service.moneybird_events import Applied, apply_invoice_event


class Records:
    def __init__(self, *records: OrderRecord) -> None:
        self.by_invoice = {r.invoice_id: r for r in records}
        self.events: list[str] = []
        self.credits: list[CreditRecord] = []

    def credit_records(self, connection_id: int, order_id: str | None = None) -> list[CreditRecord]:
        return [c for c in self.credits if order_id in (None, c.order_id)]

    def record_for_invoice(self, connection_id: int, invoice_id: str) -> OrderRecord | None:
        return self.by_invoice.get(invoice_id)

    def save(self, record: OrderRecord, event: str, message: str = "") -> None:
        self.events.append(event)


def booked() -> OrderRecord:
    return OrderRecord(1, "500", "1001", SyncState.BOOKED, invoice_id="47", invoice_number="2026-1",
                       sent=True, payment_id="48", fingerprint="f")  # fmt: skip


def test_a_deleted_invoice_forgets_its_ids_and_waits_for_a_person() -> None:
    record = booked()
    store = Records(record)
    applied = apply_invoice_event(store, 1, action="sales_invoice_destroyed", entity_id="47",
                                  entity={})  # fmt: skip
    assert applied is Applied.DELETED
    assert record.state is SyncState.INVOICE_DELETED
    assert (record.invoice_id, record.payment_id, record.sent) == (None, None, False)
    assert "2026-1" in record.reason
    assert store.events == ["moneybird.invoice_deleted"]


def test_a_credit_invoice_marks_its_original_credited() -> None:
    record = booked()
    store = Records(record)
    entity = {"original_sales_invoice_id": "47", "invoice_number": "2026-2"}
    applied = apply_invoice_event(
        store, 1, action="credit_invoice_created_from_original", entity_id="49", entity=entity
    )
    assert applied is Applied.CREDITED and record.state is SyncState.CREDITED
    assert record.invoice_id == "47" and "2026-2" in record.reason
    again = apply_invoice_event(
        store, 1, action="credit_invoice_created_from_original", entity_id="49", entity=entity
    )
    assert again is Applied.IGNORED and store.events == ["moneybird.credited"]


def test_other_actions_and_unknown_invoices_change_nothing() -> None:
    record = booked()
    store = Records(record)
    for action, entity_id in [("sales_invoice_created", "47"), ("sales_invoice_destroyed", "99"),
                              ("credit_invoice_created_from_original", "50")]:  # fmt: skip
        assert apply_invoice_event(store, 1, action=action, entity_id=entity_id, entity={}) is (
            Applied.IGNORED
        )
    assert record.state is SyncState.BOOKED and store.events == []


def test_ccvbirds_own_credit_of_the_order_leaves_it_booked() -> None:
    record = booked()
    store = Records(record)
    credit = CreditRecord(1, "500", "ccv:7001", 1, "1001-C1", credit_intent=True)
    store.credits.append(credit)
    # pushed while the duplicate's answer is on its way: still the original's reference
    entity = {"original_sales_invoice_id": "47", "reference": "1001"}
    action = "credit_invoice_created_from_original"
    assert apply_invoice_event(store, 1, action=action, entity_id="49", entity=entity) is (
        Applied.IGNORED
    )
    credit.credit_intent, credit.credit_id = False, "49"
    assert apply_invoice_event(store, 1, action=action, entity_id="49", entity=entity) is (
        Applied.IGNORED
    )
    assert record.state is SyncState.BOOKED and store.events == []
    # a person's own credit of the same invoice is still seen
    applied = apply_invoice_event(store, 1, action=action, entity_id="60", entity={
        "original_sales_invoice_id": "47", "reference": "1001"})  # fmt: skip
    assert applied is Applied.CREDITED
