"""Book one order: every paid order exactly once, to the cent, whatever fails on the way.

``sync_order`` re-reads the order from CCV (a webhook or a poll only says "look at order X"),
decides what is still to be done, and does it step by step:

    contact → invoice → send (Manual) → payment → booked

An order CCV says is not paid (a profile with ``require_paid = false``) stops before the
payment: its invoice stays open (``awaiting_payment``) until CCV says it is paid, and is never
paid while CCV says it is not, nor once it is cancelled.

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
from datetime import date, timedelta
from enum import Enum, StrEnum

from structlog.contextvars import bound_contextvars

from ccvbird.domain.booked import recover_invoice_date, same_as_booked, shop_date
from ccvbird.domain.bounds import REFERENCE_LIMIT
from ccvbird.domain.credit_policy import CancellationPolicy, CreditedBeforeBooking
from ccvbird.domain.credit_records import CreditRecord, CreditState
from ccvbird.domain.credits import CANCEL_KEY, CcvCredit, order_before_credits
from ccvbird.domain.decisions import booking_blockers
from ccvbird.domain.errors import (
    CcvbirdError,
    Interrupted,
    LeaseLost,
    NeedsUserError,
    NotFound,
    OrderProblem,
    PermissionDenied,
    PlanLimitReached,
    RateLimited,
    TransientError,
)
from ccvbird.domain.figures import FIGURES_DIFFER, FiguresDiffer, compare_figures
from ccvbird.domain.mapping import (
    MappingResult,
    Problem,
    ProblemCode,
    invoice_reference,
    map_order,
)
from ccvbird.domain.money import ZERO, format_amount
from ccvbird.domain.order import STATUS_CANCELLED, Order
from ccvbird.domain.profile import ExistingInvoicePolicy, InvoiceKind, MappingProfile
from ccvbird.domain.profile_check import tax_rate_mismatches
from ccvbird.domain.reasons import FIELD_SEPARATOR, Reason, invoice_state_part, joined
from ccvbird.domain.references import REFERENCE_TAKEN, claimed_by, conflict_reason
from ccvbird.domain.sync import (
    HAS_INVOICE,
    LEFT_ALONE,
    OrderRecord,
    RemoteInvoice,
    Step,
    SyncState,
)
from ccvbird.ports import Books, Clock, ConnectionInfo, PaymentDraft, Shop, Store, SyncObserver
from ccvbird.service.contacts import ContactResolver
from ccvbird.service.credits import CreditBooker
from ccvbird.service.tax_rates import TaxRateCache
from ccvbird.service.webhooks import CREDITED, credit_source

log = logging.getLogger(__name__)


class Trigger(StrEnum):
    WEBHOOK = "webhook"
    POLL = "poll"
    IMPORT = "import"
    RETRY = "retry"
    #: A CCV credit invoice or return webhook named the order: its credits are read.
    CREDIT = "credit"


class Lookup(Enum):
    """``existing=NOT_DONE``: nobody has checked Moneybird for an invoice with the order's
    reference yet (an import checks a page of orders at once and passes what it found)."""

    NOT_DONE = "not_done"


#: Why an order waits: Moneybird has an unfinished invoice for it that ccvbird did not make.
ALREADY_IN_MONEYBIRD = "already_in_moneybird"
#: Why a connection is paused for a reference prefix clashing with an older connection's
#: (saving a profile with a prefix of its own resumes it).
PREFIX_PAUSE = "prefix_needed"
#: Why a connection is paused for a profile that does not fit the administration (importing a
#: profile that fits, or saving it on the profile page, resumes the connection).
PROFILE_MISMATCH = "profile_mismatch"
#: Why an order's invoice is open: CCV says the order is not paid yet.
AWAITING_PAYMENT = "awaiting_payment"
#: Why an invoiced order is never paid: it was cancelled in CCV before it was paid.
CANCELLED_AFTER_BOOKING = "cancelled_after_booking"
#: Why a booked order cancelled in CCV needs attention: the profile leaves it to a person
#: (``cancellations = "ask"``); ``ccvbird credit ORDER`` or the order page credits it.
CANCELLED_AFTER_BOOKING_ASK = "cancelled_after_booking_ask"
#: Why an order was never booked: CCV credited it in full before ccvbird booked it, and the
#: profile says book neither (``credited_before_booking = "neither"``).
CREDITED_BEFORE_BOOKING = "credited_before_booking"
#: How far outside the orders' dates an existing invoice is still looked for.
EXISTING_MARGIN = timedelta(days=7)
#: Why an order waits: its connection is paused (or switched off); due again once it resumes.
CONNECTION_PAUSED = "connection_paused"
CONNECTION_DISABLED = "connection_disabled"
#: States whose ``next_attempt_at`` the scheduler follows (``Store.claim_due``).
RESUMABLE = frozenset({SyncState.WAITING, SyncState.BOOKING})
#: An order a stopping worker hands back is due again this soon (for any other worker).
HANDED_BACK_RETRY = timedelta(seconds=1)


class Outcome(StrEnum):
    BOOKED = "booked"
    #: Invoiced and finalised; the invoice stays open until CCV says the order is paid.
    AWAITING_PAYMENT = "awaiting_payment"
    #: The payment of an order invoiced before it was paid was registered.
    PAID = "paid"
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


class CreditOutcome(StrEnum):
    """What :meth:`SyncEngine.credit_order` did."""

    #: Every credit of the order is booked (the cancellation's, or CCV's credit invoices).
    CREDITED = "credited"
    #: It was credited before: nothing was done.
    ALREADY_CREDITED = "already_credited"
    #: A step failed for a while (Moneybird or CCV unreachable): retried by itself.
    RETRY_LATER = "retry_later"
    #: The credit is parked with a reason code (see the credit's record).
    PARKED = "parked"
    #: ccvbird does not know the order.
    NOT_FOUND = "not_found"
    #: The order has no invoice booked by this connection (nothing to credit).
    NOT_BOOKED = "not_booked"
    #: CCV does not say the order is cancelled: only a cancelled order is credited in full.
    NOT_CANCELLED = "not_cancelled"
    #: The connection is paused or switched off.
    PAUSED = "paused"


@dataclass(frozen=True, slots=True)
class CreditOrderResult:
    """The outcome of "credit this cancelled order now", with a reason code and words."""

    outcome: CreditOutcome
    reason_code: str
    message: str
    record: OrderRecord | None = None
    credits: tuple[CreditRecord, ...] = ()


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
    #: A booking that is under way is looked at again this long after it (re)started, should
    #: the process die on the way: no booking is ever without a time to be resumed at.
    resume_after: timedelta = timedelta(minutes=5)
    #: How often an open invoice's order is read again to see whether CCV says it is paid now
    #: (polling only re-reads recent orders; invoices on account are often paid later).
    payment_check: timedelta = timedelta(hours=6)
    #: The administration's tax rates as last read (shared by the engines of a process).
    tax_rates: TaxRateCache = field(default_factory=TaxRateCache)
    #: How old that copy may be before a booking reads the rates again.
    tax_rate_refresh: timedelta = timedelta(minutes=10)
    #: Told the outcome of every run (the metrics); ``None``: nobody listens.
    observer: SyncObserver | None = None
    _contacts: ContactResolver | None = field(default=None, init=False, repr=False)
    #: Log lines of steps whose results are committed with the next intent (one transaction).
    _pending: list[tuple[str, Reason | str]] = field(default_factory=list, init=False, repr=False)
    #: An e-mail's new contact (e-mail key, contact id), mapped with the next save: the
    #: contact's intent covers it until then (a run that stops before it searches by e-mail).
    _mapping: tuple[str, str] | None = field(default=None, init=False, repr=False)

    @property
    def credit_booker(self) -> CreditBooker:
        """Books the credits of booked orders (``service/credits.py``)."""
        return CreditBooker(self.store, self.shop, self.books, self.clock, self.max_attempts)

    @property
    def contacts(self) -> ContactResolver:
        if self._contacts is None:
            self._contacts = ContactResolver(
                self.store,
                self.books,
                self.clock,
                self.contact_refresh,
                commit=self._commit,
                remember=self._remember_later,
            )
        return self._contacts

    # -- the entry point --------------------------------------------------------------------------

    def begin_pass(self, connection_id: int) -> None:
        """A poll or an import starts: its first booking reads the tax rates again, whatever
        the age of the copy (later bookings of the pass use that copy)."""
        self.tax_rates.invalidate(connection_id)

    def sync_order(
        self,
        connection_id: int,
        order_id: str,
        *,
        trigger: Trigger = Trigger.POLL,
        order: Order | None = None,
        existing: RemoteInvoice | Lookup | None = Lookup.NOT_DONE,
        credited: bool = False,
    ) -> SyncResult:
        """Do what is still to be done for one order. ``order``: the order as just read from
        CCV (an import has it already); without it the order is read now. ``existing``: what
        a batched look-up found in Moneybird for the order's reference (``None``: nothing).
        ``credited``: CCV is known to have credit invoices for the order (an import listed
        them), so they are read as with :attr:`Trigger.CREDIT`.

        Every log line of the run carries the connection and order ids (structlog's context
        variables: the JSON log format shows them)."""
        with bound_contextvars(connection_id=connection_id, order_id=order_id):
            self._mapping = None
            result = self._run(connection_id, order_id, trigger, order, existing, credited)
            self._flush_mapping(connection_id)
        if self.observer is not None:
            self.observer.order_synced(
                connection_id, result.outcome.value, result.record.reason_code
            )
        return result

    def _run(
        self,
        connection_id: int,
        order_id: str,
        trigger: Trigger,
        order: Order | None,
        existing: RemoteInvoice | Lookup | None,
        credited: bool,
    ) -> SyncResult:
        self._pending.clear()
        source = credit_source(order_id)
        if source is not None:
            return self._sync_credit_source(connection_id, *source)
        connection, record = self.store.connection_and_record(connection_id, order_id)
        if connection.paused_reason or not connection.enabled:
            self._wait_for_connection(record, connection)
            return SyncResult(Outcome.PAUSED, record)
        try:
            return self._sync(connection, record, trigger, order, existing, credited)
        except LeaseLost:
            # Another worker holds the connection now: not one more write (docs/engine.md).
            self._pending.clear()
            self._mapping = None
            raise
        except RateLimited as exc:
            # Not the order's fault: try again when the budget allows, without counting it.
            wait = timedelta(seconds=max((exc.retry_at or 0) - self.clock.now().timestamp(), 30))
            message = Reason("rate_limited", {"seconds": str(int(wait.total_seconds()))})
            if record.state in RESUMABLE:
                record.next_attempt_at = self.clock.now() + wait
                record.explain(message)
            self._commit(record, "retry.rate_limited", message)
            return SyncResult(Outcome.RETRY_LATER, record, wait)
        except TransientError as exc:
            return self._transient(record, exc)
        except NeedsUserError as exc:
            self.store.pause(connection_id, pause_reason(exc))
            self._wait_for_connection(
                record, self.store.connection(connection_id), event="connection.paused"
            )
            return SyncResult(Outcome.PAUSED, record)
        except OrderProblem as exc:
            return self._park(record, Reason("invalid_data", {"error": str(exc)}))
        except CcvbirdError as exc:
            return self._park(record, Reason("refused", {"error": str(exc)}))
        except Exception as exc:  # a bug: park the order with context, keep the others going
            log.exception(
                "unexpected error while syncing order %s of connection %s", order_id, connection_id
            )
            return self._park(record, Reason("bug", {"error": f"{type(exc).__name__}: {exc}"}))

    def _sync_credit_source(self, connection_id: int, kind: str, resource_id: str) -> SyncResult:
        """A CCV invoice or return webhook: find its order (one request), then sync the order's
        credits. Nothing is recorded for an invoice or return whose order cannot be found."""
        target = f"{kind}:{resource_id}"
        if kind == CREDITED:  # polling named the order itself
            return self.sync_order(connection_id, resource_id, trigger=Trigger.CREDIT)
        try:
            order_id = self.shop.order_of(kind, resource_id)
        except NotFound:
            log.info("connection %s: %s names no order; ignored", connection_id, target)
            return SyncResult(Outcome.SKIPPED, OrderRecord(connection_id, target))
        except TransientError:
            return SyncResult(
                Outcome.RETRY_LATER, OrderRecord(connection_id, target), self.base_backoff
            )
        return self.sync_order(connection_id, order_id, trigger=Trigger.CREDIT)

    # -- deciding ---------------------------------------------------------------------------------

    def _sync(
        self,
        connection: ConnectionInfo,
        record: OrderRecord,
        trigger: Trigger,
        order: Order | None,
        existing: RemoteInvoice | Lookup | None,
        credited: bool = False,
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
                return self._changed(record, Reason("changed", {"change_part": "changed.deleted"}))
            record.state = SyncState.SKIPPED
            record.explain(Reason("deleted"))
            self._commit(record, "skipped", record.why)
            return SyncResult(Outcome.SKIPPED, record)
        profile = connection.profile
        seen = (record.ccv_status, record.ccv_paid)
        record.order_number = order.number or record.order_number
        record.order_created_at = order.created_at
        record.ccv_status, record.ccv_paid = order.status, order.paid
        if (
            order.paid
            and not seen[1]
            and order.status != STATUS_CANCELLED
            and record.has_invoice
            and record.payment_id is None
            and record.payment_date is None
        ):
            # Invoiced while unpaid, paid now: CCV has no payment date, so this is the day.
            record.payment_date = shop_date(self.clock.now(), profile.timezone)
            self._later(
                "payment.seen_paid",
                Reason(
                    "event.payment.seen_paid", {"payment_date": record.payment_date.isoformat()}
                ),
            )

        if record.state is SyncState.AWAITING_PAYMENT:
            if trigger is Trigger.CREDIT or credited or self._credits_unfinished(record):
                # Credited while its invoice is open: the credit is set off against it first.
                self.credit_booker.sync_credits(record, order, profile, read_ccv=True)
            return self._settle(connection, record, order, seen)
        if _booked(record):
            # Booked (or flagged): only compared; a changed order's invoice is never paid.
            checked = self._check_unchanged(record, order, profile)
            if (
                trigger is Trigger.CREDIT
                or credited
                or seen[0] != order.status
                or checked.outcome is Outcome.CHANGED
                or record.reason_code == CANCELLED_AFTER_BOOKING_ASK
                or (trigger is Trigger.RETRY and self._credits_unfinished(record))
            ):
                # A credit webhook, a new status or new amounts: CCV may have credited it
                # (one request for its credit invoices; none for an order nobody touched).
                credits = self.credit_booker.sync_credits(record, order, profile, read_ccv=True)
                return self._after_credits(record, order, profile, credits, checked)
            return checked

        if record.reason_code == CREDITED_BEFORE_BOOKING and not record.has_invoice:
            # Credited in full before it was booked, and the profile said book neither: the
            # order as read now is what is left of it (nothing), never booked on its own.
            return SyncResult(Outcome.SKIPPED, record)
        if not record.has_invoice:
            blockers = booking_blockers(order, profile)
            if blockers:
                if (trigger is Trigger.CREDIT or credited) and order.status != STATUS_CANCELLED:
                    # Not due yet, but credited already: the credits wait for the booking.
                    early = self.shop.credits(order)
                    if early:
                        self.credit_booker.note_waiting(record, order, profile, early)
                return self._not_due(record, order, blockers)
            if (
                connection.start_date is not None
                and trigger is not Trigger.IMPORT
                and record.state is not SyncState.BOOKING  # begun (by an import): finish it
                and order.created_at.date() < connection.start_date
            ):
                return self._skip(
                    record,
                    Reason("before_start", {"start_date": connection.start_date.isoformat()}),
                )

        found: list[CcvCredit] | None = None
        # Read with the record: an order known to have no credit records needs no query.
        waiting = [] if record.had_credit_records is False else self._credit_records(record)
        # An import listed its period's credits in one go (``credited``); anything else books
        # an order for the first time only after asking CCV what it credited already.
        first = (
            record.invoice_id is None
            and not record.invoice_intent
            and trigger is not Trigger.IMPORT
        )
        if trigger is Trigger.CREDIT or credited or waiting or first:
            # One request (on CCV's invoices, not its orders): what CCV credited before
            # booking. Read before every first booking, not only after a credit webhook: the
            # order's own webhook may come first, or the credit's may be lost, and an order a
            # shop edited down before crediting must never be booked as what is left of it.
            # The original is what CCV invoiced before its credits.
            found = self.shop.credits(order)
        read = order
        if found:
            order = order_before_credits(order, found)
        result = map_order(order, profile, booking_date=record.invoice_date or self.clock.today())
        if result.problems and not record.has_invoice:
            return self._park(record, joined([p.reason for p in result.problems]))
        if not record.has_invoice:
            neither = profile.credits.credited_before_booking is CreditedBeforeBooking.NEITHER
            if neither and found is not None and _credited_in_full(order, found, waiting):
                return self._skip(
                    record,
                    Reason(CREDITED_BEFORE_BOOKING, {"field": "credits.credited_before_booking"}),
                )
            if found:
                waiting = self.credit_booker.note_waiting(record, order, profile, found)
            stopped = self._reference_not_ours(connection, record, result.draft.reference)
            if stopped is not None:
                return stopped
        booked = self._book(connection, record, order, result, existing)
        if booked.outcome in _NOW_BOOKED and (found or waiting):
            # The original is booked: its credits, which waited for it, follow at once.
            credits = self.credit_booker.sync_credits(
                record, read, profile, read_ccv=True, found=found
            )
            return self._after_credits(record, read, profile, credits, booked)
        return booked

    def _credits_unfinished(self, record: OrderRecord) -> bool:
        return any(
            c.state in (CreditState.WAITING, CreditState.BOOKING)
            for c in self._credit_records(record)
        )

    def _credit_records(self, record: OrderRecord) -> list[CreditRecord]:
        return self.store.credit_records(record.connection_id, record.order_id)

    def _after_credits(
        self,
        record: OrderRecord,
        order: Order,
        profile: MappingProfile,
        credits: list[CreditRecord],
        checked: SyncResult,
    ) -> SyncResult:
        """What the order's record says once its credits are booked: a cancellation the profile
        leaves to a person needs attention; one credited, or an amount that went down by what
        was credited, is booked again."""
        cancel = next((c for c in credits if c.credit_key == CANCEL_KEY), None)
        from_ccv = [c for c in credits if c.credit_key != CANCEL_KEY]
        asks = profile.credits.cancellations is CancellationPolicy.ASK
        if asks and order.status == STATUS_CANCELLED and cancel is None and not from_ccv:
            return self._ask_to_credit(record, order)
        if record.reason_code == CANCELLED_AFTER_BOOKING_ASK and cancel is not None:
            if cancel.state is CreditState.PARKED:
                return SyncResult(Outcome.PARKED, record)
            record.state = SyncState.BOOKED
            record.explain(None)
            self._commit(
                record, "credited", Reason("event.credited.cancel", {"reference": cancel.reference})
            )
            return SyncResult(Outcome.ALREADY_BOOKED, record)
        flagged = record.state is SyncState.CHANGED and record.reason_code == "changed"
        if flagged and self._credited_down(record, order, profile, credits):
            # Its invoice was paid (booked) or is still open (waits for CCV to say paid).
            record.state = (
                SyncState.BOOKED if record.payment_id is not None else SyncState.AWAITING_PAYMENT
            )
            record.explain(None)
            self._commit(record, "credited", Reason("event.credited.lower"))
            return SyncResult(Outcome.ALREADY_BOOKED, record)
        return checked

    def _ask_to_credit(self, record: OrderRecord, order: Order) -> SyncResult:
        label = record.invoice_number or record.invoice_id or ""
        reason = Reason(
            CANCELLED_AFTER_BOOKING_ASK,
            {
                "invoice": label,
                "order": order.number or order.order_id,
                "field": "credits.cancellations",
            },
        )
        if record.state is not SyncState.NEEDS_ATTENTION or not record.says(reason):
            record.state = SyncState.NEEDS_ATTENTION
            record.explain(reason)
            record.next_attempt_at = None
            self._commit(record, "cancelled_after_booking", reason)
        return SyncResult(Outcome.PARKED, record)

    def _credited_down(
        self,
        record: OrderRecord,
        order: Order,
        profile: MappingProfile,
        credits: list[CreditRecord],
    ) -> bool:
        """Whether the order's amount went down by exactly what its booked credits credit
        (booked total − credited = the order's total now): CCV credited the difference."""
        if record.booked_total is None:
            return False
        credited = sum((c.total or ZERO for c in credits if c.state is CreditState.BOOKED), ZERO)
        if credited <= 0:
            return False
        now = map_order(order, profile).totals.incl_vat
        return now < record.booked_total and record.booked_total - credited == now

    # -- credit this order now --------------------------------------------------------------------

    def credit_order(self, connection_id: int, order_id: str) -> CreditOrderResult:
        """A person says "credit it": book the full credit of a booked order that was cancelled
        in CCV (or the credit invoices CCV made for it), whatever ``cancellations`` says.

        Returns an outcome with a reason code and words for a person; nothing is booked for an
        order that is not booked by this connection, or not cancelled in CCV."""
        self._pending.clear()
        connection = self.store.connection(connection_id)
        record = self.store.find_record(connection_id, order_id)
        if record is None:
            return CreditOrderResult(
                CreditOutcome.NOT_FOUND, "unknown_order",
                f"ccvbird does not know order {order_id}: sync it first.",
            )  # fmt: skip
        if connection.paused_reason or not connection.enabled:
            return CreditOrderResult(
                CreditOutcome.PAUSED, CONNECTION_PAUSED if connection.paused_reason
                else CONNECTION_DISABLED,
                f"The connection is paused or switched off: {connection.paused_reason or 'off'}",
                record,
            )  # fmt: skip
        label = record.order_number or order_id
        if record.state is SyncState.CREDITED:
            return CreditOrderResult(
                CreditOutcome.ALREADY_CREDITED, "credited_in_moneybird",
                f"Order {label}'s invoice was credited in Moneybird by a person already.", record,
            )  # fmt: skip
        if record.invoice_id is None or not _booked(record):
            return CreditOrderResult(
                CreditOutcome.NOT_BOOKED, "not_booked",
                f"Order {label} has no booked invoice of this connection: nothing to credit.",
                record,
            )  # fmt: skip
        known = self.store.credit_records(connection_id, order_id)
        done = next((c for c in known if c.credit_key == CANCEL_KEY), None)
        if done is not None and done.state is CreditState.BOOKED:
            return CreditOrderResult(
                CreditOutcome.ALREADY_CREDITED, "already_credited",
                f"Order {label} was credited in full already ({done.reference}).",
                record, tuple(known),
            )  # fmt: skip
        try:
            order = self.shop.get_order(order_id)
            if order.status != STATUS_CANCELLED:
                return CreditOrderResult(
                    CreditOutcome.NOT_CANCELLED, "not_cancelled",
                    f"Order {label} is not cancelled in CCV Shop: only a cancelled order is "
                    "credited in full. A return or refund is credited when CCV Shop makes its "
                    "credit invoice.", record,
                )  # fmt: skip
            record.ccv_status, record.ccv_paid = order.status, order.paid
            credits = self.credit_booker.sync_credits(
                record, order, connection.profile, read_ccv=True, cancel=True
            )
            self._after_credits(
                record,
                order,
                connection.profile,
                credits,
                SyncResult(Outcome.ALREADY_BOOKED, record),
            )
        except LeaseLost:
            self._pending.clear()
            raise
        except (TransientError, RateLimited) as exc:
            return CreditOrderResult(
                CreditOutcome.RETRY_LATER, "transient",
                f"CCV Shop or Moneybird could not be reached ({exc}); try again shortly.", record,
            )  # fmt: skip
        except NeedsUserError as exc:
            self.store.pause(connection_id, pause_reason(exc))
            return CreditOrderResult(CreditOutcome.PAUSED, CONNECTION_PAUSED, str(exc), record)
        except CcvbirdError as exc:
            return CreditOrderResult(
                CreditOutcome.PARKED, "refused", f"CCV Shop or Moneybird refused: {exc}.", record
            )
        return _credit_result(label, record, credits)

    def _reference_not_ours(
        self, connection: ConnectionInfo, record: OrderRecord, reference: str
    ) -> SyncResult | None:
        """Stop when another connection in the same administration can make this reference:
        the look-up by reference would take that shop's invoice for this order (and the other
        way round). ``domain/references.py`` says what is guaranteed."""
        if not connection.neighbours:
            return None
        prefix = connection.profile.reference_prefix
        earlier = [p for other, p in connection.neighbours if other < connection.id]
        problem = conflict_reason(prefix, earlier)
        if problem is not None:
            # The connection made first keeps its references; this one needs a prefix.
            reason = Reason(
                PREFIX_PAUSE,
                {**problem.params, "conflict_part": problem.code},
            )
            self.store.pause(connection.id, reason)
            self._wait_for_connection(
                record, self.store.connection(connection.id), event="connection.paused"
            )
            return SyncResult(Outcome.PAUSED, record)
        owner = claimed_by(reference, prefix, (p for _other, p in connection.neighbours))
        if owner is None:
            return None
        return self._park(
            record,
            Reason(
                REFERENCE_TAKEN,
                {"reference": reference, "other": owner, "field": "invoicing.reference_prefix"},
            ),
        )

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

        if record.invoice_id is None:
            # Nothing is written with a tax rate the administration contradicts.
            paused = self._check_tax_rates(connection, record)
            if paused is not None:
                return paused

        if record.state is not SyncState.BOOKING:
            record.state = SyncState.BOOKING
            record.explain(None)
            self._later("booking.start", Reason("event.booking.start", {"order": order.number}))
        elif record.reason_code in (CONNECTION_PAUSED, CONNECTION_DISABLED):
            record.explain(None)
        # Saved with the first intent: should this run die, the scheduler resumes it then.
        record.next_attempt_at = self.clock.now() + self.resume_after

        if record.invoice_id is None and record.contact_id is None:
            record.contact_id = self.contacts.resolve(record, result.contact, connection.profile)
            record.contact_intent = False
            self._later(
                "contact.resolved",
                Reason("event.contact.resolved", {"contact_id": record.contact_id}),
            )

        if record.invoice_id is None:
            invoice = self._ensure_invoice(record, result, external)

        if not record.sent or record.payment_id is None:
            # Moneybird's own figures must be the predicted ones before it is sent or paid.
            assert record.invoice_id is not None
            if invoice is None:
                invoice = self.books.get_invoice(record.invoice_id, external=external)
            # A paid invoice of ccvbird's own was compared before it was paid; one that was in
            # Moneybird already (taken over) is compared even when paid: it becomes this
            # order's booking only when it books what the order says.
            compared = taken_over is not None or not invoice.is_paid
            differ = compare_figures(result.totals, invoice) if compared else None
            if differ is not None:
                ours = taken_over is None and not external and invoice.is_draft
                return self._figures_differ(record, invoice, differ, delete=ours)

        if not record.sent:
            if external:
                record.sent = True  # external invoices have no send step
            else:
                invoice = self._ensure_sent(record, invoice)

        if record.payment_id is None:
            if order.status == STATUS_CANCELLED:
                self._invoiced(record, result, taken_over)
                return self._cancelled_unpaid(record)
            if not order.paid:
                # Never pay what CCV says is unpaid, whatever the profile says.
                return self._await_payment(record, order, result, taken_over)
            self._ensure_paid(
                record,
                order,
                result,
                invoice,
                external,
                payment_date=record.payment_date or result.draft.invoice_date,
            )

        record.state = SyncState.BOOKED
        record.explain(None)
        record.attempts, record.next_attempt_at = 0, None
        label = record.invoice_number or record.invoice_id or ""
        if record.payment_date is not None and record.booked_total is not None:
            # Invoiced earlier, while unpaid: now its payment is registered.
            self._commit(
                record,
                "booked",
                Reason(
                    "event.booked.paid_later",
                    {"invoice": label, "payment_date": record.payment_date.isoformat()},
                ),
            )
            return SyncResult(Outcome.PAID, record)
        self._invoiced(record, result, taken_over)
        if taken_over is None:
            total = {
                "currency": order.currency,
                "total_amount": format_amount(result.totals.incl_vat),
            }
            self._commit(record, "booked", Reason("event.booked", {"invoice": label, **total}))
            return SyncResult(Outcome.BOOKED, record)
        self._commit(record, "booked", Reason("event.booked.taken_over", {"invoice": label}))
        return SyncResult(Outcome.TAKEN_OVER, record)

    def _invoiced(
        self, record: OrderRecord, result: MappingResult, taken_over: RemoteInvoice | None
    ) -> None:
        """Keep what the order was booked as: the fingerprint and invoice date a re-read is
        compared with, and the total."""
        record.invoice_date = record.invoice_date or result.draft.invoice_date
        record.fingerprint = result.draft.fingerprint()
        record.booked_total = (
            result.totals.incl_vat if taken_over is None else taken_over.total_incl_vat
        )

    def _await_payment(
        self,
        record: OrderRecord,
        order: Order,
        result: MappingResult,
        taken_over: RemoteInvoice | None,
    ) -> SyncResult:
        self._invoiced(record, result, taken_over)
        label = record.invoice_number or record.invoice_id or ""
        record.state = SyncState.AWAITING_PAYMENT
        record.explain(Reason(AWAITING_PAYMENT, {"invoice": label}))
        record.attempts, record.next_attempt_at = 0, self.clock.now() + self.payment_check
        total = format_amount(record.booked_total or result.totals.incl_vat)
        self._commit(
            record,
            "booked.awaiting_payment",
            Reason(
                "event.booked.awaiting_payment",
                {"invoice": label, "currency": order.currency, "total_amount": total},
            ),
        )
        return SyncResult(Outcome.AWAITING_PAYMENT, record)

    def _settle(
        self,
        connection: ConnectionInfo,
        record: OrderRecord,
        order: Order,
        seen: tuple[int | None, bool],
    ) -> SyncResult:
        """An order invoiced while unpaid: its payment is registered once CCV says it is paid,
        never while CCV says it is not, never once the order is cancelled or changed."""
        profile = connection.profile
        checked = self._check_unchanged(record, order, profile)
        if checked.outcome is Outcome.CHANGED:
            # Lower by a credit (CCV invoices a credit for what the shop took off)? Then the
            # credit is booked, set off against the open invoice, and the order waits for its
            # payment again; anything else stays flagged.
            credits = self.credit_booker.sync_credits(record, order, profile, read_ccv=True)
            after = self._after_credits(record, order, profile, credits, checked)
            if record.state is not SyncState.AWAITING_PAYMENT:
                return after
        if order.status == STATUS_CANCELLED:
            return self._cancelled_unpaid(record)
        if not order.paid:
            # Looked at again later, whatever the order's age (the poll window may be past).
            next_check = self.clock.now() + self.payment_check
            due_soon = record.next_attempt_at is not None and record.next_attempt_at < next_check
            if seen != (order.status, order.paid) or record.next_attempt_at is None or due_soon:
                # Keep what polling compares current, so it does not re-read the order again.
                record.next_attempt_at = next_check
                self._commit(record, "awaiting_payment", Reason("event.awaiting_payment"))
            return SyncResult(Outcome.AWAITING_PAYMENT, record)
        booking_date = record.invoice_date or self.clock.today()
        booked = order
        if any(c.state is CreditState.BOOKED for c in self._credit_records(record)):
            # What the invoice says is the order as booked, before its credits (the payment is
            # what Moneybird says is still open on it).
            booked = self.credit_booker.as_booked(record, order, profile, self.shop.credits(order))
        result = map_order(booked, profile, booking_date=booking_date)
        return self._book(connection, record, booked, result, existing=None)

    def _cancelled_unpaid(self, record: OrderRecord) -> SyncResult:
        label = record.invoice_number or record.invoice_id or ""
        record.attempts, record.next_attempt_at = 0, None
        return self._changed(record, Reason(CANCELLED_AFTER_BOOKING, {"invoice": label}))

    def invoices_already_booked(
        self, orders: Sequence[Order], profile: MappingProfile
    ) -> dict[str, RemoteInvoice]:
        """The invoices Moneybird already has for these orders, by reference: one look-up for a
        page of orders, so an import never books twice what another connector, a person or an
        earlier ccvbird (with a state database since lost) booked already."""
        # A reference too long to be booked is parked by the mapping; asking Moneybird about it
        # could only fail the look-up of the whole page.
        references = [
            r
            for r in (invoice_reference(o, profile) for o in orders if o.number)
            if len(r) <= REFERENCE_LIMIT
        ]
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
        # An invoice was found or made before and left in Moneybird: look for it again.
        found_before = record.reason_code in (ALREADY_IN_MONEYBIRD, FIGURES_DIFFER)
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
        label = invoice.invoice_number or invoice.id
        if not invoice.is_paid and profile.existing_invoices is ExistingInvoicePolicy.ADOPT_PAID:
            state = "existing.draft" if invoice.is_draft else "existing.unpaid"
            return self._park(
                record,
                Reason(
                    ALREADY_IN_MONEYBIRD,
                    {
                        "invoice": label,
                        "reference": invoice.reference,
                        "state_part": state,
                        "invoice_state_part": invoice_state_part(invoice.state),
                        "field": "existing_invoices",
                    },
                ),
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
        self._commit(
            record, "invoice.create", Reason("event.invoice.create", {"reference": draft.reference})
        )
        created = self.books.create_invoice(draft, contact_id=record.contact_id, external=external)
        self._store_invoice(record, created, "invoice.created")
        return created

    def _check_tax_rates(
        self, connection: ConnectionInfo, record: OrderRecord
    ) -> SyncResult | None:
        """Pause the connection when the profile maps a tax rate the administration no longer
        has as mapped (deactivated, another percentage, another country); ``None``: it fits.

        The rates come from a copy at most ``tax_rate_refresh`` old (re-read at the start of
        every pass): one request per connection every few minutes, never one per order."""
        now = self.clock.now()
        rates = self.tax_rates.get(connection.id, now=now, max_age=self.tax_rate_refresh)
        if rates is None:
            rates = self.books.tax_rates()
            self.tax_rates.put(connection.id, rates, now)
        mismatches = tax_rate_mismatches(connection.profile, rates)
        if not mismatches:
            return None
        fields = FIELD_SEPARATOR.join(m.key for m in mismatches)
        details = tuple(m.reason for m in mismatches if m.reason is not None)
        reason = Reason(PROFILE_MISMATCH, {"fields": fields}, also=details)
        self.store.pause(connection.id, reason)
        self.tax_rates.invalidate(connection.id)  # a fix in Moneybird is seen at once
        log.warning(
            "connection %s paused: %s (%s)",
            connection.id,
            reason.text,
            " ".join(m.message for m in mismatches),
        )
        # The order says why it waits, and is due again the moment the connection resumes.
        self._wait_for_connection(
            record, self.store.connection(connection.id), event="connection.paused"
        )
        return SyncResult(Outcome.PAUSED, record)

    def _figures_differ(
        self, record: OrderRecord, invoice: RemoteInvoice, differ: FiguresDiffer, *, delete: bool
    ) -> SyncResult:
        """Moneybird computed the invoice differently from the prediction: it is neither sent
        nor paid. ccvbird's own draft is deleted (a draft has no number and no legal weight;
        left behind, someone might finalise it); any other invoice is left as it is, named."""
        figures = figures_reason(differ)
        then: dict[str, str]
        if delete:
            # The intent first: a crash before the delete finds the draft again and deletes it.
            self._commit(record, "invoice.figures_differ", figures)
            self.books.delete_draft(invoice.id)
            self._later(
                "invoice.draft_deleted",
                Reason("event.invoice.draft_deleted", {"invoice_id": invoice.id}),
            )
            then = {"then_part": "figures_differ.deleted"}
        else:
            label = invoice.invoice_number or invoice.id
            self._later("invoice.figures_differ", figures)
            then = {
                "then_part": "figures_differ.left",
                "invoice": label,
                "reference": invoice.reference,
            }
        reason = Reason(FIGURES_DIFFER, {**figures.params, **then}, figures.also)
        # Forgotten here; a retry looks the reference up again before it makes anything.
        record.invoice_id = record.invoice_number = None
        record.invoice_intent = record.sent = record.send_intent = False
        return self._park(record, reason)

    def _store_invoice(self, record: OrderRecord, invoice: RemoteInvoice, event: str) -> None:
        record.invoice_id = invoice.id
        record.invoice_number = invoice.invoice_number
        record.invoice_intent = False
        if not invoice.is_draft:
            record.sent = True
        self._later(
            event,
            Reason(
                "event.invoice.stored",
                {"invoice_id": invoice.id, "state_part": invoice_state_part(invoice.state)},
            ),
        )

    def _ensure_sent(self, record: OrderRecord, invoice: RemoteInvoice | None) -> RemoteInvoice:
        assert record.invoice_id is not None
        if record.send_intent or invoice is None:
            invoice = self.books.get_invoice(record.invoice_id, external=False)
            if not invoice.is_draft:
                record.sent, record.send_intent = True, False
                record.invoice_number = invoice.invoice_number
                self._later(
                    "invoice.sent",
                    Reason(
                        "event.invoice.already_final", {"invoice": invoice.invoice_number or ""}
                    ),
                )
                return invoice
        record.send_intent = True
        self._commit(record, "invoice.send", Reason("event.invoice.send"))
        sent = self.books.send_invoice(record.invoice_id)
        record.sent, record.send_intent = True, False
        record.invoice_number = sent.invoice_number
        self._later(
            "invoice.sent", Reason("event.invoice.sent", {"invoice": sent.invoice_number or ""})
        )
        return sent

    def _ensure_paid(
        self,
        record: OrderRecord,
        order: Order,
        result: MappingResult,
        invoice: RemoteInvoice | None,
        external: bool,
        *,
        payment_date: date,
    ) -> None:
        assert record.invoice_id is not None
        if record.payment_intent or invoice is None:
            invoice = self.books.get_invoice(record.invoice_id, external=external)
        if invoice.is_paid:
            record.payment_id = invoice.payment_ids[-1] if invoice.payment_ids else "already-paid"
            record.payment_intent = False
            self._later("payment.adopted", Reason("event.payment.adopted"))
            return
        amount = invoice.total_unpaid
        payment = PaymentDraft(
            payment_date=payment_date,
            amount=amount,
            financial_account_id=result.financial_account_id,
            transaction_id=order.transaction_id or order.number,
            amount_base=invoice.total_unpaid_base,
        )
        record.payment_intent = True
        self._commit(
            record,
            "payment.create",
            Reason("event.payment.create", {"amount": format_amount(amount)}),
        )
        record.payment_id = self.books.register_payment(invoice, payment, external=external)
        record.payment_intent = False
        self._later(
            "payment.created", Reason("event.payment.created", {"payment_id": record.payment_id})
        )

    # -- outcomes ---------------------------------------------------------------------------------

    def _check_unchanged(
        self, record: OrderRecord, order: Order, profile: MappingProfile
    ) -> SyncResult:
        """Compare the order as read now with what was booked: what the shop can change
        (lines, amounts, VAT), with the invoice date the order was booked with — never the
        day it is read again (``invoice_date = "booking_date"``)."""
        if record.fingerprint is None:
            return SyncResult(Outcome.ALREADY_BOOKED, record)
        result = map_order(order, profile)
        if record.invoice_date is not None:
            unchanged = same_as_booked(result.draft, record.fingerprint, record.invoice_date)
        else:  # booked before ccvbird kept the date: the fingerprint tells which day it was
            found = recover_invoice_date(result.draft, record.fingerprint, until=self.clock.today())
            unchanged = found is not None
            if found is not None:
                record.invoice_date = found
                self._commit(
                    record,
                    "invoice_date.recovered",
                    Reason("event.invoice_date.recovered", {"invoice_date": found.isoformat()}),
                )
        if unchanged:
            return SyncResult(Outcome.ALREADY_BOOKED, record)
        known = self.store.credit_records(record.connection_id, record.order_id)
        if record.state is not SyncState.CHANGED and self._credited_down(
            record, order, profile, known
        ):
            # Lower by what was credited, and booked so: the credits say it (never edited).
            return SyncResult(Outcome.ALREADY_BOOKED, record)
        params = {"change_part": "changed.amounts"}
        if record.booked_total is not None and record.booked_total != result.totals.incl_vat:
            params.update(
                total_part="changed.total",
                was_amount=format_amount(record.booked_total),
                now_amount=format_amount(result.totals.incl_vat),
            )
        return self._changed(record, Reason("changed", params))

    def _changed(self, record: OrderRecord, reason: Reason) -> SyncResult:
        if record.state is not SyncState.CHANGED or not record.says(reason):
            record.state = SyncState.CHANGED
            record.explain(reason)
            self._commit(record, "changed_after_booking", reason)
        return SyncResult(Outcome.CHANGED, record)

    def _not_due(
        self, record: OrderRecord, order: Order, blockers: tuple[Problem, ...]
    ) -> SyncResult:
        reason = joined([b.reason for b in blockers])
        if order.status == STATUS_CANCELLED:
            return self._skip(record, Reason(ProblemCode.CANCELLED.value))
        if (
            record.state is not SyncState.WAITING
            or not record.says(reason)
            or record.next_attempt_at is not None
        ):
            # Looked at again when CCV says it changed (webhook, poll), not on a timer.
            record.state = SyncState.WAITING
            record.explain(reason)
            record.next_attempt_at = None
            self._commit(record, "waiting", reason)
        return SyncResult(Outcome.WAITING, record)

    def _skip(self, record: OrderRecord, reason: Reason) -> SyncResult:
        if record.state is not SyncState.SKIPPED or not record.says(reason):
            record.state = SyncState.SKIPPED
            record.explain(reason)
            record.next_attempt_at = None
            self._commit(record, "skipped", reason)
        return SyncResult(Outcome.SKIPPED, record)

    def _park(self, record: OrderRecord, reason: Reason) -> SyncResult:
        record.state = SyncState.NEEDS_ATTENTION
        record.explain(reason)
        record.next_attempt_at = None
        self._commit(record, "needs_attention", reason)
        return SyncResult(Outcome.PARKED, record)

    def _transient(self, record: OrderRecord, error: TransientError) -> SyncResult:
        if isinstance(error, Interrupted):
            return self._handed_back(record, error)
        record.attempts += 1
        if record.attempts >= self.max_attempts:
            return self._park(
                record,
                Reason(
                    "keeps_failing",
                    {"attempts": str(record.attempts), "error": str(error)}
                    | _left_in_moneybird(record),
                ),
            )
        wait = self.base_backoff * (2 ** (record.attempts - 1))
        record.next_attempt_at = self.clock.now() + wait
        record.explain(Reason("transient", {"error": str(error)}))
        self._commit(record, "retry.scheduled", record.why)
        return SyncResult(Outcome.RETRY_LATER, record, wait)

    def _handed_back(self, record: OrderRecord, error: Interrupted) -> SyncResult:
        """The worker stops while the order waited (for the request budget, a retry pause):
        the order is due again at once, for the next worker, and no attempt is counted. Its
        intents stay as they are, so the next run looks up what may exist before it writes."""
        record.next_attempt_at = self.clock.now() + HANDED_BACK_RETRY
        record.explain(Reason("interrupted", {"error": str(error)}))
        self._commit(record, "retry.handed_back", record.why)
        return SyncResult(Outcome.RETRY_LATER, record, HANDED_BACK_RETRY)

    def _wait_for_connection(
        self, record: OrderRecord, connection: ConnectionInfo, *, event: str = "waiting"
    ) -> None:
        """The connection cannot book: the order says so, and is due as soon as it can again.

        Its ``next_attempt_at`` is now, so the first pass after the connection resumes (by
        whatever way: the web app, a profile import, a reconnect) takes it up without a person's
        retry; while the connection is paused no pass looks at it."""
        pause = connection.pause
        if record.state not in RESUMABLE:  # booked, parked, skipped: it waits for nothing
            if event != "waiting":
                self._commit(record, event, pause or connection.paused_reason)
            return
        if connection.paused_reason:
            params = dict(pause.stored_params()) if pause is not None else {}
            if pause is not None:
                params["pause_part"] = pause.code
            reason = Reason(CONNECTION_PAUSED, params)
        else:
            reason = Reason(CONNECTION_DISABLED)
        said = record.says(reason)
        if said and record.next_attempt_at is not None and not self._pending:
            return  # said already (another webhook while paused): no write
        record.explain(reason)
        record.next_attempt_at = self.clock.now()
        self._commit(record, event, reason)

    def _later(self, event: str, message: Reason | str = "") -> None:
        """Log a step's result; it is committed with the next intent or outcome."""
        self._pending.append((event, message))

    def _commit(self, record: OrderRecord, event: str, message: Reason | str = "") -> None:
        """Persist the record with every pending log line (and a new contact's mapping), in
        one transaction."""
        earlier, self._pending = tuple(self._pending), []
        mapping, self._mapping = self._mapping, None
        self.store.save(record, event, message, earlier=earlier, contact=mapping)

    def _remember_later(self, connection_id: int, key: str, contact_id: str) -> None:
        """Map the e-mail to its contact with the next save (one statement fewer)."""
        self._mapping = (key, contact_id)

    def _flush_mapping(self, connection_id: int) -> None:
        """A mapping no save carried (the run ended without one): written now. A run that
        raised leaves it unwritten: the contact's intent makes the next run search for it."""
        mapping, self._mapping = self._mapping, None
        if mapping is not None:
            self.store.remember_contact(connection_id, *mapping)


#: Booking outcomes after which the order's waiting credits are booked.
_NOW_BOOKED = frozenset(
    {Outcome.BOOKED, Outcome.PAID, Outcome.TAKEN_OVER, Outcome.AWAITING_PAYMENT}
)


def _booked(record: OrderRecord) -> bool:
    """Whether the order's invoice is booked in full (or flagged), so a sync only compares it
    and looks after its credits; a booked order cancelled while the profile asks a person
    counts too."""
    if record.state in HAS_INVOICE:
        return record.next_step is Step.DONE or record.state is SyncState.CHANGED
    return (
        record.state is SyncState.NEEDS_ATTENTION
        and record.reason_code == CANCELLED_AFTER_BOOKING_ASK
        and record.next_step is Step.DONE
    )


def _credited_in_full(order: Order, found: list[CcvCredit], waiting: list[CreditRecord]) -> bool:
    """Whether CCV's credits of a not yet booked order add up to all it cost."""
    totals = {c.key: c.total for c in found}
    for credit in waiting:
        if credit.credit_key not in totals and credit.total is not None:
            totals[credit.credit_key] = credit.total
    credited = sum(totals.values(), ZERO)
    return credited > 0 and credited >= order.total_paid


def _credit_result(
    label: str, record: OrderRecord, credits: list[CreditRecord]
) -> CreditOrderResult:
    mine = tuple(credits)
    parked = [c for c in mine if c.state is CreditState.PARKED]
    if parked:
        first = parked[0]
        return CreditOrderResult(
            CreditOutcome.PARKED, first.reason_code or "parked",
            f"Credit {first.reference} of order {label} is parked: {first.reason}", record, mine,
        )  # fmt: skip
    if not mine or any(c.state is not CreditState.BOOKED for c in mine):
        return CreditOrderResult(
            CreditOutcome.RETRY_LATER, "transient",
            f"The credit of order {label} is under way; it is finished by itself.", record, mine,
        )  # fmt: skip
    total = sum((c.total or ZERO for c in mine), ZERO)
    references = ", ".join(c.reference for c in mine)
    return CreditOrderResult(
        CreditOutcome.CREDITED, "credited",
        f"Order {label} credited: {references} (-{format_amount(total)}).", record, mine,
    )  # fmt: skip


def _left_in_moneybird(record: OrderRecord) -> dict[str, str]:
    """What an unfinished booking left in Moneybird, as a part of the reason (a parked order
    names it, so a person neither deletes a draft a retry finishes nor books the order again by
    hand); empty when nothing was left."""
    if record.invoice_id is not None and not record.sent:
        return {
            "left_part": "left.draft",
            "invoice_id": record.invoice_id,
            "reference": record.order_number,
        }
    if record.invoice_id is not None and record.payment_id is None:
        label = record.invoice_number or record.invoice_id
        return {"left_part": "left.unpaid", "invoice": label}
    if record.invoice_intent:
        return {"left_part": "left.maybe", "reference": record.order_number}
    return {}


def figures_reason(differ: FiguresDiffer) -> Reason:
    """Moneybird's figures beside ccvbird's, as a reason's part: the total, then each rate."""
    rates = tuple(
        Reason(
            "figures.rate_of" if rate.percentage else "figures.rate",
            {
                "tax_rate_id": rate.tax_rate_id,
                "percentage": str(rate.percentage or ""),
                "predicted_amount": str(rate.predicted_vat),
                "computed_amount": str(rate.moneybird_vat),
            },
        )
        for rate in differ.rates
    )
    total = {
        "figures_part": "figures.total",
        "predicted_amount": str(differ.predicted_total),
        "computed_amount": str(differ.moneybird_total),
    }
    return Reason("figures.total", total, rates)


def pause_reason(error: NeedsUserError) -> Reason:
    """Why a connection pauses for an error only a person can fix, by the kind of error."""
    if isinstance(error, PlanLimitReached):
        code = "plan_limit"
    elif isinstance(error, PermissionDenied):
        code = "permission_denied"
    else:
        code = "credentials_lost"
    return Reason(code, {"error": str(error)})
