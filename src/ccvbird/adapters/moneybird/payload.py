"""Domain invoice → Moneybird request bodies.

Amounts go out as decimal strings ("9.99", never a JSON number that a parser might turn into a
float), quantities as plain strings ("3", "0.5"), ids as strings. Keys that have no value are
left out so Moneybird applies its own default (document style, workflow) rather than ``null``.
"""

from __future__ import annotations

from typing import Any

from ccvbird.domain.invoice import ContactDraft, InvoiceDraft, InvoiceLine
from ccvbird.domain.money import format_amount, format_quantity


def detail_attributes(line: InvoiceLine) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "description": line.description,
        "amount": format_quantity(line.quantity),
        "price": format_amount(line.price),
    }
    if line.tax_rate_id is not None:
        detail["tax_rate_id"] = line.tax_rate_id
    if line.ledger_account_id is not None:
        detail["ledger_account_id"] = line.ledger_account_id
    return detail


def sales_invoice_payload(draft: InvoiceDraft, *, contact_id: str | None = None) -> dict[str, Any]:
    """The body of ``POST /{administration_id}/sales_invoices.json``.

    ``contact_id`` is only known once the contact is resolved; a preview leaves it out.
    """
    invoice: dict[str, Any] = {}
    if contact_id is not None:
        invoice["contact_id"] = contact_id
    invoice["reference"] = draft.reference
    invoice["invoice_date"] = draft.invoice_date.isoformat()
    invoice["currency"] = draft.currency
    invoice["prices_are_incl_tax"] = draft.prices_include_vat
    if draft.workflow_id is not None:
        invoice["workflow_id"] = draft.workflow_id
    if draft.document_style_id is not None:
        invoice["document_style_id"] = draft.document_style_id
    invoice["details_attributes"] = [detail_attributes(line) for line in draft.lines]
    return {"sales_invoice": invoice}


def credit_rewrite_payload(draft: InvoiceDraft, *, remove: tuple[str, ...]) -> dict[str, Any]:
    """The body of ``PATCH /sales_invoices/{id}.json`` that turns the draft Moneybird's
    ``duplicate_creditinvoice`` made (every original line negated, plus a text line) into the
    credit ccvbird computed: its own reference and date, the lines it copied removed
    (``_destroy``), ccvbird's negative lines added. ``original_sales_invoice_id`` stays as the
    duplicate set it (the create and update bodies of the spec have no such field)."""
    details: list[dict[str, Any]] = [{"id": detail_id, "_destroy": True} for detail_id in remove]
    details.extend(detail_attributes(line) for line in draft.lines)
    invoice: dict[str, Any] = {
        "reference": draft.reference,
        "invoice_date": draft.invoice_date.isoformat(),
        "prices_are_incl_tax": draft.prices_include_vat,
        "details_attributes": details,
    }
    return {"sales_invoice": invoice}


def contact_payload(contact: ContactDraft) -> dict[str, Any]:
    """The body of ``POST /{administration_id}/contacts.json``; empty fields are left out."""
    fields = {
        "company_name": contact.company_name,
        "firstname": contact.firstname,
        "lastname": contact.lastname,
        "address1": contact.address1,
        "address2": contact.address2,
        "zipcode": contact.zipcode,
        "city": contact.city,
        "country": contact.country,
        "phone": contact.phone,
        "send_invoices_to_email": contact.email,
        "send_estimates_to_email": contact.email,
        "tax_number": contact.tax_number,
        "chamber_of_commerce": contact.chamber_of_commerce,
    }
    return {"contact": {key: value for key, value in fields.items() if value}}
