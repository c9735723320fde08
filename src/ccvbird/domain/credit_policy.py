"""The profile's ``[credits]`` section: how credits are settled, and what happens to a booked
order that is cancelled or one credited before it was booked (``docs/profile.md``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from ccvbird.domain.order import Order


class SettleMethod(StrEnum):
    #: The money went back to the customer: a negative payment on the credit invoice, on the
    #: financial account it went back through.
    REFUND = "refund"
    #: No money moved: the credit is set off against the original
    #: (``register_payment_creditinvoice``).
    SET_OFF = "set_off"


class CancellationPolicy(StrEnum):
    #: A booked order cancelled in CCV waits for a person (``ccvbird credit ORDER``).
    ASK = "ask"
    #: It is credited in full, straight away.
    CREDIT = "credit"


class CreditedBeforeBooking(StrEnum):
    #: An order credited in full before ccvbird booked it is booked nor credited.
    NEITHER = "neither"
    #: It is booked, then credited.
    BOTH = "both"


@dataclass(frozen=True, slots=True)
class CreditPolicy:
    """The profile's ``[credits]`` section."""

    #: Payment method (CCV name or id) → how its credits are settled.
    settle: Mapping[str, SettleMethod] = field(default_factory=dict)
    #: For methods not in ``settle``; ``None``: refund when the original was paid, else set off.
    settle_default: SettleMethod | None = None
    #: Payment method (CCV name or id) → the financial account its refunds go back through;
    #: a method not here uses the account its payments were booked on (``payment_accounts``).
    refund_accounts: Mapping[str, str] = field(default_factory=dict)
    cancellations: CancellationPolicy = CancellationPolicy.ASK
    credited_before_booking: CreditedBeforeBooking = CreditedBeforeBooking.NEITHER

    def settle_method(self, order: Order, *, original_paid: bool) -> SettleMethod:
        """How a credit of ``order`` is settled. The safe default follows the money: a paid
        original was refunded, an unpaid one is set off (nothing was paid, nothing goes back)."""
        for key in (order.payment_method, order.payment_method_id):
            if key and key in self.settle:
                return self.settle[key]
        if self.settle_default is not None:
            return self.settle_default
        return SettleMethod.REFUND if original_paid else SettleMethod.SET_OFF

    def refund_account(self, order: Order, *, payment_account: str | None) -> str | None:
        """The financial account a refund of ``order`` is registered on: the method's own
        refund account, else the account its payment was booked on."""
        for key in (order.payment_method, order.payment_method_id):
            if key and key in self.refund_accounts:
                return self.refund_accounts[key]
        return payment_account
