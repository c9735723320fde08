"""Invoice totals the way Moneybird shows them, computed inside the sandbox on its own.

This is the oracle ccvbird's own prediction (``ccvbird.domain.invoice``) is checked against, so
it deliberately shares no code with it. The rules, from the Moneybird reference:

* a line's amount is quantity × unit price, rounded to cents;
* lines are summed per tax rate and the VAT is rounded **once per rate**, half away from zero;
* prices excl. VAT: VAT = rate% of the rate's net sum, the total is net + VAT;
* prices incl. VAT: the gross sum per rate is what the customer pays, the VAT contained in it is
  gross × rate / (100 + rate), and net = gross − VAT;
* an invoice-wide ``discount`` is a percentage taken off each rate's sum before the VAT;
* a rate with a null percentage ("Geen btw") carries no VAT; rates with 0 or null percentage are
  left out of ``tax_totals`` (as in Moneybird's own example of a 0% intra-community invoice).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from ccvbird.sandbox.moneybird.records import Detail

_CENT = Decimal("0.01")
_HUNDRED = Decimal(100)
_ZERO = Decimal(0)


def cents(value: Decimal) -> Decimal:
    """Round to cents, half away from zero (ROUND_HALF_UP rounds away from zero for Decimal)."""
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class RateSum:
    tax_rate_id: str
    percentage: Decimal | None
    net: Decimal
    tax: Decimal

    @property
    def shows_in_tax_totals(self) -> bool:
        return self.percentage is not None and self.percentage != 0


@dataclass(frozen=True)
class InvoiceSums:
    rates: tuple[RateSum, ...]
    #: per detail id: amount excl. VAT after discount (``total_price_excl_tax_with_discount``)
    line_net: dict[str, Decimal]
    discount_total: Decimal

    @property
    def excl_tax(self) -> Decimal:
        return sum((r.net for r in self.rates), _ZERO)

    @property
    def tax(self) -> Decimal:
        return sum((r.tax for r in self.rates), _ZERO)

    @property
    def incl_tax(self) -> Decimal:
        return self.excl_tax + self.tax


def invoice_sums(
    details: Iterable[Detail],
    *,
    prices_are_incl_tax: bool,
    percentage_of: Callable[[str], Decimal | None],
    discount: Decimal = _ZERO,
) -> InvoiceSums:
    keep = (_HUNDRED - discount) / _HUNDRED
    by_rate: dict[str, Decimal] = {}
    line_net: dict[str, Decimal] = {}
    for detail in details:
        amount = cents(detail.total)
        by_rate[detail.tax_rate_id] = by_rate.get(detail.tax_rate_id, _ZERO) + amount
        line_pct = percentage_of(detail.tax_rate_id) or _ZERO
        after_discount = amount * keep
        if prices_are_incl_tax:
            line_net[detail.id] = cents(after_discount * _HUNDRED / (_HUNDRED + line_pct))
        else:
            line_net[detail.id] = cents(after_discount)
    rates = []
    discount_total = _ZERO
    for rate_id, amount in by_rate.items():
        pct = percentage_of(rate_id)
        discounted = cents(amount * keep)
        discount_total += amount - discounted
        factor = pct or _ZERO
        if prices_are_incl_tax:
            tax = cents(discounted * factor / (_HUNDRED + factor))
            net = discounted - tax
        else:
            net = discounted
            tax = cents(net * factor / _HUNDRED)
        rates.append(RateSum(rate_id, pct, net, tax))
    return InvoiceSums(tuple(rates), line_net, discount_total)
