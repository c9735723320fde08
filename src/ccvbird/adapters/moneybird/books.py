"""The engine's ``Books`` port on the Moneybird client: wire models in, domain values out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta

from ccvbird.adapters.moneybird import wire
from ccvbird.adapters.moneybird.client import MoneybirdClient
from ccvbird.adapters.moneybird.payload import credit_rewrite_payload
from ccvbird.domain.administration import AdministrationSettings, NamedInfo, TaxRateInfo
from ccvbird.domain.invoice import ContactDraft, InvoiceDraft
from ccvbird.domain.sync import RemoteContact, RemoteInvoice, RemoteTaxTotal
from ccvbird.ports import PaymentDraft

#: How far around the invoice date an external invoice is looked for after an uncertain create.
EXTERNAL_LOOKUP_MARGIN = timedelta(days=7)
#: At most this many references, and this many characters of them, per
#: ``filter=reference:a|b|…`` request: a page of orders in one URL of sensible length.
REFERENCES_PER_REQUEST = 100
REFERENCE_CHARACTERS_PER_REQUEST = 1500


def remote_contact(contact: wire.Contact) -> RemoteContact:
    emails = [contact.email, *contact.send_invoices_to_email.split(",")]
    return RemoteContact(
        id=contact.id,
        emails=tuple(e.strip().lower() for e in emails if e.strip()),
        archived=contact.archived,
        version=contact.version or 0,
    )


def remote_invoice(invoice: wire.SalesInvoice | wire.ExternalSalesInvoice) -> RemoteInvoice:
    number = invoice.invoice_id if isinstance(invoice, wire.SalesInvoice) else None
    return RemoteInvoice(
        id=invoice.id,
        reference=invoice.reference,
        state=invoice.state,
        total_incl_vat=invoice.total_price_incl_tax,
        total_unpaid=invoice.total_unpaid,
        invoice_number=number or None,
        contact_id=invoice.contact_id,
        payment_ids=tuple(p.id for p in invoice.payments),
        total_unpaid_base=invoice.total_unpaid_base if invoice.currency != "EUR" else None,
        tax_totals=tuple(
            RemoteTaxTotal(t.tax_rate_id, t.taxable_amount, t.tax_amount)
            for t in invoice.tax_totals
        ),
        original_invoice_id=(
            invoice.original_sales_invoice_id if isinstance(invoice, wire.SalesInvoice) else None
        ),
        detail_ids=tuple(d.id for d in invoice.details if d.id is not None),
    )


class MoneybirdBooks:
    """``Books`` for one administration."""

    def __init__(self, client: MoneybirdClient) -> None:
        self.client = client

    # contacts
    def close(self) -> None:
        self.client.close()

    def contact_versions(self) -> Mapping[str, int]:
        return self.client.contact_versions()

    def contacts(self, ids: Iterable[str]) -> list[RemoteContact]:
        return [remote_contact(c) for c in self.client.contacts_by_ids(ids)]

    def find_contacts_by_email(self, email: str) -> list[RemoteContact]:
        return [remote_contact(c) for c in self.client.find_contacts_by_email(email)]

    def create_contact(self, contact: ContactDraft) -> RemoteContact:
        return remote_contact(self.client.create_contact(contact))

    # invoices
    def create_invoice(
        self, draft: InvoiceDraft, *, contact_id: str, external: bool
    ) -> RemoteInvoice:
        if external:
            return remote_invoice(
                self.client.create_external_sales_invoice(draft, contact_id=contact_id)
            )
        return remote_invoice(self.client.create_sales_invoice(draft, contact_id=contact_id))

    def find_invoice(
        self, reference: str, *, contact_id: str | None, external: bool, invoice_date: date
    ) -> RemoteInvoice | None:
        if not external:
            found = self.client.find_sales_invoice_by_reference(reference)
            return remote_invoice(found) if found is not None else None
        # External invoices have no find-by-reference: list the contact's invoices around the
        # invoice date instead (a period is always given: Moneybird's default is this year).
        start, end = invoice_date - EXTERNAL_LOOKUP_MARGIN, invoice_date + EXTERNAL_LOOKUP_MARGIN
        period = f"{start:%Y%m%d}..{end:%Y%m%d}"
        for invoice in self.client.external_sales_invoices(contact_id=contact_id, period=period):
            if invoice.reference == reference:
                return remote_invoice(invoice)
        return None

    def invoices_with_references(
        self, references: Sequence[str], *, external: bool, period: tuple[date, date]
    ) -> dict[str, RemoteInvoice]:
        wanted = set(references)
        span = f"{period[0]:%Y%m%d}..{period[1]:%Y%m%d}"
        if external:
            # No reference filter on external invoices: list the period's and pick.
            listed: list[wire.SalesInvoice | wire.ExternalSalesInvoice] = [
                *self.client.external_sales_invoices(period=span)
            ]
        else:
            plain = sorted(r for r in wanted if r and "|" not in r and "," not in r)
            listed = []
            for chunk in _filter_chunks(plain):
                listed.extend(self.client.sales_invoices_with_references(chunk, period=span))
            for odd in sorted(wanted.difference(plain, {""})):
                one = self.client.find_sales_invoice_by_reference(odd)
                listed.extend([one] if one is not None else [])
        found: dict[str, RemoteInvoice] = {}
        # Oldest first, so when a reference is on several invoices the first one made wins.
        for invoice in sorted(listed, key=lambda i: (len(i.id), i.id)):
            if invoice.reference in wanted:
                found.setdefault(invoice.reference, remote_invoice(invoice))
        return found

    def get_invoice(self, invoice_id: str, *, external: bool) -> RemoteInvoice:
        if external:
            return remote_invoice(self.client.get_external_sales_invoice(invoice_id))
        return remote_invoice(self.client.get_sales_invoice(invoice_id))

    def delete_draft(self, invoice_id: str) -> bool:
        return self.client.delete_sales_invoice(invoice_id)

    def tax_rates(self) -> tuple[TaxRateInfo, ...]:
        # Always read again: the engine keeps its own copy and decides when it is too old.
        return tuple(tax_rate_info(r) for r in self.client.tax_rates(refresh=True))

    def send_invoice(self, invoice_id: str) -> RemoteInvoice:
        return remote_invoice(self.client.send_sales_invoice(invoice_id, delivery_method="Manual"))

    def register_payment(
        self, invoice: RemoteInvoice, payment: PaymentDraft, *, external: bool
    ) -> str:
        arguments = {
            "payment_date": payment.payment_date,
            "price": payment.amount,
            "price_base": payment.amount_base,
            "financial_account_id": payment.financial_account_id,
            "transaction_identifier": payment.transaction_id or None,
            "manual_payment_action": payment.manual_payment_action,
            "invoice_id": payment.settles_invoice_id,
        }
        if external:
            return self.client.create_external_payment(invoice.id, **arguments).id  # type: ignore[arg-type]
        return self.client.create_payment(invoice.id, **arguments).id  # type: ignore[arg-type]

    # credit invoices
    def duplicate_credit(self, original_invoice_id: str) -> RemoteInvoice:
        return remote_invoice(self.client.duplicate_credit_invoice(original_invoice_id))

    def find_credit_drafts(
        self, original_reference: str, original_invoice_id: str
    ) -> list[RemoteInvoice]:
        drafts = self.client.draft_sales_invoices_with_reference(original_reference)
        return [
            remote_invoice(d)
            for d in sorted(drafts, key=lambda d: (len(d.id), d.id))
            if d.original_sales_invoice_id == original_invoice_id
        ]

    def rewrite_credit(self, credit: RemoteInvoice, draft: InvoiceDraft) -> RemoteInvoice:
        body = credit_rewrite_payload(draft, remove=credit.detail_ids)
        return remote_invoice(self.client.update_sales_invoice(credit.id, body))

    def settle_credit(self, credit_id: str) -> RemoteInvoice:
        return remote_invoice(self.client.settle_credit_invoice(credit_id))


def _filter_chunks(references: list[str]) -> Iterable[list[str]]:
    """``references`` in groups that each fit one filter request."""
    chunk: list[str] = []
    length = 0
    for reference in references:
        if chunk and (
            len(chunk) == REFERENCES_PER_REQUEST
            or length + len(reference) + 1 > REFERENCE_CHARACTERS_PER_REQUEST
        ):
            yield chunk
            chunk, length = [], 0
        chunk.append(reference)
        length += len(reference) + 1
    if chunk:
        yield chunk


def tax_rate_info(rate: wire.TaxRate) -> TaxRateInfo:
    return TaxRateInfo(
        rate.id,
        rate.name,
        rate.percentage,
        rate.country,
        rate.for_sales_invoices,
        tax_rate_type=rate.tax_rate_type,
        active=rate.active,
    )


def administration_settings(client: MoneybirdClient) -> AdministrationSettings:
    """The administration's tax rates, ledger accounts, workflows, styles and accounts."""
    return AdministrationSettings(
        tax_rates=tuple(tax_rate_info(r) for r in client.tax_rates()),
        ledger_accounts=tuple(
            NamedInfo(
                a.id,
                a.name,
                a.account_type,
                usable=a.active and "sales_invoice" in a.allowed_document_types,
                active=a.active,
            )
            for a in client.ledger_accounts()
        ),
        workflows=tuple(
            NamedInfo(w.id, w.name, w.type, w.default, w.active) for w in client.workflows()
        ),
        document_styles=tuple(
            NamedInfo(s.id, s.name, "", s.default) for s in client.document_styles()
        ),
        financial_accounts=tuple(
            NamedInfo(a.id, a.name, a.type, usable=a.active, active=a.active)
            for a in client.financial_accounts()
        ),
        currency=next(
            (
                (a.currency or "EUR").upper()
                for a in client.administrations()
                if a.id == client.administration_id
            ),
            "EUR",
        ),
    )
