"""The sandbox follows Moneybird's spec where it used to deviate (issue 11).

Date filters in the spec's own ``YYYY-MM-DD HH:MM:SS UTC`` form, ``contacts/filter`` and
``external_sales_invoices/synchronization``, the ``delivery_method`` enum of a contact, routing
refusals (404/405) in Moneybird's ``{error, symbolic}`` shape, and the paid rule: payments that
cover the total make an invoice paid, also when they are more than the total.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from ccvbird.adapters.moneybird import MoneybirdClient
from ccvbird.sandbox.moneybird import IN_PROCESS_BASE_URL, MoneybirdSandbox, SandboxTransport
from ccvbird.sandbox.moneybird import constants as mb
from tests.integration.moneybird.conftest import FakeClock
from tests.integration.moneybird.drafts import customer, line, webshop_invoice
from tests.integration.moneybird.openapi import MoneybirdSpec, ValidatingTransport

D = Decimal
A = mb.ADMINISTRATION_ID
AUTH = {"Authorization": f"Bearer {mb.DEMO_TOKEN}"}


@pytest.fixture
def http(transport: ValidatingTransport) -> Iterator[httpx.Client]:
    """Spec-checked raw HTTP to the sandbox (request and response)."""
    with httpx.Client(
        transport=transport, base_url=f"{IN_PROCESS_BASE_URL}/{A}", headers=AUTH
    ) as client:
        yield client


@pytest.fixture
def unchecked(sandbox: MoneybirdSandbox) -> Iterator[httpx.Client]:
    """Raw HTTP past the referee: for requests the spec has no operation for."""
    with httpx.Client(
        transport=SandboxTransport(sandbox), base_url=IN_PROCESS_BASE_URL, headers=AUTH
    ) as client:
        yield client


def _contact(http: httpx.Client, **fields: Any) -> dict[str, Any]:
    response = http.post("/contacts.json", json={"contact": fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()]


# -- date filters ---------------------------------------------------------------------------


def test_updated_after_takes_the_spec_date_form_on_sales_invoices(
    client: MoneybirdClient, clock: FakeClock, http: httpx.Client
) -> None:
    contact = client.create_contact(customer())
    before = client.create_sales_invoice(webshop_invoice("OLD"), contact_id=contact.id)
    clock.advance(3600)  # 2026-03-02 11:00:00 UTC
    after = client.create_sales_invoice(webshop_invoice("NEW"), contact_id=contact.id)

    found = http.get(
        "/sales_invoices.json", params={"filter": "updated_after:2026-03-02 10:30:00 UTC"}
    )
    versions = http.get(
        "/sales_invoices/synchronization.json",
        params={"filter": "created_after:2026-03-02 10:30:00 UTC"},
    )

    assert _ids(found) == [after.id]
    assert _ids(versions) == [after.id]
    assert before.id not in _ids(found)


def test_iso_8601_proper_still_works_and_nonsense_is_refused(
    client: MoneybirdClient, http: httpx.Client
) -> None:
    contact = client.create_contact(customer())
    invoice = client.create_sales_invoice(webshop_invoice(), contact_id=contact.id)

    iso = http.get("/sales_invoices.json", params={"filter": "updated_after:2026-03-02T09:00:00Z"})
    bad = http.get("/sales_invoices.json", params={"filter": "updated_after:yesterday"})

    assert _ids(iso) == [invoice.id]
    assert bad.status_code == 400
    assert bad.json()["symbolic"] == {"filter": "invalid"}


# -- contacts/filter ------------------------------------------------------------------------


def test_contacts_filter_is_an_endpoint_not_a_contact_id(
    http: httpx.Client, clock: FakeClock
) -> None:
    piet = _contact(http, firstname="Piet", lastname="Bakker")
    shop = _contact(http, company_name="Foobar Holding B.V.", delivery_method="Post")
    clock.advance(60)
    late = _contact(http, firstname="Anna", lastname="Bakker", delivery_method="Manual")

    by_name = http.get("/contacts/filter.json", params={"filter": "first_name:PIET"})
    companies = http.get("/contacts/filter.json", params={"filter": "contact_type:company"})
    people = http.get("/contacts/filter.json", params={"filter": "contact_type:private_individual"})
    by_post = http.get("/contacts/filter.json", params={"filter": "delivery_method:post"})
    recent = http.get(
        "/contacts/filter.json", params={"filter": "created_after:2026-03-02 10:00:30 UTC"}
    )
    trusted = http.get("/contacts/filter.json", params={"filter": "trusted_type:trusted"})
    queried = http.get(
        "/contacts/filter.json", params={"filter": "last_name:bakker", "query": "anna"}
    )

    assert _ids(by_name) == [piet["id"]]
    assert _ids(companies) == [shop["id"]]
    assert _ids(people) == [piet["id"], late["id"]]
    assert _ids(by_post) == [shop["id"]]
    assert _ids(recent) == [late["id"]]
    assert _ids(trusted) == []
    assert _ids(queried) == [late["id"]]


def test_contacts_filter_refuses_a_value_outside_its_list(http: httpx.Client) -> None:
    refused = http.get("/contacts/filter.json", params={"filter": "contact_type:robot"})

    assert refused.status_code == 400
    assert refused.json()["symbolic"] == {"filter": "invalid"}


# -- external sales invoices synchronization ------------------------------------------------


def test_external_invoice_versions_and_fetch_by_ids(http: httpx.Client) -> None:
    body = {
        "external_sales_invoice": {
            "reference": "EXT-1",
            "details_attributes": [{"description": "Stoel", "price": "100.00"}],
        }
    }
    created = http.post("/external_sales_invoices.json", json=body).json()

    versions = http.get("/external_sales_invoices/synchronization.json")
    paid_only = http.get(
        "/external_sales_invoices/synchronization.json", params={"filter": "state:paid"}
    )
    fetched = http.post(
        "/external_sales_invoices/synchronization.json", json={"ids": [created["id"]]}
    )

    assert versions.json() == [{"id": created["id"], "version": created["version"]}]
    assert paid_only.json() == []
    assert fetched.status_code == 200
    assert [i["reference"] for i in fetched.json()] == ["EXT-1"]


# -- delivery_method ------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["Email", "Post", "Manual", "Simplerinvoicing", "Peppol"])
def test_every_delivery_method_of_the_enum_is_taken(http: httpx.Client, method: str) -> None:
    contact = _contact(http, company_name="X B.V.", delivery_method=method)

    assert contact["delivery_method"] == method


def test_a_delivery_method_outside_the_enum_is_refused(http: httpx.Client) -> None:
    refused = http.post(
        "/contacts.json", json={"contact": {"company_name": "X B.V.", "delivery_method": "Fax"}}
    )

    assert refused.status_code == 422
    assert refused.json()["details"] == {"delivery_method": [{"error": "inclusion"}]}


# -- routing refusals -----------------------------------------------------------------------


def _symbolic(spec: MoneybirdSpec, body: Any) -> None:
    assert set(body) == {"error", "symbolic"}, body
    assert not list(spec.validator("components", "schemas", "symbolic_error").iter_errors(body))


def test_an_unknown_path_is_a_moneybird_404(unchecked: httpx.Client, spec: MoneybirdSpec) -> None:
    response = unchecked.get(f"/{A}/contacts/by_email/x.json")

    assert response.status_code == 404
    _symbolic(spec, response.json())
    assert response.json()["symbolic"] == {"path": "not_found"}


def test_a_wrong_method_is_a_moneybird_405(unchecked: httpx.Client, spec: MoneybirdSpec) -> None:
    response = unchecked.put(f"/{A}/sales_invoices/1.json", json={})

    assert response.status_code == 405
    assert response.headers["allow"]
    _symbolic(spec, response.json())
    assert response.json()["symbolic"] == {"method": "not_allowed"}


# -- the paid rule --------------------------------------------------------------------------


def test_an_overpaid_invoice_is_paid_and_owes_nothing(
    client: MoneybirdClient, http: httpx.Client
) -> None:
    contact = client.create_contact(customer())
    draft = webshop_invoice("OVER", line("Koffiemolen", "1", "100.00", "21"))
    invoice = client.create_sales_invoice(draft, contact_id=contact.id)
    client.send_sales_invoice(invoice.id)

    client.create_payment(invoice.id, payment_date=date(2026, 3, 2), price=D("100.01"))
    paid = client.get_sales_invoice(invoice.id)
    raw = http.get(f"/sales_invoices/{invoice.id}.json").json()

    assert paid.state == "paid"
    assert paid.paid_at == date(2026, 3, 2)
    assert paid.total_paid == D("100.01")
    assert paid.total_unpaid == 0
    assert raw["total_unpaid"] == "0.0"
    assert raw["total_unpaid_base"] == "0.0"


def test_an_over_refunded_credit_invoice_is_paid(http: httpx.Client) -> None:
    contact = _contact(http, company_name="X B.V.")
    body = {
        "sales_invoice": {
            "contact_id": contact["id"],
            "details_attributes": [{"description": "Stoel", "price": "100.00"}],
        }
    }
    original = http.post("/sales_invoices.json", json=body).json()["id"]
    manual = {"sales_invoice_sending": {"delivery_method": "Manual"}}
    http.patch(f"/sales_invoices/{original}/send_invoice.json", json=manual)
    credit = http.patch(f"/sales_invoices/{original}/duplicate_creditinvoice.json", json={})
    credit_id = credit.json()["id"]
    http.patch(f"/sales_invoices/{credit_id}/send_invoice.json", json=manual)

    refund = {"payment": {"payment_date": "2026-03-02", "price": "-121.50"}}
    http.post(f"/sales_invoices/{credit_id}/payments.json", json=refund)
    settled = http.get(f"/sales_invoices/{credit_id}.json").json()

    assert settled["total_price_incl_tax"] == "-121.0"
    assert settled["state"] == "paid"
    assert settled["total_unpaid"] == "0.0"
