"""Bounds on what an order may be before it reaches the database or Moneybird, and when an
invoice counts as paid."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest

from ccvbird.adapters.ccvshop.webhooks import InvalidWebhookBody, parse_webhook
from ccvbird.adapters.ccvshop.wire import dumps, loads_isolating, parse_order
from ccvbird.domain.bounds import email_problem, is_order_id, storable
from ccvbird.domain.errors import InvalidOrderData
from ccvbird.domain.mapping import ProblemCode, map_order
from ccvbird.domain.sync import RemoteInvoice
from tests.builders import example_profile, make_order, order_document, row

ONE = [row("Koffiemolen", 1, "121.00", 21)]


def codes(
    order_facts: dict[str, Any], rows: list[dict[str, Any]] | None = None
) -> list[ProblemCode]:
    order = make_order(rows or ONE, **order_facts)
    return [p.code for p in map_order(order, example_profile()).problems]


# -- e-mail ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email", ["jan@example.nl", "j.de.vries+shop@mail.example.co.uk", "x@b\u00fccher.de"]
)
def test_ordinary_addresses_pass(email: str) -> None:
    assert email_problem(email) is None


@pytest.mark.parametrize(
    ("email", "why"),
    [
        ("a" * 60 + "@" + ("b" * 50 + ".") * 4 + "c" * 47 + ".nl", "315 characters"),
        ("a" * 65 + "@example.nl", "before '@' has 65"),
        ("jan.example.nl", "no '@'"),
        ("jan@", "no '@'"),
        ("jan de vries@example.nl", "characters an address cannot have"),
        ("jan..x@example.nl", "characters an address cannot have"),
        ("jan@localhost", "not a domain name"),
        ("jan@exa_mple.nl", "not a domain name"),
    ],
)
def test_addresses_outside_the_rfc_shape_are_refused_with_why(email: str, why: str) -> None:
    problem = email_problem(email)
    assert problem is not None and why in problem


def test_order_ids_are_digits_that_fit_the_database() -> None:
    assert is_order_id("123456")
    assert not is_order_id("1" * 41)
    assert not is_order_id("12a")
    assert not is_order_id("")
    assert not is_order_id("\u0661\u0662")  # Arabic-Indic digits are digits, but not CCV's


def test_storable_text_has_no_nul_no_undecodable_bytes_and_fits() -> None:
    garbled = b"M\xfcller\x00".decode("utf-8", "surrogateescape")
    assert storable(garbled) == "M?ller"
    assert storable("9" * 154, 100) == "9" * 99 + "…"
    assert storable("1001", 100) == "1001"


# -- the mapping refuses what no invoice may be ---------------------------------------------------


def test_a_negative_total_is_never_a_sales_invoice() -> None:
    assert codes({"paid": "-20.00"}, [row("Koffiemolen", -2, "-20.00", 21)])[0] is (
        ProblemCode.NEGATIVE_TOTAL
    )
    costs = {"paid": "-12.63", "shipping": "-20.00", "payment_costs": "-1.74",
             "extra_costs": "-0.89"}  # fmt: skip
    assert codes(costs, [row("Filter", 1, "10.00", 21)])[0] is ProblemCode.NEGATIVE_TOTAL


def test_negative_costs_within_a_positive_total_are_booked() -> None:
    assert codes({"paid": "101.00", "shipping": "-20.00"}) == []


def test_the_final_reference_is_checked_not_the_order_number() -> None:
    order = make_order(ONE, paid="121.00", number="1" * 100)
    assert map_order(order, example_profile()).ok
    longer = dataclasses.replace(order, number="1" * 101)
    assert [p.code for p in map_order(longer, example_profile()).problems] == [
        ProblemCode.REFERENCE_TOO_LONG
    ]


def test_an_invalid_email_parks_the_order_and_a_guest_without_one_does_not() -> None:
    order = make_order(ONE, paid="121.00")
    bad = dataclasses.replace(order, customer=dataclasses.replace(order.customer, email="x@y"))
    assert [p.code for p in map_order(bad, example_profile()).problems] == [
        ProblemCode.INVALID_EMAIL
    ]
    guest = dataclasses.replace(order, customer=dataclasses.replace(order.customer, email=""))
    assert map_order(guest, example_profile()).ok


def test_another_currency_waits_unless_the_profile_allows_it() -> None:
    order = dataclasses.replace(make_order(ONE, paid="121.00"), currency="USD")
    result = map_order(order, example_profile())
    assert [p.code for p in result.problems] == [ProblemCode.FOREIGN_CURRENCY]
    assert "USD" in result.problems[0].message and "EUR" in result.problems[0].message
    allowed = example_profile(invoicing={"foreign_currency": True})
    assert map_order(order, allowed).ok
    dollars = example_profile(invoicing={"currency": "usd"})
    assert map_order(order, dollars).ok


def test_amounts_below_a_cent_are_refused_but_a_free_order_is_booked() -> None:
    tiny = [row("Zaadje", 1, "0.001", 21) for _ in range(3)]
    assert codes({"paid": "0.003"}, tiny) == [ProblemCode.AMOUNT_BELOW_A_CENT]
    assert codes({"paid": "0.00"}, tiny)[0] is ProblemCode.AMOUNT_BELOW_A_CENT
    assert codes({"paid": "0.00"}, [row("Proefzakje", 1, "0.00", 21)]) == []


def test_amounts_beyond_moneybirds_range_are_refused() -> None:
    # Each amount CCV sends is within range (the wire refuses others); their sum is not.
    order = make_order(ONE, paid="121.00")
    yacht = dataclasses.replace(order.rows[0], total=Decimal("600000000.00"))
    huge = dataclasses.replace(order, rows=(yacht, yacht), total_paid=Decimal("1200000000.00"))
    assert next(p.code for p in map_order(huge, example_profile()).problems) is (
        ProblemCode.AMOUNT_OUT_OF_RANGE
    )


# -- unreadable text ------------------------------------------------------------------------------


def test_garbled_bytes_in_a_field_ccvbird_ignores_stop_nothing() -> None:
    order = order_document(ONE, paid="121.00", number="1")["order"]
    page = b'{"items": [' + _dumps({**order, "ignored_note": "LATIN1"}).replace(
        b"LATIN1", b"\xe9t\xe9"
    ) + b"]}"  # fmt: skip
    assert parse_order(loads_isolating(page)["items"][0], {"items": ONE}).number == "1"


def test_one_order_with_latin1_bytes_does_not_make_the_page_unreadable() -> None:
    good = order_document(ONE, paid="121.00", number="1")["order"]
    page = b'{"items": [' + _dumps(good) + b", " + _dumps(good).replace(
        b'"first_name": "', b'"first_name": "M\xfc', 1
    ) + b"]}"  # fmt: skip
    items = loads_isolating(page)["items"]
    assert parse_order(items[0], {"items": ONE}).number == "1"
    with pytest.raises(InvalidOrderData) as caught:
        parse_order(items[1], {"items": ONE})
    assert caught.value.field == "order.customer.billing.first_name"
    assert "not UTF-8" in str(caught.value)


def _dumps(document: object) -> bytes:
    return dumps(document).encode()


# -- is_paid --------------------------------------------------------------------------------------


def invoice(state: str, total: str, unpaid: str) -> RemoteInvoice:
    return RemoteInvoice("1", "1001", state, Decimal(total), Decimal(unpaid))


@pytest.mark.parametrize(
    ("state", "total", "unpaid", "paid"),
    [
        ("paid", "121.00", "0.00", True),
        ("open", "121.00", "121.00", False),
        ("open", "121.00", "0.00", True),  # payments cover it, state not updated yet
        ("open", "-20.00", "-20.00", False),  # money owed to the customer: not paid
        ("open", "-20.00", "0.00", False),
        ("draft", "121.00", "0.00", False),
        ("open", "0.00", "0.00", True),  # Moneybird settles a 0.00 invoice when it is sent
        ("paid", "-20.00", "0.00", True),  # Moneybird says so
    ],
)
def test_an_invoice_is_paid_only_when_moneybird_says_so_or_payments_cover_it(
    state: str, total: str, unpaid: str, paid: bool
) -> None:
    assert invoice(state, total, unpaid).is_paid is paid


def test_a_webhook_naming_an_absurd_order_id_is_refused_not_recorded() -> None:
    body = b'{"id": ' + b"1" * 45 + b', "href": "https://shop.example/api/rest/v1/orders/1"}'
    with pytest.raises(InvalidWebhookBody) as caught:
        parse_webhook(body, event="orders.created")
    assert caught.value.field == "id"
