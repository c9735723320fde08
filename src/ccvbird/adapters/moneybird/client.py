"""The Moneybird REST API v2 calls ccvbird makes, one method each, typed in and out.

Every call goes through :class:`MoneybirdTransport` (budget, retries, error tree). The rule for
retries is the engine's promise: reads, sends and deletes may be repeated; **creates never are**
(contacts, invoices, payments, credit invoices, webhooks). When a create's outcome is unknown
(timeout, 5xx, lost answer) the caller gets the error and looks the object up —
:meth:`MoneybirdClient.find_sales_invoice_by_reference`, :meth:`find_contacts_by_email` — before
trying again.

Settings lists (tax rates, ledger accounts, workflows, document styles, financial accounts,
identities, custom fields) hardly ever change and cost a request each, so they are cached per
administration until :meth:`MoneybirdClient.refresh_settings`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from ccvbird.adapters.http.pacing import RequestBudget, WallClock
from ccvbird.adapters.http.tls import shared_tls
from ccvbird.adapters.http.transport import DEFAULT_TIMEOUT, RetryPolicy, Sleep
from ccvbird.adapters.moneybird import wire
from ccvbird.adapters.moneybird.auth import BearerToken
from ccvbird.adapters.moneybird.payload import contact_payload, sales_invoice_payload
from ccvbird.adapters.moneybird.transport import MoneybirdTransport, moneybird_budget
from ccvbird.domain.errors import ApiError, NotFound
from ccvbird.domain.invoice import ContactDraft, InvoiceDraft
from ccvbird.domain.money import format_amount

DEFAULT_BASE_URL = "https://moneybird.com/api/v2"
#: Moneybird's maximum page size, and the synchronization endpoint's maximum ids per call.
PAGE_SIZE = 100
SYNC_BATCH = 100

M = TypeVar("M", bound=BaseModel)


class MoneybirdApi:
    """JSON over the transport: paths under the base URL, bodies in, decoded bodies out."""

    def __init__(self, transport: MoneybirdTransport, base_url: str = DEFAULT_BASE_URL) -> None:
        self.transport = transport
        self.base_url = base_url.rstrip("/")
        self.settings_cache: dict[tuple[str, str], list[Any]] = {}
        self.cache_lock = threading.Lock()

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def close(self) -> None:
        """Close the HTTP connections (the client is not used afterwards), the OAuth token
        endpoint's included."""
        auth_close = getattr(self.transport.client.auth, "close", None)
        if auth_close is not None:
            auth_close()
        self.transport.client.close()

    def send(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
    ) -> httpx.Response:
        client = self.transport.client
        request = client.build_request(
            method,
            path if path.startswith("http") else self.url(path),
            json=json,
            params=params,
            files=files,
            headers={"Accept": "application/json"},
        )
        return self.transport.send(request, idempotent=idempotent)

    def call(self, method: str, path: str, *, idempotent: bool, **kwargs: Any) -> Any:
        response = self.send(method, path, idempotent=idempotent, **kwargs)
        if not response.content:
            return None
        return wire.loads(response.content)

    def get_all(self, path: str, params: Mapping[str, str] | None = None) -> list[Any]:
        """Every page of a list, following ``Link: <…>; rel="next"`` until it is absent."""
        query = {"per_page": str(PAGE_SIZE), **(params or {})}
        response = self.send("GET", path, idempotent=True, params=query)
        items = list(wire.loads(response.content))
        seen = {str(response.request.url)}
        while (nxt := response.links.get("next", {}).get("url")) and nxt not in seen:
            seen.add(nxt)
            response = self.send("GET", nxt, idempotent=True)
            items.extend(wire.loads(response.content))
        return items


