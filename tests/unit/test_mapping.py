"""The mapping's rules, one behaviour per test (docs/money.md has the worked tables)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ccvbird.domain.decisions import booking_blockers
from ccvbird.domain.invoice import LineKind
from ccvbird.domain.mapping import MappingResult, ProblemCode, describe_row, map_order, unit_price
from ccvbird.domain.order import OrderRow, RowOption
from ccvbird.domain.profile import MappingProfile
from ccvbird.domain.vat import TaxKey, VatTreatment
from tests.builders import example_profile, make_order, row

D = Decimal
MIXED = [row("Molen", 1, "121.00", 21), row("Bonen", 2, "54.50", 9)]


def mapped(
    rows: list[dict[str, object]] | None = None,
    profile_changes: dict[str, dict[str, object]] | None = None,
    **facts: object,
) -> MappingResult:
    order = make_order(MIXED if rows is None else rows, **facts)  # type: ignore[arg-type]
    return map_order(
        order, example_profile(**(profile_changes or {})), booking_date=date(2026, 11, 26)
    )


def codes(result: MappingResult) -> list[ProblemCode]:
    return [p.code for p in result.problems]


def lines_of(result: MappingResult, kind: LineKind) -> list[tuple[str, Decimal, Decimal]]:
    return [
        (line.description, line.price, line.tax.percentage)
        for line in result.draft.lines
        if line.kind is kind
    ]


@pytest.mark.parametrize(
    ("quantity", "total", "expected"),
    [
        ("3", "29.97", ("3", "9.99", "Kop")),
        ("1", "12.34", ("1", "12.34", "Kop")),
        ("0.5", "2.50", ("0.5", "5.00", "Kop")),
        ("3", "10.00", ("1", "10.00", "3 × Kop")),
        ("2.5", "3.33", ("1", "3.33", "2.5 × Kop")),
        ("0", "5.00", ("1", "5.00", "0 × Kop")),
        ("-1", "-5.00", ("1", "-5.00", "-1 × Kop")),
    ],
)
def test_unit_price_is_exact_or_the_quantity_moves_into_the_description(
    quantity: str, total: str, expected: tuple[str, str, str]
) -> None:
    qty, price, text = unit_price(D(quantity), D(total), "Kop")
    assert (qty, price, text) == (D(expected[0]), D(expected[1]), expected[2])
    assert qty * price == D(total)


def test_rows_are_described_with_their_options() -> None:
    shirt = OrderRow(
        "1",
        "T-shirt",
        D(1),
        D(20),
        D(21),
        options=(RowOption("Maat", "L"), RowOption("Kleur", "rood", D(2))),
    )
    assert describe_row(shirt) == "T-shirt (Maat: L, Kleur: rood)"


@pytest.mark.parametrize(
    ("created", "invoice_date"),
    [
        ("2026-03-31T22:30:00Z", date(2026, 4, 1)),  # summer time: 00:30 on 1 April
        ("2026-03-31T21:30:00Z", date(2026, 3, 31)),
        ("2025-12-31T23:30:00Z", date(2026, 1, 1)),  # winter time: 00:30 on 1 January
        ("2025-12-31T22:59:59Z", date(2025, 12, 31)),
    ],
)
def test_the_invoice_date_is_the_order_date_in_amsterdam(created: str, invoice_date: date) -> None:
    assert mapped(paid="175.50", created=created).draft.invoice_date == invoice_date


def test_the_booking_date_policy_uses_the_booking_day() -> None:
    result = mapped(paid="175.50", profile_changes={"invoicing": {"invoice_date": "booking_date"}})
    assert result.draft.invoice_date == date(2026, 11, 26)


def test_reference_currency_and_price_mode_come_from_the_order() -> None:
    result = mapped(paid="175.50", number="WEB-77")
    assert (result.draft.reference, result.draft.currency, result.draft.prices_include_vat) == (
        "WEB-77",
        "EUR",
        True,
    )
    excl = mapped([row("Boek", 1, "10.00", 9)], paid="10.90", incl=False)
    assert excl.draft.prices_include_vat is False
    assert excl.totals.incl_vat == D("10.90")


def test_single_rate_goods_give_shipping_their_rate_in_one_line() -> None:
    result = mapped([row("Boek", 1, "20.00", 9)], paid="26.95", shipping="6.95")
    assert lines_of(result, LineKind.SHIPPING) == [("Verzendkosten", D("6.95"), D(9))]


def test_shop_rate_policy_books_shipping_at_the_shops_rate() -> None:
    result = mapped(
        paid="182.45", shipping="6.95", profile_changes={"vat": {"shipping": "shop_rate"}}
    )
    assert lines_of(result, LineKind.SHIPPING) == [("Verzendkosten", D("6.95"), D(21))]
    assert result.ok


def test_order_level_amounts_without_goods_value_take_the_shops_shipping_rate() -> None:
    result = mapped([row("Gratis proefzakje", 1, "0.00", 9)], paid="4.95", shipping="4.95")
    assert lines_of(result, LineKind.SHIPPING) == [("Verzendkosten", D("4.95"), D(21))]
    assert result.ok


def test_every_order_level_amount_gets_its_own_lines() -> None:
    result = mapped(
        [row("Boek", 1, "30.00", 9)],
        paid="25.50",
        payment_costs="0.50",
        extra_costs="-2.00",
        extra_costs_description="Afhaalkorting",
        discounts="2.00",
        credit_points="1.00",
    )
    kinds = [(line.kind, line.description, line.price) for line in result.draft.lines[1:]]
    assert kinds == [
        (LineKind.PAYMENT_COSTS, "Betaalkosten iDEAL", D("0.50")),
        (LineKind.EXTRA_COSTS, "Afhaalkorting", D("-2.00")),
        (LineKind.DISCOUNT, "Korting", D("-2.00")),
        (LineKind.DISCOUNT, "Korting spaarpunten", D("-1.00")),
    ]
    assert result.ok and result.totals.incl_vat == D("25.50")


def test_a_fixed_coupon_is_named_and_the_rest_of_the_discount_is_a_cart_discount() -> None:
    result = mapped(
        [row("Boek", 1, "30.00", 9)],
        paid="23.00",
        discounts="7.00",
        coupon={"code": "WELKOM5", "type": "price", "discount": D(5)},
    )
    assert lines_of(result, LineKind.DISCOUNT) == [
        ("Kortingscode WELKOM5", D("-5.00"), D(9)),
        ("Korting", D("-2.00"), D(9)),
    ]


def test_a_coupon_of_unknown_type_takes_the_whole_discount() -> None:
    result = mapped(
        [row("Boek", 1, "30.00", 9)],
        paid="25.00",
        discounts="5.00",
        coupon={"code": "X", "type": "mystery", "discount": D(3)},
    )
    assert lines_of(result, LineKind.DISCOUNT) == [("Kortingscode X", D("-5.00"), D(9))]


def test_a_coupon_on_top_of_total_discounts_when_the_profile_says_so() -> None:
    changes = {"vat": {"coupon_in_total_discounts": False}}
    coupon = {"code": "WELKOM5", "type": "price", "discount": D(5)}
    result = mapped(
        [row("Boek", 1, "30.00", 9)],
        paid="23.00",
        discounts="2.00",
        coupon=coupon,
        profile_changes=changes,
    )
    assert lines_of(result, LineKind.DISCOUNT) == [
        ("Kortingscode WELKOM5", D("-5.00"), D(9)),
        ("Korting", D("-2.00"), D(9)),
    ]
    unknown = {"code": "X", "type": "mystery", "discount": D(3)}
    refused = mapped(
        [row("Boek", 1, "30.00", 9)], paid="30.00", coupon=unknown, profile_changes=changes
    )
    assert ProblemCode.UNKNOWN_COUPON_TYPE in codes(refused)


def test_deposit_rows_are_zero_rated_and_carry_no_shipping() -> None:
    result = mapped(
        [row("Bier", 1, "19.99", 21), row("Statiegeld", 1, "3.90", 21, kind="deposit")],
        paid="30.84",
        shipping="6.95",
    )
    deposit = result.draft.lines[1]
    assert deposit.tax == TaxKey(VatTreatment.DOMESTIC, D(0))
    assert lines_of(result, LineKind.SHIPPING) == [("Verzendkosten", D("6.95"), D(21))]


def test_an_unmapped_rate_refuses_the_order_and_never_falls_back() -> None:
    result = mapped([row("Iets", 1, "10.60", 6)], paid="10.60")
    assert codes(result) == [ProblemCode.UNMAPPED_VAT_RATE]
    assert 'tax_rates.domestic."6"' in result.problems[0].message
    assert result.draft.lines[0].tax_rate_id is None


def test_oss_rates_are_looked_up_per_country() -> None:
    oss = {"vat": {"oss": True}}
    result = mapped([row("Koffie", 1, "10.70", 7)], paid="10.70", country="DE", profile_changes=oss)
    assert result.ok
    assert result.draft.lines[0].tax == TaxKey(VatTreatment.OSS, D(7), "DE")
    assert result.draft.lines[0].tax_rate_id == "470000000000010207"
    french = mapped(
        [row("Koffie", 1, "10.55", "5.5")], paid="10.55", country="FR", profile_changes=oss
    )
    assert "tax_rates.oss.FR" in french.problems[0].message


def test_a_dutch_consumer_is_domestic_even_with_oss_enabled() -> None:
    result = mapped(paid="175.50", profile_changes={"vat": {"oss": True}})
    assert {line.tax.treatment for line in result.draft.lines} == {VatTreatment.DOMESTIC}


def test_reverse_charge_needs_a_vat_number() -> None:
    rows = [row("Molen", 1, "100.00", 0)]
    ok = mapped(
        rows,
        paid="100.00",
        incl=False,
        country="DE",
        company="Müller GmbH",
        vat_number="DE123456789",
        intra_community=True,
    )
    assert ok.ok and ok.contact.tax_number == "DE123456789"
    assert ok.draft.lines[0].tax_rate_id == "470000000000010104"
    refused = mapped(
        rows, paid="100.00", incl=False, country="DE", company="Müller GmbH", intra_community=True
    )
    assert codes(refused) == [ProblemCode.MISSING_VAT_NUMBER]


def test_vat_charged_on_an_intra_community_order_is_booked_as_charged() -> None:
    result = mapped(
        [row("Molen", 1, "121.00", 21)],
        paid="121.00",
        country="DE",
        vat_number="DE123456789",
        intra_community=True,
    )
    assert result.draft.lines[0].tax == TaxKey(VatTreatment.DOMESTIC, D(21))


def test_export_and_platform_sales_use_their_own_zero_rates() -> None:
    export = mapped([row("Molen", 1, "85.00", 0)], paid="85.00", country="US")
    assert export.draft.lines[0].tax_rate_id == "470000000000010102"
    platform = mapped([row("Molen", 1, "85.00", 0)], paid="85.00", platform=True)
    assert platform.draft.lines[0].tax == TaxKey(VatTreatment.PLATFORM, D(0))
    assert platform.draft.lines[0].tax_rate_id == "470000000000010103"


def test_a_difference_within_the_tolerance_becomes_a_visible_rounding_line() -> None:
    result = mapped([row("Boek", 1, "10.00", 9)], paid="10.02")
    rounding = result.draft.lines[-1]
    assert (rounding.kind, rounding.description, rounding.price) == (
        LineKind.ROUNDING,
        "Afrondingsverschil",
        D("0.02"),
    )
    assert rounding.tax_rate_id == "470000000000010000"
    assert rounding.ledger_account_id == "470000000000020006"
    assert result.ok and result.totals.incl_vat == D("10.02") and result.difference == 0


def test_a_larger_difference_refuses_with_both_amounts_and_the_tolerance() -> None:
    result = mapped([row("Boek", 1, "10.00", 9)], paid="10.03", shipping="0")
    assert codes(result) == [ProblemCode.TOTALS_DO_NOT_RECONCILE]
    message = result.problems[0].message
    assert "EUR 10.00" in message and "EUR 10.03" in message and "EUR 0.03" in message
    assert result.problems[0].params["field"] == "rounding.tolerance"
    assert result.difference == D("0.03")


def test_no_rounding_rate_means_no_silent_rounding() -> None:
    profile = MappingProfile(tax_rates={TaxKey(VatTreatment.DOMESTIC, D(9)): "1"})
    result = map_order(make_order([row("Boek", 1, "10.00", 9)], paid="10.01"), profile)
    assert codes(result) == [ProblemCode.NO_ROUNDING_TAX_RATE]


def test_ledger_accounts_per_kind_of_line() -> None:
    result = mapped(paid="172.45", shipping="6.95", discounts="10.00", payment_costs="0.00")
    ledgers = {
        (line.kind, line.tax.percentage): line.ledger_account_id for line in result.draft.lines
    }
    assert ledgers[(LineKind.PRODUCT, D(21))] == "470000000000020001"
    assert ledgers[(LineKind.PRODUCT, D(9))] == "470000000000020002"
    assert ledgers[(LineKind.SHIPPING, D(9))] == "470000000000020003"
    assert ledgers[(LineKind.DISCOUNT, D(21))] == "470000000000020005"


def test_the_contact_is_the_billing_customer() -> None:
    result = mapped(paid="175.50", company="Jansen B.V.", vat_number="NL123456789B01")
    contact = result.contact
    assert (contact.company_name, contact.firstname, contact.lastname) == (
        "Jansen B.V.",
        "Sanne",
        "de Vries",
    )
    assert (contact.country, contact.tax_number, contact.email) == (
        "NL",
        "NL123456789B01",
        "sanne.devries@example.nl",
    )
    assert result.financial_account_id == "470000000000050002"


def test_an_order_without_rows_is_refused() -> None:
    assert ProblemCode.NO_ROWS in codes(mapped([], paid="0.00"))


def test_the_fingerprint_changes_with_what_is_booked_only() -> None:
    first = mapped(paid="175.50").draft.fingerprint()
    assert mapped(paid="175.50").draft.fingerprint() == first
    changed = mapped([row("Molen", 1, "121.00", 21), row("Bonen", 3, "81.75", 9)], paid="202.75")
    assert changed.draft.fingerprint() != first


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({}, []),
        ({"status": 5}, [ProblemCode.STATUS_NOT_TRIGGERING]),
        ({"is_paid": False}, [ProblemCode.NOT_PAID]),
        ({"status": 8}, [ProblemCode.CANCELLED]),
        (
            {"status": 4, "is_paid": False},
            [ProblemCode.STATUS_NOT_TRIGGERING, ProblemCode.NOT_PAID],
        ),
        ({"number": ""}, [ProblemCode.NOT_COMPLETED]),
        # A reason that decides alone is the only one: never "cancelled; never invoiced" and
        # "invoiced once it is paid" together.
        ({"status": 8, "is_paid": False}, [ProblemCode.CANCELLED]),
        ({"number": "", "is_paid": False}, [ProblemCode.NOT_COMPLETED]),
    ],
)
def test_only_paid_orders_in_a_trigger_status_are_booked(
    facts: dict[str, object], expected: list[ProblemCode]
) -> None:
    order = make_order(MIXED, paid="175.50", **facts)  # type: ignore[arg-type]
    assert [p.code for p in booking_blockers(order, example_profile())] == expected


def test_payment_can_be_made_optional_and_statuses_chosen() -> None:
    profile = example_profile(invoicing={"require_paid": False, "trigger_statuses": [5, 7]})
    order = make_order(MIXED, paid="175.50", status=5, is_paid=False)
    assert booking_blockers(order, profile) == ()
