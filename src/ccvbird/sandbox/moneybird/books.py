"""One administration's records and the rules Moneybird applies when they change.

Contacts (search, archived, unique ``customer_id``), sales invoices (draft → open → paid with
numbering, drafts refuse payments), credit invoices, external sales invoices, payments and
webhook registrations. Handlers in :mod:`.api` parse HTTP and call these methods; refusals are
:class:`~.problems.MoneybirdProblem` in Moneybird's own shapes.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from ccvbird.sandbox.moneybird import values as v
from ccvbird.sandbox.moneybird.problems import (
    MoneybirdProblem,
    bad_request,
    invalid,
    invalid_field,
    not_found,
    plan_limit,
)
from ccvbird.sandbox.moneybird.records import (
    Attachment,
    Contact,
    Detail,
    Event,
    ExternalSalesInvoice,
    Payment,
    SalesInvoice,
    Webhook,
)
from ccvbird.sandbox.moneybird.seed import AdministrationSetup
from ccvbird.sandbox.moneybird.totals import InvoiceSums, cents, invoice_sums

Clock = Callable[[], float]
#: Called for every change a webhook may report: (action, entity_type, record).
EventSink = Callable[[str, str, object], None]

CONTACT_FIELDS = frozenset(
    {
        "company_name", "firstname", "lastname", "address1", "address2", "zipcode", "city",
        "country", "phone", "delivery_method", "customer_id", "tax_number",
        "chamber_of_commerce", "bank_account", "send_invoices_to_attention",
        "send_invoices_to_email", "send_estimates_to_attention", "send_estimates_to_email",
        "sepa_active", "sepa_iban", "sepa_iban_account_name", "sepa_bic", "sepa_mandate_id",
        "sepa_mandate_date", "sepa_sequence_type", "si_identifier_type", "si_identifier",
        "invoice_workflow_id", "estimate_workflow_id", "email_ubl", "direct_debit",
        "custom_fields_attributes", "contact_person",
    }
)  # fmt: skip
#: A contact's ``delivery_method`` enum (``POST contacts`` / ``PATCH contacts/{id}`` in the spec).
CONTACT_DELIVERY_METHODS = frozenset({"Email", "Post", "Manual", "Simplerinvoicing", "Peppol"})
#: Keys of ``GET contacts/filter`` (unknown keys are ignored, as elsewhere).
CONTACT_FILTER_KEYS = (
    "created_after", "updated_after", "first_name", "last_name", "estimate_workflow_id",
    "invoice_workflow_id", "contact_type", "delivery_method", "trusted_type",
)  # fmt: skip
#: Fields ``query`` searches (Moneybird's list in the contacts reference).
SEARCHED_FIELDS = (
    "company_name", "attention", "firstname", "lastname", "address1", "address2", "zipcode",
    "city", "country", "email", "phone", "customer_id", "tax_number", "chamber_of_commerce",
    "bank_account",
)  # fmt: skip
SALES_INVOICE_FIELDS = frozenset(
    {
        "contact_id", "contact_person_id", "original_estimate_id", "document_style_id",
        "workflow_id", "reference", "invoice_sequence_id", "invoice_date", "first_due_interval",
        "currency", "prices_are_incl_tax", "payment_conditions", "discount", "time_entry_ids",
        "details_attributes", "custom_fields_attributes",
    }
)  # fmt: skip
#: ``PATCH sales_invoices/{id}`` (``sales_invoice_update`` in the spec).
SALES_INVOICE_UPDATE_FIELDS = SALES_INVOICE_FIELDS | {
    "update_contact",
    "remove_invoice_sequence_id",
}
#: States in which an invoice takes a payment (``register_payment_creditinvoice`` needs both).
PAYABLE_STATES = frozenset({"open", "pending_payment", "reminded", "late"})
EXTERNAL_INVOICE_FIELDS = frozenset(
    {
        "contact_id", "reference", "date", "due_date", "currency", "prices_are_incl_tax",
        "source", "source_url", "details_attributes",
    }
)  # fmt: skip
DETAIL_FIELDS = frozenset(
    {
        "id", "description", "period", "price", "amount", "tax_rate_id", "ledger_account_id",
        "project_id", "product_id", "row_order", "is_optional", "is_selected", "_destroy",
        "automated_tax_enabled",
    }
)  # fmt: skip
PAYMENT_FIELDS = frozenset(
    {
        "payment_date", "price", "price_base", "financial_account_id", "financial_mutation_id",
        "transaction_identifier", "manual_payment_action", "ledger_account_id", "invoice_id",
    }
)  # fmt: skip
MANUAL_PAYMENT_ACTIONS = frozenset(
    {
        "private_payment", "payment_without_proof", "cash_payment", "rounding_error",
        "bank_transfer", "balance_settlement", "invoices_settlement",
    }
)  # fmt: skip
SENDING_FIELDS = frozenset(
    {
        "delivery_method",
        "sending_scheduled",
        "deliver_ubl",
        "mergeable",
        "email_address",
        "email_message",
        "invoice_date",
    }
)
#: Fixed exchange rates to the administration currency (EUR); USD as in Moneybird's example.
EXCHANGE_RATES = {
    "EUR": Decimal("1"),
    "USD": Decimal("0.8"),
    "GBP": Decimal("1.15"),
    "CHF": Decimal("1.05"),
}


class IdSource:
    """Sequential 18-digit ids (deterministic, beyond 2^53 like Moneybird's)."""

    def __init__(self, start: int = 470_000_000_100_000_000) -> None:
        self._next = start

    def __call__(self) -> str:
        self._next += 1
        return str(self._next)


@dataclass
class CreditNote:
    """What :meth:`Books.settle_credit_invoice` changed."""

    credit: SalesInvoice
    original: SalesInvoice


class Books:
    """The mutable records of one administration."""

    def __init__(
        self,
        setup: AdministrationSetup,
        *,
        clock: Clock,
        ids: IdSource,
        on_event: EventSink | None = None,
        invoice_limit: int | None = None,
        user_id: str = "",
    ) -> None:
        self.setup = setup
        self.clock = clock
        self.ids = ids
        self.on_event: EventSink = on_event or (lambda action, kind, record: None)
        self.invoice_limit = invoice_limit
        self.user_id = user_id
        self.zone = ZoneInfo(setup.time_zone)
        self.contacts: dict[str, Contact] = {}
        self.sales_invoices: dict[str, SalesInvoice] = {}
        self.external_invoices: dict[str, ExternalSalesInvoice] = {}
        self.webhooks: dict[str, Webhook] = {}
        self._customer_seq = 0
        self._draft_seq = 0
        self._entry_seq = 0
        self._invoice_seq: dict[int, int] = {}
        self._last_version = 0

    # -- time and versions ------------------------------------------------------------------

    def today(self) -> date:
        return datetime.fromtimestamp(self.clock(), self.zone).date()

    def version(self, previous: int = 0) -> int:
        """A Unix-time version that strictly increases on every change of a record."""
        return max(int(self.clock()), previous + 1)

    def _event(self, action: str, **data: Any) -> Event:
        return Event(action, self.clock(), data)

    # -- contacts ---------------------------------------------------------------------------

    def create_contact(self, data: dict[str, Any]) -> Contact:
        v.refuse_unknown(data, CONTACT_FIELDS, "contact")
        fields = {
            name: v.text(value, name)
            for name, value in data.items()
            if name not in {"custom_fields_attributes", "contact_person", "sepa_active"}
            and name not in {"email_ubl", "direct_debit"}
        }
        if not any(fields.get(n, "").strip() for n in ("company_name", "firstname", "lastname")):
            raise invalid(
                {
                    name: [("required", "is required")]
                    for name in ("firstname", "lastname", "company_name")
                }
            )
        customer_id = fields.pop("customer_id", "").strip()
        if customer_id:
            if any(c.customer_id == customer_id for c in self.contacts.values()):
                raise invalid_field("customer_id", "taken", "has already been taken")
        else:
            customer_id = self._next_customer_id()
        for name in ("invoice_workflow_id", "estimate_workflow_id"):
            if fields.get(name):
                workflow = self.setup.workflow(v.identifier(fields[name], name))
                if workflow is None:
                    raise not_found("Record not found for model name: Workflow", name)
        fields.setdefault("country", "NL")
        fields["country"] = fields["country"].upper() or "NL"
        fields.setdefault("delivery_method", "Email")
        if fields["delivery_method"] not in CONTACT_DELIVERY_METHODS:
            raise invalid_field("delivery_method", "inclusion", "is not included in the list")
        fields["email"] = fields.get("send_invoices_to_email", "")
        now = self.clock()
        contact = Contact(self.ids(), customer_id, fields, now, now, self.version())
        contact.events.append(self._event("contact_created"))
        self.contacts[contact.id] = contact
        self.on_event("contact_created", "Contact", contact)
        return contact

    def _next_customer_id(self) -> str:
        taken = {c.customer_id for c in self.contacts.values()}
        while True:
            self._customer_seq += 1
            if str(self._customer_seq) not in taken:
                return str(self._customer_seq)

    def contact(self, contact_id: str) -> Contact:
        found = self.contacts.get(contact_id)
        if found is None:
            raise not_found()
        return found

    def contact_by_customer_id(self, customer_id: str) -> Contact:
        for contact in self.contacts.values():
            if contact.customer_id == customer_id and not contact.archived:
                return contact
        raise not_found("record not found", "customer_id")

    def search_contacts(self, query: str, *, include_archived: bool) -> list[Contact]:
        terms = query.lower().split()
        found = []
        for contact in self.contacts.values():
            if contact.archived and not include_archived:
                continue
            haystack = [contact.customer_id.lower()] + [
                contact.text(name).lower() for name in SEARCHED_FIELDS
            ]
            if all(any(term in value for value in haystack) for term in terms):
                found.append(contact)
        return found

    def filter_contacts(
        self, filters: dict[str, str], query: str, *, include_archived: bool
    ) -> list[Contact]:
        """``GET contacts/filter``: the ``query`` search narrowed by ``filter`` terms.

        Names compare case-insensitively; ``contact_type`` tells companies (a company name)
        from private individuals; no sandbox contact is trusted (``is_trusted`` is always
        false, as it cannot be set through the API).
        """
        for key, allowed in _CONTACT_FILTER_VALUES.items():
            if key in filters and filters[key] not in allowed:
                raise bad_request(f"{key} is not included in the list", {"filter": "invalid"})
        created_after = _instant(filters, "created_after") if "created_after" in filters else None
        updated_after = _instant(filters, "updated_after") if "updated_after" in filters else None
        found = []
        for contact in self.search_contacts(query, include_archived=include_archived):
            if created_after is not None and contact.created_at <= created_after:
                continue
            if updated_after is not None and contact.updated_at <= updated_after:
                continue
            if not _contact_matches(contact, filters):
                continue
            found.append(contact)
        return found

    def archive_contact(self, contact_id: str) -> Contact:
        contact = self.contact(contact_id)
        if contact.archived:
            raise bad_request("Contact can not be archived", {"id": "can_not_be_archived"})
        contact.archived = True
        self._touch_contact(contact)
        self.on_event("contact_archived", "Contact", contact)
        return contact

    def _touch_contact(self, contact: Contact) -> None:
        contact.updated_at = self.clock()
        contact.version = self.version(contact.version)

    # -- sales invoices ---------------------------------------------------------------------

    def sums(self, invoice: SalesInvoice | ExternalSalesInvoice) -> InvoiceSums:
        discount = invoice.discount if isinstance(invoice, SalesInvoice) else Decimal(0)
        return invoice_sums(
            invoice.details,
            prices_are_incl_tax=invoice.prices_are_incl_tax,
            percentage_of=self._percentage,
            discount=discount,
        )

    def _percentage(self, rate_id: str) -> Decimal | None:
        rate = self.setup.tax_rate(rate_id)
        return rate.percentage if rate else None

    def to_base(self, amount: Decimal, currency: str) -> Decimal:
        return cents(amount * EXCHANGE_RATES.get(currency, Decimal(1)))

    def total_paid(self, invoice: SalesInvoice | ExternalSalesInvoice) -> Decimal:
        return sum((p.price for p in invoice.payments), Decimal(0))

    def is_covered(self, invoice: SalesInvoice | ExternalSalesInvoice) -> bool:
        """Whether the payments cover the total: at least the total, or for a negative total
        (a credit invoice) at least as far below zero. More than enough is enough."""
        total = self.sums(invoice).incl_tax
        paid = self.total_paid(invoice)
        return paid >= total if total >= 0 else paid <= total

    def total_unpaid(self, invoice: SalesInvoice | ExternalSalesInvoice) -> Decimal:
        """What is still to be paid, never past zero: an overpaid invoice shows ``0.0``, as
        a paid one does (the surplus is the bank's and the customer's business, not the
        invoice's)."""
        if self.is_covered(invoice):
            return Decimal(0)
        return self.sums(invoice).incl_tax - self.total_paid(invoice)

    def create_sales_invoice(self, data: dict[str, Any]) -> SalesInvoice:
        v.refuse_unknown(data, SALES_INVOICE_FIELDS, "sales_invoice")
        if self.invoice_limit is not None and len(self.sales_invoices) >= self.invoice_limit:
            raise plan_limit("creating sales invoices is limited")
        contact_id = v.optional_identifier(data.get("contact_id"), "contact_id")
        if contact_id is None:
            raise invalid_field("contact_id", "blank", "cannot be empty")
        contact = self.contacts.get(contact_id)
        if contact is None:
            raise invalid_field("contact_id", "invalid", "does not exist")
        workflow_id = v.optional_identifier(data.get("workflow_id"), "workflow_id")
        workflow_id = workflow_id or contact.fields.get("invoice_workflow_id") or None
        workflow = (
            self.setup.workflow(workflow_id)
            if workflow_id
            else self.setup.default_workflow("InvoiceWorkflow")
        )
        if workflow is None:
            raise not_found("Record not found for model name: Workflow", "workflow_id")
        if workflow.type != "InvoiceWorkflow":
            raise invalid_field("workflow_id", "invalid", "is not an invoice workflow")
        style_id = v.optional_identifier(data.get("document_style_id"), "document_style_id")
        style = (
            self.setup.document_style(style_id) if style_id else self.setup.default_document_style()
        )
        if style is None:
            raise not_found("Record not found for model name: DocumentStyle", "document_style_id")
        incl = data.get("prices_are_incl_tax")
        prices_are_incl_tax = (
            workflow.prices_are_incl_tax if incl is None else v.flag(incl, "prices_are_incl_tax")
        )
        currency = v.text(data.get("currency"), "currency").upper() or workflow.currency
        if currency not in EXCHANGE_RATES:
            raise invalid_field("currency", "invalid", "is not a supported currency")
        due = data.get("first_due_interval")
        if due is not None and (isinstance(due, bool) or not isinstance(due, int)):
            raise invalid_field("first_due_interval", "not_a_number", "is not a number")
        now = self.clock()
        self._draft_seq += 1
        invoice = SalesInvoice(
            id=self.ids(),
            contact_id=contact.id,
            workflow_id=workflow.id,
            document_style_id=style.id,
            identity_id=style.identity_id,
            draft_id=self._draft_seq,
            reference=v.text(data.get("reference"), "reference") or None,
            currency=currency,
            prices_are_incl_tax=prices_are_incl_tax,
            first_due_interval=workflow.due_interval if due is None else due,
            created_at=now,
            updated_at=now,
            version=self.version(),
            language=workflow.language,
            payment_conditions=v.text(data.get("payment_conditions"), "payment_conditions") or None,
        )
        if data.get("invoice_date"):
            invoice.invoice_date = v.day(data["invoice_date"], "invoice_date")
        if data.get("discount") not in (None, ""):
            invoice.discount = v.money(data["discount"], "discount")
        invoice.details = self._details(data.get("details_attributes"), now)
        invoice.custom_fields = self._custom_fields(data.get("custom_fields_attributes"))
        invoice.events.append(self._event("sales_invoice_created"))
        self.sales_invoices[invoice.id] = invoice
        self.on_event("sales_invoice_created", "SalesInvoice", invoice)
        return invoice

    def _details(self, raw: Any, now: float) -> list[Detail]:
        if raw is None:
            return []
        return [self._detail(item, index, now) for index, item in enumerate(_items(raw))]

    def _detail(self, item: dict[str, Any], index: int, now: float) -> Detail:
        v.refuse_unknown(item, DETAIL_FIELDS, f"details_attributes[{index}]")
        prefix = f"details.{index}"
        rate = self._rate(item.get("tax_rate_id"), prefix)
        ledger = self._ledger(item.get("ledger_account_id"), prefix)
        row_order = item.get("row_order", index)
        return Detail(
            id=self.ids(),
            description=v.text(item.get("description"), f"{prefix}.description"),
            price=cents(v.money(item.get("price", "0"), f"{prefix}.price")),
            amount=v.quantity(item.get("amount"), f"{prefix}.amount"),
            tax_rate_id=rate,
            ledger_account_id=ledger,
            row_order=int(row_order) if str(row_order).isdigit() else index,
            created_at=now,
            updated_at=now,
            period=v.text(item.get("period"), f"{prefix}.period") or None,
        )

    def _rate(self, raw: Any, prefix: str) -> str:
        rate_id = v.optional_identifier(raw, f"{prefix}.tax_rate_id") or self.setup.tax_rates[0].id
        rate = self.setup.tax_rate(rate_id)
        if rate is None or not rate.usable_on_sales_invoices:
            raise invalid_field(
                f"{prefix}.tax_rate_id", "invalid", "is not an active sales invoice tax rate"
            )
        return rate.id

    def _ledger(self, raw: Any, prefix: str) -> str:
        ledger_id = v.optional_identifier(raw, f"{prefix}.ledger_account_id")
        ledger = self.setup.ledger_account(ledger_id or self.setup.ledger_accounts[0].id)
        if ledger is None or "sales_invoice" not in ledger.allowed_document_types:
            raise invalid_field(
                f"{prefix}.ledger_account_id", "invalid", "is not a revenue ledger account"
            )
        return ledger.id

    def _edit_details(self, invoice: SalesInvoice, raw: Any, now: float) -> None:
        """``details_attributes`` of a PATCH: with ``id`` a line is changed (or removed with
        ``_destroy``), without one it is added."""
        for index, item in enumerate(_items(raw)):
            if item.get("id") in (None, ""):
                invoice.details.append(self._detail(item, len(invoice.details) + index, now))
                continue
            v.refuse_unknown(item, DETAIL_FIELDS, f"details_attributes[{index}]")
            prefix = f"details.{index}"
            detail_id = v.identifier(item["id"], f"{prefix}.id")
            found = next((d for d in invoice.details if d.id == detail_id), None)
            if found is None:
                raise not_found("record not found", f"{prefix}.id")
            if v.flag(item.get("_destroy", False), f"{prefix}._destroy"):
                invoice.details.remove(found)
                continue
            if "description" in item:
                found.description = v.text(item["description"], f"{prefix}.description")
            if "price" in item:
                found.price = cents(v.money(item["price"], f"{prefix}.price"))
            if "amount" in item:
                found.amount = v.quantity(item["amount"], f"{prefix}.amount")
                found.amount_label = None
            if "tax_rate_id" in item:
                found.tax_rate_id = self._rate(item["tax_rate_id"], prefix)
            if "ledger_account_id" in item:
                found.ledger_account_id = self._ledger(item["ledger_account_id"], prefix)
            if "period" in item:
                found.period = v.text(item["period"], f"{prefix}.period") or None
            if "row_order" in item and str(item["row_order"]).isdigit():
                found.row_order = int(item["row_order"])
            found.updated_at = now

    def update_sales_invoice(self, invoice_id: str, data: dict[str, Any]) -> SalesInvoice:
        """``PATCH sales_invoices/{id}``: the fields of the spec's update schema, on a draft or a
        sent invoice (as in the spec's examples, which edit open invoices). A sent invoice whose
        new total its payments cover becomes paid; a paid one that they no longer cover, open.
        The schema's other fields (workflow, document style, sequences, contact person, time
        entries) are accepted and have no effect here; ``original_sales_invoice_id`` is not in
        the schema, so it is refused like any unknown field."""
        invoice = self.sales_invoice(invoice_id)
        v.refuse_unknown(data, SALES_INVOICE_UPDATE_FIELDS, "sales_invoice")
        now = self.clock()
        before = self.sums(invoice).incl_tax
        changes: dict[str, list[str | None]] = {}
        if "reference" in data:
            reference = v.text(data["reference"], "reference") or None
            changes["reference"] = [invoice.reference, reference]
            invoice.reference = reference
        if data.get("contact_id") not in (None, ""):
            invoice.contact_id = self.contact(v.identifier(data["contact_id"], "contact_id")).id
        if data.get("invoice_date"):
            invoice.invoice_date = v.day(data["invoice_date"], "invoice_date")
        if data.get("first_due_interval") is not None:
            due = data["first_due_interval"]
            if isinstance(due, bool) or not isinstance(due, int):
                raise invalid_field("first_due_interval", "not_a_number", "is not a number")
            invoice.first_due_interval = due
        if data.get("prices_are_incl_tax") is not None:
            invoice.prices_are_incl_tax = v.flag(data["prices_are_incl_tax"], "prices_are_incl_tax")
        if data.get("discount") not in (None, ""):
            invoice.discount = v.money(data["discount"], "discount")
        if "payment_conditions" in data:
            text = v.text(data["payment_conditions"], "payment_conditions")
            invoice.payment_conditions = text or None
        if data.get("currency"):
            currency = v.text(data["currency"], "currency").upper()
            if currency not in EXCHANGE_RATES:
                raise invalid_field("currency", "invalid", "is not a supported currency")
            invoice.currency = currency
        if data.get("details_attributes") is not None:
            self._edit_details(invoice, data["details_attributes"], now)
        if data.get("custom_fields_attributes") is not None:
            invoice.custom_fields = self._custom_fields(data["custom_fields_attributes"])
        after = self.sums(invoice).incl_tax
        if after != before:
            changes["total_price_incl_tax"] = [str(before), str(after)]
        invoice.events.append(self._event("sales_invoice_updated", changes=changes))
        self._touch(invoice)
        self.on_event("sales_invoice_updated", "SalesInvoice", invoice)
        if invoice.state != "draft":
            if self.is_covered(invoice) and invoice.state != "paid" and invoice.payments:
                invoice.paid_at = max(p.payment_date for p in invoice.payments)
                self._set_state(invoice, "paid")
            elif invoice.state == "paid" and not self.is_covered(invoice):
                invoice.paid_at = None
                self._set_state(invoice, "open")
        return invoice

    def _custom_fields(self, raw: Any) -> list[tuple[str, str]]:
        if raw is None:
            return []
        items = list(raw.values()) if isinstance(raw, dict) else raw
        result = []
        known = {f.id for f in self.setup.custom_fields}
        for item in items:
            field_id = v.identifier(item.get("id"), "custom_fields_attributes.id")
            if field_id not in known:
                raise not_found(
                    f"Custom field with id {field_id} not found for administration",
                    "custom_fields_attributes",
                )
            result.append((field_id, v.text(item.get("value"), "custom_fields_attributes.value")))
        return result

    def sales_invoice(self, invoice_id: str) -> SalesInvoice:
        found = self.sales_invoices.get(invoice_id)
        if found is None:
            raise not_found()
        return found

    def find_by_reference(self, reference: str) -> SalesInvoice:
        """The first invoice created with this reference. Moneybird does not say which one it
        answers when several share a reference (a credit made by ``duplicate_creditinvoice``
        keeps its original's until it is changed): the oldest is the sandbox's reading."""
        for invoice in self.sales_invoices.values():
            if invoice.reference == reference:
                return invoice
        raise not_found(f"Sales invoice with reference: {reference} was not found", "reference")

    def send_sales_invoice(self, invoice_id: str, sending: dict[str, Any]) -> SalesInvoice:
        invoice = self.sales_invoice(invoice_id)
        v.refuse_unknown(sending, SENDING_FIELDS, "sales_invoice_sending")
        method = sending.get("delivery_method", "Email")
        if method not in {"Email", "Peppol", "Manual", "Simplerinvoicing"}:
            raise invalid_field("delivery_method", "inclusion", "is not included in the list")
        if not invoice.details:
            raise bad_request(
                "details cannot be empty", {"sales_invoice": "details_cannot_be_empty"}
            )
        contact = self.contacts[invoice.contact_id]
        address = v.text(sending.get("email_address"), "email_address")
        if method != "Manual" and not (address or contact.text("send_invoices_to_email")):
            raise invalid_field("email_address", "blank", "can't be blank")
        if sending.get("invoice_date"):
            invoice.invoice_date = v.day(sending["invoice_date"], "invoice_date")
        if invoice.state == "draft":
            today = self.today()
            invoice.invoice_date = invoice.invoice_date or today
            invoice.invoice_number = self._next_invoice_number(invoice.invoice_date.year)
            invoice.draft_id = None
            invoice.sent_at = today
            invoice.payment_reference = _payment_reference(invoice.invoice_number)
            self._set_state(invoice, "open")
        if method == "Manual":
            invoice.events.append(self._event("sales_invoice_send_manually"))
            self.on_event("sales_invoice_send_manually", "SalesInvoice", invoice)
        else:
            invoice.events.append(
                self._event(
                    "sales_invoice_send_email",
                    email_address=address or contact.text("send_invoices_to_email"),
                )
            )
            self.on_event("sales_invoice_send_email", "SalesInvoice", invoice)
        self._touch(invoice)
        if self.is_covered(invoice) and invoice.state == "open" and invoice.details:
            # A zero invoice is settled the moment it is sent.
            self._set_state(invoice, "paid")
            invoice.paid_at = self.today()
        return invoice

    def _next_invoice_number(self, year: int) -> str:
        self._invoice_seq[year] = self._invoice_seq.get(year, 0) + 1
        return f"{year}-{self._invoice_seq[year]:04d}"

    def _set_state(self, invoice: SalesInvoice | ExternalSalesInvoice, state: str) -> None:
        if invoice.state == state:
            return
        invoice.state = state
        prefix = "sales_invoice" if isinstance(invoice, SalesInvoice) else "external_sales_invoice"
        action = f"{prefix}_state_changed_to_{state}"
        invoice.events.append(self._event(action))
        kind = "SalesInvoice" if isinstance(invoice, SalesInvoice) else "ExternalSalesInvoice"
        self.on_event(action, kind, invoice)

    def _touch(self, invoice: SalesInvoice | ExternalSalesInvoice) -> None:
        invoice.updated_at = self.clock()
        invoice.version = self.version(invoice.version)

    def add_payment(
        self, invoice: SalesInvoice | ExternalSalesInvoice, data: dict[str, Any]
    ) -> Payment:
        v.refuse_unknown(data, PAYMENT_FIELDS, "payment")
        errors: dict[str, list[tuple[str, str]]] = {}
        payment_date: date | None = None
        price: Decimal | None = None
        try:
            payment_date = v.day(data.get("payment_date"), "payment_date")
        except MoneybirdProblem:
            errors["payment_date"] = [
                ("blank", "can't be blank"),
                ("invalid", "is not a valid date"),
            ]
        try:
            price = v.money(data.get("price"), "price")
        except MoneybirdProblem:
            errors["price"] = [("blank", "can't be blank"), ("not_a_number", "is not a number")]
        if errors:
            raise invalid(errors)
        assert payment_date is not None
        assert price is not None
        if isinstance(invoice, SalesInvoice) and invoice.state == "draft":
            raise invalid_field(
                "sales_invoice", "draft", "is a draft; send it before registering a payment"
            )
        if data.get("price_base") not in (None, ""):
            price_base = cents(v.money(data["price_base"], "price_base"))
        elif invoice.currency != self.setup.currency:
            raise invalid_field("price_base", "blank", "can't be blank for a foreign currency")
        else:
            price_base = cents(price)
        account_id = v.optional_identifier(data.get("financial_account_id"), "financial_account_id")
        if account_id is not None:
            account = self.setup.financial_account(account_id)
            if account is None or not account.active:
                raise invalid_field("financial_account_id", "invalid", "is not a financial account")
        action = data.get("manual_payment_action")
        if action is not None and action not in MANUAL_PAYMENT_ACTIONS:
            raise invalid_field("manual_payment_action", "inclusion", "is not included in the list")
        if action in {"private_payment", "cash_payment"} and account_id is None:
            raise invalid_field("financial_account_id", "blank", "can't be blank")
        if action == "bank_transfer" and not data.get("financial_mutation_id"):
            raise invalid_field("financial_mutation_id", "blank", "can't be blank")
        ledger_id = v.optional_identifier(data.get("ledger_account_id"), "ledger_account_id")
        if action == "balance_settlement" and ledger_id is None:
            raise invalid_field("ledger_account_id", "blank", "can't be blank")
        settled: SalesInvoice | ExternalSalesInvoice | None = None
        if action == "invoices_settlement":
            settled = self._settled_document(invoice, data.get("invoice_id"))
            ledger_id = next(a.id for a in self.setup.ledger_accounts if a.name == "Verrekeningen")
        if ledger_id is None and account_id is None:
            ledger_id = next(
                (a.id for a in self.setup.ledger_accounts if a.name.startswith("Te rubriceren")),
                None,
            )
        identifier = data.get("transaction_identifier")
        payment = Payment(
            id=self.ids(),
            invoice_type=_invoice_type(invoice),
            invoice_id=invoice.id,
            price=cents(price),
            price_base=price_base,
            payment_date=payment_date,
            created_at=self.clock(),
            financial_account_id=account_id,
            transaction_identifier=None if identifier in (None, "") else str(identifier),
            manual_payment_action=action,
            ledger_account_id=ledger_id,
            financial_mutation_id=v.optional_identifier(
                data.get("financial_mutation_id"), "financial_mutation_id"
            ),
        )
        self._record_payment(invoice, payment)
        if settled is not None:
            # The other side of the settlement: the same amount, the other way, on the
            # document it is settled against, each payment naming the other.
            counter = Payment(
                id=self.ids(),
                invoice_type=_invoice_type(settled),
                invoice_id=settled.id,
                price=-payment.price,
                price_base=-payment.price_base,
                payment_date=payment_date,
                created_at=self.clock(),
                manual_payment_action=action,
                ledger_account_id=ledger_id,
                linked_payment_id=payment.id,
            )
            payment.linked_payment_id = counter.id
            self._record_payment(settled, counter)
        return payment

    def _settled_document(
        self, invoice: SalesInvoice | ExternalSalesInvoice, invoice_id: Any
    ) -> SalesInvoice | ExternalSalesInvoice:
        """The document an ``invoices_settlement`` payment is settled against (the spec:
        "needs invoice_id", "a valid document id"): a sales or external sales invoice of this
        administration, not the one paid, that takes a payment."""
        wanted = v.optional_identifier(invoice_id, "invoice_id")
        if wanted is None:
            raise invalid_field("invoice_id", "blank", "can't be blank")
        found = self.sales_invoices.get(wanted) or self.external_invoices.get(wanted)
        if found is None or found.id == invoice.id:
            raise invalid_field("invoice_id", "invalid", "is not a valid document")
        if found.state not in PAYABLE_STATES:
            raise invalid_field(
                "invoice_id", "does_not_accept_payments",
                f"is {found.state} and does not accept a payment",
            )  # fmt: skip
        return found

    def _record_payment(
        self, invoice: SalesInvoice | ExternalSalesInvoice, payment: Payment
    ) -> None:
        invoice.payments.append(payment)
        invoice.events.append(
            self._event("payment_registered", payment_id=payment.id, price=str(payment.price))
        )
        self._touch(invoice)
        kind = "SalesInvoice" if isinstance(invoice, SalesInvoice) else "ExternalSalesInvoice"
        self.on_event("payment_registered", kind, invoice)
        if self.is_covered(invoice) and invoice.state != "paid":
            invoice.paid_at = max(p.payment_date for p in invoice.payments)
            self._set_state(invoice, "paid")

    def delete_sales_invoice(self, invoice_id: str) -> None:
        invoice = self.sales_invoice(invoice_id)
        if invoice.payments:
            raise bad_request(
                "Sales invoice with payments can not be deleted", {"id": "can_not_be_deleted"}
            )
        del self.sales_invoices[invoice_id]
        self.on_event("sales_invoice_destroyed", "SalesInvoice", invoice)

    def duplicate_credit_invoice(self, invoice_id: str) -> SalesInvoice:
        original = self.sales_invoice(invoice_id)
        if original.state == "draft" or original.invoice_number is None:
            raise bad_request(
                "A credit invoice can only be created for a sent invoice",
                {"sales_invoice": "is_draft"},
            )
        if original.original_sales_invoice_id is not None:
            raise bad_request(
                "A credit invoice can not be credited", {"sales_invoice": "is_credit_invoice"}
            )
        if self.invoice_limit is not None and len(self.sales_invoices) >= self.invoice_limit:
            raise plan_limit("creating sales invoices is limited")
        now = self.clock()
        self._draft_seq += 1
        credit = SalesInvoice(
            id=self.ids(),
            contact_id=original.contact_id,
            workflow_id=original.workflow_id,
            document_style_id=original.document_style_id,
            identity_id=original.identity_id,
            draft_id=self._draft_seq,
            reference=original.reference,
            currency=original.currency,
            prices_are_incl_tax=original.prices_are_incl_tax,
            first_due_interval=original.first_due_interval,
            created_at=now,
            updated_at=now,
            version=self.version(),
            discount=original.discount,
            language=original.language,
            original_sales_invoice_id=original.id,
        )
        first_rate = original.details[0] if original.details else None
        heading = Detail(
            id=self.ids(),
            description=f"**Creditfactuur voor factuur {original.invoice_number}**",
            price=Decimal(0),
            amount=Decimal(1),
            tax_rate_id=first_rate.tax_rate_id if first_rate else self.setup.tax_rates[0].id,
            ledger_account_id=(
                first_rate.ledger_account_id if first_rate else self.setup.ledger_accounts[0].id
            ),
            row_order=1,
            created_at=now,
            updated_at=now,
        )
        credit.details = [heading] + [
            Detail(
                id=self.ids(),
                description=d.description,
                price=d.price,
                amount=-d.amount,
                tax_rate_id=d.tax_rate_id,
                ledger_account_id=d.ledger_account_id,
                row_order=index + 2,
                created_at=now,
                updated_at=now,
                amount_label=f"{_plain(-d.amount)} x",
                period=d.period,
            )
            for index, d in enumerate(original.details)
        ]
        credit.events.append(
            self._event(
                "credit_invoice_created_from_original", original_invoice=original.invoice_number
            )
        )
        self.sales_invoices[credit.id] = credit
        self.on_event("credit_invoice_created_from_original", "SalesInvoice", credit)
        return credit

    def settle_credit_invoice(self, credit_id: str) -> CreditNote:
        """``register_payment_creditinvoice``, as the spec describes it: on the settlements
        ledger ("Verrekeningen") one payment on each invoice, dated today, for the credit
        invoice's total amount. The invoice must be a credit invoice with an original, and both
        must be in a state that takes a payment (open, pending_payment, reminded, late): a
        draft, a paid or an uncollectible one is refused with the spec's 400."""
        credit = self.sales_invoice(credit_id)
        if credit.original_sales_invoice_id is None:
            raise bad_request(
                "Sales invoice is not a credit invoice", {"id": "not_a_credit_invoice"}
            )
        original = self.sales_invoices.get(credit.original_sales_invoice_id)
        if original is None:
            raise bad_request(
                "The original invoice of this credit invoice does not exist",
                {"original_sales_invoice_id": "not_found"},
            )
        for label, invoice in (("Credit invoice", credit), ("Original invoice", original)):
            if invoice.state not in PAYABLE_STATES:
                raise bad_request(
                    f"{label} is {invoice.state} and does not accept a payment",
                    {"state": "does_not_accept_payments"},
                )
        amount = -self.sums(credit).incl_tax
        if amount <= 0:
            raise bad_request(
                "Payments can not be registered for this credit invoice", {"id": "can_not_settle"}
            )
        ledger = next(a.id for a in self.setup.ledger_accounts if a.name == "Verrekeningen")
        today = self.today()
        for invoice, price, link in ((credit, -amount, original.id), (original, amount, credit.id)):
            self._record_payment(
                invoice,
                Payment(
                    id=self.ids(),
                    invoice_type="SalesInvoice",
                    invoice_id=invoice.id,
                    price=price,
                    price_base=self.to_base(price, invoice.currency),
                    payment_date=today,
                    created_at=self.clock(),
                    ledger_account_id=ledger,
                    credit_invoice_id=link if invoice is original else None,
                ),
            )
        return CreditNote(credit, original)

    def list_sales_invoices(self, filters: dict[str, str]) -> list[SalesInvoice]:
        """Moneybird's ``filter``; with no filter the default is ``period:this_year``."""
        if not filters:
            filters = {"period": "this_year"}
        result = []
        period = _period(filters["period"], self.today()) if "period" in filters else None
        states = set(filters["state"].split("|")) if "state" in filters else None
        references = set(filters["reference"].split("|")) if "reference" in filters else None
        for invoice in self.sales_invoices.values():
            if states is not None and "all" not in states and invoice.state not in states:
                continue
            if references is not None and invoice.reference not in references:
                continue
            if "contact_id" in filters and invoice.contact_id != filters["contact_id"]:
                continue
            if "workflow_id" in filters and invoice.workflow_id != filters["workflow_id"]:
                continue
            if period is not None:
                day_ = invoice.invoice_date or self.today()
                if not period[0] <= day_ <= period[1]:
                    continue
            if "created_after" in filters and invoice.created_at <= _instant(
                filters, "created_after"
            ):
                continue
            if "updated_after" in filters and invoice.updated_at <= _instant(
                filters, "updated_after"
            ):
                continue
            result.append(invoice)
        return result

    # -- external sales invoices ------------------------------------------------------------

    def create_external_invoice(self, data: dict[str, Any]) -> ExternalSalesInvoice:
        v.refuse_unknown(data, EXTERNAL_INVOICE_FIELDS, "external_sales_invoice")
        reference = v.text(data.get("reference"), "reference").strip()
        if not reference:
            raise invalid_field("reference", "blank", "can't be blank")
        contact_id = v.optional_identifier(data.get("contact_id"), "contact_id")
        if contact_id is not None and contact_id not in self.contacts:
            raise invalid_field("contact_id", "invalid", "does not exist")
        currency = v.text(data.get("currency"), "currency").upper() or self.setup.currency
        if currency not in EXCHANGE_RATES:
            raise invalid_field("currency", "invalid", "is not a supported currency")
        incl = data.get("prices_are_incl_tax")
        now = self.clock()
        self._entry_seq += 1
        invoice = ExternalSalesInvoice(
            id=self.ids(),
            contact_id=contact_id,
            date=v.day(data["date"], "date") if data.get("date") else self.today(),
            due_date=v.day(data["due_date"], "due_date") if data.get("due_date") else None,
            reference=reference,
            entry_number=self._entry_seq,
            currency=currency,
            prices_are_incl_tax=False if incl is None else v.flag(incl, "prices_are_incl_tax"),
            created_at=now,
            updated_at=now,
            version=self.version(),
            source=v.text(data.get("source"), "source") or None,
            source_url=v.text(data.get("source_url"), "source_url") or None,
        )
        invoice.details = self._details(data.get("details_attributes"), now)
        invoice.events.append(self._event("external_sales_invoice_created"))
        self.external_invoices[invoice.id] = invoice
        self.on_event("external_sales_invoice_created", "ExternalSalesInvoice", invoice)
        return invoice

    def list_external_invoices(self, filters: dict[str, str]) -> list[ExternalSalesInvoice]:
        """The list filter of external sales invoices: ``state``, ``period``, ``contact_id``
        (default ``period:this_year``, like sales invoices)."""
        if not filters:
            filters = {"period": "this_year"}
        period = _period(filters["period"], self.today()) if "period" in filters else None
        states = set(filters["state"].split("|")) if "state" in filters else None
        result = []
        for invoice in self.external_invoices.values():
            if states is not None and "all" not in states and invoice.state not in states:
                continue
            if "contact_id" in filters and invoice.contact_id != filters["contact_id"]:
                continue
            if period is not None and not period[0] <= invoice.date <= period[1]:
                continue
            result.append(invoice)
        return result

    def external_invoice(self, invoice_id: str) -> ExternalSalesInvoice:
        found = self.external_invoices.get(invoice_id)
        if found is None:
            raise not_found()
        return found

    def attach(
        self,
        invoice: SalesInvoice | ExternalSalesInvoice,
        filename: str,
        content_type: str,
        content: bytes,
    ) -> Attachment:
        if not content:
            raise bad_request("File is required", {"file": "required"})
        kind = "SalesInvoice" if isinstance(invoice, SalesInvoice) else "ExternalSalesInvoice"
        attachment = Attachment(
            self.ids(), invoice.id, kind, filename, content_type, content, self.clock()
        )
        invoice.attachments.append(attachment)
        self._touch(invoice)
        return attachment

    # -- webhooks ---------------------------------------------------------------------------

    def create_webhook(self, body: Any) -> Webhook:
        if not isinstance(body, dict):
            raise bad_request("Url is required", {"url": "required"})
        if "events" in body:
            raise bad_request(
                "'events' has been removed from webhooks, use 'enabled_events'",
                {"events": "removed"},
            )
        v.refuse_unknown(body, frozenset({"url", "enabled_events"}), "webhook")
        url = body.get("url")
        if not isinstance(url, str) or not url.strip():
            raise bad_request("Url is required", {"url": "required"})
        events = body.get("enabled_events") or []
        if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
            raise bad_request("enabled_events is invalid", {"enabled_events": "invalid"})
        webhook = Webhook(
            id=self.ids(),
            url=url.strip(),
            enabled_events=list(events),
            token=secrets.token_urlsafe(18)[:24],
            secrets=[secrets.token_hex(32)],
        )
        self.webhooks[webhook.id] = webhook
        return webhook

    def delete_webhook(self, webhook_id: str) -> None:
        if self.webhooks.pop(webhook_id, None) is None:
            raise not_found()

    # -- synchronization --------------------------------------------------------------------

    @staticmethod
    def by_ids(records: dict[str, Any], body: Any) -> list[Any]:
        """The POST half of a synchronization endpoint: at most 100 ids, extra ids ignored."""
        ids = body.get("ids") if isinstance(body, dict) else None
        if not isinstance(ids, list):
            raise bad_request("Ids is required", {"ids": "required"})
        wanted = [str(i) for i in ids[:100]]
        return [records[i] for i in wanted if i in records]


def _items(raw: Any) -> list[dict[str, Any]]:
    """``details_attributes`` as a list (the spec also allows a ``{"0": {...}}`` hash)."""
    items = list(raw.values()) if isinstance(raw, dict) else raw
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise invalid_field("details_attributes", "invalid", "is not a list of details")
    return items


def sync_filters(raw: str | None, allowed: Iterable[str]) -> dict[str, str]:
    """Parse ``key:value,key:value``; unknown keys are ignored, as Moneybird does."""
    result: dict[str, str] = {}
    keep = set(allowed)
    for part in (raw or "").split(","):
        key, _, value = part.partition(":")
        if key.strip() in keep and value:
            result[key.strip()] = value.strip()
    return result


def _plain(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text


def _instant(filters: dict[str, str], key: str) -> float:
    """A ``created_after`` / ``updated_after`` value as a Unix time.

    The spec calls it "ISO 8601, UTC" and writes it as ``2026-08-21 13:48:40 UTC`` in its own
    examples; both that form and ISO 8601 proper (``2026-08-21T13:48:40Z``, with an offset, or a
    bare date) are read. A time without a zone is UTC.
    """
    text = filters[key].strip()
    if text.upper().endswith(" UTC"):
        text = text[: -len(" UTC")].rstrip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise bad_request(f"{key} is not a valid date", {"filter": "invalid"}) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


_CONTACT_FILTER_VALUES = {
    "contact_type": frozenset({"all", "company", "private_individual"}),
    "delivery_method": frozenset({"all", "email", "post", "manual", "peppol", "simplerinvoicing"}),
    "trusted_type": frozenset({"all", "trusted", "not_trusted"}),
}


def _contact_matches(contact: Contact, filters: dict[str, str]) -> bool:
    for key, field_name in (("first_name", "firstname"), ("last_name", "lastname")):
        if key in filters and contact.text(field_name).lower() != filters[key].lower():
            return False
    for key in ("estimate_workflow_id", "invoice_workflow_id"):
        if key in filters and contact.text(key) != filters[key]:
            return False
    kind = filters.get("contact_type", "all")
    is_company = bool(contact.text("company_name").strip())
    if kind != "all" and is_company != (kind == "company"):
        return False
    method = filters.get("delivery_method", "all")
    if method != "all" and (contact.text("delivery_method") or "Email").lower() != method:
        return False
    return filters.get("trusted_type", "all") != "trusted"


_PRESETS = {"this_year", "prev_year", "next_year", "this_month", "prev_month", "next_month"}
_PRESETS |= {"this_quarter", "prev_quarter", "next_quarter", "this_week", "prev_week"}


def _period(text: str, today: date) -> tuple[date, date]:
    """A ``period`` filter value as an inclusive date range."""
    if text in _PRESETS:
        return _preset(text, today)
    start, sep, end = text.partition("..")
    if not sep or not start or not end:
        raise bad_request("Period must have both a start and end date")
    try:
        first = _parse_period_date(start, end_of_month=False)
        last = _parse_period_date(end, end_of_month=True)
    except ValueError:
        raise bad_request("Period is invalid", {"filter": "invalid"}) from None
    return first, last


def _parse_period_date(text: str, *, end_of_month: bool) -> date:
    if len(text) == 8:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    if len(text) == 6:
        first = date(int(text[:4]), int(text[4:]), 1)
        if not end_of_month:
            return first
        return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    raise ValueError(text)


def _preset(name: str, today: date) -> tuple[date, date]:
    shift = {"this": 0, "prev": -1, "next": 1}[name.split("_")[0]]
    unit = name.split("_")[1]
    if unit == "year":
        year = today.year + shift
        return date(year, 1, 1), date(year, 12, 31)
    if unit == "week":
        start = today - timedelta(days=today.weekday()) + timedelta(weeks=shift)
        return start, start + timedelta(days=6)
    months = 3 if unit == "quarter" else 1
    first_month = ((today.month - 1) // months) * months + 1
    index = today.year * 12 + first_month - 1 + shift * months
    start = date(index // 12, index % 12 + 1, 1)
    end_index = index + months
    end = date(end_index // 12, end_index % 12 + 1, 1) - timedelta(days=1)
    return start, end


def _payment_reference(invoice_number: str) -> str:
    """An ISO 11649 creditor reference (``RF`` + check digits + body), as Moneybird generates."""
    body = "".join(ch for ch in invoice_number if ch.isalnum()).upper()
    digits = "".join(str(int(ch, 36)) for ch in body + "RF00")
    check = 98 - int(digits) % 97
    return f"RF{check:02d}{body}"


def public_code(*parts: str) -> str:
    """A stable 64-hex code for public URLs (invoice links, contact invoice overviews)."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def _invoice_type(invoice: SalesInvoice | ExternalSalesInvoice) -> str:
    return "SalesInvoice" if isinstance(invoice, SalesInvoice) else "ExternalSalesInvoice"
