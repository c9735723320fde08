"""Credit invoices in the Moneybird sandbox, over spec-checked HTTP (issue 11).

A partial credit is the duplicated credit draft edited with ``PATCH sales_invoices/{id}`` (lines
removed and changed, the reference set to ``1001-C1``), finalised with ``send_invoice``, then
settled against the original (``register_payment_creditinvoice``) or refunded (a negative
payment). The spec accepts ``original_sales_invoice_id`` on no request, so only
``duplicate_creditinvoice`` links a credit to its original.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ccvbird.sandbox.moneybird import IN_PROCESS_BASE_URL, MoneybirdSandbox, SandboxTransport
from ccvbird.sandbox.moneybird import constants as mb
from tests.integration.moneybird.openapi import ValidatingTransport

A = mb.ADMINISTRATION_ID
AUTH = {"Authorization": f"Bearer {mb.DEMO_TOKEN}"}
MANUAL = {"sales_invoice_sending": {"delivery_method": "Manual"}}


@pytest.fixture
def http(transport: ValidatingTransport) -> Iterator[httpx.Client]:
    with httpx.Client(
        transport=transport, base_url=f"{IN_PROCESS_BASE_URL}/{A}", headers=AUTH
    ) as client:
        yield client


@pytest.fixture
def unchecked(sandbox: MoneybirdSandbox) -> Iterator[httpx.Client]:
    """Past the referee: for requests the spec itself would not let through."""
    with httpx.Client(
        transport=SandboxTransport(sandbox), base_url=f"{IN_PROCESS_BASE_URL}/{A}", headers=AUTH
    ) as client:
        yield client


def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def _original(http: httpx.Client, reference: str = "1001") -> dict[str, Any]:
    """A sent webshop invoice: 2 × 10.00 at 21% and 1 × 5.00 at 9%, prices incl. VAT."""
    contact = _ok(http.post("/contacts.json", json={"contact": {"company_name": "X"}}), 201)
    body = {
        "sales_invoice": {
            "contact_id": contact["id"],
            "reference": reference,
            "prices_are_incl_tax": True,
            "details_attributes": [
                {"description": "Mok", "price": "10.00", "amount": "2",
                 "tax_rate_id": mb.TAX_RATE_21},
                {"description": "Thee", "price": "5.00", "amount": "1",
                 "tax_rate_id": mb.TAX_RATE_9},
            ],
        }
    }  # fmt: skip
    created = _ok(http.post("/sales_invoices.json", json=body), 201)
    return _ok(http.patch(f"/sales_invoices/{created['id']}/send_invoice.json", json=MANUAL))


def _partial_credit(http: httpx.Client, original: dict[str, Any]) -> dict[str, Any]:
    """Credit one Mok: duplicate, drop the Thee line, one item instead of two, new reference."""
    draft = _ok(
        http.patch(f"/sales_invoices/{original['id']}/duplicate_creditinvoice.json", json={})
    )
    heading, mok, thee = draft["details"]
    edit = {
        "sales_invoice": {
            "reference": "1001-C1",
            "details_attributes": [
                {"id": mok["id"], "amount": "-1"},
                {"id": thee["id"], "_destroy": True},
            ],
        }
    }
    edited = _ok(http.patch(f"/sales_invoices/{draft['id']}.json", json=edit))
    assert [d["id"] for d in edited["details"]] == [heading["id"], mok["id"]]
    return _ok(http.patch(f"/sales_invoices/{draft['id']}/send_invoice.json", json=MANUAL))


def test_a_partial_credit_is_the_duplicated_draft_edited(http: httpx.Client) -> None:
    original = _original(http)
    credit = _partial_credit(http, original)

    assert credit["state"] == "open"
    assert credit["original_sales_invoice_id"] == original["id"]
    assert credit["reference"] == "1001-C1"
    assert credit["total_price_incl_tax"] == "-10.0"
    assert credit["details"][1]["amount_decimal"] == "-1.0"
    assert [e["action"] for e in credit["events"]][:2] == [
        "credit_invoice_created_from_original",
        "sales_invoice_updated",
    ]
    found = _ok(http.get("/sales_invoices/find_by_reference/1001-C1.json"))
    assert found["id"] == credit["id"]
    # The original keeps its own reference; it is what "1001" finds.
    assert _ok(http.get("/sales_invoices/find_by_reference/1001.json"))["id"] == original["id"]


def test_settling_a_credit_books_its_total_on_both_invoices(http: httpx.Client) -> None:
    original = _original(http)
    credit = _partial_credit(http, original)

    settled = _ok(
        http.patch(f"/sales_invoices/{credit['id']}/register_payment_creditinvoice.json", json={})
    )
    after = _ok(http.get(f"/sales_invoices/{original['id']}.json"))

    assert settled["state"] == "paid"
    assert settled["total_unpaid"] == "0.0"
    assert [(p["price"], p["ledger_account_id"]) for p in settled["payments"]] == [
        ("-10.0", mb.LEDGER_SETTLEMENTS)
    ]
    assert settled["payments"][0]["payment_date"] == "2026-03-02"  # today, on the fake clock
    assert [
        (p["price"], p["ledger_account_id"], p["credit_invoice_id"]) for p in after["payments"]
    ] == [("10.0", mb.LEDGER_SETTLEMENTS, credit["id"])]
    assert after["state"] == "open"  # 25.00 less 10.00 credited: 15.00 still to pay
    assert after["total_unpaid"] == "15.0"


def test_settling_needs_both_invoices_to_take_a_payment(http: httpx.Client) -> None:
    original = _original(http)
    payment = {"payment": {"payment_date": "2026-03-02", "price": "25.00"}}
    _ok(http.post(f"/sales_invoices/{original['id']}/payments.json", json=payment), 201)
    credit = _partial_credit(http, original)
    draft = _ok(
        http.patch(f"/sales_invoices/{original['id']}/duplicate_creditinvoice.json", json={})
    )

    paid_original = http.patch(
        f"/sales_invoices/{credit['id']}/register_payment_creditinvoice.json", json={}
    )
    still_draft = http.patch(
        f"/sales_invoices/{draft['id']}/register_payment_creditinvoice.json", json={}
    )
    not_a_credit = http.patch(
        f"/sales_invoices/{original['id']}/register_payment_creditinvoice.json", json={}
    )

    for refused in (paid_original, still_draft, not_a_credit):
        assert refused.status_code == 400, refused.text  # the spec's answer for this operation
        assert set(refused.json()) == {"error", "symbolic"}
    assert paid_original.json()["symbolic"] == {"state": "does_not_accept_payments"}
    assert "paid" in paid_original.json()["error"]
    assert _ok(http.get(f"/sales_invoices/{credit['id']}.json"))["payments"] == []


def test_a_refund_on_a_credit_invoice_is_a_negative_payment(http: httpx.Client) -> None:
    original = _original(http)
    paid = {"payment": {"payment_date": "2026-03-02", "price": "25.00"}}
    _ok(http.post(f"/sales_invoices/{original['id']}/payments.json", json=paid), 201)
    credit = _partial_credit(http, original)

    half = {"payment": {"payment_date": "2026-03-03", "price": "-4.00"}}
    _ok(http.post(f"/sales_invoices/{credit['id']}/payments.json", json=half), 201)
    partly = _ok(http.get(f"/sales_invoices/{credit['id']}.json"))
    rest = {"payment": {"payment_date": "2026-03-04", "price": "-6.00"}}
    _ok(http.post(f"/sales_invoices/{credit['id']}/payments.json", json=rest), 201)
    refunded = _ok(http.get(f"/sales_invoices/{credit['id']}.json"))

    assert (partly["state"], partly["total_unpaid"]) == ("open", "-6.0")
    assert (refunded["state"], refunded["total_unpaid"], refunded["paid_at"]) == (
        "paid", "0.0", "2026-03-04",
    )  # fmt: skip
    assert refunded["total_paid"] == "-10.0"


def test_a_patch_that_raises_a_paid_invoice_reopens_it(
    http: httpx.Client,
) -> None:
    original = _original(http)
    pay = {"payment": {"payment_date": "2026-03-02", "price": "25.00"}}
    _ok(http.post(f"/sales_invoices/{original['id']}/payments.json", json=pay), 201)
    more = {"sales_invoice": {"details_attributes": [{"description": "Extra", "price": "1.00"}]}}

    raised = _ok(http.patch(f"/sales_invoices/{original['id']}.json", json=more))

    assert (raised["state"], raised["total_unpaid"]) == ("open", "1.0")


def test_original_sales_invoice_id_is_not_accepted_on_create_or_update(
    http: httpx.Client, unchecked: httpx.Client
) -> None:
    original = _original(http)
    body = {
        "sales_invoice": {
            "contact_id": original["contact_id"],
            "original_sales_invoice_id": original["id"],
            "details_attributes": [{"description": "Mok", "price": "10.00", "amount": "-1"}],
        }
    }
    created = unchecked.post("/sales_invoices.json", json=body)
    updated = unchecked.patch(
        f"/sales_invoices/{original['id']}.json",
        json={"sales_invoice": {"original_sales_invoice_id": original["id"]}},
    )

    for refused in (created, updated):
        assert refused.status_code == 400
        assert refused.json()["symbolic"] == {"original_sales_invoice_id": "unknown"}
    # Negative lines alone are fine: an unlinked invoice with a negative total.
    del body["sales_invoice"]["original_sales_invoice_id"]
    negative = _ok(http.post("/sales_invoices.json", json=body), 201)
    assert negative["original_sales_invoice_id"] is None
    assert negative["total_price_incl_tax"] == "-12.1"


def test_an_external_sales_invoice_can_credit_with_negative_lines(http: httpx.Client) -> None:
    body = {
        "external_sales_invoice": {
            "reference": "1001-C1",
            "date": "2026-03-02",
            "prices_are_incl_tax": True,
            "details_attributes": [
                {"description": "Mok", "price": "-10.00", "amount": "1",
                 "tax_rate_id": mb.TAX_RATE_21},
                {"description": "Verzendkosten", "price": "4.95", "amount": "-1",
                 "tax_rate_id": mb.TAX_RATE_21},
            ],
        }
    }  # fmt: skip
    credit = _ok(http.post("/external_sales_invoices.json", json=body), 201)
    refund = {"payment": {"payment_date": "2026-03-03", "price": "-14.95"}}
    _ok(http.post(f"/external_sales_invoices/{credit['id']}/payments.json", json=refund), 201)
    refunded = _ok(http.get(f"/external_sales_invoices/{credit['id']}.json"))

    assert credit["total_price_incl_tax"] == "-14.95"
    assert credit["state"] == "open"
    assert (refunded["state"], refunded["total_unpaid"]) == ("paid", "0.0")


def _external(http: httpx.Client, reference: str, price: str, amount: str) -> dict[str, Any]:
    body = {
        "external_sales_invoice": {
            "reference": reference,
            "date": "2026-03-02",
            "prices_are_incl_tax": True,
            "details_attributes": [
                {"description": "Mok", "price": price, "amount": amount,
                 "tax_rate_id": mb.TAX_RATE_21},
            ],
        }
    }  # fmt: skip
    return _ok(http.post("/external_sales_invoices.json", json=body), 201)


def test_an_external_credit_is_set_off_against_its_original_by_an_invoices_settlement(
    http: httpx.Client,
) -> None:
    """The spec: ``invoices_settlement`` "needs invoice_id", the document settled against.
    Both get a payment on "Verrekeningen", the other way round, each naming the other."""
    original = _external(http, "1001", "10.00", "3")  # open: 30.00, never paid
    credit = _external(http, "1001-C1", "10.00", "-1")
    settle = {
        "payment": {"payment_date": "2026-03-03", "price": "-10.0",
                    "manual_payment_action": "invoices_settlement",
                    "invoice_id": original["id"]},
    }  # fmt: skip
    payment = _ok(
        http.post(f"/external_sales_invoices/{credit['id']}/payments.json", json=settle), 201
    )
    settled = _ok(http.get(f"/external_sales_invoices/{credit['id']}.json"))
    after = _ok(http.get(f"/external_sales_invoices/{original['id']}.json"))

    assert (settled["state"], settled["total_unpaid"]) == ("paid", "0.0")
    assert (after["state"], after["total_unpaid"]) == ("open", "20.0")
    (counter,) = after["payments"]
    assert (counter["price"], counter["linked_payment_id"]) == ("10.0", payment["id"])
    assert payment["linked_payment_id"] == counter["id"]
    assert payment["ledger_account_id"] == counter["ledger_account_id"] == mb.LEDGER_SETTLEMENTS


@pytest.mark.parametrize(
    ("invoice_id", "code"),
    [(None, "blank"), ("470000000000999999", "invalid"), ("self", "invalid")],
)
def test_an_invoices_settlement_needs_a_document_that_takes_the_payment(
    http: httpx.Client, invoice_id: str | None, code: str
) -> None:
    credit = _external(http, "1001-C1", "10.00", "-1")
    payment: dict[str, Any] = {
        "payment_date": "2026-03-03", "price": "-10.0",
        "manual_payment_action": "invoices_settlement",
    }  # fmt: skip
    if invoice_id is not None:
        payment["invoice_id"] = credit["id"] if invoice_id == "self" else invoice_id
    refused = http.post(
        f"/external_sales_invoices/{credit['id']}/payments.json", json={"payment": payment}
    )
    assert refused.status_code == 422, refused.text
    assert [e for e in refused.json()["details"]["invoice_id"]] == [{"error": code}]
    assert _ok(http.get(f"/external_sales_invoices/{credit['id']}.json"))["payments"] == []
