"""What ccvbird knows about each order, and which booking step comes next.

One :class:`OrderRecord` per CCV order and connection. Every order the shop has is in exactly one
visible state:

* ``waiting``          known, not due yet (not paid, status not reached) — with why;
* ``booking``          due; some booking steps are done, the rest follow (retries included);
* ``booked``           invoice created, finalised and paid in Moneybird;
* ``awaiting_payment`` invoice created and finalised, but CCV says the order is not paid (a
                       profile with ``require_paid = false``): the invoice stays open until CCV
                       says it is paid, then its payment is registered (once) and it is
                       ``booked``;
* ``skipped``          never booked, with why (cancelled, before the start date);
* ``needs_attention``  a person must decide (unmapped VAT rate, totals that do not add up,
                       repeated failures) — with why and what to do;
* ``changed``          booked, but the order changed in CCV afterwards; never edited in
                       Moneybird, shown with what changed;
* ``credited``         booked, then credited in Moneybird (a credit invoice cancels the
                       invoice): a person settled it there, so ccvbird leaves the order alone;
* ``invoice_deleted``  booked (or being booked), then the invoice was deleted in Moneybird: the
                       order is not booked again by itself; *retry* books it anew.

The last two are learnt from Moneybird's webhooks (``service/moneybird_events.py``).

The booking steps run in a fixed order and each one is recorded before and after its API call,
so a crash anywhere leaves a record that says exactly what to do next — including "look the
invoice up by its reference before creating it again".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from ccvbird.domain.reasons import Reason


class SyncState(StrEnum):
    WAITING = "waiting"
    BOOKING = "booking"
    BOOKED = "booked"
    SKIPPED = "skipped"
    NEEDS_ATTENTION = "needs_attention"
    CHANGED = "changed"
    CREDITED = "credited"
    INVOICE_DELETED = "invoice_deleted"
    #: Invoiced and finalised; CCV says the order is not paid yet, so it has no payment.
    AWAITING_PAYMENT = "awaiting_payment"


#: States in which the order has an invoice in Moneybird that must never be created again.
HAS_INVOICE = frozenset(
    {SyncState.BOOKED, SyncState.AWAITING_PAYMENT, SyncState.CHANGED, SyncState.CREDITED}
)
#: States a person reached in Moneybird: the engine does nothing until a person asks (retry).
LEFT_ALONE = frozenset({SyncState.CREDITED, SyncState.INVOICE_DELETED})


class Step(StrEnum):
    CONTACT = "contact"
    INVOICE = "invoice"
    SEND = "send"
    PAYMENT = "payment"
    DONE = "done"


@dataclass
class OrderRecord:
    """The sync record of one order (mutable: the engine updates it step by step)."""

    connection_id: int
    order_id: str
    order_number: str = ""
    state: SyncState = SyncState.WAITING
    #: Why, in English (logs, the API); pages render ``reason_code`` with ``reason_params``.
    reason: str = ""
    reason_code: str = ""
    #: The facts behind ``reason_code`` (``domain/reasons.py``); ``None``: recorded by a version
    #: that kept only the English sentence.
    reason_params: dict[str, str] | None = field(default_factory=dict)
    attempts: int = 0
    next_attempt_at: datetime | None = None
    order_created_at: datetime | None = None
    #: CCV's status and paid flag when ccvbird last read the order (polling compares them).
    ccv_status: int | None = None
    ccv_paid: bool = False
    contact_id: str | None = None
    contact_intent: bool = False
    invoice_id: str | None = None
    invoice_intent: bool = False
    invoice_number: str | None = None
    sent: bool = False
    send_intent: bool = False
    payment_id: str | None = None
    payment_intent: bool = False
    fingerprint: str | None = None
    booked_total: Decimal | None = None
    #: The invoice date it was booked with (``None``: booked before ccvbird stored it), so a
    #: re-read compares what the shop can change, not the day it is re-read.
    invoice_date: date | None = None
    #: The date of the payment: the day ccvbird first saw CCV say "paid" (shop's time zone)
    #: for an order invoiced before it was paid; kept so a retry pays with the same date.
    payment_date: date | None = None
    updated_at: datetime | None = None
    #: How many times the record was saved: a worker holding the lease saves only over the
    #: version it read, so a record someone else advanced in between is noticed, not overwritten.
    version: int = 0
    #: Not stored: whether the order had credit records when this record was read (read in
    #: the same statement; ``None``: not known). ``False`` spares a first booking the read of
    #: credits that are not there; it is not kept current after the read.
    had_credit_records: bool | None = field(default=None, compare=False)

    def explain(self, reason: Reason | None) -> None:
        """Record why (``None``: no reason any more): the code, its facts and the English."""
        if reason is None:
            self.reason, self.reason_code, self.reason_params = "", "", {}
        else:
            self.reason, self.reason_code = reason.text, reason.code
            self.reason_params = reason.stored_params()

    def says(self, reason: Reason) -> bool:
        """Whether the record gives this reason already (so it need not be written again)."""
        return (self.reason_code, self.reason_params) == (reason.code, reason.stored_params())

    @property
    def why(self) -> Reason:
        return Reason(self.reason_code, self.reason_params or {})

    @property
    def next_step(self) -> Step:
        if self.contact_id is None and self.invoice_id is None:
            return Step.CONTACT
        if self.invoice_id is None:
            return Step.INVOICE
        if not self.sent:
            return Step.SEND
        if self.payment_id is None:
            return Step.PAYMENT
        return Step.DONE

    @property
    def has_invoice(self) -> bool:
        """True once an invoice exists (or may exist) in Moneybird for this order."""
        return self.invoice_id is not None or self.invoice_intent


@dataclass(frozen=True, slots=True)
class RemoteContact:
    """A Moneybird contact as far as matching by e-mail needs it."""

    id: str
    emails: tuple[str, ...]
    archived: bool = False
    version: int = 0


@dataclass(frozen=True, slots=True)
class ContactLookup:
    """What the state database knows of an e-mail's contact: the one to use (``None``: none
    yet), and when the local directory of Moneybird's contacts was last refreshed (``None``:
    never, or invalidated), which says whether a miss must re-read Moneybird first."""

    contact_id: str | None
    directory_refreshed_at: datetime | None


@dataclass(frozen=True, slots=True)
class RemoteTaxTotal:
    """One row of Moneybird's ``tax_totals``: the VAT Moneybird itself computed for a rate."""

    tax_rate_id: str
    taxable_amount: Decimal
    tax_amount: Decimal


