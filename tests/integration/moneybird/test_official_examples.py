"""The sandbox answers with the same keys and value types as Moneybird's official examples.

For every example in ``../shared/fixtures/moneybird/openapi-examples/`` that the sandbox covers,
the same kind of request is made to the sandbox and the two bodies are compared structurally:
the same keys at every level, the same JSON type for every value. ``null`` on either side
matches anything (a field is empty in one of the two worlds), ids may be integers in the
examples (their test administration is ``123``) and are strings in the sandbox, and
``data`` of an event is free-form.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from ccvbird.sandbox.moneybird import MoneybirdSandbox, SandboxConfig, SandboxTransport
from ccvbird.sandbox.moneybird import constants as mb
from tests.integration.moneybird.openapi import EXAMPLES, MoneybirdSpec, ValidatingTransport
from tests.shared import require

A = mb.ADMINISTRATION_ID


@dataclass
class World:
    """A sandbox with one contact, a draft, an open and a paid invoice, a credit and a hook."""

    http: httpx.Client  # spec-checked
    raw: httpx.Client  # unchecked: for requests the spec would (rightly) refuse to send
    sandbox: MoneybirdSandbox

    def post(self, path: str, body: Any) -> httpx.Response:
        return self.http.post(f"/{A}/{path}.json", json=body)

    def get(self, path: str, **params: str) -> httpx.Response:
        return self.http.get(f"/{A}/{path}.json", params=params)

    def patch(self, path: str, body: Any = None) -> httpx.Response:
        return self.http.patch(f"/{A}/{path}.json", json=body if body is not None else {})

    def contact(self) -> str:
        body = {
            "contact": {
                "company_name": "Foobar Holding B.V.",
                "address1": "Hoofdstraat 12",
                "zipcode": "1234AB",
                "city": "Amsterdam",
                "country": "NL",
                "customer_id": "1",
                "send_invoices_to_email": "info@example.com",
            }
        }
        return str(self.post("contacts", body).json()["id"])

    def create_invoice(self, reference: str = "30052", currency: str = "EUR") -> httpx.Response:
        details = [{"description": "Rocking Chair", "price": "129.95"}]
        body = {
            "sales_invoice": {
                "reference": reference,
                "contact_id": self.contact_id,
                "currency": currency,
                "details_attributes": details,
            }
        }
        return self.post("sales_invoices", body)

    def invoice(self, reference: str = "30052", currency: str = "EUR") -> str:
        return str(self.create_invoice(reference, currency).json()["id"])

    def send(self, invoice_id: str) -> httpx.Response:
        body = {"sales_invoice_sending": {"delivery_method": "Manual"}}
        return self.patch(f"sales_invoices/{invoice_id}/send_invoice", body)

    def pay(self, invoice_id: str, price: str = "157.24") -> httpx.Response:
        body = {"payment": {"payment_date": "2026-03-02", "price": price}}
        return self.post(f"sales_invoices/{invoice_id}/payments", body)

    @property
    def contact_id(self) -> str:
        if not hasattr(self, "_contact_id"):
            self._contact_id = self.contact()
        return self._contact_id

    def external_invoice(self) -> str:
        body = {
            "external_sales_invoice": {
                "contact_id": self.contact_id,
                "reference": "EXT-1",
                "details_attributes": [{"description": "Rocking Chair", "price": "129.95"}],
            }
        }
        return str(self.post("external_sales_invoices", body).json()["id"])

    def credit(self) -> str:
        original = self.invoice("Project X")
        self.send(original)
        return str(self.patch(f"sales_invoices/{original}/duplicate_creditinvoice").json()["id"])


Scenario = Callable[[World], httpx.Response]


def _settled_credit(w: World) -> httpx.Response:
    credit = w.credit()
    w.send(credit)
    return w.patch(f"sales_invoices/{credit}/register_payment_creditinvoice")


SCENARIOS: dict[str, Scenario] = {
    "get_administrations__200__ReturnAListOfAdministrationsThatUserHasAccessTo": lambda w: (
        w.http.get("/administrations.json")
    ),
    "post_contacts__201__CreateANewContact": lambda w: w.post(
        "contacts", {"contact": {"company_name": "Foobar Holding B.V.", "firstname": "Jan"}}
    ),
    "get_contacts__200__ReturnAListOfContacts": lambda w: (w.contact_id, w.get("contacts"))[1],
    "get_contacts_customer_id_customer_id__200__ReturnAContact": lambda w: (
        w.contact_id,
        w.get("contacts/customer_id/1"),
    )[1],
    "get_contacts_synchronization__200__ReturnAListOfIdSAndVersionIdS": lambda w: (
        w.contact_id,
        w.get("contacts/synchronization"),
    )[1],
    "post_contacts_synchronization__200__ReturnAListOfGivenIds": lambda w: w.post(
        "contacts/synchronization", {"ids": [w.contact_id]}
    ),
    "get_contacts_filter__200__AllowsFilteringByFirstname": lambda w: (
        w.post("contacts", {"contact": {"firstname": "Piet", "lastname": "foo"}}),
        w.get("contacts/filter", filter="first_name:piet"),
    )[1],
    "get_contacts_filter__200__ReturnsOnlyContactsUpdatedAfterGivenDatetime": lambda w: (
        w.contact_id,
        w.get("contacts/filter", filter="updated_after:2000-01-01 13:48:40 UTC"),
    )[1],
    "get_contacts_filter__200__ReturnsAllContactsCreatedAfterGivenDatetime": lambda w: (
        w.contact_id,
        w.get("contacts/filter", filter="created_after:2000-01-01 13:48:35 UTC"),
    )[1],
    "post_sales_invoices__201__CreateABasicSalesInvoice": lambda w: w.create_invoice(),
    "post_sales_invoices__201__CreateASalesInvoiceInAForeignCurrency": lambda w: w.create_invoice(
        currency="USD"
    ),
    "get_sales_invoices_id__200__ReturnsInvoiceByGivenId": lambda w: w.get(
        f"sales_invoices/{w.invoice()}"
    ),
    "get_sales_invoices__200__ReturnsAllInvoicesOfAnAdministration": lambda w: (
        w.invoice(),
        w.get("sales_invoices"),
    )[1],
    "get_sales_invoices_find_by_reference_reference__200__ReturnsInvoiceByGivenReference": lambda w: (  # noqa: E501
        (
            w.invoice("1337"),
            w.get("sales_invoices/find_by_reference/1337"),
        )[1]
    ),
    "patch_sales_invoices_id_send_invoice__200__SendsAnInvoice": lambda w: w.send(w.invoice()),
    "post_sales_invoices_sales_invoice_id_payments__201__CreateAPayment": lambda w: (
        lambda i: (w.send(i), w.pay(i))[1]
    )(w.invoice()),
    "patch_sales_invoices_id_duplicate_creditinvoice__200__CreatesACreditInvoiceForASalesInvoice": lambda w: (  # noqa: E501
        w.get(f"sales_invoices/{w.credit()}")
    ),
    "patch_sales_invoices_id_register_payment_creditinvoice__200__RegistersPaymentsForACreditInvoice": _settled_credit,  # noqa: E501
    "get_sales_invoices_synchronization__200__RetrievesTheIdSForSynchronization": lambda w: (
        w.invoice(),
        w.get("sales_invoices/synchronization"),
    )[1],
    "post_sales_invoices_synchronization__200__RetrievesSalesInvoicesGivenByIds": lambda w: w.post(
        "sales_invoices/synchronization", {"ids": [w.invoice()]}
    ),
    "get_tax_rates__200__ReturnsAllTaxRatesOfAnAdministration": lambda w: w.get("tax_rates"),
    "get_ledger_accounts__200__ReturnsAListOfLedgerAccounts": lambda w: w.get("ledger_accounts"),
    "get_workflows__200__ReturnsAllWorkflowsOfAnAdministration": lambda w: w.get("workflows"),
    "get_document_styles__200__ReturnsAllDocumentstylesOfAnAdministration": lambda w: w.get(
        "document_styles"
    ),
    "get_financial_accounts__200__ReturnsAllFinancialAccountsOfAnAdministration": lambda w: w.get(
        "financial_accounts"
    ),
    "get_identities_default__200__ReturnsTheDefaultIdentity": lambda w: w.get("identities/default"),
    "get_custom_fields__200__ReturnsAllCustomFieldsOfAnAdministration": lambda w: w.get(
        "custom_fields"
    ),
    "post_webhooks__201__CreatesAWebhook": lambda w: w.post(
        "webhooks", {"url": "http://www.mocky.io/v2/5185415ba171ea3a00704eed"}
    ),
    "get_webhooks__200__ReturnsAllWebhooksOfAnAdministration": lambda w: (
        w.post("webhooks", {"url": "http://example.com/create_webhook"}),
        w.get("webhooks"),
    )[1],
    # refusals: same error shapes
    "post_contacts__422__ReturnsAnErrorWhenRecordIsInvalid": lambda w: w.post(
        "contacts", {"contact": {"phone": "0612345678"}}
    ),
    "post_contacts__400__ReturnsAnErrorWhenFieldsAreNotProvided": lambda w: w.raw.post(
        f"/{A}/contacts.json", json={}
    ),
    "get_contacts__400__ReturnsAnErrorWhenTooManyContactsAreRequested": lambda w: w.get(
        "contacts", per_page="101"
    ),
    "post_contacts_synchronization__400__ReturnsA400StatusWhenIdsAreNotProvided": lambda w: (
        w.raw.post(f"/{A}/contacts/synchronization.json", json={})
    ),
    "get_sales_invoices_id__404__Returns404WhenInvoiceDoesNotExist": lambda w: w.get(
        "sales_invoices/1"
    ),
    "get_sales_invoices_find_by_reference_reference__404__Returns404WhenTheGivenReferenceDoesNotExist": lambda w: (  # noqa: E501
        w.get("sales_invoices/find_by_reference/1337")
    ),
    "get_sales_invoices_synchronization__400__ReturnsA400WhenTheFilterHasAnInvalidValue": lambda w: (  # noqa: E501
        w.get("sales_invoices/synchronization", filter="state:foo")
    ),
    "patch_sales_invoices_id_send_invoice__400__ReturnsErrorWhenSendingInvalidInvoiceWithoutDetails": lambda w: (  # noqa: E501
        w.send(
            str(
                w.post("sales_invoices", {"sales_invoice": {"contact_id": w.contact_id}}).json()[
                    "id"
                ]
            )
        )
    ),
    "post_webhooks__400__ReturnsAnErrorWhenEventsIsProvided": lambda w: w.raw.post(
        f"/{A}/webhooks.json", json={"url": "http://x", "events": ["x"]}
    ),
    "post_webhooks__400__ReturnsAnErrorWhenFieldsAreNotProvided": lambda w: w.raw.post(
        f"/{A}/webhooks.json", json={}
    ),
}


#: Examples the fixture folder does not hold, read from the spec itself:
#: (method, path template, status, example name) → scenario.
SPEC_SCENARIOS: dict[tuple[str, str, str, str], Scenario] = {
    (
        "get",
        "/{administration_id}/external_sales_invoices/synchronization{format}",
        "200",
        "RetrievesTheIdsForSynchronization",
    ): lambda w: (w.external_invoice(), w.get("external_sales_invoices/synchronization"))[1],
    (
        "get",
        "/{administration_id}/external_sales_invoices/synchronization{format}",
        "200",
        "RetrievesTheIdsForSynchronizationWithAFilter",
    ): lambda w: (
        w.external_invoice(),
        w.get("external_sales_invoices/synchronization", filter="state:open|new"),
    )[1],
    (
        "post",
        "/{administration_id}/external_sales_invoices/synchronization{format}",
        "200",
        "RetrievesSalesInvoicesGivenByIds",
    ): lambda w: w.post("external_sales_invoices/synchronization", {"ids": [w.external_invoice()]}),
}


def is_id_key(key: str) -> bool:
    return (key == "id" or key.endswith("_id")) and key != "draft_id"


def differences(ours: Any, theirs: Any, where: str = "", key: str = "") -> list[str]:
    if ours is None or theirs is None or key == "data":
        return []
    if isinstance(theirs, dict):
        if not isinstance(ours, dict):
            return [f"{where or '/'}: object expected, got {type(ours).__name__}"]
        found = []
        missing = sorted(set(theirs) - set(ours))
        extra = sorted(set(ours) - set(theirs))
        if missing:
            found.append(f"{where or '/'}: missing keys {missing}")
        if extra:
            found.append(f"{where or '/'}: extra keys {extra}")
        for k in set(theirs) & set(ours):
            found += differences(ours[k], theirs[k], f"{where}/{k}", k)
        return found
    if isinstance(theirs, list):
        if not isinstance(ours, list):
            return [f"{where}: list expected, got {type(ours).__name__}"]
        if ours and theirs:
            return differences(ours[0], theirs[0], f"{where}[0]", key)
        return []
    if is_id_key(key) and isinstance(theirs, int | str) and isinstance(ours, str):
        return []
    if type(ours) is not type(theirs):
        return [f"{where}: {type(theirs).__name__} expected, got {type(ours).__name__} {ours!r}"]
    return []


@pytest.fixture
def world(spec: MoneybirdSpec) -> World:
    sandbox = MoneybirdSandbox(SandboxConfig(), deliverer=lambda url, body, headers: (200, ""))
    auth = {"Authorization": f"Bearer {mb.DEMO_TOKEN}"}
    base = "http://moneybird.sandbox/api/v2"
    inner = SandboxTransport(sandbox)
    checked = httpx.Client(transport=ValidatingTransport(inner, spec), base_url=base, headers=auth)
    raw = httpx.Client(transport=inner, base_url=base, headers=auth)
    return World(checked, raw, sandbox)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_sandbox_answer_has_the_shape_of_the_official_example(name: str, world: World) -> None:
    path = require(EXAMPLES / f"{name}.json")
    expected_status = int(name.split("__")[1])
    example = json.loads(path.read_text(encoding="utf-8"))

    response = SCENARIOS[name](world)

    assert response.status_code == expected_status, response.text
    assert differences(response.json(), example) == []


def test_the_comparison_can_fail() -> None:
    assert differences({"id": "1", "price": 1}, {"id": 1, "price": "1.0"}) == [
        "/price: str expected, got int 1"
    ]
    assert differences({"a": 1}, {"b": 1}) == ["/: missing keys ['b']", "/: extra keys ['a']"]


@pytest.mark.parametrize("key", sorted(SPEC_SCENARIOS), ids=lambda k: f"{k[0]}-{k[1]}-{k[3]}")
def test_sandbox_answer_has_the_shape_of_the_spec_example(
    key: tuple[str, str, str, str], world: World, spec: MoneybirdSpec
) -> None:
    method, template, status, name = key
    media = spec.spec["paths"][template][method]["responses"][status]["content"]
    example = media["application/json"]["examples"][name]["value"]

    response = SPEC_SCENARIOS[key](world)

    assert response.status_code == int(status), response.text
    assert response.json(), "an empty answer compares with nothing"
    assert differences(response.json(), example) == []
