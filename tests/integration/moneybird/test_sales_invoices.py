"""Sales invoices: draft → send (Manual) → paid, numbering, totals, lookups, credit invoices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ccvbird.adapters.moneybird import MoneybirdClient, MoneybirdRefusal
from ccvbird.adapters.moneybird.books import MoneybirdBooks
from ccvbird.domain.errors import NotFound
from ccvbird.domain.invoice import InvoiceDraft
from ccvbird.sandbox.moneybird import MoneybirdSandbox
from ccvbird.sandbox.moneybird import constants as mb
from tests.integration.moneybird.drafts import customer, line, webshop_invoice

D = Decimal


@pytest.fixture
def contact_id(client: MoneybirdClient) -> str:
    return client.create_contact(customer()).id


def test_a_created_invoice_is_a_draft_whose_totals_match_the_prediction(
    client: MoneybirdClient, contact_id: str
) -> None:
    draft = webshop_invoice()

    invoice = client.create_sales_invoice(draft, contact_id=contact_id)

    predicted = draft.totals()
    assert invoice.state == "draft"
    assert invoice.is_draft
    assert invoice.draft_id == 1
    assert invoice.invoice_number == ""
    assert invoice.total_price_incl_tax == predicted.incl_vat == D("145.85")
    assert invoice.total_price_excl_tax == predicted.excl_vat
    by_rate = {t.tax_rate_id: t.tax_amount for t in invoice.tax_totals}
    assert by_rate == {r.tax_rate_id: r.vat for r in predicted.rates}
    assert [d.quantity for d in invoice.details] == [D(2), D(1), D(1)]
    assert invoice.total_unpaid == D("145.85")


def test_prices_excl_vat_round_the_vat_once_per_rate(
    client: MoneybirdClient, contact_id: str
) -> None:
    lines = tuple(line(f"Artikel {n}", "1", "0.05", "21") for n in range(3))
    draft = InvoiceDraft("EXCL-1", date(2026, 3, 1), "EUR", False, lines)

    invoice = client.create_sales_invoice(draft, contact_id=contact_id)

    # 3 × 0.05 = 0.15 → 21% = 0.0315 → 0.03 (per line it would be 3 × 0.01 = 0.03 too, but
    # 0.105 per rate vs 3 × 0.0105 shows on the next case)
    assert invoice.tax_totals[0].tax_amount == D("0.03")
    assert invoice.total_price_incl_tax == D("0.18") == draft.totals().incl_vat


def test_sending_manually_opens_the_invoice_and_numbers_it(
    client: MoneybirdClient, contact_id: str
) -> None:
    first = client.create_sales_invoice(webshop_invoice("CCV-1"), contact_id=contact_id)
    second = client.create_sales_invoice(webshop_invoice("CCV-2"), contact_id=contact_id)

    sent_second = client.send_sales_invoice(second.id)
    sent_first = client.send_sales_invoice(first.id)
    again = client.send_sales_invoice(first.id)

    assert (sent_second.state, sent_second.invoice_number) == ("open", "2026-0001")
    assert (sent_first.state, sent_first.invoice_number) == ("open", "2026-0002")
    assert again.invoice_number == "2026-0002"
    assert again.state == "open"
    assert sent_first.draft_id is None
    assert sent_first.invoice_date == date(2026, 3, 1)


def test_a_draft_refuses_a_payment(client: MoneybirdClient, contact_id: str) -> None:
    invoice = client.create_sales_invoice(webshop_invoice(), contact_id=contact_id)

    with pytest.raises(MoneybirdRefusal) as refused:
        client.create_payment(invoice.id, payment_date=date(2026, 3, 1), price=D("145.85"))

    assert refused.value.status == 422
    assert client.get_sales_invoice(invoice.id).payments == []


def test_paying_the_total_makes_the_invoice_paid(client: MoneybirdClient, contact_id: str) -> None:
    invoice = client.create_sales_invoice(webshop_invoice(), contact_id=contact_id)
    client.send_sales_invoice(invoice.id)

    part = client.create_payment(invoice.id, payment_date=date(2026, 3, 2), price=D("100.00"))
    halfway = client.get_sales_invoice(invoice.id)
    rest = client.create_payment(
        invoice.id,
        payment_date=date(2026, 3, 3),
        price=halfway.total_unpaid,
        financial_account_id=mb.FINANCIAL_ACCOUNT_MOLLIE,
        transaction_identifier="tr_WDqYK6vllg",
        manual_payment_action="private_payment",
    )
    paid = client.get_sales_invoice(invoice.id)

    assert halfway.state == "open"
    assert halfway.total_unpaid == D("45.85")
    assert part.price == D("100.00")
    assert rest.price == D("45.85")
    assert rest.financial_account_id == mb.FINANCIAL_ACCOUNT_MOLLIE
    assert rest.transaction_identifier == "tr_WDqYK6vllg"
    assert paid.state == "paid"
    assert paid.is_paid
    assert paid.total_unpaid == 0
    assert paid.paid_at == date(2026, 3, 3)


def test_foreign_currency_payment_needs_price_base(
    client: MoneybirdClient, contact_id: str
) -> None:
    draft = InvoiceDraft(
        "USD-1", date(2026, 3, 1), "USD", False, (line("Rocking chair", "1", "159.99", "21"),)
    )
    invoice = client.create_sales_invoice(draft, contact_id=contact_id)
    client.send_sales_invoice(invoice.id)

    with pytest.raises(MoneybirdRefusal) as refused:
        client.create_payment(invoice.id, payment_date=date(2026, 3, 1), price=D("193.59"))
    client.create_payment(
        invoice.id,
        payment_date=date(2026, 3, 1),
        price=invoice.total_unpaid,
        price_base=invoice.total_unpaid_base,
    )

    assert "price_base" in refused.value.fields
    assert client.get_sales_invoice(invoice.id).state == "paid"


def test_find_by_reference_encodes_the_reference(client: MoneybirdClient, contact_id: str) -> None:
    reference = "CCV 2026/0042 #1?"
    invoice = client.create_sales_invoice(webshop_invoice(reference), contact_id=contact_id)

    found = client.find_sales_invoice_by_reference(reference)

    assert found is not None
    assert found.id == invoice.id
    assert found.reference == reference
    assert client.find_sales_invoice_by_reference("CCV 2026/0043") is None


def test_deleting_a_draft(client: MoneybirdClient, contact_id: str) -> None:
    invoice = client.create_sales_invoice(webshop_invoice(), contact_id=contact_id)

    assert client.delete_sales_invoice(invoice.id) is True
    assert client.delete_sales_invoice(invoice.id) is False
    with pytest.raises(NotFound):
        client.get_sales_invoice(invoice.id)


def test_a_purchase_or_inactive_tax_rate_is_refused(
    client: MoneybirdClient, contact_id: str
) -> None:
    for rate in (mb.TAX_RATE_PURCHASE_21, mb.TAX_RATE_INACTIVE_6):
        draft = webshop_invoice("BAD", line("x", "1", "1.00", rate_id=rate))
        with pytest.raises(MoneybirdRefusal) as refused:
            client.create_sales_invoice(draft, contact_id=contact_id)
        assert "details.0.tax_rate_id" in refused.value.fields
    assert client.find_sales_invoice_by_reference("BAD") is None


def test_credit_invoice_for_a_paid_invoice_settles_against_it(
    client: MoneybirdClient, contact_id: str
) -> None:
    original = client.create_sales_invoice(webshop_invoice(), contact_id=contact_id)
    client.send_sales_invoice(original.id)

    credit = client.duplicate_credit_invoice(original.id)
    sent = client.send_sales_invoice(credit.id)
    settled = client.settle_credit_invoice(credit.id)

    assert credit.state == "draft"
    assert credit.original_sales_invoice_id == original.id
    assert credit.total_price_incl_tax == D("-145.85")
    assert credit.details[0].description == "**Creditfactuur voor factuur 2026-0001**"
    assert [d.quantity for d in credit.details[1:]] == [D(-2), D(-1), D(-1)]
    assert sent.invoice_number == "2026-0002"
    assert settled.state == "paid"
    assert settled.total_unpaid == 0
    assert client.get_sales_invoice(original.id).state == "paid"


def test_sync_endpoints_return_versions_and_invoices(
    client: MoneybirdClient, contact_id: str
) -> None:
    ids = [
        client.create_sales_invoice(webshop_invoice(f"S-{n}"), contact_id=contact_id).id
        for n in range(3)
    ]
    before = client.sales_invoice_versions()
    client.send_sales_invoice(ids[1])
    after = client.sales_invoice_versions()

    changed = [i for i in ids if after[i] != before[i]]
    fetched = client.sales_invoices_by_ids(changed)

    assert changed == [ids[1]]
    assert [i.state for i in fetched] == ["open"]


def test_sandbox_requests_are_all_checked(
    client: MoneybirdClient, contact_id: str, sandbox: MoneybirdSandbox
) -> None:
    invoice = client.create_sales_invoice(webshop_invoice(), contact_id=contact_id)
    client.send_sales_invoice(invoice.id)
    assert [r[2] for r in sandbox.api_requests()] == [201, 201, 200]


def test_invoices_with_references_finds_many_in_one_request(
    client: MoneybirdClient, contact_id: str, sandbox: MoneybirdSandbox
) -> None:
    made = {
        reference: client.create_sales_invoice(webshop_invoice(reference), contact_id=contact_id)
        for reference in ("1001", "1002", "1003")
    }
    client.send_sales_invoice(made["1002"].id)  # states do not matter: every one is found
    before = len(sandbox.api_requests())
    books = MoneybirdBooks(client)

    found = books.invoices_with_references(
        ["1001", "1002", "4444"], external=False, period=(date(2026, 1, 1), date(2026, 12, 31))
    )

    assert {ref: invoice.id for ref, invoice in found.items()} == {
        "1001": made["1001"].id,
        "1002": made["1002"].id,
    }
    assert found["1002"].invoice_number
    assert len(sandbox.api_requests()) - before == 1


def test_invoices_with_references_outside_the_period_are_not_found(
    client: MoneybirdClient, contact_id: str
) -> None:
    client.create_sales_invoice(webshop_invoice("2001"), contact_id=contact_id)  # dated 2026
    found = MoneybirdBooks(client).invoices_with_references(
        ["2001"], external=False, period=(date(2024, 1, 1), date(2024, 12, 31))
    )
    assert found == {}


def test_a_reference_a_filter_cannot_carry_is_looked_up_on_its_own(
    client: MoneybirdClient, contact_id: str
) -> None:
    odd = "A|B,C"
    invoice = client.create_sales_invoice(webshop_invoice(odd), contact_id=contact_id)
    found = MoneybirdBooks(client).invoices_with_references(
        [odd, "1001"], external=False, period=(date(2026, 1, 1), date(2026, 12, 31))
    )
    assert {ref: i.id for ref, i in found.items()} == {odd: invoice.id}
    with pytest.raises(ValueError, match="cannot be filtered"):
        client.sales_invoices_with_references([odd], period="20260101..20261231")


def test_long_lists_of_references_are_split_over_requests_of_sensible_length(
    client: MoneybirdClient, contact_id: str, sandbox: MoneybirdSandbox
) -> None:
    made = client.create_sales_invoice(webshop_invoice("WEB-0000250"), contact_id=contact_id)
    books = MoneybirdBooks(client)
    period = (date(2026, 1, 1), date(2026, 12, 31))

    def requests_for(references: list[str]) -> tuple[int, dict[str, str]]:
        before = len(sandbox.api_requests())
        found = books.invoices_with_references(references, external=False, period=period)
        return len(sandbox.api_requests()) - before, {r: i.id for r, i in found.items()}

    short = [f"WEB-{n:07d}" for n in range(1, 301)]  # 300 of 11 characters: 100 a request
    assert requests_for(short) == (3, {"WEB-0000250": made.id})
    long = [f"WEB-{n:07d}-{'x' * 19}" for n in range(1, 301)]  # 31 characters: 48 a request
    assert requests_for(long)[0] == 7
