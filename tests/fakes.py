"""In-memory Shop and Books for engine tests, with fault injection at every call.

They keep what the engine must never get wrong countable: how many invoices, payments and
contacts exist. A :class:`Faults` plan makes chosen calls fail *before* or *after* they take
effect (after = "lost response": the write happened, the caller sees an error), or crashes the
caller with :class:`Crash` (a BaseException, like a killed worker: nothing catches it).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ccvbird.adapters.ccvshop.wire import parse_order
from ccvbird.domain.administration import TaxRateInfo
from ccvbird.domain.credits import CcvCredit
from ccvbird.domain.errors import NotFound, RequestTimeout, ServiceUnavailable
from ccvbird.domain.invoice import ContactDraft, InvoiceDraft
from ccvbird.domain.order import Order, OrderSummary
from ccvbird.domain.sync import RemoteContact, RemoteInvoice, RemoteTaxTotal, normalise_email
from ccvbird.ports import PaymentDraft
from ccvbird.sandbox.moneybird.seed import voorbeeld_bv


def sandbox_tax_rates() -> dict[str, TaxRateInfo]:
    """The tax rates of the sandbox administration (the ids of the example profile)."""
    return {
        r.id: TaxRateInfo(
            r.id, r.name, r.percentage, r.country, r.usable_on_sales_invoices,
            tax_rate_type=r.tax_rate_type, active=r.active,
        )
        for r in voorbeeld_bv().tax_rates
    }  # fmt: skip


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _covered(invoice: _Invoice) -> bool:
    """Its payments cover its total (a credit's negative total by going as far below zero)."""
    paid = sum((p for _, p in invoice.payments), Decimal(0))
    return paid >= invoice.total if invoice.total >= 0 else paid <= invoice.total


class Crash(BaseException):
    """The process dies here (not an Exception: the engine cannot catch it)."""


@dataclass
class Faults:
    """Which calls fail: ``{call_number: kind}`` with kind ``before``, ``after`` (lost response),
    ``crash_before``, ``crash_after`` or ``5xx``. Calls are counted over the fake's lifetime."""

    plan: dict[int, str] = field(default_factory=dict)
    calls: int = 0
    log: list[str] = field(default_factory=list)

    def around(self, name: str, action: Any) -> Any:
        self.calls += 1
        self.log.append(name)
        kind = self.plan.pop(self.calls, None)
        if kind == "crash_before":
            raise Crash(name)
        if kind == "before":
            raise RequestTimeout(f"{name}: timed out before sending")
        if kind == "5xx":
            raise ServiceUnavailable(f"{name}: 503")
        result = action()
        if kind == "after":
            raise RequestTimeout(f"{name}: the answer was lost")
        if kind == "crash_after":
            raise Crash(name)
        return result


class FakeShop:
    def __init__(self, documents: Iterable[dict[str, Any]] = ()) -> None:
        self.documents: dict[str, dict[str, Any]] = {}
        self.reads = 0
        #: Order id → its CCV credit invoices (amounts positive, as the adapter hands them).
        self.credit_invoices: dict[str, list[CcvCredit]] = {}
        self.credit_reads = 0
        self.credit_listings = 0
        #: (``invoice`` | ``return``, id) → its order id, for credit webhooks.
        self.sources: dict[tuple[str, str], str] = {}
        for document in documents:
            self.put(document)

    def put(self, document: dict[str, Any]) -> Order:
        order = parse_order(document["order"], document["orderrows"])
        self.documents[order.order_id] = document
        return order

    def order_of(self, kind: str, resource_id: str) -> str:
        """The order of an invoice or return, as a test put it (``sources``)."""
        self.reads += 1
        found = self.sources.get((kind, resource_id))
        if found is None:
            raise NotFound(f"{kind} {resource_id} not found", status=404)
        return found

    def credits(self, order: Order) -> list[CcvCredit]:
        """The order's CCV credit invoices as a test put them (``credit_invoices``)."""
        self.credit_reads += 1
        return list(self.credit_invoices.get(order.order_id, []))

    def credited_orders(
        self, *, created_from: datetime, created_until: datetime | None = None
    ) -> list[str]:
        """The orders with a credit (``credit_invoices``) created in the window."""
        self.credit_listings += 1
        until = created_until or datetime.max.replace(tzinfo=UTC)
        return [
            order_id
            for order_id, credits in self.credit_invoices.items()
            if any(created_from <= c.created_at < until for c in credits)
        ]

    def listed_credits(
        self, *, created_from: datetime, created_until: datetime | None = None
    ) -> list[tuple[str, str]]:
        """(order id, credit invoice id) of the credits (``credit_invoices``) of the window."""
        self.credit_listings += 1
        until = created_until or datetime.max.replace(tzinfo=UTC)
        return [
            (order_id, c.invoice_id)
            for order_id, credits in self.credit_invoices.items()
            for c in credits
            if created_from <= c.created_at < until
        ]

    def get_order(self, order_id: str) -> Order:
        self.reads += 1
        document = self.documents.get(order_id)
        if document is None:
            raise NotFound(f"order {order_id} not found", status=404)
        return parse_order(document["order"], document["orderrows"])

    def _window(self, created_from: datetime, created_until: datetime | None) -> list[Order]:
        orders = [parse_order(d["order"], d["orderrows"]) for d in self.documents.values()]
        until = created_until or datetime.max.replace(tzinfo=UTC)
        chosen = [o for o in orders if o.is_completed and created_from <= o.created_at < until]
        return sorted(chosen, key=lambda o: (o.created_at, o.order_id))

    def iter_orders(
        self,
        *,
        created_from: datetime,
        created_until: datetime | None = None,
        on_invalid: Any = None,
    ) -> Iterator[Order]:
        yield from self._window(created_from, created_until)

    def list_orders(
        self, *, created_from: datetime, created_until: datetime | None = None
    ) -> Iterator[OrderSummary]:
        for o in self._window(created_from, created_until):
            yield OrderSummary(o.order_id, o.number, o.created_at, o.status, o.paid, o.is_completed)


@dataclass
class _Invoice:
    id: str
    reference: str
    contact_id: str
    total: Decimal
    external: bool
    state: str = "draft"
    number: str | None = None
    payments: list[tuple[str, Decimal]] = field(default_factory=list)
    #: (tax rate id, taxable amount, VAT) as Moneybird's ``tax_totals`` would say.
    tax: tuple[tuple[str, Decimal, Decimal], ...] = ()
    #: A credit invoice's original (``original_sales_invoice_id``).
    original_id: str | None = None
    #: Detail ids and the lines as (quantity, price, tax rate id), for tests to read.
    detail_ids: tuple[str, ...] = ()
    lines: tuple[tuple[Decimal, Decimal, str | None], ...] = ()

    def remote(self) -> RemoteInvoice:
        paid = sum((p for _, p in self.payments), Decimal(0))
        return RemoteInvoice(
            id=self.id,
            reference=self.reference,
            state=self.state,
            total_incl_vat=self.total,
            total_unpaid=self.total - paid,
            invoice_number=self.number,
            contact_id=self.contact_id,
            payment_ids=tuple(pid for pid, _ in self.payments),
            tax_totals=tuple(RemoteTaxTotal(r, net, vat) for r, net, vat in self.tax if vat),
            original_invoice_id=self.original_id,
            detail_ids=self.detail_ids,
        )


class FakeBooks:
    """A Moneybird administration in memory: draft → open (numbered) → paid."""

    def __init__(self, faults: Faults | None = None) -> None:
        self.faults = faults or Faults()
        self.contacts_by_id: dict[str, RemoteContact] = {}
        self.invoices: dict[str, _Invoice] = {}
        #: The date each invoice and each payment was booked with, by id.
        self.invoice_dates: dict[str, date] = {}
        self.payment_dates: dict[str, date] = {}
        self.requests = 0
        self._ids = itertools.count(480_000_000_000_000_001)
        self._numbers = itertools.count(1)
        #: The administration's tax rates; a test changes one to see the engine notice.
        self.rates = sandbox_tax_rates()
        self.tax_rate_reads = 0

    def _id(self) -> str:
        return str(next(self._ids))

    def _call(self, name: str, action: Any) -> Any:
        self.requests += 1
        return self.faults.around(name, action)

    # contacts
    def contact_versions(self) -> Mapping[str, int]:
        return self._call(
            "contact_versions", lambda: {c.id: c.version for c in self.contacts_by_id.values()}
        )

    def contacts(self, ids: Iterable[str]) -> list[RemoteContact]:
        wanted = list(ids)
        return self._call(
            "contacts", lambda: [self.contacts_by_id[i] for i in wanted if i in self.contacts_by_id]
        )

    def find_contacts_by_email(self, email: str) -> list[RemoteContact]:
        key = normalise_email(email)
        return self._call(
            "find_contacts", lambda: [c for c in self.contacts_by_id.values() if key in c.emails]
        )

    def create_contact(self, contact: ContactDraft) -> RemoteContact:
        def create() -> RemoteContact:
            created = RemoteContact(
                self._id(), (normalise_email(contact.email),) if contact.email else (), False, 1
            )
            self.contacts_by_id[created.id] = created
            return created

        return self._call("create_contact", create)

    def add_existing_contact(self, email: str, *, archived: bool = False) -> str:
        contact = RemoteContact(self._id(), (normalise_email(email),), archived, 1)
        self.contacts_by_id[contact.id] = contact
        return contact.id

    # invoices
    def add_existing_invoice(
        self,
        reference: str,
        total: Decimal,
        *,
        paid: bool,
        tax: tuple[tuple[str, Decimal, Decimal], ...] = (),
    ) -> str:
        """An invoice booked by someone else (another connector, a person): sent, and paid in
        full or not at all. ``tax``: its ``tax_totals`` (tax rate id, taxable amount, VAT)."""
        contact = self.add_existing_contact(f"elders-{reference}@example.nl")
        invoice = _Invoice(self._id(), reference, contact, total, False, "open", tax=tax)
        invoice.number = f"2025-{next(self._numbers):04d}"
        if paid:
            invoice.payments.append((self._id(), total))
            invoice.state = "paid"
        self.invoices[invoice.id] = invoice
        return invoice.id

    def create_invoice(
        self, draft: InvoiceDraft, *, contact_id: str, external: bool
    ) -> RemoteInvoice:
        def create() -> RemoteInvoice:
            tax = self._tax_totals(draft)
            total = sum((net + vat for _, net, vat in tax), Decimal(0))
            invoice = _Invoice(self._id(), draft.reference, contact_id, total, external, tax=tax)
            if external:
                invoice.state = "open"
            self.invoices[invoice.id] = invoice
            self.invoice_dates[invoice.id] = draft.invoice_date
            return invoice.remote()

        return self._call("create_invoice", create)

    def _tax_totals(self, draft: InvoiceDraft) -> tuple[tuple[str, Decimal, Decimal], ...]:
        """Moneybird's arithmetic with the fake's own rates: per rate, VAT rounded once."""
        sums: dict[str, Decimal] = {}
        for line in draft.lines:
            rate_id = line.tax_rate_id or ""
            sums[rate_id] = sums.get(rate_id, Decimal(0)) + _cents(line.quantity * line.price)
        result = []
        for rate_id, amount in sums.items():
            rate = self.rates.get(rate_id)
            pct = (rate.percentage if rate else None) or Decimal(0)
            if draft.prices_include_vat:
                vat = _cents(amount * pct / (100 + pct))
                result.append((rate_id, amount - vat, vat))
            else:
                result.append((rate_id, amount, _cents(amount * pct / 100)))
        return tuple(result)

    def tax_rates(self) -> tuple[TaxRateInfo, ...]:
        # Not a counted call: it is not one of the booking steps the fault plans number.
        self.tax_rate_reads += 1
        return tuple(self.rates.values())

    def delete_draft(self, invoice_id: str) -> bool:
        def delete() -> bool:
            invoice = self.invoices.get(invoice_id)
            if invoice is None:
                return False
            if invoice.state != "draft":
                raise AssertionError("Moneybird deletes drafts only here")
            del self.invoices[invoice_id]
            return True

        return self._call("delete_draft", delete)

    def find_invoice(
        self, reference: str, *, contact_id: str | None, external: bool, invoice_date: Any = None
    ) -> RemoteInvoice | None:
        def find() -> RemoteInvoice | None:
            for invoice in self.invoices.values():
                if invoice.reference == reference and invoice.external == external:
                    return invoice.remote()
            return None

        return self._call("find_invoice", find)

    def invoices_with_references(
        self, references: Any, *, external: bool, period: Any
    ) -> dict[str, RemoteInvoice]:
        def find() -> dict[str, RemoteInvoice]:
            wanted = set(references)
            return {
                i.reference: i.remote()
                for i in self.invoices.values()
                if i.reference in wanted and i.external == external
            }

        return self._call("invoices_with_references", find)

    def get_invoice(self, invoice_id: str, *, external: bool) -> RemoteInvoice:
        return self._call("get_invoice", lambda: self.invoices[invoice_id].remote())

    def send_invoice(self, invoice_id: str) -> RemoteInvoice:
        def send() -> RemoteInvoice:
            invoice = self.invoices[invoice_id]
            if invoice.state == "draft":
                invoice.state = "open"
                invoice.number = f"2026-{next(self._numbers):04d}"
            return invoice.remote()

        return self._call("send_invoice", send)

    def register_payment(
        self, invoice: RemoteInvoice, payment: PaymentDraft, *, external: bool
    ) -> str:
        def pay() -> str:
            stored = self.invoices[invoice.id]
            if stored.state == "draft":
                raise AssertionError("Moneybird refuses a payment on a draft")
            payment_id = self._id()
            stored.payments.append((payment_id, payment.amount))
            self.payment_dates[payment_id] = payment.payment_date
            if _covered(stored):
                stored.state = "paid"
            if payment.manual_payment_action == "invoices_settlement":
                # Set off against another invoice: it gets the same amount the other way.
                other = self.invoices[payment.settles_invoice_id or ""]
                if other.state not in ("open",) or other.id == stored.id:
                    raise AssertionError("settled against an invoice that takes no payment")
                other.payments.append((self._id(), -payment.amount))
                if _covered(other):
                    other.state = "paid"
            return payment_id

        return self._call("register_payment", pay)

    # credit invoices (as the spec's duplicate_creditinvoice example shows them)
    def duplicate_credit(self, original_invoice_id: str) -> RemoteInvoice:
        def duplicate() -> RemoteInvoice:
            original = self.invoices.get(original_invoice_id)
            if original is None:
                raise NotFound(f"sales invoice {original_invoice_id} not found", status=404)
            credit = _Invoice(
                self._id(), original.reference, original.contact_id, -original.total, False,
                tax=tuple((r, -net, -vat) for r, net, vat in original.tax),
                original_id=original.id, detail_ids=(self._id(), self._id()),
            )  # fmt: skip
            self.invoices[credit.id] = credit
            return credit.remote()

        return self._call("duplicate_credit", duplicate)

    def find_credit_drafts(
        self, original_reference: str, original_invoice_id: str
    ) -> list[RemoteInvoice]:
        def find() -> list[RemoteInvoice]:
            return [
                i.remote()
                for i in self.invoices.values()
                if i.state == "draft"
                and i.reference == original_reference
                and i.original_id == original_invoice_id
            ]

        return self._call("find_credit_drafts", find)

    def rewrite_credit(self, credit: RemoteInvoice, draft: InvoiceDraft) -> RemoteInvoice:
        def rewrite() -> RemoteInvoice:
            stored = self.invoices[credit.id]
            if stored.state != "draft":
                raise AssertionError("only a draft's lines are rewritten here")
            stored.reference = draft.reference
            stored.tax = self._tax_totals(draft)
            stored.total = sum((net + vat for _, net, vat in stored.tax), Decimal(0))
            stored.lines = tuple((x.quantity, x.price, x.tax_rate_id) for x in draft.lines)
            stored.detail_ids = tuple(self._id() for _ in draft.lines)
            self.invoice_dates[stored.id] = draft.invoice_date
            return stored.remote()

        return self._call("rewrite_credit", rewrite)

    def settle_credit(self, credit_id: str) -> RemoteInvoice:
        def settle() -> RemoteInvoice:
            credit = self.invoices[credit_id]
            assert credit.original_id is not None and credit.state != "draft"
            original = self.invoices[credit.original_id]
            if original.state == "draft":
                raise AssertionError("both invoices must accept a payment")
            credit.payments.append((self._id(), credit.total))
            original.payments.append((self._id(), -credit.total))
            credit.state = "paid"
            if original.remote().total_unpaid <= 0:
                original.state = "paid"
            return credit.remote()

        return self._call("settle_credit", settle)

    # what tests count
    def invoices_for(self, reference: str) -> list[_Invoice]:
        return [i for i in self.invoices.values() if i.reference == reference]

    def summary(self) -> dict[str, int]:
        return {
            "invoices": len(self.invoices),
            "payments": sum(len(i.payments) for i in self.invoices.values()),
            "contacts": len(self.contacts_by_id),
        }


class FixedClock:
    def __init__(self, now: datetime | None = None) -> None:
        self.current = now or datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def today(self) -> Any:
        return self.current.date()
