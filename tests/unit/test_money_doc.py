"""Every worked example in docs/money.md is what ccvbird books, line by line."""

from __future__ import annotations

import pytest

from tests.unit.worked_examples import examples, render, render_credit, run, run_credit

EXAMPLES = [e for e in examples() if e.kind == "order"]
CREDITS = [e for e in examples() if e.kind == "credit"]
REQUIRED = {
    "Mixed 9% and 21% basket with shipping",
    "A fixed coupon over two rates",
    "A percentage coupon",
    "3 × €9.99, and 3 for €10.00",
    "Reverse charge: an EU business with a VAT number",
    "OSS: a consumer in Belgium",
    "Export outside the EU",
    "A B2B order with prices excl. VAT, and a rounding line",
    "Deposit (statiegeld)",
    "A negative extra cost",
}
REQUIRED_CREDITS = {
    "A partial return on a mixed 9% and 21% basket with shipping and a coupon",
    "A full cancellation",
    "A refund of the shipping only",
    "An OSS order refunded",
}


def test_the_document_has_every_required_example() -> None:
    assert {example.title for example in EXAMPLES} >= REQUIRED
    assert {example.title for example in CREDITS} >= REQUIRED_CREDITS


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.title)
def test_worked_example_matches_what_ccvbird_books(example) -> None:  # type: ignore[no-untyped-def]
    assert example.shown, f"{example.title}: no table under the order block"
    assert render(run(example.spec)) == example.shown


def test_a_changed_table_is_noticed() -> None:
    """The comparison is strict: one cent changed in the document makes the example fail."""
    example = next(e for e in EXAMPLES if e.title == "A fixed coupon over two rates")
    tampered = example.shown.replace("-3.11", "-3.10")
    assert tampered != example.shown
    assert render(run(example.spec)) != tampered


@pytest.mark.parametrize("example", CREDITS, ids=lambda e: e.title)
def test_worked_credit_matches_what_ccvbird_books(example) -> None:  # type: ignore[no-untyped-def]
    assert example.shown, f"{example.title}: no table under the credit block"
    assert render_credit(run_credit(example.spec)) == example.shown


def test_a_changed_credit_table_is_noticed() -> None:
    example = next(e for e in CREDITS if e.title == "A refund of the shipping only")
    tampered = example.shown.replace("-4.79", "-4.80")
    assert tampered != example.shown
    assert render_credit(run_credit(example.spec)) != tampered
