"""The interfaces the service layer needs from the outside world.

Services depend on these Protocols, never on an adapter, so tests hand them in-memory fakes and
bootstrap hands them the real clients, the database and the queue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from ccvbird.domain.administration import TaxRateInfo
from ccvbird.domain.credit_records import CreditRecord
from ccvbird.domain.credits import CcvCredit
from ccvbird.domain.errors import InvalidOrderData
from ccvbird.domain.invoice import ContactDraft, InvoiceDraft
from ccvbird.domain.order import Order, OrderSummary
from ccvbird.domain.profile import MappingProfile
from ccvbird.domain.reasons import Reason
from ccvbird.domain.sync import (
    ContactLookup,
    OrderRecord,
    RemoteContact,
    RemoteInvoice,
    SyncState,
)


class Clock(Protocol):
    """Time, injected so that nothing reads the wall clock behind a test's back."""

    def now(self) -> datetime:
        """Aware UTC now."""
        ...

    def today(self) -> date:
        """Today's date in the shop's time zone."""
        ...


class Shop(Protocol):
    """A CCV shop, read through its API. Orders come complete with their rows."""

    def get_order(self, order_id: str) -> Order: ...

    def order_of(self, kind: str, resource_id: str) -> str:
        """The order id of a CCV invoice (``kind`` ``invoice``) or return (``return``), read
        from CCV (one request); :class:`NotFound` when it is gone or names no order."""
        ...

    def credits(self, order: Order) -> list[CcvCredit]:
        """The order's CCV credit invoices, amounts positive (one request, plus one per
        credit for its rows)."""
        ...

    def credited_orders(
        self, *, created_from: datetime, created_until: datetime | None = None
    ) -> list[str]:
        """The ids of the orders that got a CCV credit invoice in the window, each once, in
        the order of their first credit: one listing of the period's invoices (a request per
        page), so a history import learns which orders to read credits for without asking
        per order."""
        ...

    def listed_credits(
        self, *, created_from: datetime, created_until: datetime | None = None
    ) -> list[tuple[str, str]]:
        """(order id, CCV credit invoice id) of every credit invoice created in the window (the
        listing :meth:`credited_orders` is made of): polling's safety net for credit webhooks
        that never arrived."""
        ...

    def iter_orders(
        self,
        *,
        created_from: datetime,
        created_until: datetime | None = None,
        on_invalid: Callable[[str, InvalidOrderData], None] | None = None,
    ) -> Iterator[Order]:
        """Completed-checkout orders created in the window, oldest first, with their rows."""
        ...

    def list_orders(
        self, *, created_from: datetime, created_until: datetime | None = None
    ) -> Iterator[OrderSummary]:
        """The same orders without their rows: one request per page, for polling."""
        ...


class Books(Protocol):
    """A Moneybird administration, written through its API.

    Creates are never repeated blindly by an implementation: when a create's outcome is
    uncertain it raises, and the engine looks the object up before trying again.
    """

    def contact_versions(self) -> Mapping[str, int]:
        """Every contact id with its version (one request)."""
        ...

    def contacts(self, ids: Iterable[str]) -> list[RemoteContact]:
        """Full contacts for ``ids`` (archived ones included)."""
        ...

    def find_contacts_by_email(self, email: str) -> list[RemoteContact]: ...

    def create_contact(self, contact: ContactDraft) -> RemoteContact: ...

    def create_invoice(
        self, draft: InvoiceDraft, *, contact_id: str, external: bool
    ) -> RemoteInvoice: ...

    def find_invoice(
        self, reference: str, *, contact_id: str | None, external: bool, invoice_date: date
    ) -> RemoteInvoice | None:
        """The invoice with this reference, if one exists (adoption after an uncertain create)."""
        ...

    def invoices_with_references(
        self, references: Sequence[str], *, external: bool, period: tuple[date, date]
    ) -> dict[str, RemoteInvoice]:
        """The invoices that already carry one of ``references``, by reference (invoice dates
        within ``period``; drafts without a date count as today). A few requests for a whole
        page of orders: how an import avoids booking what Moneybird already has."""
        ...

    def get_invoice(self, invoice_id: str, *, external: bool) -> RemoteInvoice: ...

    def delete_draft(self, invoice_id: str) -> bool:
        """Delete a draft sales invoice (no number, no legal weight yet); False when it was
        gone already."""
        ...

    def tax_rates(self) -> tuple[TaxRateInfo, ...]:
        """The administration's tax rates, read now (the engine keeps its own copy)."""
        ...

    def send_invoice(self, invoice_id: str) -> RemoteInvoice:
        """Finalise with delivery method Manual: Moneybird numbers it and e-mails nothing."""
        ...

    def register_payment(
        self, invoice: RemoteInvoice, payment: PaymentDraft, *, external: bool
    ) -> str: ...

    def duplicate_credit(self, original_invoice_id: str) -> RemoteInvoice:
        """A new draft credit invoice of a sales invoice (``duplicate_creditinvoice``): every
        line negated, ``original_sales_invoice_id`` set, the original's reference. Never
        repeated blindly: after an uncertain outcome, :meth:`find_credit_drafts` first."""
        ...

    def find_credit_drafts(
        self, original_reference: str, original_invoice_id: str
    ) -> list[RemoteInvoice]:
        """Draft credit invoices of ``original_invoice_id`` still carrying its reference (made
        by a duplicate whose answer was lost), oldest first."""
        ...

    def rewrite_credit(self, credit: RemoteInvoice, draft: InvoiceDraft) -> RemoteInvoice:
        """Give a draft credit invoice ``draft``'s reference, date and lines (its own removed)."""
        ...

    def settle_credit(self, credit_id: str) -> RemoteInvoice:
        """Set a sent credit off against its original (``register_payment_creditinvoice``)."""
        ...


