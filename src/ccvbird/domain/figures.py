"""Moneybird's own figures for an invoice against ccvbird's prediction.

ccvbird predicts every invoice's total and VAT per tax rate before it books
(``MappingResult.totals``, Moneybird's arithmetic). Moneybird computes them again from the tax
rates it has; when the two differ, the administration is not what the profile says (a rate's
percentage changed, a key points at the wrong rate), and an invoice with the wrong VAT must not
be finalised or paid. :func:`compare_figures` says whether — and how — they differ.

Compared: the total incl. VAT, and the VAT per Moneybird tax rate (a rate Moneybird leaves out
of ``tax_totals`` carries no VAT; a rate ccvbird predicted no VAT for may be absent there).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ccvbird.domain.invoice import Totals
from ccvbird.domain.money import ZERO, format_amount
from ccvbird.domain.sync import RemoteInvoice
from ccvbird.domain.vat import format_percentage

#: The reason code of an order whose invoice Moneybird computed differently.
FIGURES_DIFFER = "moneybird_figures_differ"


@dataclass(frozen=True, slots=True)
class RateFigures:
    tax_rate_id: str
    #: The VAT percentage the prediction used for this rate ("" when ccvbird predicted none).
    percentage: str
    predicted_vat: str
    moneybird_vat: str


@dataclass(frozen=True, slots=True)
class FiguresDiffer:
    """Both sets of figures, as text (amounts formatted with two decimals)."""

    predicted_total: str
    moneybird_total: str
    rates: tuple[RateFigures, ...]

    def describe(self) -> str:
        parts = [
            f"total incl. VAT: ccvbird predicted {self.predicted_total}, "
            f"Moneybird computed {self.moneybird_total}"
        ]
        for rate in self.rates:
            pct = f" ({rate.percentage}% in the profile)" if rate.percentage else ""
            parts.append(
                f"VAT on tax rate {rate.tax_rate_id}{pct}: ccvbird predicted "
                f"{rate.predicted_vat}, Moneybird computed {rate.moneybird_vat}"
            )
        return "; ".join(parts)


def compare_figures(predicted: Totals, invoice: RemoteInvoice) -> FiguresDiffer | None:
    """``None`` when Moneybird's total and VAT per rate are what ccvbird predicted."""
    percentages: dict[str, str] = {}
    sums: dict[str, Decimal] = {}
    for rate in predicted.rates:
        rate_id = rate.tax_rate_id or ""
        sums[rate_id] = sums.get(rate_id, ZERO) + rate.vat
        percentages[rate_id] = format_percentage(rate.tax.percentage)
    theirs: dict[str, Decimal] = {}
    for row in invoice.tax_totals:
        theirs[row.tax_rate_id] = theirs.get(row.tax_rate_id, ZERO) + row.tax_amount
    differing = []
    for rate_id in sorted(set(sums) | set(theirs)):
        ours, moneybird = sums.get(rate_id, ZERO), theirs.get(rate_id, ZERO)
        if ours != moneybird:
            differing.append(
                RateFigures(
                    rate_id,
                    percentages.get(rate_id, ""),
                    format_amount(ours),
                    format_amount(moneybird),
                )
            )
    if not differing and invoice.total_incl_vat == predicted.incl_vat:
        return None
    return FiguresDiffer(
        format_amount(predicted.incl_vat), format_amount(invoice.total_incl_vat), tuple(differing)
    )
