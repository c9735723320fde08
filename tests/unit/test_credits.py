"""Credits become Moneybird credit invoices line by line, at the VAT of the line they reverse.

Expected amounts are worked out by hand in the comments, never taken from ccvbird's arithmetic.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal

from ccvbird.domain.credits import (
    CcvCredit,
    CcvCreditRow,
    CcvCreditStatus,
    CreditPolicy,
    CreditProblemCode,
    SettleMethod,
    credit_reference,
    map_cancellation,
    map_credit,
    normalised,
    order_as_booked,
)
from ccvbird.domain.mapping import map_order
from ccvbird.domain.order import Order
from tests.builders import example_profile, make_order, row

PROFILE = example_profile()
DAY = date(2026, 6, 1)


def basket() -> Order:
    """2 × book 10.90 (9%), 1 × shirt 24.20 (21%), shipping 4.95, a €5 coupon: paid 45.95."""
    return make_order(
        [row("Boek", 2, "21.80", 9), row("T-shirt", 1, "24.20", 21)],
        paid="45.95",
        shipping="4.95",
        discounts="5.00",
        coupon={"code": "VIJF", "discount": Decimal("5"), "type": "price"},
    )


def credit(order: Order, rows: list[tuple[int, str, str]], total: str, **costs: str) -> CcvCredit:
    """A CCV credit returning (row index, count, total) of ``order``."""
    made = []
    for index, count, row_total in rows:
        original = order.rows[index]
        made.append(
            CcvCreditRow(
                row_id=f"r{index}",
                orderrow_id=original.row_id,
                name=original.name,
                count=Decimal(count),
                price=Decimal(row_total) / Decimal(count),
                vat_percentage=original.vat_percentage,
                total=Decimal(row_total),
            )
        )
    return CcvCredit(
        invoice_id="5001",
        number="C5001",
        order_id=order.order_id,
        created_at=datetime(2026, 6, 1, 9, tzinfo=UTC),
        status=CcvCreditStatus.REIMBURSED,
        rows=tuple(made),
        total=Decimal(total),
        **{k: Decimal(v) for k, v in costs.items()},  # type: ignore[arg-type]
    )


def book(order: Order, ccv: CcvCredit, *, remaining: str = "45.95", seq: int = 1, **kw):  # type: ignore[no-untyped-def]
    return map_credit(
        order,
        normalised(ccv),
        PROFILE,
        original_reference=order.number,
        seq=seq,
        remaining=Decimal(remaining),
        credit_date=DAY,
        **kw,
    )


def table(result) -> list[tuple[str, str, str, str]]:  # type: ignore[no-untyped-def]
    return [
        (line.kind.value, str(line.quantity), str(line.price), str(line.tax.percentage))
        for line in result.draft.lines
    ]


def test_a_returned_book_with_its_share_of_the_coupon_is_credited_at_9_percent() -> None:
    order = basket()
    # CCV credits one book (10.90) and the coupon share 5 × 10.90 / 46.00 = 1.18: 9.72.
    result = book(order, credit(order, [(0, "1", "10.90")], "9.72", discounts="1.18"))
    assert result.ok, result.problems
    assert result.draft.reference == "1001-C1"
    assert result.draft.invoice_date == DAY
    assert table(result) == [("product", "-1", "10.90", "9"), ("discount", "-1", "-1.18", "9")]
    # 9% VAT in 9.72 gross: 9.72 × 9 / 109 = 0.8025 → 0.80.
    assert result.totals.incl_vat == Decimal("-9.72")
    assert result.vat_by_percentage() == {"9": Decimal("-0.80")}
    assert result.quantities == {order.rows[0].row_id: Decimal(1)}
    ledgers = {line.ledger_account_id for line in result.draft.lines}
    assert ledgers == {"470000000000020002", "470000000000020005"}  # low-rate revenue, discounts


def test_shipping_only_reverses_the_originals_split_over_both_rates() -> None:
    order = basket()
    # Shipping 4.95 over goods 21.80 (9%) and 24.20 (21%): 2.3459 and 2.6042, the odd cent to
    # the larger remainder (9%): 2.35 and 2.60.
    result = book(order, credit(order, [], "4.95", shipping="4.95"))
    assert result.ok, result.problems
    assert table(result) == [("shipping", "-1", "2.60", "21"), ("shipping", "-1", "2.35", "9")]
    original = [
        line for line in map_order(order, PROFILE).draft.lines if line.kind.value == "shipping"
    ]
    assert [(line.price, line.tax) for line in original] == [
        (line.price, line.tax) for line in result.draft.lines
    ]
    # 2.60 × 21/121 = 0.4512 → 0.45; 2.35 × 9/109 = 0.1940 → 0.19.
    assert result.vat_by_percentage() == {"21": Decimal("-0.45"), "9": Decimal("-0.19")}


def test_negative_amounts_from_ccv_mean_the_same_credit() -> None:
    order = basket()
    positive = book(order, credit(order, [(0, "1", "10.90")], "9.72", discounts="1.18"))
    negative = book(order, credit(order, [(0, "-1", "-10.90")], "-9.72", discounts="-1.18"))
    assert table(negative) == table(positive)
    assert negative.amount == Decimal("9.72")


def test_a_full_cancellation_nets_the_original_to_zero_per_rate() -> None:
    order = basket()
    original = map_order(order, PROFILE)
    result = map_cancellation(
        order, PROFILE, original_reference="1001", seq=1, remaining=Decimal("45.95"),
        booked_total=Decimal("45.95"), credit_date=DAY,
    )  # fmt: skip
    assert result.ok, result.problems
    assert result.totals.incl_vat == Decimal("-45.95")
    net = {
        pct: original.totals.vat_by_percentage()[pct] + result.vat_by_percentage()[pct]
        for pct in original.totals.vat_by_percentage()
    }
    assert net == {"21": Decimal(0), "9": Decimal(0)}
    assert [line.quantity for line in result.draft.lines] == [
        -line.quantity for line in original.draft.lines
    ]


def test_an_oss_order_is_refunded_at_the_customers_rate_on_the_oss_tax_rate() -> None:
    profile = example_profile(vat={"oss": True})
    order = make_order([row("Stoel", 1, "121.00", 21)], paid="121.00", country="BE")
    ccv = credit(order, [(0, "1", "121.00")], "121.00")
    result = map_credit(
        order, normalised(ccv), profile, original_reference="1001", seq=1,
        remaining=Decimal("121.00"), credit_date=DAY,
    )  # fmt: skip
    assert result.ok, result.problems
    (line,) = result.draft.lines
    assert (line.tax.treatment.value, line.tax.country) == ("oss", "BE")
    assert line.tax_rate_id == "470000000000010221"
    assert (line.quantity, line.price) == (Decimal(-1), Decimal("121.00"))
    assert result.vat_by_percentage() == {"21": Decimal("-21.00")}  # 121 × 21/121


def test_more_than_remains_is_parked_with_the_amounts() -> None:
    order = basket()
    result = book(order, credit(order, [(1, "1", "24.20")], "24.20"), remaining="20.00")
    assert [p.code for p in result.problems] == [CreditProblemCode.EXCEEDS_REMAINING]
    assert result.problems[0].params == {"amount": "24.20", "remaining": "20.00"}


def test_a_row_or_rate_not_on_the_original_is_parked() -> None:
    order = basket()
    stranger = dataclasses.replace(
        credit(order, [(0, "1", "10.90")], "10.90"),
    )
    foreign_row = dataclasses.replace(stranger.rows[0], orderrow_id="999")
    result = book(order, dataclasses.replace(stranger, rows=(foreign_row,)))
    assert result.problems[0].code is CreditProblemCode.ROW_NOT_ON_ORIGINAL
    wrong_rate = dataclasses.replace(stranger.rows[0], vat_percentage=Decimal(21))
    result = book(order, dataclasses.replace(stranger, rows=(wrong_rate,)))
    assert result.problems[0].code is CreditProblemCode.VAT_RATE_NOT_ON_ORIGINAL
    assert result.problems[0].params["credit_rate"] == "21"


def test_returning_more_than_was_bought_over_two_credits_is_parked() -> None:
    order = basket()
    result = book(
        order,
        credit(order, [(0, "1", "10.90")], "10.90"),
        already_credited={order.rows[0].row_id: Decimal(2)},
    )
    assert [p.code for p in result.problems] == [CreditProblemCode.QUANTITY_EXCEEDS_ORIGINAL]


def test_a_cent_difference_is_closed_by_a_rounding_line_as_on_the_invoice() -> None:
    order = basket()
    result = book(order, credit(order, [(0, "1", "10.90")], "10.91"))
    assert result.problems == ()
    (rounding,) = [line for line in result.draft.lines if line.kind.value == "rounding"]
    # By hand: the book's 10.90 leaves 0.01 to what CCV credited, closed at 0% VAT.
    assert (rounding.quantity, rounding.price, rounding.tax.percentage) == (-1, Decimal("0.01"), 0)
    assert -result.totals.incl_vat == Decimal("10.91")


def test_a_difference_beyond_the_rounding_tolerance_is_parked_never_rounded() -> None:
    order = basket()
    result = book(order, credit(order, [(0, "1", "10.90")], "10.95"))
    assert [p.code for p in result.problems] == [CreditProblemCode.TOTALS_DO_NOT_RECONCILE]
    assert result.problems[0].params == {"computed": "10.90", "credited": "10.95"}
    assert all(line.kind.value != "rounding" for line in result.draft.lines)


def test_more_shipping_than_the_order_had_is_parked() -> None:
    order = basket()
    result = book(order, credit(order, [], "6.00", shipping="6.00"))
    assert CreditProblemCode.COSTS_EXCEED_ORIGINAL in [p.code for p in result.problems]


def test_settling_follows_the_money_unless_the_profile_says_otherwise() -> None:
    order = basket()  # paid by BankTransfer (the example order)
    policy = CreditPolicy()
    assert policy.settle_method(order, original_paid=True) is SettleMethod.REFUND
    assert policy.settle_method(order, original_paid=False) is SettleMethod.SET_OFF
    chosen = CreditPolicy(settle={order.payment_method: SettleMethod.SET_OFF})
    assert chosen.settle_method(order, original_paid=True) is SettleMethod.SET_OFF


def test_the_reference_numbers_credits_within_the_order() -> None:
    assert credit_reference("B-1001", 2) == "B-1001-C2"


def test_the_order_as_booked_is_the_edited_order_with_its_credits_added_back() -> None:
    """CCV credits the difference after the shop edits the order: one book and the shipping
    returned leaves 1 × book (10.90), the shirt, no shipping, and €5 − its share on the order.
    Adding the credit back gives the booked basket again, to the cent."""
    booked = basket()
    # By hand: the book's share of the €5 coupon is 5 × 10.90 / 46.00 = 1.18 (rounded).
    returned = credit(booked, [(0, "1", "10.90")], "14.67", shipping="4.95", discounts="1.18")
    edited = dataclasses.replace(
        booked,
        rows=(dataclasses.replace(booked.rows[0], quantity=Decimal(1), total=Decimal("10.90")),
              booked.rows[1]),
        shipping=Decimal("0"),
        discounts_total=Decimal("3.82"),
        total_paid=Decimal("31.28"),
    )  # fmt: skip
    again = order_as_booked(edited, [normalised(returned)])
    assert again.rows == booked.rows
    assert (again.shipping, again.discounts_total, again.total_paid) == (
        Decimal("4.95"), Decimal("5.00"), Decimal("45.95"),
    )  # fmt: skip
    assert map_order(again, PROFILE, booking_date=DAY).draft.fingerprint() == (
        map_order(booked, PROFILE, booking_date=DAY).draft.fingerprint()
    )
    assert order_as_booked(booked, []) is booked
