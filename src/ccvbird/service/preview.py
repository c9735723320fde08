"""Preview: the invoice an order would become, or the credit invoice one of its CCV credits
would become, and every reason it would not be booked. Books nothing, calls nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ccvbird.domain.booked import shop_date
from ccvbird.domain.credits import (
    CcvCredit,
    CreditProblem,
    CreditProblemCode,
    CreditResult,
    map_credit,
    order_as_booked,
)
from ccvbird.domain.decisions import booking_blockers
from ccvbird.domain.mapping import MappingResult, Problem, invoice_reference, map_order
from ccvbird.domain.order import Order
from ccvbird.domain.profile import MappingProfile


@dataclass(frozen=True, slots=True)
class Preview:
    order: Order
    result: MappingResult
    #: Eligibility (status, paid) first, then what stops the mapping itself.
    problems: tuple[Problem, ...]

    @property
    def bookable(self) -> bool:
        return not self.problems


def preview_order(order: Order, profile: MappingProfile, *, today: date) -> Preview:
    """Map ``order`` with ``profile`` as the engine would on ``today``; book nothing."""
    result = map_order(order, profile, booking_date=today)
    return Preview(
        order=order, result=result, problems=booking_blockers(order, profile) + result.problems
    )


@dataclass(frozen=True, slots=True)
class CreditPreview:
    """The credit invoice a CCV credit of a booked order becomes (its first credit: ``-C1``)."""

    #: The order as it was booked (see :func:`preview_credit`).
    order: Order
    credit: CcvCredit
    #: The original invoice, as the order maps.
    original: MappingResult
    result: CreditResult
    #: What stops the original (then its credit is never booked either), then the credit.
    problems: tuple[Problem | CreditProblem, ...]
    #: The credit's rows and costs were added back to the order read (``after_credit``).
    added_back: bool

    @property
    def bookable(self) -> bool:
        return not self.problems


def preview_credit(
    order: Order,
    credit: CcvCredit,
    profile: MappingProfile,
    *,
    today: date,
    after_credit: bool = False,
) -> CreditPreview:
    """Map ``credit`` (already normalised) of ``order`` as the engine would; book nothing.

    The engine credits the order as it was booked, which it recognises by the booked invoice's
    fingerprint: the order as read, or — when the shop edited the order before CCV invoiced the
    difference — the order with its credits added back. A preview has no booked invoice to
    recognise it by, so the person says which: ``order`` is the order as booked, or with
    ``after_credit`` the order as CCV Shop shows it after the credit (the credit's rows and
    costs are then added back). Guessing would be wrong both ways: a credit of more than was
    bought always "fits" an order it is added back to. The original's eligibility (paid,
    status) is not asked: a booked order is often cancelled since."""
    booked = order_as_booked(order, [credit]) if after_credit else order
    original = map_order(booked, profile, booking_date=today)
    result = map_credit(
        booked, credit, profile, original_reference=invoice_reference(booked, profile), seq=1,
        remaining=original.totals.incl_vat,
        credit_date=shop_date(credit.created_at, profile.timezone),
    )  # fmt: skip
    problems: list[Problem | CreditProblem] = []
    if original.problems:
        problems.append(
            CreditProblem(
                CreditProblemCode.ORIGINAL_NOT_BOOKABLE,
                "The order itself would not be booked, so neither would its credit: "
                + " ".join(p.message for p in original.problems),
                {"order": booked.number},
            )
        )
    problems.extend(result.problems)
    return CreditPreview(booked, credit, original, result, tuple(problems), after_credit)
