"""Book one order: every paid order exactly once, to the cent, whatever fails on the way.

``sync_order`` re-reads the order from CCV (a webhook or a poll only says "look at order X"),
decides what is still to be done, and does it step by step:

    contact → invoice → send (Manual) → payment → booked

Before each create the intent is committed; after each call the result is committed. When a
call's outcome is uncertain (timeout, 5xx, a crash before the answer was stored), the next run
sees the intent and looks the object up — the invoice by its reference, the contact by e-mail,
the payment on the invoice — and adopts it instead of creating it again.

What goes wrong is sorted by who can fix it (``domain/errors.py``): transient errors retry with
backoff; lost credentials, a plan limit or a missing scope pause the connection; a problem with
this one order parks it with the reason in words while the others go on.

A worker runs the engine with a store fenced by the connection's lease: every commit renews the
lease in its own transaction, and each intent is committed right before its Moneybird write, so
a write goes out only after the lease was verified and the record found as this run left it.
When the lease was lost (:class:`LeaseLost`) the engine stops at once and writes nothing more.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum, StrEnum

from ccvbird.domain.decisions import booking_blockers
from ccvbird.domain.errors import (
    CcvbirdError,
    LeaseLost,
    NeedsUserError,
    NotFound,
    OrderProblem,
    RateLimited,
    TransientError,
)
from ccvbird.domain.mapping import MappingResult, ProblemCode, invoice_reference, map_order
from ccvbird.domain.money import format_amount
from ccvbird.domain.order import STATUS_CANCELLED, Order
from ccvbird.domain.profile import ExistingInvoicePolicy, InvoiceKind, MappingProfile
from ccvbird.domain.sync import (
    HAS_INVOICE,
    LEFT_ALONE,
    OrderRecord,
    RemoteInvoice,
    Step,
    SyncState,
)
from ccvbird.ports import Books, Clock, ConnectionInfo, PaymentDraft, Shop, Store
from ccvbird.service.contacts import ContactResolver

log = logging.getLogger(__name__)


class Trigger(StrEnum):
    WEBHOOK = "webhook"
    POLL = "poll"
    IMPORT = "import"
    RETRY = "retry"


class Lookup(Enum):
    """``existing=NOT_DONE``: nobody has checked Moneybird for an invoice with the order's
    reference yet (an import checks a page of orders at once and passes what it found)."""

    NOT_DONE = "not_done"


#: Why an order waits: Moneybird has an unfinished invoice for it that ccvbird did not make.
ALREADY_IN_MONEYBIRD = "already_in_moneybird"
#: How far outside the orders' dates an existing invoice is still looked for.
EXISTING_MARGIN = timedelta(days=7)


class Outcome(StrEnum):
    BOOKED = "booked"
    #: An invoice for the order was in Moneybird already: it became the order's booking.
    TAKEN_OVER = "taken_over"
    ALREADY_BOOKED = "already_booked"
    WAITING = "waiting"
    SKIPPED = "skipped"
    PARKED = "parked"
    CHANGED = "changed"
    RETRY_LATER = "retry_later"
    PAUSED = "paused"


@dataclass(frozen=True, slots=True)
class SyncResult:
    outcome: Outcome
    record: OrderRecord
    retry_in: timedelta | None = None


@dataclass
class SyncEngine:
    """The booking pipeline of one connection, with its ports."""

    store: Store
    shop: Shop
    books: Books
    clock: Clock
    max_attempts: int = 8
    contact_refresh: timedelta = timedelta(minutes=10)
    base_backoff: timedelta = timedelta(seconds=30)
    _contacts: ContactResolver | None = field(default=None, init=False, repr=False)
    #: Log lines of steps whose results are committed with the next intent (one transaction).
    _pending: list[tuple[str, str]] = field(default_factory=list, init=False, repr=False)

    @property
    def contacts(self) -> ContactResolver:
        if self._contacts is None:
            self._contacts = ContactResolver(
                self.store, self.books, self.clock, self.contact_refresh, commit=self._commit
            )
        return self._contacts

    # -- the entry point --------------------------------------------------------------------------

    def sync_order(
        self,
        connection_id: int,
        order_id: str,
        *,
        trigger: Trigger = Trigger.POLL,
        order: Order | None = None,
        existing: RemoteInvoice | Lookup | None = Lookup.NOT_DONE,
    ) -> SyncResult:
        """Do what is still to be done for one order. ``order``: the order as just read from
        CCV (an import has it already); without it the order is read now. ``existing``: what
        a batched look-up found in Moneybird for the order's reference (``None``: nothing)."""
        self._pending.clear()
        connection = self.store.connection(connection_id)
        record = self.store.record(connection_id, order_id)
        if connection.paused_reason or not connection.enabled:
            return SyncResult(Outcome.PAUSED, record)
        try:
            return self._sync(connection, record, trigger, order, existing)
        except LeaseLost:
            # Another worker holds the connection now: not one more write (docs/engine.md).
            self._pending.clear()
            raise
        except RateLimited as exc:
            # Not the order's fault: try again when the budget allows, without counting it.
            wait = timedelta(seconds=max((exc.retry_at or 0) - self.clock.now().timestamp(), 30))
            self._commit(
                record,
                "retry.rate_limited",
                f"Moneybird or CCV asked to slow down; retrying in {wait}.",
            )
            return SyncResult(Outcome.RETRY_LATER, record, wait)
        except TransientError as exc:
            return self._transient(record, exc)
        except NeedsUserError as exc:
            reason = (
                f"{exc} — reconnect or fix this in the settings; syncing resumes where it stopped."
            )
            self.store.pause(connection_id, reason)
            self._commit(record, "connection.paused", reason)
            return SyncResult(Outcome.PAUSED, record)
        except OrderProblem as exc:
            return self._park(record, "invalid_data", f"The order cannot be read: {exc}.")
        except CcvbirdError as exc:
            return self._park(record, "refused", f"Moneybird or CCV refused a request: {exc}.")
        except Exception as exc:  # a bug: park the order with context, keep the others going
            log.exception(
                "unexpected error while syncing order %s of connection %s", order_id, connection_id
            )
            return self._park(
                record,
                "bug",
                f"Unexpected error ({type(exc).__name__}: {exc}). This is a bug in ccvbird; "
                "retry after updating, or report it.",
            )

    # -- deciding ---------------------------------------------------------------------------------

    def _sync(
        self,
        connection: ConnectionInfo,
        record: OrderRecord,
        trigger: Trigger,
        order: Order | None,
        existing: RemoteInvoice | Lookup | None,
    ) -> SyncResult:
        if record.state in LEFT_ALONE:
            # Credited or deleted in Moneybird by a person: only a person's retry changes that.
            outcome = Outcome.SKIPPED if record.invoice_id is None else Outcome.ALREADY_BOOKED
            return SyncResult(outcome, record)
        try:
            if order is None:
                order = self.shop.get_order(record.order_id)
        except NotFound:
            if record.has_invoice:
                return self._changed(
                    record, "The order was deleted in CCV Shop after it was booked."
                )
            record.state, record.reason, record.reason_code = (
                SyncState.SKIPPED,
                "The order no longer exists in CCV Shop.",
                "deleted",
            )
            self._commit(record, "skipped", record.reason)
            return SyncResult(Outcome.SKIPPED, record)
        profile = connection.profile
        record.order_number = order.number or record.order_number
        record.order_created_at = order.created_at
        record.ccv_status, record.ccv_paid = order.status, order.paid

        if record.state in HAS_INVOICE and record.next_step is Step.DONE:
            return self._check_unchanged(record, map_order(order, profile))

        if not record.has_invoice:
            blockers = booking_blockers(order, profile)
            if blockers:
                return self._not_due(record, order, blockers)
            if (
                connection.start_date is not None
                and trigger is not Trigger.IMPORT
                and order.created_at.date() < connection.start_date
            ):
                return self._skip(
                    record,
                    "before_start",
                    f"The order is from before the connection's start date "
                    f"({connection.start_date.isoformat()}); import history to book it.",
                )

        result = map_order(order, profile, booking_date=self.clock.today())
        if result.problems and not record.has_invoice:
            message = " ".join(p.message for p in result.problems)
            return self._park(record, result.problems[0].code.value, message)
        return self._book(connection, record, order, result, existing)

    # -- booking ----------------------------------------------------------------------------------

    def _book(
        self,
        connection: ConnectionInfo,
        record: OrderRecord,
        order: Order,
        result: MappingResult,
        existing: RemoteInvoice | Lookup | None,
    ) -> SyncResult:
        external = connection.profile.invoice_kind is InvoiceKind.EXTERNAL_SALES_INVOICE
        invoice: RemoteInvoice | None = None
        taken_over: RemoteInvoice | None = None
        if record.invoice_id is None and not record.invoice_intent:
            # Not made by this state database: is it in Moneybird already all the same?
            found = self._already_in_moneybird(
                connection, record, order, result, external, existing
            )
            if found is not None:
                parked = self._take_over(record, found, connection.profile)
                if parked is not None:
                    return parked
                invoice = taken_over = found

        if record.state is not SyncState.BOOKING:
            record.state, record.reason, record.reason_code = SyncState.BOOKING, "", ""
            self._later("booking.start", f"booking order {order.number}")

        if record.invoice_id is None and record.contact_id is None:
            record.contact_id = self.contacts.resolve(record, result.contact, connection.profile)
            record.contact_intent = False
            self._later("contact.resolved", f"contact {record.contact_id}")

        if record.invoice_id is None:
            invoice = self._ensure_invoice(record, result, external)

        if not record.sent:
            if external:
                record.sent = True  # external invoices have no send step
            else:
                invoice = self._ensure_sent(record, invoice)

        if record.payment_id is None:
            self._ensure_paid(record, order, result, invoice, external)

        record.state, record.reason, record.reason_code = SyncState.BOOKED, "", ""
        record.attempts, record.next_attempt_at = 0, None
        record.fingerprint = result.draft.fingerprint()
        label = record.invoice_number or record.invoice_id
        if taken_over is None:
            record.booked_total = result.totals.incl_vat
            self._commit(
                record,
                "booked",
                f"invoice {label} booked and paid "
                f"({order.currency} {format_amount(result.totals.incl_vat)})",
            )
            return SyncResult(Outcome.BOOKED, record)
        record.booked_total = taken_over.total_incl_vat
        if taken_over.total_incl_vat != result.totals.incl_vat:
            self._later(
                "invoice.total_differs",
                "The invoice that was in Moneybird totals "
                f"{format_amount(taken_over.total_incl_vat)}; ccvbird would have booked "
                f"{format_amount(result.totals.incl_vat)}.",
            )
        self._commit(
            record,
            "booked",
            f"invoice {label} was in Moneybird already; taken over as this order's booking",
        )
        return SyncResult(Outcome.TAKEN_OVER, record)

    def invoices_already_booked(
        self, orders: Sequence[Order], profile: MappingProfile
    ) -> dict[str, RemoteInvoice]:
        """The invoices Moneybird already has for these orders, by reference: one look-up for a
        page of orders, so an import never books twice what another connector, a person or an
        earlier ccvbird (with a state database since lost) booked already."""
        references = [r for r in map(invoice_reference, orders) if r]
        if not references:
            return {}
        external = profile.invoice_kind is InvoiceKind.EXTERNAL_SALES_INVOICE
        first = min(o.created_at for o in orders).date() - EXISTING_MARGIN
        # Sales invoices are filtered by reference, so a wide period costs nothing; external
        # ones are listed whole, so only around the orders' own dates.
        last = (
            max(o.created_at for o in orders).date() if external else self.clock.today()
        ) + EXISTING_MARGIN
        return self.books.invoices_with_references(
            references, external=external, period=(first, last)
        )

    def _already_in_moneybird(
        self,
        connection: ConnectionInfo,
        record: OrderRecord,
        order: Order,
        result: MappingResult,
        external: bool,
        existing: RemoteInvoice | Lookup | None,
    ) -> RemoteInvoice | None:
        if existing is not Lookup.NOT_DONE:
            return existing
        made = connection.created_at
        found_before = record.reason_code == ALREADY_IN_MONEYBIRD
        if not found_before and (made is None or order.created_at >= made):
            # Ordered after ccvbird was connected: nothing else books this shop's orders.
            return None
        return self.books.find_invoice(
            result.draft.reference,
            contact_id=None,
            external=external,
            invoice_date=result.draft.invoice_date,
        )

    def _take_over(
        self, record: OrderRecord, invoice: RemoteInvoice, profile: MappingProfile
    ) -> SyncResult | None:
        """Make an invoice found in Moneybird the order's booking, or park the order when the
        profile says an unfinished one is for a person to finish (``None``: taken over)."""
        label = invoice.invoice_number or f"draft {invoice.id}"
        if not invoice.is_paid and profile.existing_invoices is ExistingInvoicePolicy.ADOPT_PAID:
            state = "a draft" if invoice.is_draft else f"{invoice.state}, not paid"
            return self._park(
                record,
                ALREADY_IN_MONEYBIRD,
                f"Moneybird already has invoice {label} for this order (reference "
                f"{invoice.reference}); it is {state}. ccvbird did not make another one and "
                "left it as it is: finish it in Moneybird and retry, or set existing_invoices "
                '= "complete" in the profile to let ccvbird finish it.',
            )
        record.contact_id = invoice.contact_id or record.contact_id
        self._store_invoice(record, invoice, "invoice.found_existing")
        return None

    def _ensure_invoice(
        self, record: OrderRecord, result: MappingResult, external: bool
    ) -> RemoteInvoice:
        draft = result.draft
        assert record.contact_id is not None
        if record.invoice_intent:
            adopted = self.books.find_invoice(
                draft.reference,
                contact_id=record.contact_id,
                external=external,
                invoice_date=draft.invoice_date,
            )
            if adopted is not None:
                self._store_invoice(record, adopted, "invoice.adopted")
                return adopted
        record.invoice_intent = True
        self._commit(record, "invoice.create", f"creating invoice {draft.reference}")
        created = self.books.create_invoice(draft, contact_id=record.contact_id, external=external)
        self._store_invoice(record, created, "invoice.created")
        if created.total_incl_vat != result.totals.incl_vat:
            # Moneybird computed another total than predicted: book it, but make it visible.
            self._later(
                "invoice.total_differs",
                f"Moneybird's total {format_amount(created.total_incl_vat)} differs from the "
                f"predicted {format_amount(result.totals.incl_vat)}.",
            )
        return created

    def _store_invoice(self, record: OrderRecord, invoice: RemoteInvoice, event: str) -> None:
        record.invoice_id = invoice.id
        record.invoice_number = invoice.invoice_number
        record.invoice_intent = False
        if not invoice.is_draft:
            record.sent = True
        self._later(event, f"invoice {invoice.id} ({invoice.state})")

    def _ensure_sent(self, record: OrderRecord, invoice: RemoteInvoice | None) -> RemoteInvoice:
        assert record.invoice_id is not None
        if record.send_intent or invoice is None:
            invoice = self.books.get_invoice(record.invoice_id, external=False)
            if not invoice.is_draft:
                record.sent, record.send_intent = True, False
                record.invoice_number = invoice.invoice_number
                self._later("invoice.sent", f"invoice {invoice.invoice_number} was already final")
                return invoice
        record.send_intent = True
        self._commit(record, "invoice.send", "finalising the invoice (delivery method Manual)")
        sent = self.books.send_invoice(record.invoice_id)
        record.sent, record.send_intent = True, False
        record.invoice_number = sent.invoice_number
        self._later(
            "invoice.sent", f"invoice {sent.invoice_number} finalised; nothing was e-mailed"
        )
        return sent

    def _ensure_paid(
        self,
        record: OrderRecord,
        order: Order,
        result: MappingResult,
        invoice: RemoteInvoice | None,
        external: bool,
    ) -> None:
        assert record.invoice_id is not None
        if record.payment_intent or invoice is None:
            invoice = self.books.get_invoice(record.invoice_id, external=external)
        if invoice.is_paid:
            record.payment_id = invoice.payment_ids[-1] if invoice.payment_ids else "already-paid"
            record.payment_intent = False
            self._later("payment.adopted", "the invoice was already paid in Moneybird")
            return
        amount = invoice.total_unpaid
        payment = PaymentDraft(
            payment_date=result.draft.invoice_date,
            amount=amount,
            financial_account_id=result.financial_account_id,
            transaction_id=order.transaction_id or order.number,
            amount_base=invoice.total_unpaid_base,
        )
        record.payment_intent = True
        self._commit(
            record, "payment.create", f"registering the payment of {format_amount(amount)}"
        )
        record.payment_id = self.books.register_payment(invoice, payment, external=external)
        record.payment_intent = False
        self._later("payment.created", f"payment {record.payment_id} registered")

    # -- outcomes ---------------------------------------------------------------------------------

    def _check_unchanged(self, record: OrderRecord, result: MappingResult) -> SyncResult:
        fingerprint = result.draft.fingerprint()
        if record.fingerprint is None or fingerprint == record.fingerprint:
            return SyncResult(Outcome.ALREADY_BOOKED, record)
        difference = ""
        if record.booked_total is not None and record.booked_total != result.totals.incl_vat:
            difference = (
                f" The total was {format_amount(record.booked_total)} and is now "
                f"{format_amount(result.totals.incl_vat)}."
            )
        return self._changed(
            record,
            "The order changed in CCV Shop after it was booked (lines, amounts or VAT)."
            f"{difference} The Moneybird invoice is left as it is: correct it there (for "
            "example with a credit invoice) if needed.",
        )

    def _changed(self, record: OrderRecord, reason: str) -> SyncResult:
        if record.state is not SyncState.CHANGED or record.reason != reason:
            record.state, record.reason, record.reason_code = SyncState.CHANGED, reason, "changed"
            self._commit(record, "changed_after_booking", reason)
        return SyncResult(Outcome.CHANGED, record)

    def _not_due(
        self, record: OrderRecord, order: Order, blockers: tuple[object, ...]
    ) -> SyncResult:
        messages = " ".join(getattr(b, "message", str(b)) for b in blockers)
        if order.status == STATUS_CANCELLED:
            return self._skip(record, ProblemCode.CANCELLED.value, messages)
        code = getattr(blockers[0], "code", "waiting")
        if record.state is not SyncState.WAITING or record.reason != messages:
            record.state, record.reason, record.reason_code = SyncState.WAITING, messages, str(code)
            self._commit(record, "waiting", messages)
        return SyncResult(Outcome.WAITING, record)

    def _skip(self, record: OrderRecord, code: str, reason: str) -> SyncResult:
        if record.state is not SyncState.SKIPPED or record.reason != reason:
            record.state, record.reason, record.reason_code = SyncState.SKIPPED, reason, code
            self._commit(record, "skipped", reason)
        return SyncResult(Outcome.SKIPPED, record)

    def _park(self, record: OrderRecord, code: str, reason: str) -> SyncResult:
        record.state, record.reason, record.reason_code = SyncState.NEEDS_ATTENTION, reason, code
        record.next_attempt_at = None
        self._commit(record, "needs_attention", reason)
        return SyncResult(Outcome.PARKED, record)

    def _transient(self, record: OrderRecord, error: TransientError) -> SyncResult:
        record.attempts += 1
        if record.attempts >= self.max_attempts:
            return self._park(
                record,
                "keeps_failing",
                f"Booking failed {record.attempts} times in a row; the last error was: {error}. "
                "Check that CCV Shop and Moneybird are reachable, then retry.",
            )
        wait = self.base_backoff * (2 ** (record.attempts - 1))
        record.next_attempt_at = self.clock.now() + wait
        record.reason, record.reason_code = f"Temporary problem, retrying: {error}", "transient"
        self._commit(record, "retry.scheduled", record.reason)
        return SyncResult(Outcome.RETRY_LATER, record, wait)

    def _later(self, event: str, message: str = "") -> None:
        """Log a step's result; it is committed with the next intent or outcome."""
        self._pending.append((event, message))

    def _commit(self, record: OrderRecord, event: str, message: str = "") -> None:
        """Persist the record with every pending log line, in one transaction."""
        earlier, self._pending = tuple(self._pending), []
        self.store.save(record, event, message, earlier=earlier)
