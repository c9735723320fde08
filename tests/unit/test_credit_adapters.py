"""The CCV and Moneybird adapters for credits, against answers shaped as the references show
them (``ccvshop-api.md`` §5.1; the OpenAPI spec's ``duplicate_creditinvoice`` example)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx

from ccvbird.adapters.ccvshop.shop import CcvShop
from ccvbird.adapters.moneybird.books import MoneybirdBooks
from ccvbird.adapters.moneybird.client import MoneybirdApi, MoneybirdClient
from ccvbird.adapters.moneybird.transport import MoneybirdTransport
from ccvbird.domain.credits import CcvCreditStatus
from ccvbird.domain.invoice import InvoiceDraft, InvoiceLine, LineKind
from ccvbird.domain.sync import RemoteInvoice
from ccvbird.domain.vat import TaxKey, VatTreatment
from ccvbird.ports import PaymentDraft
from tests.builders import make_order, row
from tests.unit.ccvshop.test_transport import client_answering

SHOP = "https://shop.test/api/rest/v1"


def ccv_answer(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path.endswith("/invoices/") or path.endswith("/invoices"):
        items = [
            {"id": 61, "type": "debit", "status": "1", "total_price": 45.95,
             "create_date": "2026-05-12T10:00:00Z", "order": {"href": f"{SHOP}/orders/123"}},
            {"id": 62, "type": "credit", "status": "3", "status_name": "Terugbetaald",
             "invoicenumber_full": "2026-C-7", "create_date": "2026-06-01T09:00:00Z",
             "total_price": -9.72, "total_shipping": 0, "total_discounts": -1.18,
             "paymethod_costs": 0, "extra_costs": 0, "currency": "EUR",
             "order": {"href": f"{SHOP}/orders/123"}},
        ]  # fmt: skip
        return httpx.Response(200, json={"items": items, "next": None})
    if path.endswith("/invoices/62/invoicerows"):
        rows = [
            {"id": 901, "invoice_id": 62, "product_name": "Boek", "count": -1, "price": 10.9,
             "tax": 9, "total_price": -10.9, "orderrow": {"href": f"{SHOP}/orderrows/555"}},
        ]  # fmt: skip
        return httpx.Response(200, json={"items": rows, "next": None})
    return httpx.Response(404, json={"status": 404, "code": "404.20", "developermessage": "?"})


def test_the_shop_reads_an_orders_credit_invoices_with_positive_amounts() -> None:
    client, seen, _ = client_answering(ccv_answer)
    order = make_order([row("Boek", 2, "21.80", 9)], paid="21.80")
    order = dataclasses.replace(order, order_id="123")
    (credit,) = CcvShop(client).credits(order)
    assert (credit.key, credit.number, credit.order_id) == ("ccv:62", "2026-C-7", "123")
    assert credit.status is CcvCreditStatus.REIMBURSED
    assert (credit.total, credit.discounts) == (Decimal("9.72"), Decimal("1.18"))
    (line,) = credit.rows
    assert (line.orderrow_id, line.count, line.total) == ("555", Decimal(1), Decimal("10.9"))
    assert seen[0].url.params["ordernumber_full"] == "1001"
    assert [r.url.path.rsplit("/", 2)[-2] for r in seen[1:]] == ["62"]  # rows of the credit only
    assert credit.invoiced == Decimal("45.95")  # what the debit invoices add up to


def test_the_shop_lists_the_orders_credited_in_a_period_in_one_listing() -> None:
    client, seen, _ = client_answering(ccv_answer)
    since = datetime(2026, 5, 1, tzinfo=UTC)
    assert CcvShop(client).credited_orders(created_from=since) == ["123"]
    (request,) = seen  # the debit invoice is listed too, and passed over; no rows are read
    assert request.url.path.endswith("/invoices")
    assert request.url.params["min_create_date"].startswith("2026-05-01")


def spec_credit_draft() -> dict[str, Any]:
    """The spec's ``CreatesACreditInvoiceForASalesInvoice`` answer, trimmed to what is read."""
    return {
        "id": "496081531911014382", "administration_id": 123, "contact_id": "496081531630000001",
        "state": "draft", "reference": "1001", "invoice_date": None, "currency": "EUR",
        "original_sales_invoice_id": "496081531726464990", "prices_are_incl_tax": False,
        "total_price_incl_tax": "-363.0", "total_price_excl_tax": "-300.0",
        "total_unpaid": "-363.0", "total_unpaid_base": "-363.0", "payments": [],
        "details": [
            {"id": "496081531914160111", "amount": None, "amount_decimal": "1.0",
             "price": "0.0", "description": "**Creditfactuur voor factuur 2026-0001**"},
            {"id": "496081531916257264", "amount": "-1 x", "amount_decimal": "-1.0",
             "price": "300.0", "description": "Project X"},
        ],
        "tax_totals": [],
    }  # fmt: skip