@dataclass(frozen=True, slots=True)
class PaymentDraft:
    payment_date: date
    amount: Decimal
    financial_account_id: str | None
    transaction_id: str
    amount_base: Decimal | None = None  # in the administration's currency, for foreign invoices
    #: Moneybird's ``manual_payment_action``: ``invoices_settlement`` sets the payment off
    #: against the invoice ``settles_invoice_id`` (an external credit against its original).
    manual_payment_action: str | None = None
    settles_invoice_id: str | None = None


@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    """A shop and an administration connected by ccvbird (no secrets: those stay in the store)."""

    id: int
    name: str
    shop_url: str
    administration_id: str
    profile: MappingProfile
    start_date: date | None = None
    #: Why it is paused, in English ("" when it is not); ``paused_code`` and ``paused_params``
    #: say it as a reason of ``domain/reasons.py`` (empty code: paused by an older version).
    paused_reason: str = ""
    enabled: bool = True
    last_sync_at: datetime | None = None
    poll_cursor: datetime | None = None
    #: When the connection was made: an order created before it may have been invoiced by
    #: something else already (another connector, a person, an earlier ccvbird).
    created_at: datetime | None = None
    #: Why the last poll failed (empty once a poll succeeds), and when.
    last_error: str = ""
    last_error_at: datetime | None = None
    #: (connection id, reference prefix) of every other connection that books into the same
    #: Moneybird administration: their invoice references must stay apart from this one's
    #: (``domain/references.py``).
    neighbours: tuple[tuple[int, str], ...] = ()
    paused_code: str = ""
    paused_params: Mapping[str, str] = field(default_factory=dict)

    @property
    def pause(self) -> Reason | None:
        """Why the connection is paused, as a code and its facts (``None``: not paused, or
        paused by a version that kept only the English sentence)."""
        if not self.paused_reason or not self.paused_code:
            return None
        return Reason(self.paused_code, self.paused_params)


