"""Records as Moneybird JSON: ids as strings, money as decimal strings ("129.95", "0.0").

Moneybird prints decimals the way Ruby's BigDecimal does: trailing zeros dropped, at least one
decimal ("300.0", "27.3"). Unset optional text comes back as ``null`` in current responses and
as ``""`` in older ones; :class:`Renderer` can do either (``blank``) so clients are tested
against both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

from ccvbird.sandbox.moneybird.books import Books, public_code
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

Json = dict[str, Any]
Blank = Literal["null", "empty"]

PUBLIC_HOST = "https://moneybird.sandbox"


def decimal_text(value: Decimal) -> str:
    """BigDecimal#to_s style: ``Decimal("300.00")`` → ``"300.0"``, ``0`` → ``"0.0"``."""
    if value == 0:
        return "0.0"
    text = f"{value.normalize():f}"
    return text if "." in text else f"{text}.0"


def timestamp(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def day_text(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass
class Renderer:
    books: Books
    blank: Blank = "null"

    @property
    def setup(self) -> AdministrationSetup:
        return self.books.setup

    def _text(self, value: str | None) -> str | None:
        if value:
            return value
        return "" if self.blank == "empty" else None

    # -- contacts ---------------------------------------------------------------------------

    def contact(self, contact: Contact, *, with_events: bool = True) -> Json:
        t = contact.text
        body: Json = {
            "id": contact.id,
            "administration_id": self.setup.id,
            "company_name": self._text(t("company_name")),
            "firstname": self._text(t("firstname")),
            "lastname": self._text(t("lastname")),
            "address1": self._text(t("address1")),
            "address2": self._text(t("address2")),
            "zipcode": self._text(t("zipcode")),
            "city": self._text(t("city")),
            "country": t("country") or "NL",
            "phone": self._text(t("phone")),
            "delivery_method": t("delivery_method") or "Email",
            "customer_id": contact.customer_id,
            "tax_number": self._text(t("tax_number")),
            "chamber_of_commerce": self._text(t("chamber_of_commerce")),
            "bank_account": self._text(t("bank_account")),
            "is_trusted": False,
            "max_transfer_amount": None,
            "attention": self._text(t("send_invoices_to_attention")),
            "email": self._text(t("email")),
            "email_ubl": True,
            "send_invoices_to_attention": self._text(t("send_invoices_to_attention")),
            "send_invoices_to_email": self._text(t("send_invoices_to_email")),
            "send_estimates_to_attention": self._text(t("send_estimates_to_attention")),
            "send_estimates_to_email": self._text(t("send_estimates_to_email")),
            "direct_debit": False,
            "sepa_active": False,
            "sepa_iban": self._text(t("sepa_iban")),
            "sepa_iban_account_name": self._text(t("sepa_iban_account_name")),
            "sepa_bic": self._text(t("sepa_bic")),
            "sepa_mandate_id": self._text(t("sepa_mandate_id")),
            "sepa_mandate_date": None,
            "sepa_sequence_type": "RCUR",
            "credit_card_number": self._text(None),
            "credit_card_reference": self._text(None),
            "credit_card_type": None,
            "tax_number_validated_at": None,
            "tax_number_valid": None,
            "invoice_workflow_id": t("invoice_workflow_id") or None,
            "estimate_workflow_id": t("estimate_workflow_id") or None,
            "si_identifier": self._text(t("si_identifier")),
            "si_identifier_type": t("si_identifier_type") or None,
            "moneybird_payments_mandate": False,
            "created_at": timestamp(contact.created_at),
            "updated_at": timestamp(contact.updated_at),
            "version": contact.version,
            "sales_invoices_url": (
                f"{PUBLIC_HOST}/{self.setup.id}/sales_invoices/"
                f"{public_code(self.setup.id, contact.id)}/all"
            ),
            "notes": [],
            "custom_fields": [],
            "contact_people": [],
            "archived": contact.archived,
        }
        if with_events:
            body["events"] = [self.event(e, contact.id, "Contact") for e in contact.events]
        return body

    def event(self, event: Event, entity_id: str, entity_type: str) -> Json:
        return {
            "administration_id": self.setup.id,
            "user_id": self.books.user_id,
            "action": event.action,
            "link_entity_id": event.link_entity_id,
            "link_entity_type": event.link_entity_type,
            "data": event.data,
            "created_at": timestamp(event.created_at),
            "updated_at": timestamp(event.created_at),
        }

    # -- invoices ---------------------------------------------------------------------------

    def detail(self, detail: Detail, net: Decimal, currency: str) -> Json:
        rate = self.setup.tax_rate(detail.tax_rate_id)
        return {
            "id": detail.id,
            "administration_id": self.setup.id,
            "tax_rate_id": detail.tax_rate_id,
            "ledger_account_id": detail.ledger_account_id,
            "project_id": detail.project_id,
            "product_id": detail.product_id,
            "amount": detail.amount_label,
            "amount_decimal": decimal_text(detail.amount),
            "description": detail.description,
            "price": decimal_text(detail.price),
            "period": detail.period,
            "row_order": detail.row_order,
            "total_price_excl_tax_with_discount": decimal_text(net),
            "total_price_excl_tax_with_discount_base": decimal_text(
                self.books.to_base(net, currency)
            ),
            "tax_report_reference": [_tax_report_box(rate.name if rate else "")],
            "mandatory_tax_text": _mandatory_text(rate.name if rate else ""),
            "created_at": timestamp(detail.created_at),
            "updated_at": timestamp(detail.updated_at),
        }

    def payment(self, payment: Payment) -> Json:
        return {
            "id": payment.id,
            "administration_id": self.setup.id,
            "invoice_type": payment.invoice_type,
            "invoice_id": payment.invoice_id,
            "financial_account_id": payment.financial_account_id,
            "user_id": self.books.user_id,
            "payment_transaction_id": None,
            "transaction_identifier": payment.transaction_identifier,
            "price": decimal_text(payment.price),
            "price_base": decimal_text(payment.price_base),
            "payment_date": payment.payment_date.isoformat(),
            "credit_invoice_id": payment.credit_invoice_id,
            "financial_mutation_id": payment.financial_mutation_id,
            "ledger_account_id": payment.ledger_account_id,
            "linked_payment_id": payment.linked_payment_id,
            "manual_payment_action": payment.manual_payment_action,
            "created_at": timestamp(payment.created_at),
            "updated_at": timestamp(payment.created_at),
        }

    def attachment(self, attachment: Attachment) -> Json:
        return {
            "id": attachment.id,
            "administration_id": self.setup.id,
            "attachable_id": attachment.attachable_id,
            "attachable_type": attachment.attachable_type,
            "filename": attachment.filename,
            "content_type": attachment.content_type,
            "size": len(attachment.content),
            "rotation": None,
            "created_at": timestamp(attachment.created_at),
            "updated_at": timestamp(attachment.created_at),
        }

    def _money_block(self, invoice: SalesInvoice | ExternalSalesInvoice) -> Json:
        books = self.books
        sums = books.sums(invoice)
        paid = books.total_paid(invoice)
        unpaid = books.total_unpaid(invoice)  # never past zero: an overpaid invoice shows 0.0
        base = books.to_base
        cur = invoice.currency
        return {
            "details": [
                self.detail(d, sums.line_net.get(d.id, Decimal(0)), cur) for d in invoice.details
            ],
            "payments": [self.payment(p) for p in invoice.payments],
            "total_paid": decimal_text(paid),
            "total_unpaid": decimal_text(unpaid),
            "total_unpaid_base": decimal_text(base(unpaid, cur)),
            "prices_are_incl_tax": invoice.prices_are_incl_tax,
            "total_price_excl_tax": decimal_text(sums.excl_tax),
            "total_price_excl_tax_base": decimal_text(base(sums.excl_tax, cur)),
            "total_price_incl_tax": decimal_text(sums.incl_tax),
            "total_price_incl_tax_base": decimal_text(base(sums.incl_tax, cur)),
            "tax_totals": [
                {
                    "tax_rate_id": rate.tax_rate_id,
                    "taxable_amount": decimal_text(rate.net),
                    "taxable_amount_base": decimal_text(base(rate.net, cur)),
                    "tax_amount": decimal_text(rate.tax),
                    "tax_amount_base": decimal_text(base(rate.tax, cur)),
                }
                for rate in sums.rates
                if rate.shows_in_tax_totals
            ],
            "_discount_total": sums.discount_total,
        }

    def sales_invoice(self, invoice: SalesInvoice) -> Json:
        setup = self.setup
        money = self._money_block(invoice)
        discount_total = money.pop("_discount_total")
        contact = self.books.contacts.get(invoice.contact_id)
        code = public_code(setup.id, invoice.id)
        url = f"{PUBLIC_HOST}/{setup.id}/external/{code}/sales_invoice"
        due = (invoice.invoice_date or self.books.today()).toordinal() + invoice.first_due_interval
        sent = invoice.state != "draft"
        tax_totals = money.pop("tax_totals")
        body: Json = {
            "id": invoice.id,
            "administration_id": setup.id,
            "contact_id": invoice.contact_id,
            "contact": self.contact(contact, with_events=False) if contact else None,
            "contact_person_id": None,
            "contact_person": None,
            "invoice_id": invoice.invoice_number,
            "recurring_sales_invoice_id": None,
            "subscription_id": None,
            "workflow_id": invoice.workflow_id,
            "document_style_id": invoice.document_style_id,
            "identity_id": invoice.identity_id,
            "draft_id": invoice.draft_id,
            "state": invoice.state,
            "invoice_date": day_text(invoice.invoice_date),
            "due_date": date.fromordinal(due).isoformat(),
            "payment_conditions": invoice.payment_conditions
            or "Wij verzoeken u vriendelijk het bedrag van {document.total_price} voor "
            "{document.due_date} te voldoen onder vermelding van {document.payment_reference}.",
            "payment_reference": invoice.payment_reference,
            "short_payment_reference": (
                invoice.payment_reference[:12] if invoice.payment_reference else None
            ),
            "reference": invoice.reference,
            "language": invoice.language,
            "currency": invoice.currency,
            "discount": decimal_text(invoice.discount),
            "original_sales_invoice_id": invoice.original_sales_invoice_id,
            "paused": False,
            "paid_at": day_text(invoice.paid_at),
            "sent_at": day_text(invoice.sent_at),
            "created_at": timestamp(invoice.created_at),
            "updated_at": timestamp(invoice.updated_at),
            "public_view_code": code[:6] if sent else None,
            "public_view_code_expires_at": (
                timestamp(invoice.updated_at + 92 * 86400) if sent else None
            ),
            "version": invoice.version,
        }
        body.update(money)
        body.update(
            {
                "total_discount": decimal_text(discount_total),
                "marked_dubious_on": None,
                "marked_uncollectible_on": None,
                "reminder_count": 0,
                "next_reminder": date.fromordinal(due).isoformat() if sent else None,
                "original_estimate_id": None,
                "url": url,
                "payment_url": url,
                "custom_fields": [
                    {"id": field_id, "name": self._custom_field_name(field_id), "value": value}
                    for field_id, value in invoice.custom_fields
                ],
                "notes": [],
                "attachments": [self.attachment(a) for a in invoice.attachments],
                "events": [self.event(e, invoice.id, "SalesInvoice") for e in invoice.events],
                "tax_totals": tax_totals,
                "time_entries": [],
            }
        )
        return body

    def _custom_field_name(self, field_id: str) -> str:
        return next((f.name for f in self.setup.custom_fields if f.id == field_id), "")

    def external_invoice(self, invoice: ExternalSalesInvoice) -> Json:
        money = self._money_block(invoice)
        money.pop("_discount_total")
        contact = self.books.contacts.get(invoice.contact_id or "")
        body: Json = {
            "id": invoice.id,
            "administration_id": self.setup.id,
            "contact_id": invoice.contact_id,
            "contact": self.contact(contact, with_events=False) if contact else None,
            "date": invoice.date.isoformat(),
            "state": invoice.state,
            "due_date": day_text(invoice.due_date),
            "reference": invoice.reference,
            "entry_number": invoice.entry_number,
            "origin": "api",
            "source": invoice.source,
            "source_url": invoice.source_url,
            "currency": invoice.currency,
            "paid_at": day_text(invoice.paid_at),
            "created_at": timestamp(invoice.created_at),
            "updated_at": timestamp(invoice.updated_at),
            "version": invoice.version,
        }
        tax_totals = money.pop("tax_totals")
        body.update(money)
        body.update(
            {
                "marked_dubious_on": None,
                "marked_uncollectible_on": None,
                "notes": [],
                "attachments": [self.attachment(a) for a in invoice.attachments],
                "events": [
                    self.event(e, invoice.id, "ExternalSalesInvoice") for e in invoice.events
                ],
                "tax_totals": tax_totals,
            }
        )
        return body

    # -- settings ---------------------------------------------------------------------------

    def administration(self) -> Json:
        s = self.setup
        return {
            "id": s.id,
            "name": s.name,
            "language": s.language,
            "currency": s.currency,
            "country": s.country,
            "time_zone": s.time_zone,
            "access": "user",
            "suspended": False,
            "period_locked_until": None,
            "period_start_date": s.period_start_date,
        }

    def tax_rates(self) -> list[Json]:
        return [
            {
                "id": r.id,
                "administration_id": self.setup.id,
                "name": r.name,
                "percentage": None if r.percentage is None else decimal_text(r.percentage),
                "tax_rate_type": r.tax_rate_type,
                "show_tax": r.show_tax,
                "active": r.active,
                "country": r.country,
                "created_at": timestamp(r.created_at),
                "updated_at": timestamp(r.created_at),
            }
            for r in self.setup.tax_rates
        ]

    def ledger_accounts(self) -> list[Json]:
        return [
            {
                "id": a.id,
                "administration_id": self.setup.id,
                "name": a.name,
                "account_type": a.account_type,
                "account_id": a.account_id,
                "parent_id": a.parent_id,
                "active": a.active,
                "created_at": timestamp(a.created_at),
                "updated_at": timestamp(a.created_at),
                "allowed_document_types": list(a.allowed_document_types),
                "taxonomy_item": {
                    "taxonomy_version": "3.5",
                    "code": a.rgs_code,
                    "name": a.rgs_name,
                    "name_english": None,
                    "reference": None,
                },
                "financial_account_id": None,
            }
            for a in self.setup.ledger_accounts
        ]

    def workflows(self) -> list[Json]:
        return [
            {
                "id": w.id,
                "administration_id": self.setup.id,
                "type": w.type,
                "name": w.name,
                "default": w.default,
                "currency": w.currency,
                "language": w.language,
                "active": w.active,
                "prices_are_incl_tax": w.prices_are_incl_tax,
                "payment_methods": [],
                "collection_method": None,
                "number_of_collections": 0,
                "show_qr_code": True,
                "created_at": timestamp(w.created_at),
                "updated_at": timestamp(w.created_at),
                "steps": [
                    {
                        "id": str(int(w.id) + 500_000),
                        "administration_id": self.setup.id,
                        "step_order": 0,
                        "due_interval": w.due_interval,
                        "reminder_delay": 0,
                        "reminder_text": None,
                        "reminder_auto_send": False,
                        "action": None,
                        "created_at": timestamp(w.created_at),
                        "updated_at": timestamp(w.created_at),
                    }
                ],
            }
            for w in self.setup.workflows
        ]

    def document_styles(self) -> list[Json]:
        return [
            {
                "id": s.id,
                "administration_id": self.setup.id,
                "name": s.name,
                "identity_id": s.identity_id,
                "default": s.default,
                "logo_hash": None,
                "logo_container_full_width": False,
                "logo_display_width": 50,
                "logo_position": "left",
                "background_hash": None,
                "paper_size": "A4",
                "address_position": "left",
                "font_size": 10,
                "font_family": "Helvetica",
                "print_on_stationery": False,
                "custom_css": None,
                "invoice_sender_address": _SENDER_ADDRESS,
                "invoice_metadata_left": [{"field": "reference"}],
                "invoice_metadata_right": [{"field": "invoice_date"}, {"field": "due_date"}],
                "estimate_sender_address": _SENDER_ADDRESS,
                "estimate_metadata_left": [{"field": "reference"}],
                "estimate_metadata_right": [{"field": "estimate_date"}, {"field": "due_date"}],
                "created_at": timestamp(s.created_at),
                "updated_at": timestamp(s.created_at),
            }
            for s in self.setup.document_styles
        ]

    def identity(self, index: int = 0) -> Json:
        i = self.setup.identities[index]
        return {
            "id": i.id,
            "administration_id": self.setup.id,
            "company_name": i.company_name,
            "city": i.city,
            "country": i.country,
            "zipcode": i.zipcode,
            "address1": i.address1,
            "address2": None,
            "email": i.email,
            "phone": i.phone,
            "bank_account_name": None,
            "bank_account_number": i.bank_account_number,
            "bank_account_bic": None,
            "custom_fields": [],
            "updated_at": timestamp(i.created_at),
            "created_at": timestamp(i.created_at),
            "chamber_of_commerce": i.chamber_of_commerce,
            "tax_number": i.tax_number,
        }

    def financial_accounts(self) -> list[Json]:
        return [
            {
                "id": a.id,
                "administration_id": self.setup.id,
                "type": a.type,
                "name": a.name,
                "identifier": a.identifier,
                "currency": a.currency,
                "provider": a.provider,
                "moneybird_account": False,
                "active": a.active,
                "created_at": timestamp(a.created_at),
                "updated_at": timestamp(a.created_at),
            }
            for a in self.setup.financial_accounts
            if a.active
        ]

    def custom_fields(self) -> list[Json]:
        return [
            {"id": f.id, "administration_id": self.setup.id, "name": f.name, "source": f.source}
            for f in self.setup.custom_fields
        ]

    def webhook(self, webhook: Webhook, *, with_secret: bool = False) -> Json:
        body: Json = {
            "id": webhook.id,
            "administration_id": self.setup.id,
            "url": webhook.url,
            "enabled_events": list(webhook.enabled_events),
            "last_http_status": webhook.last_http_status,
            "last_http_body": webhook.last_http_body,
            "token": webhook.token,
            "deactivated_at": (
                None if webhook.deactivated_at is None else timestamp(webhook.deactivated_at)
            ),
        }
        if with_secret:
            body["secret"] = webhook.secrets[0]
        return body


_SENDER_ADDRESS: list[Json] = [
    {"field": "company_name", "bold": True},
    {"field": "address"},
    {"field": "newline"},
    {"field": "email"},
    {"field": "phone"},
    {"field": "newline"},
    {"field": "chamber_of_commerce", "label": True},
    {"field": "tax_number", "label": True},
    {"field": "bank_account_number", "label": True},
]


def _tax_report_box(rate_name: str) -> str:
    name = rate_name.lower()
    if "intracommunautair" in name:
        return "NL/3b"
    if "export" in name:
        return "NL/3a"
    if "verlegd" in name:
        return "NL/2a"
    if "9%" in name or "laag" in name:
        return "NL/1b"
    return "NL/1a"


def _mandatory_text(rate_name: str) -> str | None:
    name = rate_name.lower()
    if "intracommunautair" in name:
        return "Intracommunautaire levering, artikel 138, lid 1, Richtlijn 2006/112"
    if "verlegd" in name:
        return "Btw verlegd"
    return None