def books_answering(answers: dict[tuple[str, str], Any]) -> tuple[MoneybirdBooks, list[Any]]:
    seen: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        key = (request.method, request.url.path.split("/123/", 1)[1].removesuffix(".json"))
        body = json.loads(request.content) if request.content else None
        seen.append((*key, dict(request.url.params), body))
        return httpx.Response(200, json=answers[key])

    transport = MoneybirdTransport(httpx.Client(transport=httpx.MockTransport(handler)))
    client = MoneybirdClient(MoneybirdApi(transport, "https://moneybird.test/api/v2"), "123")
    return MoneybirdBooks(client), seen


def test_a_credit_is_duplicated_found_again_rewritten_and_set_off() -> None:
    draft = spec_credit_draft()
    other = {**draft, "id": "496081531911099999", "original_sales_invoice_id": "4960"}
    rewritten = {**draft, "reference": "1001-C1"}
    books, seen = books_answering(
        {
            ("PATCH", "sales_invoices/496081531726464990/duplicate_creditinvoice"): draft,
            ("GET", "sales_invoices"): [other, draft],
            ("PATCH", "sales_invoices/496081531911014382"): rewritten,
            ("PATCH", "sales_invoices/496081531911014382/register_payment_creditinvoice"): {
                **rewritten,
                "state": "paid",
            },
        }
    )
    made = books.duplicate_credit("496081531726464990")
    assert made.original_invoice_id == "496081531726464990"
    assert made.detail_ids == ("496081531914160111", "496081531916257264")
    found = books.find_credit_drafts("1001", "496081531726464990")
    assert [f.id for f in found] == ["496081531911014382"]
    assert seen[1][2]["filter"] == "state:draft,reference:1001"
    line = InvoiceLine(
        LineKind.PRODUCT, "Boek", Decimal(-1), Decimal("10.90"),
        TaxKey(VatTreatment.DOMESTIC, Decimal(9)), "rate9", "ledger",
    )  # fmt: skip
    credit = InvoiceDraft("1001-C1", date(2026, 6, 1), "EUR", True, (line,))
    assert books.rewrite_credit(made, credit).reference == "1001-C1"
    body = seen[2][3]["sales_invoice"]
    assert body["reference"] == "1001-C1" and body["invoice_date"] == "2026-06-01"
    assert body["details_attributes"] == [
        {"id": "496081531914160111", "_destroy": True},
        {"id": "496081531916257264", "_destroy": True},
        {"description": "Boek", "amount": "-1", "price": "10.90", "tax_rate_id": "rate9",
         "ledger_account_id": "ledger"},
    ]  # fmt: skip
    assert books.settle_credit(made.id).state == "paid"
    assert seen[3][:2] == (
        "PATCH",
        "sales_invoices/496081531911014382/register_payment_creditinvoice",
    )


def test_an_external_credit_is_settled_against_its_original_by_a_settlement_payment() -> None:
    books, seen = books_answering(
        {
            ("POST", "external_sales_invoices/4702/payments"): {
                "id": "4703", "price": "-27.25", "invoice_id": "4702",
                "manual_payment_action": "invoices_settlement",
            },
        }
    )  # fmt: skip
    credit = RemoteInvoice("4702", "1001-C1", "open", Decimal("-27.25"), Decimal("-27.25"))
    payment = PaymentDraft(
        payment_date=date(2026, 6, 2), amount=Decimal("-27.25"), financial_account_id=None,
        transaction_id="1001-C1", manual_payment_action="invoices_settlement",
        settles_invoice_id="4701",
    )  # fmt: skip
    assert books.register_payment(credit, payment, external=True) == "4703"
    ((_, _, _, body),) = seen
    assert body == {
        "payment": {
            "payment_date": "2026-06-02", "price": "-27.25", "transaction_identifier": "1001-C1",
            "manual_payment_action": "invoices_settlement", "invoice_id": "4701",
        }
    }  # fmt: skip
