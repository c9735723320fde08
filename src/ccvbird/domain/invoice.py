"""The invoice an order becomes, and its totals computed exactly as Moneybird computes them.

Moneybird sums the lines per tax rate and rounds the VAT once per rate (``tax_totals``). With
prices incl. VAT the invoice total is the plain sum of the gross lines and the VAT per rate is
taken out of that sum; with prices excl. VAT the total is the sum per rate of net plus rounded
VAT. :func:`compute_totals` reproduces that arithmetic, so ccvbird knows the Moneybird total
before it makes a single call and can compare it with what the customer paid.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from ccvbird.domain.money import ZERO, format_amount, format_quantity, vat_from_net, vat_in_gross
from ccvbird.domain.vat import TaxKey, format_percentage


class LineKind(StrEnum):
    PRODUCT = "product"
    SHIPPING = "shipping"
    PAYMENT_COSTS = "payment_costs"
    EXTRA_COSTS = "extra_costs"
    DISCOUNT = "discount"
    ROUNDING = "rounding"


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One invoice detail. ``price`` is a unit price in the invoice's price mode."""

    kind: LineKind
    description: str
    quantity: Decimal
    price: Decimal
    tax: TaxKey
    tax_rate_id: str | None
    ledger_account_id: str | None

    @property
    def amount(self) -> Decimal:
        """The line total (quantity × unit price), in the invoice's price mode."""
        return self.quantity * self.price


@dataclass(frozen=True, slots=True)
class RateTotal:
    """One row of Moneybird's ``tax_totals``."""

    tax: TaxKey
    tax_rate_id: str | None
    net: Decimal
    vat: Decimal

    @property
    def gross(self) -> Decimal:
        return self.net + self.vat


@dataclass(frozen=True, slots=True)
class Totals:
    rates: tuple[RateTotal, ...]

    @property
    def excl_vat(self) -> Decimal:
        return sum((r.net for r in self.rates), ZERO)

    @property
    def vat(self) -> Decimal:
        return sum((r.vat for r in self.rates), ZERO)

    @property
    def incl_vat(self) -> Decimal:
        return self.excl_vat + self.vat

    def vat_by_percentage(self) -> dict[str, Decimal]:
        """VAT per percentage ("21" → 12.34), summed over treatments, highest rate first."""
        result: dict[str, Decimal] = {}
        for rate in sorted(self.rates, key=lambda r: -r.tax.percentage):
            label = format_percentage(rate.tax.percentage)
            result[label] = result.get(label, ZERO) + rate.vat
        return result


def compute_totals(lines: Iterable[InvoiceLine], *, prices_include_vat: bool) -> Totals:
    """Moneybird's arithmetic: group by tax rate, round the VAT once per rate.

    Lines are grouped by their Moneybird tax rate id; a line whose rate is not mapped yet is
    grouped by its :class:`TaxKey`, so totals can still be shown for an order that is refused.
    """
    groups: dict[object, tuple[TaxKey, str | None, Decimal]] = {}
    for line in lines:
        group = line.tax_rate_id if line.tax_rate_id is not None else line.tax
        tax, rate_id, amount = groups.get(group, (line.tax, line.tax_rate_id, ZERO))
        groups[group] = (tax, rate_id, amount + line.amount)
    rates = []
    for tax, rate_id, amount in groups.values():
        if prices_include_vat:
            vat = vat_in_gross(amount, tax.percentage)
            rates.append(RateTotal(tax, rate_id, net=amount - vat, vat=vat))
        else:
            rates.append(
                RateTotal(tax, rate_id, net=amount, vat=vat_from_net(amount, tax.percentage))
            )
    return Totals(tuple(rates))


@dataclass(frozen=True, slots=True)
class ContactDraft:
    """The Moneybird contact an order's customer becomes (found by e-mail or created)."""

    email: str
    company_name: str = ""
    firstname: str = ""
    lastname: str = ""
    address1: str = ""
    address2: str = ""
    zipcode: str = ""
    city: str = ""
    country: str = ""
    phone: str = ""
    tax_number: str = ""
    chamber_of_commerce: str = ""


@dataclass(frozen=True, slots=True)
class InvoiceDraft:
    """Everything Moneybird needs to create the invoice, except the contact's id."""

    reference: str
    invoice_date: date
    currency: str
    prices_include_vat: bool
    lines: tuple[InvoiceLine, ...]
    workflow_id: str | None = None
    document_style_id: str | None = None

    def totals(self) -> Totals:
        return compute_totals(self.lines, prices_include_vat=self.prices_include_vat)

    def fingerprint(self) -> str:
        """A stable hash of what would be booked, to notice an order that changed afterwards."""
        canonical = {
            "reference": self.reference,
            "invoice_date": self.invoice_date.isoformat(),
            "currency": self.currency,
            "prices_include_vat": self.prices_include_vat,
            "lines": [
                [
                    line.kind.value,
                    line.description,
                    format_quantity(line.quantity),
                    format_amount(line.price),
                    line.tax.treatment.value,
                    format_percentage(line.tax.percentage),
                    line.tax.country,
                ]
                for line in self.lines
            ],
        }
        data = json.dumps(canonical, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(data).hexdigest()