def parse(model: type[M], data: Any) -> M:
    """Validate one Moneybird object; a malformed answer is an :class:`ApiError`, not a crash."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(f"Moneybird sent an unexpected {model.__name__}: {exc}") from None


def parse_list(model: type[M], data: Any) -> list[M]:
    if not isinstance(data, list):
        raise ApiError(f"Moneybird sent {type(data).__name__} where a list was expected")
    return [parse(model, item) for item in data]


class MoneybirdClient:
    """The calls ccvbird makes, for one administration."""

    def __init__(self, api: MoneybirdApi, administration_id: str) -> None:
        if not administration_id.isdigit():
            raise ValueError(f"administration_id must be digits, got {administration_id!r}")
        self.api = api
        self.administration_id = administration_id

    def close(self) -> None:
        self.api.close()

    def __enter__(self) -> MoneybirdClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def for_administration(self, administration_id: str) -> MoneybirdClient:
        """The same connection and budget, another administration."""
        return MoneybirdClient(self.api, administration_id)

    def _path(self, resource: str) -> str:
        return f"/{self.administration_id}/{resource}.json"

    # -- administrations --------------------------------------------------------------------

    def administrations(self) -> list[wire.Administration]:
        data = self.api.call("GET", "/administrations.json", idempotent=True)
        return parse_list(wire.Administration, data)

    # -- contacts ---------------------------------------------------------------------------

    def find_contacts_by_email(
        self, email: str, *, include_archived: bool = True
    ) -> list[wire.Contact]:
        """Contacts whose ``email`` or any ``send_invoices_to_email`` address is ``email``.

        Moneybird's ``query`` is a free-text search, so its hits are filtered to exact,
        case-insensitive matches. Archived contacts are included (``contact.archived`` says so)
        unless ``include_archived`` is false; active contacts come first.
        """
        wanted = email.strip()
        if not wanted:
            raise ValueError("find_contacts_by_email needs an e-mail address")
        params = {"query": wanted}
        if include_archived:
            params["include_archived"] = "true"
        found = parse_list(wire.Contact, self.api.get_all(self._path("contacts"), params))
        matches = [c for c in found if c.has_email(wanted)]
        return sorted(matches, key=lambda c: c.archived)

    def create_contact(
        self, contact: ContactDraft | Mapping[str, Any], *, customer_id: str | None = None
    ) -> wire.Contact:
        """Create a contact (never repeated on an uncertain outcome: look it up instead).

        A deterministic ``customer_id`` makes a duplicate create fail instead of duplicating.
        """
        if isinstance(contact, ContactDraft):
            body = contact_payload(contact)
        else:
            body = {"contact": dict(contact)}
        if customer_id is not None:
            body["contact"]["customer_id"] = customer_id
        data = self.api.call("POST", self._path("contacts"), idempotent=False, json=body)
        return parse(wire.Contact, data)

    def get_contact(self, contact_id: str) -> wire.Contact:
        data = self.api.call("GET", self._path(f"contacts/{_id(contact_id)}"), idempotent=True)
        return parse(wire.Contact, data)

    def find_contact_by_customer_id(self, customer_id: str) -> wire.Contact | None:
        """The active contact with this ``customer_id``, or ``None`` (archived ones are hidden)."""
        path = self._path(f"contacts/customer_id/{quote(customer_id, safe='')}")
        try:
            data = self.api.call("GET", path, idempotent=True)
        except NotFound:
            return None
        return parse(wire.Contact, data)

    def contact_versions(self, *, include_archived: bool = True) -> dict[str, int]:
        """id → version of every contact (one request, no paging)."""
        params = {"include_archived": "true"} if include_archived else None
        data = self.api.call(
            "GET", self._path("contacts/synchronization"), idempotent=True, params=params
        )
        return {v.id: v.version for v in parse_list(wire.SyncVersion, data)}

    def contacts_by_ids(self, ids: Iterable[str]) -> list[wire.Contact]:
        """Full contacts for ``ids``, 100 per request (the endpoint's maximum)."""
        return self._sync_fetch("contacts/synchronization", ids, wire.Contact)

    def _sync_fetch(self, resource: str, ids: Iterable[str], model: type[M]) -> list[M]:
        wanted = [_id(i) for i in ids]
        result: list[M] = []
        for start in range(0, len(wanted), SYNC_BATCH):
            batch = wanted[start : start + SYNC_BATCH]
            data = self.api.call("POST", self._path(resource), idempotent=True, json={"ids": batch})
            result.extend(parse_list(model, data))
        return result

    # -- sales invoices ---------------------------------------------------------------------

    def create_sales_invoice(
        self, invoice: InvoiceDraft | Mapping[str, Any], *, contact_id: str | None = None
    ) -> wire.SalesInvoice:
        """Create a draft invoice. Never repeated here: after an uncertain outcome, call
        :meth:`find_sales_invoice_by_reference` before creating again."""
        if isinstance(invoice, InvoiceDraft):
            if contact_id is None:
                raise ValueError("create_sales_invoice needs the contact_id for a draft")
            body: Mapping[str, Any] = sales_invoice_payload(invoice, contact_id=contact_id)
        else:
            body = invoice
        data = self.api.call("POST", self._path("sales_invoices"), idempotent=False, json=body)
        return parse(wire.SalesInvoice, data)

    def get_sales_invoice(self, invoice_id: str) -> wire.SalesInvoice:
        path = self._path(f"sales_invoices/{_id(invoice_id)}")
        return parse(wire.SalesInvoice, self.api.call("GET", path, idempotent=True))

    def find_sales_invoice_by_reference(self, reference: str) -> wire.SalesInvoice | None:
        """The invoice with this ``reference`` (drafts included), or ``None``."""
        if not reference:
            raise ValueError("find_sales_invoice_by_reference needs a reference")
        path = self._path(f"sales_invoices/find_by_reference/{quote(reference, safe='')}")
        try:
            data = self.api.call("GET", path, idempotent=True)
        except NotFound:
            return None
        return parse(wire.SalesInvoice, data)

    def sales_invoices_with_references(
        self, references: Sequence[str], *, period: str
    ) -> list[wire.SalesInvoice]:
        """Sales invoices carrying any of ``references`` (``filter=reference:a|b|…``, every
        state) with an invoice date in ``period`` (``YYYYMMDD..YYYYMMDD``; Moneybird's default
        would be this year only). References containing ``|`` or ``,`` cannot be put in a
        filter: look those up one by one with :meth:`find_sales_invoice_by_reference`."""
        unusable = [r for r in references if not r or "|" in r or "," in r]
        if unusable:
            raise ValueError(f"these references cannot be filtered on: {unusable!r}")
        if not references:
            return []
        found = self.api.get_all(
            self._path("sales_invoices"),
            {"filter": f"reference:{'|'.join(references)},period:{period},state:all"},
        )
        return parse_list(wire.SalesInvoice, found)

    def send_sales_invoice(
        self, invoice_id: str, *, delivery_method: str = "Manual"
    ) -> wire.SalesInvoice:
        """Finalise a draft: it becomes ``open`` and gets its invoice number.

        ``Manual`` marks it sent without Moneybird e-mailing anyone (the shop already did).
        Safe to repeat: sending an open invoice again with ``Manual`` changes nothing.
        """
        path = self._path(f"sales_invoices/{_id(invoice_id)}/send_invoice")
        body = {"sales_invoice_sending": {"delivery_method": delivery_method}}
        return parse(wire.SalesInvoice, self.api.call("PATCH", path, idempotent=True, json=body))

    def create_payment(
        self,
        sales_invoice_id: str,
        *,
        payment_date: date,
        price: Decimal,
        price_base: Decimal | None = None,
        financial_account_id: str | None = None,
        transaction_identifier: str | None = None,
        manual_payment_action: str | None = None,
        ledger_account_id: str | None = None,
        invoice_id: str | None = None,
    ) -> wire.Payment:
        """Register a payment on an open invoice (never repeated: check ``payments`` first).

        ``price_base`` is required by Moneybird when the invoice is not in the administration's
        currency.
        """
        body = payment_payload(
            payment_date=payment_date,
            price=price,
            price_base=price_base,
            financial_account_id=financial_account_id,
            transaction_identifier=transaction_identifier,
            manual_payment_action=manual_payment_action,
            ledger_account_id=ledger_account_id,
            invoice_id=invoice_id,
        )
        return self._create_payment("sales_invoices", sales_invoice_id, body)

    def _create_payment(
        self, resource: str, invoice_id: str, body: Mapping[str, Any]
    ) -> wire.Payment:
        path = self._path(f"{resource}/{_id(invoice_id)}/payments")
        return parse(wire.Payment, self.api.call("POST", path, idempotent=False, json=body))

    def duplicate_credit_invoice(self, invoice_id: str) -> wire.SalesInvoice:
        """A new draft credit invoice for a sent invoice (send it, then settle it)."""
        path = self._path(f"sales_invoices/{_id(invoice_id)}/duplicate_creditinvoice")
        return parse(wire.SalesInvoice, self.api.call("PATCH", path, idempotent=False, json={}))

    def settle_credit_invoice(self, credit_invoice_id: str) -> wire.SalesInvoice:
        """``register_payment_creditinvoice``: book a sent credit invoice against its original."""
        path = self._path(f"sales_invoices/{_id(credit_invoice_id)}/register_payment_creditinvoice")
        return parse(wire.SalesInvoice, self.api.call("PATCH", path, idempotent=False, json={}))

    def update_sales_invoice(self, invoice_id: str, body: Mapping[str, Any]) -> wire.SalesInvoice:
        """``PATCH /sales_invoices/{id}``: a partial update (a draft's reference and lines)."""
        path = self._path(f"sales_invoices/{_id(invoice_id)}")
        return parse(wire.SalesInvoice, self.api.call("PATCH", path, idempotent=False, json=body))

    def draft_sales_invoices_with_reference(self, reference: str) -> list[wire.SalesInvoice]:
        """Drafts carrying ``reference`` (``filter=state:draft,reference:…``; drafts have no
        invoice date, so no period is given). A credit made by ``duplicate_creditinvoice`` keeps
        its original's reference until ccvbird rewrites it: how a lost duplicate is found."""
        if not reference or "|" in reference or "," in reference:
            raise ValueError(f"this reference cannot be filtered on: {reference!r}")
        found = self.api.get_all(
            self._path("sales_invoices"), {"filter": f"state:draft,reference:{reference}"}
        )
        return parse_list(wire.SalesInvoice, found)

    def delete_sales_invoice(self, invoice_id: str) -> bool:
        """Delete an invoice (a draft); False when it was already gone."""
        path = self._path(f"sales_invoices/{_id(invoice_id)}")
        try:
            self.api.send("DELETE", path, idempotent=True)
        except NotFound:
            return False
        return True

    def sales_invoice_versions(self, filter: str | None = None) -> dict[str, int]:
        params = {"filter": filter} if filter else None
        data = self.api.call(
            "GET", self._path("sales_invoices/synchronization"), idempotent=True, params=params
        )
        return {v.id: v.version for v in parse_list(wire.SyncVersion, data)}

    def sales_invoices_by_ids(self, ids: Iterable[str]) -> list[wire.SalesInvoice]:
        return self._sync_fetch("sales_invoices/synchronization", ids, wire.SalesInvoice)

    # -- external sales invoices ------------------------------------------------------------

    def create_external_sales_invoice(
        self, invoice: InvoiceDraft | Mapping[str, Any], *, contact_id: str | None = None
    ) -> wire.ExternalSalesInvoice:
        """Book an invoice the shop issued itself (never repeated: look it up instead)."""
        if isinstance(invoice, InvoiceDraft):
            body: Mapping[str, Any] = external_invoice_payload(invoice, contact_id=contact_id)
        else:
            body = invoice
        data = self.api.call(
            "POST", self._path("external_sales_invoices"), idempotent=False, json=body
        )
        return parse(wire.ExternalSalesInvoice, data)

    def external_sales_invoices(
        self, *, contact_id: str | None = None, period: str | None = None
    ) -> list[wire.ExternalSalesInvoice]:
        """External sales invoices by contact and period (they have no find-by-reference: this
        is how an uncertain create is resolved). ``period``: ``YYYYMMDD..YYYYMMDD``; always
        pass one, or Moneybird applies its default ``this_year``."""
        parts = [f"contact_id:{_id(contact_id)}"] if contact_id else []
        if period:
            parts.append(f"period:{period}")
        params = {"filter": ",".join(parts)} if parts else None
        found = self.api.get_all(self._path("external_sales_invoices"), params)
        return parse_list(wire.ExternalSalesInvoice, found)

    def get_external_sales_invoice(self, invoice_id: str) -> wire.ExternalSalesInvoice:
        path = self._path(f"external_sales_invoices/{_id(invoice_id)}")
        return parse(wire.ExternalSalesInvoice, self.api.call("GET", path, idempotent=True))

    def create_external_payment(
        self,
        external_sales_invoice_id: str,
        *,
        payment_date: date,
        price: Decimal,
        price_base: Decimal | None = None,
        financial_account_id: str | None = None,
        transaction_identifier: str | None = None,
        manual_payment_action: str | None = None,
        invoice_id: str | None = None,
    ) -> wire.Payment:
        """A payment on an external sales invoice; ``manual_payment_action``
        ``invoices_settlement`` with ``invoice_id`` sets it off against that document."""
        body = payment_payload(
            payment_date=payment_date,
            price=price,
            price_base=price_base,
            financial_account_id=financial_account_id,
            transaction_identifier=transaction_identifier,
            manual_payment_action=manual_payment_action,
            invoice_id=invoice_id,
        )
        return self._create_payment("external_sales_invoices", external_sales_invoice_id, body)

    def add_external_attachment(
        self, invoice_id: str, *, filename: str, content: bytes, content_type: str
    ) -> None:
        """Attach a document (the shop's PDF invoice) to an external sales invoice."""
        path = self._path(f"external_sales_invoices/{_id(invoice_id)}/attachment")
        files = {"file": (filename, content, content_type)}
        self.api.send("POST", path, idempotent=False, files=files)

    # -- settings (cached per administration) -----------------------------------------------

    def _cached(self, kind: str, fetch: Any, model: type[M], refresh: bool) -> list[M]:
        key = (self.administration_id, kind)
        with self.api.cache_lock:
            cached = None if refresh else self.api.settings_cache.get(key)
        if cached is None:
            cached = parse_list(model, fetch())
            with self.api.cache_lock:
                self.api.settings_cache[key] = cached
        return list(cached)

    def refresh_settings(self) -> None:
        """Forget the cached settings of this administration (after the user changed them)."""
        with self.api.cache_lock:
            for key in [k for k in self.api.settings_cache if k[0] == self.administration_id]:
                del self.api.settings_cache[key]

    def tax_rates(self, *, refresh: bool = False) -> list[wire.TaxRate]:
        """All tax rates of every type; see :meth:`sales_tax_rates` for the usable ones."""
        return self._cached(
            "tax_rates",
            lambda: self.api.get_all(self._path("tax_rates")),
            wire.TaxRate,
            refresh,
        )

    def sales_tax_rates(self, *, refresh: bool = False) -> list[wire.TaxRate]:
        """The rates a sales invoice may use: ``tax_rate_type`` sales_invoice and not inactive."""
        return [r for r in self.tax_rates(refresh=refresh) if r.for_sales_invoices]

    def ledger_accounts(self, *, refresh: bool = False) -> list[wire.LedgerAccount]:
        return self._cached(
            "ledger_accounts", self._getter("ledger_accounts"), wire.LedgerAccount, refresh
        )

    def workflows(self, *, refresh: bool = False) -> list[wire.Workflow]:
        return self._cached("workflows", self._getter("workflows"), wire.Workflow, refresh)

    def document_styles(self, *, refresh: bool = False) -> list[wire.DocumentStyle]:
        return self._cached(
            "document_styles", self._getter("document_styles"), wire.DocumentStyle, refresh
        )

    def financial_accounts(self, *, refresh: bool = False) -> list[wire.FinancialAccount]:
        return self._cached(
            "financial_accounts", self._getter("financial_accounts"), wire.FinancialAccount, refresh
        )

    def identities(self, *, refresh: bool = False) -> list[wire.Identity]:
        """The default identity first, then the others (Moneybird lists those separately)."""

        def fetch() -> list[Any]:
            default = self.api.call("GET", self._path("identities/default"), idempotent=True)
            others = self.api.call("GET", self._path("identities"), idempotent=True)
            return [default, *others]

        return self._cached("identities", fetch, wire.Identity, refresh)

    def custom_fields(self, *, refresh: bool = False) -> list[wire.CustomField]:
        return self._cached(
            "custom_fields", self._getter("custom_fields"), wire.CustomField, refresh
        )

    def _getter(self, resource: str) -> Any:
        return lambda: self.api.call("GET", self._path(resource), idempotent=True)

    # -- webhooks ---------------------------------------------------------------------------

    def register_webhook(self, url: str, enabled_events: Sequence[str]) -> wire.Webhook:
        """Subscribe ``url``; keep the returned ``secret`` and ``token``, they are shown once."""
        body = {"url": url, "enabled_events": list(enabled_events)}
        data = self.api.call("POST", self._path("webhooks"), idempotent=False, json=body)
        return parse(wire.Webhook, data)

    def webhooks(self) -> list[wire.Webhook]:
        data = self.api.call("GET", self._path("webhooks"), idempotent=True)
        return parse_list(wire.Webhook, data)

    def delete_webhook(self, webhook_id: str) -> bool:
        try:
            self.api.send("DELETE", self._path(f"webhooks/{_id(webhook_id)}"), idempotent=True)
        except NotFound:
            return False
        return True


def payment_payload(
    *,
    payment_date: date,
    price: Decimal,
    price_base: Decimal | None = None,
    financial_account_id: str | None = None,
    transaction_identifier: str | None = None,
    manual_payment_action: str | None = None,
    ledger_account_id: str | None = None,
    invoice_id: str | None = None,
) -> dict[str, Any]:
    """``{"payment": {...}}`` with amounts as decimal strings and empty fields left out."""
    payment: dict[str, Any] = {
        "payment_date": payment_date.isoformat(),
        "price": format_amount(price),
    }
    if price_base is not None:
        payment["price_base"] = format_amount(price_base)
    if financial_account_id:
        payment["financial_account_id"] = _id(financial_account_id)
    if transaction_identifier:
        payment["transaction_identifier"] = transaction_identifier
    if manual_payment_action:
        payment["manual_payment_action"] = manual_payment_action
    if ledger_account_id:
        payment["ledger_account_id"] = _id(ledger_account_id)
    if invoice_id:
        payment["invoice_id"] = _id(invoice_id)
    return {"payment": payment}


def external_invoice_payload(
    draft: InvoiceDraft, *, contact_id: str | None = None, source: str = "CCV Shop"
) -> dict[str, Any]:
    """The body of ``POST /external_sales_invoices`` for an invoice the shop issued."""
    sales = sales_invoice_payload(draft, contact_id=contact_id)["sales_invoice"]
    invoice: dict[str, Any] = {}
    if contact_id is not None:
        invoice["contact_id"] = contact_id
    invoice["reference"] = draft.reference
    invoice["date"] = draft.invoice_date.isoformat()
    invoice["currency"] = draft.currency
    invoice["prices_are_incl_tax"] = draft.prices_include_vat
    invoice["source"] = source
    invoice["details_attributes"] = sales["details_attributes"]
    return {"external_sales_invoice": invoice}


def _id(value: str) -> str:
    """Ids go into paths; refuse anything but digits so a path can never be bent."""
    text = str(value).strip()
    if not text.isdigit():
        raise ValueError(f"a Moneybird id must be digits, got {value!r}")
    return text


def connect(
    *,
    administration_id: str,
    token: str | None = None,
    auth: httpx.Auth | None = None,
    base_url: str = DEFAULT_BASE_URL,
    transport: httpx.BaseTransport | None = None,
    budget: RequestBudget | None = None,
    budget_key: str = "moneybird",
    retry: RetryPolicy | None = None,
    sleep: Sleep = time.sleep,
    clock: WallClock = time.time,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
) -> MoneybirdClient:
    """A ready client: personal ``token`` or an OAuth ``auth`` (:class:`OAuthRefresh`).

    ``budget`` defaults to Moneybird's 150 requests per 5 minutes on ``clock``; share one budget
    between clients that use the same token. ``transport`` is where tests plug in the sandbox.
    """
    if (token is None) == (auth is None):
        raise ValueError("connect needs exactly one of token= or auth=")
    http = httpx.Client(
        auth=BearerToken(token) if token is not None else auth,
        transport=transport,
        timeout=timeout,
        headers={"User-Agent": "ccvbird"},
        verify=shared_tls(),
    )
    moneybird = MoneybirdTransport(
        http,
        budget=budget or moneybird_budget(clock),
        budget_key=budget_key,
        retry=retry,
        sleep=sleep,
        clock=clock,
    )
    return MoneybirdClient(MoneybirdApi(moneybird, base_url), administration_id)
