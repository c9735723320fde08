"""What ccvbird knows about each credit of a booked order, and which step comes next.

One :class:`CreditRecord` per credit: a CCV credit invoice (``credit_key`` ``ccv:<invoice id>``)
or the cancellation of a booked order (``cancel``). Its ``seq`` (1, 2, … per order) is given
once and never again, so its reference (``1001-C1``) is fixed before the first call to
Moneybird: that is how a credit is found again after a lost answer, and why there is one
Moneybird credit per CCV credit.

States: ``waiting`` (its original is not booked yet, or a person is to say "credit it"),
``booking`` (some steps done, the rest follow, retries included), ``booked`` (created,
finalised and settled), ``parked`` (bad input, with a code and its parameters; nothing else of
the order stops), ``needs_attention`` (repeated failures).

Steps, each committed before (the intent) and after its call, like the invoice's:

* sales invoice: ``create`` (``duplicate_creditinvoice`` of the original: the only way the spec
  gives to set ``original_sales_invoice_id``) → ``edit`` (its reference and our lines) →
  ``send`` (Manual: no e-mail) → ``settle`` (a negative payment, or set off against the
  original) → done;
* external sales invoice: ``create`` (a negative external invoice with our reference) →
  ``settle`` → done.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


class CreditState(StrEnum):
    WAITING = "waiting"
    BOOKING = "booking"
    BOOKED = "booked"
    PARKED = "parked"
    NEEDS_ATTENTION = "needs_attention"


class CreditStep(StrEnum):
    CREATE = "create"
    EDIT = "edit"
    SEND = "send"
    SETTLE = "settle"
    DONE = "done"


@dataclass
class CreditRecord:
    """The sync record of one credit (mutable: the engine updates it step by step)."""

    connection_id: int
    order_id: str
    credit_key: str
    seq: int
    reference: str
    state: CreditState = CreditState.WAITING
    reason: str = ""
    reason_code: str = ""
    reason_params: Mapping[str, str] = field(default_factory=dict)
    attempts: int = 0
    next_attempt_at: datetime | None = None
    #: ``sales_invoice`` or ``external_sales_invoice``: fixed at the first call.
    kind: str = "sales_invoice"
    credit_intent: bool = False
    credit_id: str | None = None
    edit_intent: bool = False
    edited: bool = False
    send_intent: bool = False
    sent: bool = False
    settle_intent: bool = False
    settle_method: str = ""
    settlement_id: str | None = None
    #: What is credited (positive) and its VAT per percentage (negative, as booked).
    total: Decimal | None = None
    vat: Mapping[str, Decimal] = field(default_factory=dict)
    #: Order row id → quantity this credit returns.
    quantities: Mapping[str, Decimal] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = 0

    @property
    def external(self) -> bool:
        return self.kind == "external_sales_invoice"

    @property
    def next_step(self) -> CreditStep:
        if self.credit_id is None:
            return CreditStep.CREATE
        if not self.external and not self.edited:
            return CreditStep.EDIT
        if not self.external and not self.sent:
            return CreditStep.SEND
        if self.settlement_id is None:
            return CreditStep.SETTLE
        return CreditStep.DONE

    @property
    def counts_against_order(self) -> bool:
        """Whether its amount is taken off what remains to be credited: every credit that is
        (or may be) in Moneybird, and every one that will be."""
        return self.state is not CreditState.PARKED or self.credit_id is not None
