"""The REST API routes (``/api/v2``): bearer tokens with scopes, paging, filters, JSON bodies.

Paths are declared without the ``.json`` suffix; :mod:`.app` strips it before routing, so
``/contacts.json`` and ``/contacts`` both work, as they do at Moneybird.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from ccvbird.sandbox.moneybird.books import CONTACT_FILTER_KEYS, Books, sync_filters
from ccvbird.sandbox.moneybird.problems import (
    MoneybirdProblem,
    bad_request,
    forbidden,
    not_found,
    unauthorized,
)
from ccvbird.sandbox.moneybird.render import Renderer
from ccvbird.sandbox.moneybird.state import Grant, MoneybirdSandbox
from ccvbird.sandbox.moneybird.values import refuse_unknown, wrapped

router = APIRouter(prefix="/api/v2")

CONTACT_SCOPES = ("estimates", "sales_invoices", "documents", "bank", "settings")
INVOICE_SCOPES = ("sales_invoices",)
SETTINGS_READ = ("settings", "sales_invoices", "documents", "estimates")
SETTINGS_READ_BANK = (*SETTINGS_READ, "bank")
STYLE_SCOPES = ("settings", "sales_invoices", "estimates")
SETTINGS_ONLY = ("settings",)
INVOICE_STATES = {
    "all", "draft", "open", "scheduled", "pending_payment", "late", "reminded", "paid",
    "uncollectible",
}  # fmt: skip
INVOICE_FILTER_KEYS = (
    "state", "period", "reference", "contact_id", "recurring_sales_invoice_id", "workflow_id",
    "created_after", "updated_after",
)  # fmt: skip

EXTERNAL_FILTER_KEYS = ("state", "period", "contact_id")


def sandbox_of(request: Request) -> MoneybirdSandbox:
    sandbox: MoneybirdSandbox = request.app.state.sandbox
    return sandbox


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def authorize(request: Request, scopes: tuple[str, ...] = ()) -> Grant:
    sandbox = sandbox_of(request)
    token = bearer(request)
    if token is None:
        raise unauthorized("No access token was given")
    grant = sandbox.grant_for(token)
    if grant is None:
        expired = sandbox.is_expired(token)
        raise unauthorized("The access token expired" if expired else "The access token is invalid")
    if scopes and not grant.scopes & set(scopes):
        names = list(scopes)
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        raise unauthorized(f"No access to {listed}")
    return grant


def books_for(request: Request, administration_id: str, scopes: tuple[str, ...]) -> Books:
    grant = authorize(request, scopes)
    sandbox = sandbox_of(request)
    if not sandbox.has_administration(administration_id):
        raise not_found("Administration not found", "administration_id")
    if administration_id not in grant.administration_ids:
        raise forbidden("No access to this administration")
    return sandbox.books(administration_id)


def render(request: Request, administration_id: str) -> Renderer:
    return sandbox_of(request).renderer(administration_id)


async def json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw, parse_float=Decimal)
    except ValueError:
        raise bad_request("The request body is not valid JSON", {"body": "invalid"}) from None


def ok(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


def page_of(
    request: Request, items: list[Any], default_per_page: int = 50
) -> tuple[list[Any], dict[str, str]]:
    """Moneybird paging: ``page`` from 1, ``per_page`` 1..100, ``Link`` rel next/prev."""
    query = request.query_params
    per_page_text = query.get("per_page", str(default_per_page))
    page_text = query.get("page", "1")
    if not per_page_text.isdigit() or not 1 <= int(per_page_text) <= 100:
        raise bad_request("per_page does not have a valid value")
    if not page_text.isdigit() or int(page_text) < 1:
        raise bad_request("page does not have a valid value")
    per_page, page = int(per_page_text), int(page_text)
    chunk = items[(page - 1) * per_page : page * per_page]
    links = []
    base = str(request.url.remove_query_params(["page"]))
    joiner = "&" if "?" in base else "?"
    if page * per_page < len(items):
        links.append(f'<{base}{joiner}{urlencode({"page": page + 1})}>; rel="next"')
    if page > 1:
        links.append(f'<{base}{joiner}{urlencode({"page": page - 1})}>; rel="prev"')
    return chunk, ({"Link": ", ".join(links)} if links else {})


# -- administrations ------------------------------------------------------------------------


@router.get("/administrations")
async def administrations(request: Request) -> Response:
    grant = authorize(request)
    sandbox = sandbox_of(request)
    return ok(
        [
            sandbox.renderer(admin_id).administration()
            for admin_id in sandbox.administration_ids
            if admin_id in grant.administration_ids
        ]
    )


# -- contacts -------------------------------------------------------------------------------


def _include_archived(request: Request) -> bool:
    return request.query_params.get("include_archived", "false").lower() in {"true", "1"}


@router.get("/{administration_id}/contacts")
async def list_contacts(request: Request, administration_id: str) -> Response:
    books = books_for(request, administration_id, CONTACT_SCOPES)
    found = books.search_contacts(
        request.query_params.get("query", ""), include_archived=_include_archived(request)
    )
    chunk, headers = page_of(request, found)
    r = render(request, administration_id)
    return ok([r.contact(c) for c in chunk], headers=headers)


@router.post("/{administration_id}/contacts")
async def create_contact(request: Request, administration_id: str) -> Response:
    books = books_for(request, administration_id, CONTACT_SCOPES)
    body = await json_body(request)
    contact = books.create_contact(wrapped(body, "contact", "Contact"))
    return ok(render(request, administration_id).contact(contact), 201)


@router.get("/{administration_id}/contacts/synchronization")
async def contact_versions(request: Request, administration_id: str) -> Response:
    books = books_for(request, administration_id, CONTACT_SCOPES)
    include = _include_archived(request)
    return ok(
        [
            {"id": c.id, "version": c.version}
            for c in books.contacts.values()
            if include or not c.archived
        ]
    )


@router.post("/{administration_id}/contacts/synchronization")
async def contacts_by_ids(request: Request, administration_id: str) -> Response:
    books = books_for(request, administration_id, CONTACT_SCOPES)
    found = books.by_ids(books.contacts, await json_body(request))
    r = render(request, administration_id)
    return ok([r.contact(c) for c in found])


@router.get("/{administration_id}/contacts/filter")
async def filter_contacts(request: Request, administration_id: str) -> Response:
    books = books_for(request, administration_id, CONTACT_SCOPES)
    filters = sync_filters(request.query_params.get("filter"), CONTACT_FILTER_KEYS)
    found = books.filter_contacts(
        filters,
        request.query_params.get("query", ""),
        include_archived=_include_archived(request),
    )
    chunk, headers = page_of(request, found)
    r = render(request, administration_id)
    return ok([r.contact(c) for c in chunk], headers=headers)


@router.get("/{administration_id}/contacts/customer_id/{customer_id}")
async def contact_by_customer_id(
    request: Request, administration_id: str, customer_id: str
) -> Response:
    books = books_for(request, administration_id, CONTACT_SCOPES)
    contact = books.contact_by_customer_id(customer_id)
    return ok(render(request, administration_id).contact(contact))


@router.get("/{administration_id}/contacts/{contact_id}")
async def get_contact(request: Request, administration_id: str, contact_id: str) -> Response:
    books = books_for(request, administration_id, CONTACT_SCOPES)
    return ok(render(request, administration_id).contact(books.contact(contact_id)))


@router.patch("/{administration_id}/contacts/{contact_id}/archive")
async def archive_contact(request: Request, administration_id: str, contact_id: str) -> Response:
    books = books_for(request, administration_id, CONTACT_SCOPES)
    books.archive_contact(contact_id)
    return Response(status_code=204)


# -- sales invoices -------------------------------------------------------------------------


def _invoice_filters(request: Request) -> dict[str, str]:
    filters = sync_filters(request.query_params.get("filter"), INVOICE_FILTER_KEYS)
    for state in filters.get("state", "all").split("|"):
        if state not in INVOICE_STATES:
            raise bad_request("Status is not included in the list", {"filter": "invalid"})
    return filters


@router.get("/{administration_id}/sales_invoices")
async def list_sales_invoices(request: Request, administration_id: str) -> Response:
    books = books_for(request, administration_id, INVOICE_SCOPES)
    found = books.list_sales_invoices(_invoice_filters(request))
    chunk, headers = page_of(request, found)
    r = render(request, administration_id)
    return ok([r.sales_invoice(i) for i in chunk], headers=headers)


@router.post("/{administration_id}/sales_invoices")
async def create_sales_invoice(request: Request, administration_id: str) -> Response:
    books = books_for(request, administration_id, INVOICE_SCOPES)
    body = await json_body(request)
    if isinstance(body, dict):
        refuse_unknown(body, frozenset({"sales_invoice", "from_payment_request"}), "request")
    invoice = books.create_sales_invoice(wrapped(body, "sales_invoice", "Sales invoice"))
    return ok(render(request, administration_id).sales_invoice(invoice), 201)


@router.get("/{administration_id}/sales_invoices/synchronization")
async def sales_invoice_versions(request: Request, administration_id: str) -> Response:
    books = books_for(request, administration_id, INVOICE_SCOPES)
    filters = _invoice_filters(request)
    found = books.list_sales_invoices(filters) if filters else books.sales_invoices.values()
    return ok([{"id": i.id, "version": i.version} for i in found])


@router.post("/{administration_id}/sales_invoices/synchronization")
async def sales_invoices_by_ids(request: Request, administration_id: str) -> Response:
    books = books_for(request, administration_id, INVOICE_SCOPES)
    found = books.by_ids(books.sales_invoices, await json_body(request))
    r = render(request, administration_id)
    return ok([r.sales_invoice(i) for i in found])


@router.get("/{administration_id}/sales_invoices/find_by_reference/{reference:path}")
async def find_by_reference(request: Request, administration_id: str, reference: str) -> Response:
    books = books_for(request, administration_id, INVOICE_SCOPES)
    return ok(render(request, administration_id).sales_invoice(books.find_by_reference(reference)))


@router.get("/{administration_id}/sales_invoices/{invoice_id}")
async def get_sales_invoice(request: Request, administration_id: str, invoice_id: str) -> Response:
    books = books_for(request, administration_id, INVOICE_SCOPES)
    return ok(render(request, administration_id).sales_invoice(books.sales_invoice(invoice_id)))


@router.patch("/{administration_id}/sales_invoices/{invoice_id}")
async def update_sales_invoice(
    request: Request, administration_id: str, invoice_id: str
) -> Response:
    books = books_for(request, administration_id, INVOICE_SCOPES)
    body = await json_body(request)
    if isinstance(body, dict):
        refuse_unknown(body, frozenset({"sales_invoice"}), "request")
    invoice = books.update_sales_invoice(
        invoice_id, wrapped(body, "sales_invoice", "Sales invoice")
    )
    return ok(render(request, administration_id).sales_invoice(invoice))


@router.delete("/{administration_id}/sales_invoices/{invoice_id}")
async def delete_sales_invoice(
    request: Request, administration_id: str, invoice_id: str
) -> Response:
    books = books_for(request, administration_id, INVOICE_SCOPES)
    books.delete_sales_invoice(invoice_id)
    return Response(status_code=204)


@router.patch("/{administration_id}/sales_invoices/{invoice_id}/send_invoice")
async def send_sales_invoice(request: Request, administration_id: str, invoice_id: str) -> Response:
    books = books_for(request, administration_id, INVOICE_SCOPES)
    body = await json_body(request)
    sending = body.get("sales_invoice_sending", {}) if isinstance(body, dict) else {}
    if not isinstance(sending, dict):
        raise bad_request("sales_invoice_sending is invalid", {"sales_invoice_sending": "invalid"})
    invoice = books.send_sales_invoice(invoice_id, sending)
    return ok(render(request, administration_id).sales_invoice(invoice))


@router.post("/{administration_id}/sales_invoices/{invoice_id}/payments")
async def create_payment(request: Request, administration_id: str, invoice_id: str) -> Response:
    books = books_for(request, administration_id, INVOICE_SCOPES)
    invoice = books.sales_invoice(invoice_id)
    payment = books.add_payment(invoice, wrapped(await json_body(request), "payment", "Payment"))
    return ok(render(request, administration_id).payment(payment), 201)


@router.patch("/{administration_id}/sales_invoices/{invoice_id}/duplicate_creditinvoice")
async def duplicate_credit_invoice(
    request: Request, administration_id: str, invoice_id: str
) -> Response:
    books = books_for(request, administration_id, INVOICE_SCOPES)
    credit = books.duplicate_credit_invoice(invoice_id)
    return ok(render(request, administration_id).sales_invoice(credit))


@router.patch("/{administration_id}/sales_invoices/{invoice_id}/register_payment_creditinvoice")
async def settle_credit_invoice(
    request: Request, administration_id: str, invoice_id: str
) -> Response:
    books = books_for(request, administration_id, INVOICE_SCOPES)
    note = books.settle_credit_invoice(invoice_id)
    return ok(render(request, administration_id).sales_invoice(note.credit))


# -- external sales invoices ----------------------------------------------------------------


@router.post("/{administration_id}/external_sales_invoices")
async def create_external_invoice(request: Request, administration_id: str) -> Response:
    books = books_for(request, administration_id, INVOICE_SCOPES)
    data = wrapped(await json_body(request), "external_sales_invoice", "External sales invoice")
    invoice = books.create_external_invoice(data)
    return ok(render(request, administration_id).external_invoice(invoice), 201)


@router.get("/{administration_id}/external_sales_invoices")
async def list_external_invoices(request: Request, administration_id: str) -> Response:
    books = books_for(request, administration_id, INVOICE_SCOPES)
    filters = sync_filters(request.query_params.get("filter"), EXTERNAL_FILTER_KEYS)
    chunk, headers = page_of(request, books.list_external_invoices(filters))
    r = render(request, administration_id)
    return ok([r.external_invoice(i) for i in chunk], headers=headers)


@router.get("/{administration_id}/external_sales_invoices/synchronization")
async def external_invoice_versions(request: Request, administration_id: str) -> Response:
    books = books_for(request, administration_id, INVOICE_SCOPES)
    filters = sync_filters(request.query_params.get("filter"), EXTERNAL_FILTER_KEYS)
    found = books.list_external_invoices(filters)
    return ok([{"id": i.id, "version": i.version} for i in found])


@router.post("/{administration_id}/external_sales_invoices/synchronization")
async def external_invoices_by_ids(request: Request, administration_id: str) -> Response:
    books = books_for(request, administration_id, INVOICE_SCOPES)
    found = books.by_ids(books.external_invoices, await json_body(request))
    r = render(request, administration_id)
    return ok([r.external_invoice(i) for i in found])


@router.get("/{administration_id}/external_sales_invoices/{invoice_id}")
async def get_external_invoice(
    request: Request, administration_id: str, invoice_id: str
) -> Response:
    books = books_for(request, administration_id, INVOICE_SCOPES)
    invoice = books.external_invoice(invoice_id)
    return ok(render(request, administration_id).external_invoice(invoice))


@router.post("/{administration_id}/external_sales_invoices/{invoice_id}/payments")
async def create_external_payment(
    request: Request, administration_id: str, invoice_id: str
) -> Response:
    books = books_for(request, administration_id, INVOICE_SCOPES)
    invoice = books.external_invoice(invoice_id)
    payment = books.add_payment(invoice, wrapped(await json_body(request), "payment", "Payment"))
    return ok(render(request, administration_id).payment(payment), 201)


@router.post("/{administration_id}/external_sales_invoices/{invoice_id}/attachment")
async def attach_to_external_invoice(
    request: Request, administration_id: str, invoice_id: str
) -> Response:
    books = books_for(request, administration_id, INVOICE_SCOPES)
    invoice = books.external_invoice(invoice_id)
    async with request.form() as form:
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise bad_request("File is required", {"file": "required"})
        content = await upload.read()
        books.attach(
            invoice,
            upload.filename or "attachment",
            upload.content_type or "application/octet-stream",
            content,
        )
    # The spec's "status_code" response: the status as a JSON integer.
    return ok(200)


# -- settings -------------------------------------------------------------------------------


_TAX_RATE_FILTERS = (
    "name", "partial_name", "percentage", "tax_rate_type", "country", "show_tax", "active",
    "created_after", "updated_after",
)  # fmt: skip


@router.get("/{administration_id}/tax_rates")
async def tax_rates(request: Request, administration_id: str) -> Response:
    books_for(request, administration_id, SETTINGS_READ)
    rates = render(request, administration_id).tax_rates()
    filters = sync_filters(request.query_params.get("filter"), _TAX_RATE_FILTERS)
    rates = [r for r in rates if _tax_rate_matches(r, filters)]
    chunk, headers = page_of(request, rates)
    return ok(chunk, headers=headers)


def _tax_rate_matches(rate: dict[str, Any], filters: dict[str, str]) -> bool:
    for key, value in filters.items():
        if key == "name" and rate["name"] != value:
            return False
        if key == "partial_name" and value.lower() not in rate["name"].lower():
            return False
        if key == "percentage":
            pct = rate["percentage"]
            if pct is None or Decimal(pct) != Decimal(value):
                return False
        types = value.split("|")
        if key == "tax_rate_type" and value != "all" and rate["tax_rate_type"] not in types:
            return False
        if key == "country" and (rate["country"] or "").upper() != value.upper():
            return False
        if key in {"show_tax", "active"} and str(rate[key]).lower() != value.lower():
            return False
    return True


@router.get("/{administration_id}/ledger_accounts")
async def ledger_accounts(request: Request, administration_id: str) -> Response:
    books_for(request, administration_id, SETTINGS_READ)
    return ok(render(request, administration_id).ledger_accounts())


@router.get("/{administration_id}/workflows")
async def workflows(request: Request, administration_id: str) -> Response:
    books_for(request, administration_id, SETTINGS_READ_BANK)
    return ok(render(request, administration_id).workflows())


@router.get("/{administration_id}/document_styles")
async def document_styles(request: Request, administration_id: str) -> Response:
    books_for(request, administration_id, STYLE_SCOPES)
    return ok(render(request, administration_id).document_styles())


@router.get("/{administration_id}/financial_accounts")
async def financial_accounts(request: Request, administration_id: str) -> Response:
    books_for(request, administration_id, SETTINGS_ONLY)
    return ok(render(request, administration_id).financial_accounts())


@router.get("/{administration_id}/identities/default")
async def default_identity(request: Request, administration_id: str) -> Response:
    books_for(request, administration_id, SETTINGS_ONLY)
    return ok(render(request, administration_id).identity(0))


@router.get("/{administration_id}/identities")
async def identities(request: Request, administration_id: str) -> Response:
    books = books_for(request, administration_id, SETTINGS_ONLY)
    r = render(request, administration_id)
    # Only the non-default identities, as Moneybird lists them.
    return ok([r.identity(i) for i in range(1, len(books.setup.identities))])


@router.get("/{administration_id}/custom_fields")
async def custom_fields(request: Request, administration_id: str) -> Response:
    books_for(request, administration_id, SETTINGS_READ_BANK)
    return ok(render(request, administration_id).custom_fields())


# -- webhooks -------------------------------------------------------------------------------


@router.get("/{administration_id}/webhooks")
async def list_webhooks(request: Request, administration_id: str) -> Response:
    books = books_for(request, administration_id, SETTINGS_ONLY)
    r = render(request, administration_id)
    return ok([r.webhook(w) for w in books.webhooks.values()])


@router.post("/{administration_id}/webhooks")
async def create_webhook(request: Request, administration_id: str) -> Response:
    books = books_for(request, administration_id, SETTINGS_ONLY)
    webhook = books.create_webhook(await json_body(request))
    return ok(render(request, administration_id).webhook(webhook, with_secret=True), 201)


@router.delete("/{administration_id}/webhooks/{webhook_id}")
async def delete_webhook(request: Request, administration_id: str, webhook_id: str) -> Response:
    books = books_for(request, administration_id, SETTINGS_ONLY)
    books.delete_webhook(webhook_id)
    return Response(status_code=204)


def problem_response(problem: MoneybirdProblem) -> JSONResponse:
    return JSONResponse(problem.body, status_code=problem.status, headers=problem.headers)
