"""Domain invoices and contacts for the Moneybird tests, with the sandbox's ids."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ccvbird.domain.invoice import ContactDraft, InvoiceDraft, InvoiceLine, LineKind
from ccvbird.domain.vat import TaxKey, VatTreatment
from ccvbird.sandbox.moneybird import constants as mb

D = Decimal


def line(
    description: str,
    quantity: str,
    price: str,
    percentage: str = "21",
    *,
    rate_id: str | None = None,
    ledger: str = mb.LEDGER_REVENUE,
    kind: LineKind = LineKind.PRODUCT,
) -> InvoiceLine:
    rates = {"21": mb.TAX_RATE_21, "9": mb.TAX_RATE_9, "0": mb.TAX_RATE_0}
    return InvoiceLine(
        kind,
        description,
        D(quantity),
        D(price),
        TaxKey(VatTreatment.DOMESTIC, D(percentage)),
        rate_id or rates[percentage],
        ledger,
    )


def webshop_invoice(reference: str = "CCV-1001", *lines: InvoiceLine) -> InvoiceDraft:
    """A paid webshop order: gross prices, the webshop workflow, a mixed 21/9 basket."""
    return InvoiceDraft(
        reference=reference,
        invoice_date=date(2026, 3, 1),
        currency="EUR",
        prices_include_vat=True,
        lines=lines
        or (
            line("Koffiebonen 1 kg", "2", "24.95", "9", ledger=mb.LEDGER_REVENUE_LOW),
            line("Koffiemolen", "1", "89.00", "21"),
            line("Verzendkosten", "1", "6.95", "21", ledger=mb.LEDGER_SHIPPING),
        ),
        workflow_id=mb.WORKFLOW_WEBSHOP_PAID,
        document_style_id=mb.DOCUMENT_STYLE_STANDARD,
    )


def customer(email: str = "jan@voorbeeld.example", **fields: str) -> ContactDraft:
    values = {
        "firstname": "Jan",
        "lastname": "Jansen",
        "address1": "Dorpsstraat 1",
        "zipcode": "1234 AB",
        "city": "Utrecht",
        "country": "NL",
    }
    values.update(fields)
    return ContactDraft(email=email, **values)
