"""The sandbox's records: plain dataclasses holding exact values (Decimal money, str ids).

Rendering them as Moneybird JSON is :mod:`.render`'s job; the arithmetic is :mod:`.totals`'.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

#: ``date`` under another name, for classes with a field called ``date``.
Day = date


@dataclass
class TaxRate:
    id: str
    name: str
    percentage: Decimal | None
    tax_rate_type: str = "sales_invoice"
    show_tax: bool | None = True
    active: bool | None = True
    country: str | None = None
    created_at: float = 0.0

    @property
    def usable_on_sales_invoices(self) -> bool:
        return self.tax_rate_type == "sales_invoice" and self.active is not False


@dataclass
class LedgerAccount:
    id: str
    name: str
    account_type: str
    account_id: str
    rgs_code: str
    rgs_name: str
    allowed_document_types: tuple[str, ...]
    parent_id: str | None = None
    active: bool = True
    created_at: float = 0.0


@dataclass
class Workflow:
    id: str
    type: str
    name: str
    default: bool
    prices_are_incl_tax: bool
    currency: str = "EUR"
    language: str = "nl"
    active: bool = True
    due_interval: int = 14
    created_at: float = 0.0


@dataclass
class DocumentStyle:
    id: str
    name: str
    default: bool
    identity_id: str
    created_at: float = 0.0


@dataclass
class Identity:
    id: str
    company_name: str
    address1: str
    zipcode: str
    city: str
    country: str
    email: str
    phone: str
    bank_account_number: str
    chamber_of_commerce: str
    tax_number: str
    created_at: float = 0.0


@dataclass
class FinancialAccount:
    id: str
    type: str
    name: str
    identifier: str
    provider: str | None = None
    currency: str = "EUR"
    active: bool = True
    created_at: float = 0.0


@dataclass
class CustomField:
    id: str
    name: str
    source: str


@dataclass
class Event:
    action: str
    created_at: float
    data: dict[str, Any] = field(default_factory=dict)
    link_entity_id: str | None = None
    link_entity_type: str | None = None


@dataclass
class Contact:
    id: str
    customer_id: str
    fields: dict[str, str]
    created_at: float
    updated_at: float
    version: int
    archived: bool = False
    events: list[Event] = field(default_factory=list)

    def text(self, name: str) -> str:
        return self.fields.get(name, "")


@dataclass
class Detail:
    id: str
    description: str
    price: Decimal
    amount: Decimal
    tax_rate_id: str
    ledger_account_id: str
    row_order: int
    created_at: float
    updated_at: float
    #: Moneybird shows older and copied lines as "1 x"; lines created through the API have null.
    amount_label: str | None = None
    period: str | None = None
    product_id: str | None = None
    project_id: str | None = None

    @property
    def total(self) -> Decimal:
        """Quantity × unit price, in the invoice's price mode, unrounded."""
        return self.amount * self.price


@dataclass
class Payment:
    id: str
    invoice_type: str
    invoice_id: str
    price: Decimal
    price_base: Decimal
    payment_date: date
    created_at: float
    financial_account_id: str | None = None
    transaction_identifier: str | None = None
    manual_payment_action: str | None = None
    ledger_account_id: str | None = None
    financial_mutation_id: str | None = None
    credit_invoice_id: str | None = None
    #: The other payment of an ``invoices_settlement`` (on the document settled against).
    linked_payment_id: str | None = None


@dataclass
class Attachment:
    id: str
    attachable_id: str
    attachable_type: str
    filename: str
    content_type: str
    content: bytes
    created_at: float


@dataclass
class SalesInvoice:
    id: str
    contact_id: str
    workflow_id: str
    document_style_id: str
    identity_id: str
    draft_id: int | None
    reference: str | None
    currency: str
    prices_are_incl_tax: bool
    first_due_interval: int
    created_at: float
    updated_at: float
    version: int
    state: str = "draft"
    invoice_number: str | None = None
    invoice_date: date | None = None
    discount: Decimal = Decimal("0")
    language: str = "nl"
    payment_conditions: str | None = None
    original_sales_invoice_id: str | None = None
    paid_at: date | None = None
    sent_at: date | None = None
    payment_reference: str | None = None
    details: list[Detail] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    custom_fields: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ExternalSalesInvoice:
    id: str
    contact_id: str | None
    date: Day
    due_date: Day | None
    reference: str
    entry_number: int
    currency: str
    prices_are_incl_tax: bool
    created_at: float
    updated_at: float
    version: int
    source: str | None = None
    source_url: str | None = None
    state: str = "open"
    paid_at: Day | None = None
    details: list[Detail] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)


@dataclass
class Webhook:
    id: str
    url: str
    enabled_events: list[str]
    token: str
    #: Newest first; deliveries are signed with each, as Moneybird does while a secret rotates.
    secrets: list[str]
    last_http_status: int | None = None
    last_http_body: str | None = None
    deactivated_at: float | None = None
