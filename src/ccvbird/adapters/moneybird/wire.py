"""Tolerant models of what Moneybird sends back.

Moneybird's JSON has three traps, all handled here once:

* ids are 18-digit numbers beyond 2^53: always kept as ``str`` (an integer id is turned into its
  digits, never through a float);
* money comes as decimal strings (``"129.95"``): parsed to :class:`~decimal.Decimal`, and a
  JSON float is refused — bodies are decoded with :func:`loads` (``parse_float=Decimal``);
* unset text is ``""`` in some responses and ``null`` in others: both become ``""`` for text and
  ``None`` for ids, dates and amounts.

A detail's quantity is read from ``amount_decimal`` (``"1.0"``); ``amount`` (``"1 x"`` or null)
is display text and is never parsed. Unknown fields are ignored, so a new Moneybird field does
not break ccvbird.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator


def loads(data: bytes | str) -> Any:
    """Decode a Moneybird body; JSON numbers with a fraction become Decimal, never float."""
    return json.loads(data, parse_float=Decimal)


def _id(value: Any) -> Any:
    if isinstance(value, (bool, float)):
        raise ValueError("an id must be a string or an integer")
    if isinstance(value, int):
        return str(value)
    return value


def _optional_id(value: Any) -> Any:
    if value is None or value == "":
        return None
    return _id(value)


def _text(value: Any) -> Any:
    return "" if value is None else value


def _money(value: Any) -> Any:
    if isinstance(value, (bool, float)):
        raise ValueError("money must be a decimal string, not a float")
    if isinstance(value, str):
        try:
            return Decimal(value.strip().replace(",", "."))
        except InvalidOperation:
            raise ValueError(f"{value!r} is not an amount") from None
    return value


def _optional_money(value: Any) -> Any:
    if value is None or value == "":
        return None
    return _money(value)


def _optional(value: Any) -> Any:
    return None if value == "" else value


Id = Annotated[str, BeforeValidator(_id)]
OptionalId = Annotated[str | None, BeforeValidator(_optional_id)]
Text = Annotated[str, BeforeValidator(_text)]
Money = Annotated[Decimal, BeforeValidator(_money)]
OptionalMoney = Annotated[Decimal | None, BeforeValidator(_optional_money)]
OptionalDate = Annotated[date | None, BeforeValidator(_optional)]
OptionalDateTime = Annotated[datetime | None, BeforeValidator(_optional)]
OptionalBool = Annotated[bool | None, BeforeValidator(_optional)]


class WireModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Administration(WireModel):
    id: Id
    name: Text = ""
    language: Text = ""
    currency: Text = "EUR"
    country: Text = ""
    time_zone: Text = ""
    access: Text = ""
    suspended: bool = False
    period_locked_until: OptionalDate = None


class Contact(WireModel):
    id: Id
    administration_id: OptionalId = None
    company_name: Text = ""
    firstname: Text = ""
    lastname: Text = ""
    address1: Text = ""
    address2: Text = ""
    zipcode: Text = ""
    city: Text = ""
    country: Text = ""
    phone: Text = ""
    customer_id: Text = ""
    tax_number: Text = ""
    chamber_of_commerce: Text = ""
    email: Text = ""
    send_invoices_to_email: Text = ""
    send_estimates_to_email: Text = ""
    delivery_method: Text = ""
    invoice_workflow_id: OptionalId = None
    archived: bool = False
    version: int | None = None

    @property
    def emails(self) -> frozenset[str]:
        """Every address this contact receives invoices at, lower-cased."""
        found = {self.email.strip().lower()} if self.email.strip() else set()
        for part in self.send_invoices_to_email.replace(";", ",").split(","):
            if part.strip():
                found.add(part.strip().lower())
        return frozenset(found)

    def has_email(self, email: str) -> bool:
        """Exact, case-insensitive match on ``email`` or any ``send_invoices_to_email`` entry."""
        return email.strip().lower() in self.emails

    @property
    def display_name(self) -> str:
        return self.company_name or f"{self.firstname} {self.lastname}".strip()


class Detail(WireModel):
    id: OptionalId = None
    tax_rate_id: OptionalId = None
    ledger_account_id: OptionalId = None
    description: Text = ""
    price: Money = Decimal(0)
    quantity: Decimal = Decimal(1)
    total_price_excl_tax_with_discount: OptionalMoney = None
    period: Text = ""

    @model_validator(mode="before")
    @classmethod
    def _quantity_from_amount_decimal(cls, data: Any) -> Any:
        if isinstance(data, dict) and "quantity" not in data:
            raw = data.get("amount_decimal")
            if raw not in (None, ""):
                data = {**data, "quantity": _money(raw)}
        return data


class Payment(WireModel):
    id: Id
    invoice_type: Text = ""
    invoice_id: OptionalId = None
    financial_account_id: OptionalId = None
    transaction_identifier: Text = ""
    price: Money
    price_base: OptionalMoney = None
    payment_date: OptionalDate = None
    ledger_account_id: OptionalId = None
    manual_payment_action: Text = ""
    credit_invoice_id: OptionalId = None


class TaxTotal(WireModel):
    tax_rate_id: Id
    taxable_amount: Money
    tax_amount: Money
    taxable_amount_base: OptionalMoney = None
    tax_amount_base: OptionalMoney = None


class _InvoiceTotals(WireModel):
    state: Text = ""
    currency: Text = "EUR"
    prices_are_incl_tax: bool = False
    details: list[Detail] = Field(default_factory=list)
    payments: list[Payment] = Field(default_factory=list)
    tax_totals: list[TaxTotal] = Field(default_factory=list)
    total_paid: Money = Decimal(0)
    total_unpaid: Money = Decimal(0)
    total_unpaid_base: OptionalMoney = None
    total_price_excl_tax: Money = Decimal(0)
    total_price_excl_tax_base: OptionalMoney = None
    total_price_incl_tax: Money = Decimal(0)
    total_price_incl_tax_base: OptionalMoney = None
    version: int | None = None

    @property
    def is_paid(self) -> bool:
        return self.state == "paid"


class SalesInvoice(_InvoiceTotals):
    id: Id
    contact_id: OptionalId = None
    contact: Contact | None = None
    invoice_id: Text = ""
    """The invoice number (``2026-0001``); empty while the invoice is a draft."""
    draft_id: int | None = None
    reference: Text = ""
    invoice_date: OptionalDate = None
    due_date: OptionalDate = None
    workflow_id: OptionalId = None
    document_style_id: OptionalId = None
    original_sales_invoice_id: OptionalId = None
    paid_at: OptionalDate = None
    sent_at: OptionalDate = None
    total_discount: OptionalMoney = None
    url: Text = ""

    @property
    def is_draft(self) -> bool:
        return self.state == "draft"

    @property
    def invoice_number(self) -> str:
        return self.invoice_id


class ExternalSalesInvoice(_InvoiceTotals):
    id: Id
    contact_id: OptionalId = None
    reference: Text = ""
    date: OptionalDate = None
    due_date: OptionalDate = None
    entry_number: int | None = None
    source: Text = ""
    source_url: Text = ""
    paid_at: OptionalDate = None


class TaxRate(WireModel):
    id: Id
    name: Text = ""
    percentage: OptionalMoney = None
    tax_rate_type: Text = ""
    show_tax: OptionalBool = None
    active: OptionalBool = None
    country: Annotated[str | None, BeforeValidator(_optional)] = None

    @property
    def for_sales_invoices(self) -> bool:
        """Usable on a sales invoice: a sales rate that is not switched off (null counts as on)."""
        return self.tax_rate_type == "sales_invoice" and self.active is not False


class LedgerAccount(WireModel):
    id: Id
    name: Text = ""
    account_type: Text = ""
    account_id: Text = ""
    parent_id: OptionalId = None
    active: bool = True
    allowed_document_types: list[str] = Field(default_factory=list)


class Workflow(WireModel):
    id: Id
    type: Text = ""
    name: Text = ""
    default: bool = False
    currency: Text = ""
    language: Text = ""
    active: bool = True
    prices_are_incl_tax: bool = False


class DocumentStyle(WireModel):
    id: Id
    name: Text = ""
    default: bool = False
    identity_id: OptionalId = None


class Identity(WireModel):
    id: Id
    company_name: Text = ""
    address1: Text = ""
    zipcode: Text = ""
    city: Text = ""
    country: Text = ""
    email: Text = ""
    tax_number: Text = ""
    chamber_of_commerce: Text = ""
    bank_account_number: Text = ""


class FinancialAccount(WireModel):
    id: Id
    type: Text = ""
    name: Text = ""
    identifier: Text = ""
    currency: Text = ""
    provider: Text = ""
    active: bool = True


class CustomField(WireModel):
    id: OptionalId = None
    name: Text = ""
    source: Text = ""


class Webhook(WireModel):
    id: Id
    url: Text = ""
    enabled_events: list[str] = Field(default_factory=list)
    token: Text = ""
    secret: Text = ""
    """Only in the response to the create call; keep it, Moneybird never shows it again."""
    last_http_status: int | str | None = None
    last_http_body: Text = ""
    deactivated_at: OptionalDateTime = None


class SyncVersion(WireModel):
    id: Id
    version: int


class WebhookEvent(WireModel):
    """The body of a webhook push."""

    administration_id: Id
    webhook_id: Id
    webhook_token: Text = ""
    entity_type: Text = ""
    entity_id: OptionalId = None
    state: Annotated[str | None, BeforeValidator(_optional)] = None
    action: Text = ""
    entity: dict[str, Any] = Field(default_factory=dict)
