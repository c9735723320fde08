"""Moneybird wire models, error descriptions and Retry-After reading, without any I/O."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from pydantic import ValidationError

from ccvbird.adapters.moneybird import wire
from ccvbird.adapters.moneybird.transport import MoneybirdTransport, describe

D = Decimal


def test_ids_stay_exact_strings_even_from_integers() -> None:
    contact = wire.Contact.model_validate({"id": 496081523137578258, "administration_id": 123})

    assert contact.id == "496081523137578258"
    assert contact.administration_id == "123"


def test_float_money_and_float_ids_are_refused() -> None:
    with pytest.raises(ValidationError):
        wire.Payment.model_validate({"id": "1", "price": 129.95})
    with pytest.raises(ValidationError):
        wire.Contact.model_validate({"id": 4.96e17})


def test_loads_never_makes_floats() -> None:
    payment = wire.Payment.model_validate(wire.loads(b'{"id": "1", "price": 129.95}'))

    assert payment.price == D("129.95")


def test_empty_string_and_null_mean_the_same() -> None:
    empty = wire.Contact.model_validate(
        {"id": "1", "firstname": "", "invoice_workflow_id": "", "tax_number": ""}
    )
    null = wire.Contact.model_validate(
        {"id": "1", "firstname": None, "invoice_workflow_id": None, "tax_number": None}
    )

    assert empty == null
    assert empty.firstname == ""
    assert empty.invoice_workflow_id is None


def test_quantity_comes_from_amount_decimal_never_from_amount() -> None:
    detail = wire.Detail.model_validate(
        {"amount": "-1 x", "amount_decimal": "-1.0", "price": "300.0", "tax_rate_id": 5}
    )
    plain = wire.Detail.model_validate({"amount": None, "amount_decimal": "0.5", "price": "2"})

    assert detail.quantity == D(-1)
    assert detail.price == D(300)
    assert detail.tax_rate_id == "5"
    assert plain.quantity == D("0.5")


def test_contact_email_matching_is_exact_and_covers_every_invoice_address() -> None:
    contact = wire.Contact.model_validate(
        {"id": "1", "email": "", "send_invoices_to_email": "Inkoop@Boek.example;admin@boek.example"}
    )

    assert contact.has_email("inkoop@boek.EXAMPLE")
    assert contact.has_email(" admin@boek.example ")
    assert not contact.has_email("boek.example")


def test_tax_rate_null_percentage_and_activity() -> None:
    rate = wire.TaxRate.model_validate(
        {"id": "1", "percentage": None, "tax_rate_type": "sales_invoice", "active": None}
    )
    purchase = wire.TaxRate.model_validate(
        {"id": "2", "percentage": "21.0", "tax_rate_type": "purchase_invoice"}
    )

    assert rate.percentage is None
    assert rate.for_sales_invoices
    assert purchase.percentage == D(21)
    assert not purchase.for_sales_invoices


@pytest.mark.parametrize(
    ("body", "message", "code", "fields"),
    [
        (
            {"error": {"firstname": ["is required"]}, "details": {}},
            "firstname is required",
            None,
            {"firstname": ["is required"]},
        ),
        (
            {"error": "Contact is required", "symbolic": {"contact": "required"}},
            "Contact is required",
            "contact:required",
            {"contact": ["required"]},
        ),
        ("Retry later", "Retry later", None, {}),
        ("", "no explanation given", None, {}),
    ],
)
def test_error_bodies_become_readable(
    body: object, message: str, code: str | None, fields: dict[str, list[str]]
) -> None:
    assert describe(body) == (message, code, fields)


def _transport(now: float) -> MoneybirdTransport:
    return MoneybirdTransport(httpx.Client(), clock=lambda: now)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "1772445660"}, 1772445660.0),
        ({"RateLimit-Reset": "1772445700"}, 1772445700.0),
        ({"Retry-After": "30"}, 1772445600.0 + 30),
        ({"Retry-After": "soon", "RateLimit-Reset": "1772445611"}, 1772445611.0),
        ({}, None),
    ],
)
def test_retry_after_is_an_epoch(headers: dict[str, str], expected: float | None) -> None:
    response = httpx.Response(429, headers=headers, text="<html>429</html>")

    assert _transport(1772445600.0).retry_at(response) == expected