class Store(Protocol):
    """The state database. Every write commits before it returns: a record saved is a record
    that survives a crash on the very next line."""

    def connection(self, connection_id: int) -> ConnectionInfo: ...

    def connections(self) -> list[ConnectionInfo]: ...

    def record(self, connection_id: int, order_id: str) -> OrderRecord:
        """The order's record, created (state waiting) when it is new."""
        ...

    def connection_and_record(
        self, connection_id: int, order_id: str
    ) -> tuple[ConnectionInfo, OrderRecord]:
        """:meth:`connection` and :meth:`record` at once (the first read of every order the
        engine syncs: one statement where the database allows)."""
        ...

    def find_record(self, connection_id: int, order_id: str) -> OrderRecord | None:
        """The order's record, or ``None`` (never creates one)."""
        ...

    def save(
        self,
        record: OrderRecord,
        event: str,
        message: Reason | str = "",
        *,
        earlier: Sequence[tuple[str, Reason | str]] = (),
        contact: tuple[str, str] | None = None,
    ) -> None:
        """Persist the record and append ``earlier`` and ``event`` to its log, in one
        transaction; with ``contact`` (e-mail, contact id), :meth:`remember_contact` in it too.

        A store fenced by the connection's lease (what the engine gets in a worker) refuses
        with :class:`~ccvbird.domain.errors.LeaseLost` when another worker holds the connection
        now, and with ``RecordMoved`` when the record changed since it was read."""
        ...

    def records(
        self, connection_id: int, *, states: Iterable[SyncState] | None = None
    ) -> list[OrderRecord]: ...

    def count_states(self, connection_id: int) -> dict[SyncState, int]: ...

    def credit_record(
        self, connection_id: int, order_id: str, credit_key: str, reference_of: Any
    ) -> CreditRecord:
        """The credit's record, created with the order's next number when new."""
        ...

    def credit_records(
        self, connection_id: int, order_id: str | None = None
    ) -> list[CreditRecord]: ...

    def save_credit(self, record: CreditRecord, event: str, message: Reason | str = "") -> None:
        """Persist a credit record and log the step on its order (fenced like :meth:`save`)."""
        ...

    def claim_due(
        self, connection_id: int, now: datetime, *, until: datetime, limit: int = 500
    ) -> list[str]:
        """The order ids whose booking is due at ``now`` (retry time reached, or interrupted
        with no time), claimed until ``until`` so no other pass takes them meanwhile."""
        ...

    def claim_credits_due(
        self, connection_id: int, now: datetime, *, until: datetime, limit: int = 500
    ) -> list[str]:
        """The order ids with a credit whose retry is due, claimed like :meth:`claim_due`."""
        ...

    def pause(self, connection_id: int, reason: Reason | str) -> None:
        """Stop booking for the connection, saying why (its English is kept beside it)."""
        ...

    def resume(self, connection_id: int) -> None: ...

    def mark_synced(self, connection_id: int, at: datetime, cursor: datetime | None) -> None:
        """A poll succeeded (clears the last error)."""
        ...

    def mark_sync_failed(self, connection_id: int, at: datetime, error: str) -> None:
        """A poll failed for a reason of the whole connection; ``status`` shows ``error``."""
        ...

    # contacts by normalised e-mail
    def contact_id_for(self, connection_id: int, email: str) -> str | None: ...

    def find_contact(self, connection_id: int, email: str) -> ContactLookup:
        """:meth:`contact_id_for`, and when the contact directory was last refreshed (what
        a miss asks next), in one query."""
        ...

    def remember_contact(self, connection_id: int, email: str, contact_id: str) -> None: ...

    def contact_directory(self, connection_id: int) -> dict[str, int]:
        """Known Moneybird contact versions (contact id → version)."""
        ...

    def record_delivery(
        self, connection_id: int, source: str, key: str, event: str, order_id: str | None
    ) -> bool:
        """Record a webhook delivery; False when this delivery was seen before."""
        ...

    def delivery_to_queue(
        self, connection_id: int, source: str, key: str, event: str, order_id: str | None
    ) -> bool:
        """Record a delivery to be queued; False when it was queued before (a duplicate)."""
        ...

    def delivery_queued(self, source: str, key: str) -> None:
        """Mark the delivery queued (call only after the queue took it)."""
        ...

    def invalidate_contact_directory(self, connection_id: int) -> None:
        """Forget when the directory was refreshed: the next lookup re-reads Moneybird."""
        ...

    def update_contact_directory(
        self,
        connection_id: int,
        contacts: list[RemoteContact],
        removed: Iterable[str],
        at: datetime,
    ) -> None: ...


class Queue(Protocol):
    """Where work goes: triggers only enqueue, the workers decide."""

    def enqueue_order(
        self, connection_id: int, order_id: str, *, delay_seconds: float = 0
    ) -> None: ...


class SyncObserver(Protocol):
    """Told what the engine did, for the operator's metrics (``adapters/metrics.py``): the
    engine reports, it does not count."""

    def order_synced(self, connection_id: int, outcome: str, reason_code: str) -> None:
        """A run of the engine for one order ended with ``outcome`` (and the record's reason
        code, empty when there is none)."""
        ...

    def paid_invoice_booked(self, seconds: float) -> None:
        """A worker booked a paid invoice ``seconds`` after its order was queued as paid."""
        ...


@dataclass(frozen=True, slots=True)
class OAuthToken:
    """An OAuth2 token pair as stored for a connection.

    ``expires_at`` is epoch seconds, ``None`` when the service gave no lifetime (Moneybird's
    tokens often have none; the client then refreshes only when a call is refused with 401).
    """

    access_token: str
    refresh_token: str | None = None
    expires_at: float | None = None
    scope: str = ""


class TokenStore(Protocol):
    """Where a connection's OAuth token lives (encrypted in the state DB in production).

    ``save`` must persist before it returns: Moneybird rotates the refresh token on every
    refresh, so a token pair that is lost after a refresh locks the connection out.
    """

    def load(self) -> OAuthToken | None: ...

    def save(self, token: OAuthToken) -> None: ...


class SeenKeys(Protocol):
    """Remembers delivery keys (webhook ``Idempotency-Key``) so a push is handled once."""

    def first_time(self, key: str) -> bool:
        """Record ``key``; True the first time it is offered, False on every repeat."""
        ...
