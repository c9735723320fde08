"""Money invariants over many generated orders (hypothesis).

* order-level amounts split over VAT rates always add up to the amount;
* an order whose parts add up to what the customer paid becomes an invoice whose Moneybird total
  is exactly that amount (prices incl. VAT: without any rounding line);
* with prices excl. VAT, a booked invoice always equals what was paid, and every refusal states
  a difference beyond the tolerance;
* no line and no request body ever holds a float;
* malformed input is an InvalidOrderData naming a field, never another exception.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ccvbird.adapters.ccvshop.wire import decode_order_file, dumps
from ccvbird.adapters.moneybird.payload import sales_invoice_payload
from ccvbird.domain.errors import InvalidOrderData
from ccvbird.domain.invoice import LineKind
from ccvbird.domain.mapping import ProblemCode, map_order
from tests.builders import example_profile, make_order, order_document, row

D = Decimal
PROFILE = example_profile()
TODAY = date(2026, 11, 26)

amounts = st.integers(min_value=0, max_value=50_000).map(lambda c: D(c) / 100)
small = st.integers(min_value=0, max_value=1_500).map(lambda c: D(c) / 100)
rates = st.sampled_from([D(21), D(9), D(0)])


@st.composite
def rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(min_value=1, max_value=6))
    result = []
    for i in range(count):
        quantity = draw(st.sampled_from([D(1), D(2), D(3), D(7), D("0.5"), D("1.25")]))
        result.append(row(f"Product {i}", str(quantity), str(draw(amounts)), str(draw(rates))))
    if draw(st.booleans()):
        result.append(row("Statiegeld", "1", str(draw(small)), "0", kind="deposit"))
    return result


@st.composite
def parts(draw: st.DrawFn) -> dict[str, str]:
    return {
        "shipping": str(draw(small)),
        "payment_costs": str(draw(small)),
        "extra_costs": str(draw(small) * draw(st.sampled_from([1, -1]))),
        "discounts": str(draw(small)),
        "credit_points": str(draw(st.sampled_from([D(0), D(1), D(5)]))),
    }


def sum_of_parts(order_rows: list[dict[str, Any]], facts: dict[str, str]) -> Decimal:
    return (
        sum((r["total_price"] for r in order_rows), D(0))
        + D(facts["shipping"]) + D(facts["payment_costs"]) + D(facts["extra_costs"])
        - D(facts["discounts"]) - D(facts["credit_points"])
    )  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(order_rows=rows(), facts=parts())
def test_an_incl_vat_order_whose_parts_add_up_is_booked_at_exactly_what_was_paid(
    order_rows: list[dict[str, Any]], facts: dict[str, str]
) -> None:
    paid = sum_of_parts(order_rows, facts)
    result = map_order(make_order(order_rows, paid=str(paid), **facts), PROFILE)
    if paid < 0:  # discounts beyond the goods: never a sales invoice
        assert result.problems[0].code is ProblemCode.NEGATIVE_TOTAL
        return
    assert result.ok, result.problems
    assert result.totals.incl_vat == paid
    assert all(line.kind is not LineKind.ROUNDING for line in result.draft.lines)
    # Each order-level amount is carried over in full, however it was split.
    for kind, amount in (
        (LineKind.SHIPPING, facts["shipping"]),
        (LineKind.EXTRA_COSTS, facts["extra_costs"]),
    ):
        booked = sum((line.amount for line in result.draft.lines if line.kind is kind), D(0))
        assert booked == D(amount)


def shop_vat_per_line(order_rows: list[dict[str, Any]]) -> Decimal:
    return sum(
        (
            (r["total_price"] * r["tax"] / 100).quantize(D("0.01"), ROUND_HALF_UP)
            for r in order_rows
        ),
        D(0),
    )


@settings(max_examples=300, deadline=None)
@given(order_rows=rows())
def test_an_excl_vat_order_is_booked_at_what_was_paid_or_refused_with_the_difference(
    order_rows: list[dict[str, Any]],
) -> None:
    paid = sum((r["total_price"] for r in order_rows), D(0)) + shop_vat_per_line(order_rows)
    result = map_order(make_order(order_rows, paid=str(paid), incl=False), PROFILE)
    if result.ok:
        assert result.totals.incl_vat == paid
    else:
        assert [p.code for p in result.problems] == [ProblemCode.TOTALS_DO_NOT_RECONCILE]
        assert abs(result.difference) > PROFILE.rounding_tolerance


def no_floats(value: object) -> bool:
    if isinstance(value, float):
        return False
    if isinstance(value, dict):
        return all(no_floats(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(no_floats(v) for v in value)
    return True


@settings(max_examples=200, deadline=None)
@given(order_rows=rows(), facts=parts())
def test_no_line_and_no_request_body_holds_a_float(
    order_rows: list[dict[str, Any]], facts: dict[str, str]
) -> None:
    paid = sum_of_parts(order_rows, facts)
    result = map_order(make_order(order_rows, paid=str(paid), **facts), PROFILE)
    for line in result.draft.lines:
        assert all(isinstance(v, Decimal) for v in (line.quantity, line.price, line.amount))
    payload = sales_invoice_payload(result.draft)
    assert no_floats(payload)
    # The JSON sent has amounts as strings: nothing a JSON reader could turn into a float.
    assert no_floats(json.loads(json.dumps(payload)))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=5)
    | st.decimals(allow_nan=False, allow_infinity=False, places=2),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


FUZZ_KEYS = ["order", "orderrows", "items", 0, 1, "customer", "billingaddress", "total_price",
             "count", "tax", "create_date", "discountcoupon", "id", "status", "paid",
             "attributes"]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    path=st.lists(st.sampled_from(FUZZ_KEYS), min_size=1, max_size=4),
    value=json_values,
)  # fmt: skip
def test_malformed_input_is_an_invalid_order_naming_a_field(path: list[Any], value: object) -> None:
    document: Any = order_document([row("A", 1, "10.00", 21), row("B", 2, "5.00", 9)], paid="15.00")
    target = document
    for key in path[:-1]:
        try:
            target = target[key]
        except (KeyError, IndexError, TypeError):
            return
    try:
        target[path[-1]] = value
    except (TypeError, IndexError):
        return
    try:
        order = decode_order_file(dumps(document).encode())
    except InvalidOrderData as exc:
        assert exc.field
        return
    map_order(order, PROFILE, booking_date=TODAY)  # whatever parses, maps without raising
