"""The rounding helpers: the one place money is rounded."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccvbird.domain.money import (
    MoneyTypeError,
    allocate,
    format_amount,
    format_quantity,
    is_exact,
    quantize,
    to_decimal,
    vat_from_net,
    vat_in_gross,
)

D = Decimal


@pytest.mark.parametrize(
    ("value", "expected"),
    [(3, D(3)), ("12.30", D("12.30")), (D("0.10"), D("0.10")), (" 5 ", D(5))],
)
def test_to_decimal_accepts_exact_values(value: object, expected: Decimal) -> None:
    assert to_decimal(value) == expected


@pytest.mark.parametrize("value", [0.1, True, "abc", "NaN", "Infinity", None, [1]])
def test_to_decimal_refuses_floats_and_non_numbers(value: object) -> None:
    with pytest.raises(MoneyTypeError) as info:
        to_decimal(value, field="order.total_price")
    assert str(info.value).startswith("order.total_price:")


def test_a_float_is_refused_with_advice() -> None:
    with pytest.raises(MoneyTypeError, match="parse_float=Decimal"):
        to_decimal(0.1)


@pytest.mark.parametrize(
    ("amount", "rounded"),
    [
        ("27.2895", "27.29"),
        ("0.125", "0.13"),
        ("-0.125", "-0.13"),
        ("41.9979", "42.00"),
        ("1.004", "1.00"),
    ],
)
def test_quantize_rounds_half_away_from_zero(amount: str, rounded: str) -> None:
    assert quantize(D(amount)) == D(rounded)


def test_vat_helpers_match_moneybird_examples() -> None:
    # Moneybird: 129.95 excl. at 21% → 27.29 VAT; 100.00 incl. 21% → 17.36 VAT (82.64 net).
    assert vat_from_net(D("129.95"), D(21)) == D("27.29")
    assert vat_in_gross(D("100.00"), D(21)) == D("17.36")


def test_allocate_gives_the_leftover_cent_to_the_largest_remainder() -> None:
    assert allocate(D("10.00"), [D(121), D("54.50")]) == [D("6.89"), D("3.11")]
    assert allocate(D("0.02"), [D(1), D(1), D(1)]) == [D("0.01"), D("0.01"), D("0.00")]


def test_allocate_mirrors_negative_amounts() -> None:
    assert allocate(D("-10.00"), [D(121), D("54.50")]) == [D("-6.89"), D("-3.11")]


@pytest.mark.parametrize(
    ("total", "weights"),
    [(D("1.00"), []), (D("1.00"), [D(0), D(0)]), (D("1.00"), [D(-1), D(2)]), (D("1.005"), [D(1)])],
)
def test_allocate_refuses_what_cannot_be_split(total: Decimal, weights: list[Decimal]) -> None:
    with pytest.raises(ValueError, match=r"allocate|multiple"):
        allocate(total, weights)


cents = st.integers(min_value=-(10**9), max_value=10**9).map(lambda c: D(c) / 100)
weights = st.lists(
    st.integers(min_value=0, max_value=10**7).map(lambda c: D(c) / 100), min_size=1, max_size=8
).filter(lambda ws: sum(ws) > 0)


@given(total=cents, parts=weights)
def test_allocated_parts_always_sum_to_the_whole(total: Decimal, parts: list[Decimal]) -> None:
    result = allocate(total, parts)
    assert sum(result, D(0)) == total
    assert all(is_exact(part) for part in result)


@given(total=cents, parts=weights)
def test_each_part_is_within_a_cent_of_its_exact_share(
    total: Decimal, parts: list[Decimal]
) -> None:
    weight_sum = sum(parts, D(0))
    for part, weight in zip(allocate(total, parts), parts, strict=True):
        assert abs(part - total * weight / weight_sum) < D("0.01")
        if weight == 0:
            assert part == 0


def test_formatting_is_plain_decimal_text() -> None:
    assert format_amount(D("12.3")) == "12.30"
    assert format_amount(D("-0.05")) == "-0.05"
    assert format_amount(D("1E+2")) == "100.00"
    assert format_quantity(D("3.000")) == "3"
    assert format_quantity(D("0.50")) == "0.5"
    assert format_quantity(D("20")) == "20"
