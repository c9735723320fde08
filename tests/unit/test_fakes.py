"""The in-memory Moneybird of the engine tests has arithmetic of its own.

It must be able to disagree with ccvbird: a fake that added up invoices with ccvbird's own
``compute_totals`` would confirm any wrong sum, and would book a line at the percentage ccvbird
*believes* instead of the one the Moneybird tax rate has."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ccvbird.domain.invoice import InvoiceDraft, InvoiceLine, LineKind
from ccvbird.domain.vat import TaxKey, VatTreatment
from tests.fakes import FakeBooks

RATE_21 = "470000000000010021"
RATE_9 = "470000000000010009"


def _draft(*lines: tuple[str, str, str, str], incl: bool = False) -> InvoiceDraft:
    return InvoiceDraft(
        reference="1001",
        invoice_date=date(2026, 3, 1),
        currency="EUR",
        prices_include_vat=incl,
        lines=tuple(
            InvoiceLine(
                LineKind.PRODUCT,
                "item",
                Decimal(quantity),
                Decimal(price),
                TaxKey(VatTreatment.DOMESTIC, Decimal(believed)),
                rate_id,
                None,
            )
            for quantity, price, believed, rate_id in lines
        ),
    )


def test_the_fake_uses_moneybirds_percentage_of_the_rate_not_ccvbirds_belief() -> None:
    books = FakeBooks()
    contact = books.add_existing_contact("klant@example.nl")
    # ccvbird believes the line is 9%, but the profile mapped it to the 21% rate.
    draft = _draft(("1", "100.00", "9", RATE_21))
    invoice = books.create_invoice(draft, contact_id=contact, external=False)
    assert invoice.total_incl_vat == Decimal("121.00")
    assert draft.totals().incl_vat == Decimal("109.00")  # what ccvbird would predict


def test_the_vat_is_rounded_once_per_rate() -> None:
    books = FakeBooks()
    contact = books.add_existing_contact("klant@example.nl")
    # 3 × 0.05 at 21%: per line the VAT would be 3 × 0.01; once per rate it is 0.03 as well,
    # but 7 × 0.07 at 9% is 0.49 → 0.0441 → 0.04 once (0.07 per line would give 7 × 0.01).
    draft = _draft(("7", "0.07", "9", RATE_9), ("3", "0.05", "21", RATE_21))
    invoice = books.create_invoice(draft, contact_id=contact, external=False)
    assert invoice.total_incl_vat == Decimal("0.49") + Decimal("0.04") + Decimal("0.15") + Decimal(
        "0.03"
    )


def test_prices_incl_vat_total_what_the_lines_say() -> None:
    books = FakeBooks()
    contact = books.add_existing_contact("klant@example.nl")
    draft = _draft(("2", "12.10", "21", RATE_21), ("1", "5.45", "9", RATE_9), incl=True)
    invoice = books.create_invoice(draft, contact_id=contact, external=False)
    assert invoice.total_incl_vat == Decimal("29.65")
