"""Contacts: create, get, find by e-mail (exact, archived reported), sync endpoints."""

from __future__ import annotations

import pytest

from ccvbird.adapters.moneybird import ContactIndex, MoneybirdClient, MoneybirdRefusal
from ccvbird.sandbox.moneybird import MoneybirdSandbox, SandboxConfig
from tests.integration.moneybird.conftest import ClientFactory
from tests.integration.moneybird.drafts import customer
from tests.integration.moneybird.openapi import ValidatingTransport


def test_created_contact_comes_back_with_string_ids_and_its_address(
    client: MoneybirdClient,
) -> None:
    created = client.create_contact(customer(company_name="Jansen Koffie B.V."), customer_id="101")

    fetched = client.get_contact(created.id)

    assert fetched.id == created.id
    assert created.id.isdigit()
    assert len(created.id) == 18
    assert fetched.customer_id == "101"
    assert fetched.company_name == "Jansen Koffie B.V."
    assert fetched.send_invoices_to_email == "jan@voorbeeld.example"
    assert fetched.archived is False


def test_find_by_email_is_exact_and_case_insensitive(client: MoneybirdClient) -> None:
    wanted = client.create_contact(customer("Jan@Voorbeeld.example"))
    client.create_contact(customer("marijan@voorbeeld.example.org", lastname="Other"))

    found = client.find_contacts_by_email("jan@VOORBEELD.example")

    assert [c.id for c in found] == [wanted.id]


def test_find_by_email_matches_any_invoice_address(
    client: MoneybirdClient, sandbox: MoneybirdSandbox
) -> None:
    shared = client.create_contact(
        {
            "company_name": "Boekhouding B.V.",
            "send_invoices_to_email": "inkoop@boek.example, admin@boek.example",
        }
    )

    assert [c.id for c in client.find_contacts_by_email("admin@boek.example")] == [shared.id]


def test_archived_contacts_are_found_and_reported_as_archived(
    client: MoneybirdClient, sandbox: MoneybirdSandbox
) -> None:
    old = client.create_contact(customer("piet@voorbeeld.example", firstname="Piet"))
    sandbox.books().archive_contact(old.id)
    new = client.create_contact(customer("piet@voorbeeld.example", firstname="Piet"))

    found = client.find_contacts_by_email("piet@voorbeeld.example")
    active_only = client.find_contacts_by_email("piet@voorbeeld.example", include_archived=False)

    assert [(c.id, c.archived) for c in found] == [(new.id, False), (old.id, True)]
    assert [c.id for c in active_only] == [new.id]


def test_duplicate_customer_id_is_refused_naming_the_field(client: MoneybirdClient) -> None:
    client.create_contact(customer(), customer_id="CCV-42")

    with pytest.raises(MoneybirdRefusal) as refused:
        client.create_contact(customer("other@voorbeeld.example"), customer_id="CCV-42")

    assert refused.value.status == 422
    assert "customer_id" in refused.value.fields
    assert "customer_id has already been taken" in str(refused.value)


def test_contact_without_a_name_is_refused_with_readable_fields(client: MoneybirdClient) -> None:
    with pytest.raises(MoneybirdRefusal) as refused:
        client.create_contact({"send_invoices_to_email": "anon@voorbeeld.example"})

    assert set(refused.value.fields) == {"firstname", "lastname", "company_name"}
    assert "firstname is required" in str(refused.value)


def test_customer_id_lookup_hides_archived_contacts(
    client: MoneybirdClient, sandbox: MoneybirdSandbox
) -> None:
    contact = client.create_contact(customer(), customer_id="777")
    assert client.find_contact_by_customer_id("777") == client.get_contact(contact.id)

    sandbox.books().archive_contact(contact.id)

    assert client.find_contact_by_customer_id("777") is None
    assert client.find_contact_by_customer_id("778") is None


def test_search_results_beyond_one_page_are_all_read(
    client: MoneybirdClient, sandbox: MoneybirdSandbox, transport: ValidatingTransport
) -> None:
    books = sandbox.books()
    for n in range(130):
        books.create_contact(
            {"firstname": f"Klant {n}", "send_invoices_to_email": "team@shop.example"}
        )

    found = client.find_contacts_by_email("team@shop.example")

    assert len(found) == 130
    pages = [c for c in transport.checked if c[1].endswith("/contacts{format}")]
    assert len(pages) == 2


def test_contact_index_fetches_only_what_changed(
    client: MoneybirdClient, sandbox: MoneybirdSandbox, transport: ValidatingTransport
) -> None:
    books = sandbox.books()
    for n in range(250):
        books.create_contact({"firstname": f"K{n}", "send_invoices_to_email": f"k{n}@shop.example"})
    index = ContactIndex()

    assert index.refresh(client) == 250
    calls_for_first_refresh = len(transport.checked)
    books.archive_contact(next(iter(books.contacts)))
    fetched_again = index.refresh(client)

    assert calls_for_first_refresh == 1 + 3  # versions + 3 batches of at most 100
    assert fetched_again == 1
    assert index.find("K0@SHOP.example")[0].archived is True
    assert [c.firstname for c in index.find("k249@shop.example")] == ["K249"]


@pytest.fixture
def empty_strings_config() -> SandboxConfig:
    return SandboxConfig(blank="empty")


def test_empty_strings_and_nulls_read_the_same(
    make_client: ClientFactory, sandbox: MoneybirdSandbox
) -> None:
    client = make_client()
    created = client.create_contact({"company_name": "Leeg B.V."})
    sandbox.config.blank = "empty"

    as_empty = client.get_contact(created.id)

    assert created.firstname == as_empty.firstname == ""
    assert created.invoice_workflow_id is None
    assert as_empty.invoice_workflow_id is None
    assert created.model_dump() == as_empty.model_dump()