@dataclass(frozen=True, slots=True)
class RemoteInvoice:
    """A Moneybird (external) sales invoice as far as booking needs it."""

    id: str
    reference: str
    state: str
    total_incl_vat: Decimal
    total_unpaid: Decimal
    invoice_number: str | None = None
    contact_id: str | None = None
    payment_ids: tuple[str, ...] = ()
    #: What is unpaid in the administration's currency (differs for foreign-currency invoices).
    total_unpaid_base: Decimal | None = None
    #: Moneybird's VAT per tax rate (rates without VAT may be left out, as Moneybird does).
    tax_totals: tuple[RemoteTaxTotal, ...] = ()
    #: For a credit invoice: the invoice it credits.
    original_invoice_id: str | None = None
    #: The ids of its lines (a credit's copied lines are removed by id).
    detail_ids: tuple[str, ...] = ()

    @property
    def is_draft(self) -> bool:
        return self.state == "draft"

    @property
    def is_paid(self) -> bool:
        """Paid when Moneybird says so, or when a final invoice of a positive total has nothing
        left unpaid. An invoice of 0.00 that is final counts as paid (Moneybird marks it so when
        it is sent). A negative invoice has ``total_unpaid <= 0`` from the start: that is money
        owed *to* the customer, never "paid"."""
        if self.state == "paid":
            return True
        if self.is_draft or self.total_incl_vat < 0:
            return False
        return self.total_unpaid <= 0 if self.total_incl_vat > 0 else self.total_unpaid == 0


def normalise_email(email: str) -> str:
    return email.strip().lower()
