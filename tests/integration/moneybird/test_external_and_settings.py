"""External sales invoices, and the settings lists (cached per administration)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ccvbird.adapters.moneybird import MoneybirdClient, MoneybirdRefusal
from ccvbird.adapters.moneybird.books import MoneybirdBooks
from ccvbird.sandbox.moneybird import MoneybirdSandbox
from ccvbird.sandbox.moneybird import constants as mb
from tests.integration.moneybird.drafts import customer, webshop_invoice

D = Decimal


def test_external_invoice_is_paid_and_keeps_its_attachment(
    client: MoneybirdClient, sandbox: MoneybirdSandbox
) -> None:
    contact = client.create_contact(customer())
    invoice = client.create_external_sales_invoice(
        webshop_invoice("F2026-0042"), contact_id=contact.id
    )

    client.add_external_attachment(
        invoice.id,
        filename="F2026-0042.pdf",
        content=b"%PDF-1.4 ...",
        content_type="application/pdf",
    )
    payment = client.create_external_payment(
        invoice.id,
        payment_date=date(2026, 3, 1),
        price=invoice.total_unpaid,
        financial_account_id=mb.FINANCIAL_ACCOUNT_MOLLIE,
        manual_payment_action="private_payment",
    )
    after = client.get_external_sales_invoice(invoice.id)

    assert invoice.state == "open"
    assert invoice.reference == "F2026-0042"
    assert invoice.total_price_incl_tax == D("145.85")
    assert payment.invoice_type == "ExternalSalesInvoice"
    assert after.state == "paid"
    assert after.total_unpaid == 0
    stored = sandbox.books().external_invoices[invoice.id].attachments
    assert [(a.filename, a.content) for a in stored] == [("F2026-0042.pdf", b"%PDF-1.4 ...")]


def test_external_invoice_needs_a_reference(client: MoneybirdClient) -> None:
    with pytest.raises(MoneybirdRefusal) as refused:
        client.create_external_sales_invoice({"external_sales_invoice": {"reference": ""}})
    assert "reference" in refused.value.fields


def test_sales_tax_rates_leave_out_purchase_and_inactive_rates(client: MoneybirdClient) -> None:
    rates = {r.id: r for r in client.sales_tax_rates()}

    assert mb.TAX_RATE_PURCHASE_21 not in rates
    assert mb.TAX_RATE_INACTIVE_6 not in rates
    assert {mb.TAX_RATE_21, mb.TAX_RATE_9, mb.TAX_RATE_0, mb.TAX_RATE_NO_VAT} <= set(rates)
    assert rates[mb.TAX_RATE_21].percentage == D(21)
    assert rates[mb.TAX_RATE_21].country is None
    assert rates[mb.TAX_RATE_NO_VAT].percentage is None
    assert rates[mb.TAX_RATE_OSS_FR_5_5].percentage == D("5.5")
    assert rates[mb.TAX_RATE_OSS_DE_19].country == "DE"
    assert len(client.tax_rates()) == len(rates) + 2


def test_settings_are_cached_per_administration_until_refreshed(
    client: MoneybirdClient, sandbox: MoneybirdSandbox
) -> None:
    client.tax_rates()
    client.workflows()
    client.tax_rates()
    client.sales_tax_rates()
    cached_calls = len(sandbox.api_requests())

    client.refresh_settings()
    client.tax_rates()
    client.workflows(refresh=True)

    assert cached_calls == 2
    assert len(sandbox.api_requests()) == 4


def test_settings_lists_carry_the_sandbox_ids(client: MoneybirdClient) -> None:
    ledgers = {a.id: a for a in client.ledger_accounts()}
    workflows = {w.id: w for w in client.workflows()}
    styles = client.document_styles()
    accounts = {a.id: a for a in client.financial_accounts()}
    identities = client.identities()
    fields = client.custom_fields()
    (administration,) = client.administrations()

    assert ledgers[mb.LEDGER_REVENUE].name == "Omzet"
    revenue = [a for a in ledgers.values() if "sales_invoice" in a.allowed_document_types]
    assert len(revenue) == 6
    assert len(ledgers) > 6
    assert workflows[mb.WORKFLOW_WEBSHOP_PAID].prices_are_incl_tax is True
    assert workflows[mb.WORKFLOW_STANDARD].default is True
    assert workflows[mb.WORKFLOW_ESTIMATES].type == "EstimateWorkflow"
    assert [(s.id, s.default) for s in styles] == [(mb.DOCUMENT_STYLE_STANDARD, True)]
    assert accounts[mb.FINANCIAL_ACCOUNT_BANK].type == "BankAccount"
    assert accounts[mb.FINANCIAL_ACCOUNT_MOLLIE].name == "Mollie"
    assert accounts[mb.FINANCIAL_ACCOUNT_CASH].name == "Kas"
    assert identities[0].company_name == mb.ADMINISTRATION_NAME
    assert [f.id for f in fields] == [mb.CUSTOM_FIELD_ORDER_NUMBER]
    assert (administration.id, administration.currency, administration.time_zone) == (
        mb.ADMINISTRATION_ID,
        "EUR",
        "Europe/Amsterdam",
    )


def test_external_invoices_with_references_are_found_within_their_period(
    client: MoneybirdClient,
) -> None:
    contact = client.create_contact(customer())
    ours = client.create_external_sales_invoice(webshop_invoice("5001"), contact_id=contact.id)
    client.create_external_sales_invoice(webshop_invoice("5002"), contact_id=contact.id)
    books = MoneybirdBooks(client)

    found = books.invoices_with_references(
        ["5001", "5003"], external=True, period=(date(2026, 2, 20), date(2026, 3, 10))
    )
    elsewhere = books.invoices_with_references(
        ["5001"], external=True, period=(date(2026, 4, 1), date(2026, 4, 30))
    )

    assert {ref: i.id for ref, i in found.items()} == {"5001": ours.id}
    assert elsewhere == {}
