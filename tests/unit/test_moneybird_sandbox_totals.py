"""The sandbox's own totals arithmetic agrees with ccvbird's prediction, case by case.

The two are written independently (the sandbox must not import ccvbird.domain.invoice), so
agreement over many random baskets is evidence both follow Moneybird's rule: sum per rate,
round the VAT once per rate, half away from zero.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from ccvbird.domain.invoice import InvoiceLine, LineKind, compute_totals
from ccvbird.domain.vat import TaxKey, VatTreatment
from ccvbird.sandbox.moneybird.records import Detail
from ccvbird.sandbox.moneybird.totals import invoice_sums

D = Decimal
RATES = {"r21": D(21), "r9": D(9), "r0": D(0), "rfr": D("5.5")}

lines_strategy = st.lists(
    st.tuples(
        st.sampled_from(sorted(RATES)),
        st.integers(min_value=1, max_value=12),
        st.integers(min_value=-5_000, max_value=50_000).map(lambda c: D(c) / 100),
    ),
    min_size=1,
    max_size=8,
)


def _details(lines: list[tuple[str, int, Decimal]]) -> list[Detail]:
    return [
        Detail(str(n), "x", price, D(qty), rate, "l", n, 0.0, 0.0)
        for n, (rate, qty, price) in enumerate(lines)
    ]


def _domain(lines: list[tuple[str, int, Decimal]]) -> list[InvoiceLine]:
    return [
        InvoiceLine(
            LineKind.PRODUCT,
            "x",
            D(qty),
            price,
            TaxKey(VatTreatment.DOMESTIC, RATES[rate]),
            rate,
            None,
        )
        for rate, qty, price in lines
    ]


@given(lines_strategy, st.booleans())
def test_sandbox_totals_match_the_domain_prediction(
    lines: list[tuple[str, int, Decimal]], incl: bool
) -> None:
    sandbox = invoice_sums(_details(lines), prices_are_incl_tax=incl, percentage_of=RATES.get)
    predicted = compute_totals(_domain(lines), prices_include_vat=incl)

    assert sandbox.incl_tax == predicted.incl_vat
    assert sandbox.excl_tax == predicted.excl_vat
    assert {r.tax_rate_id: r.tax for r in sandbox.rates} == {
        r.tax_rate_id: r.vat for r in predicted.rates
    }


def test_known_cases() -> None:
    # help.moneybird.nl: 100.00 incl. 21% → 82.64 + 17.36
    gross = invoice_sums(
        _details([("r21", 1, D("100.00"))]), prices_are_incl_tax=True, percentage_of=RATES.get
    )
    # Moneybird's example: 129.95 excl. 21% → 27.29 VAT (27.2895)
    net = invoice_sums(
        _details([("r21", 1, D("129.95"))]), prices_are_incl_tax=False, percentage_of=RATES.get
    )
    # Rounded once per rate: 3 × 0.10 at 21% = 0.063 → 0.06 (per line it would be 3 × 0.02)
    once = invoice_sums(
        _details([("r21", 1, D("0.10"))] * 3), prices_are_incl_tax=False, percentage_of=RATES.get
    )

    assert (gross.excl_tax, gross.tax) == (D("82.64"), D("17.36"))
    assert (net.tax, net.incl_tax) == (D("27.29"), D("157.24"))
    assert once.tax == D("0.06")
