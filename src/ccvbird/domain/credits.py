"""A CCV credit (a credit invoice, or a cancellation) in, the Moneybird credit invoice out; no I/O.

A credit reverses part of a booked order, so its lines must be the lines it reverses: the same
VAT rate, treatment (domestic, OSS, reverse charge, export) and ledger account. The surest way
to get that is to use the very mapping that made the original: the credited part of the order
(the rows with their credited quantities, the credited shipping, payment and extra costs, and
the discount the credit carries) is built as an :class:`Order` and run through
:func:`map_order` with the original's profile. Its lines are then negated the way Moneybird's own
credit invoices are (``duplicate_creditinvoice`` in the spec: negative quantity, positive price).

A credit is booked only when it adds up to the cent with what CCV credited; no rounding line is
ever made for a credit (a wrong credit in the books is worse than one that waits for a person).

CCV does not document the sign of the amounts on a credit invoice (``ccvshop-api.md`` §5.1,
§10): :func:`normalised` accepts either and turns them into "amount credited", positive.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from ccvbird.domain.credit_policy import (
    CancellationPolicy,
    CreditedBeforeBooking,
    CreditPolicy,
    SettleMethod,
)
from ccvbird.domain.invoice import InvoiceDraft, InvoiceLine, LineKind, Totals, compute_totals
from ccvbird.domain.mapping import ProblemCode, map_order
from ccvbird.domain.money import ZERO, format_amount, format_quantity, quantize
from ccvbird.domain.order import Order, OrderRow
from ccvbird.domain.profile import MappingProfile
from ccvbird.domain.vat import format_percentage

#: ``credit_key`` of the credit that cancels a whole booked order (there is at most one).
CANCEL_KEY = "cancel"


class CcvCreditStatus(StrEnum):
    """CCV's invoice status words (``ccvshop-api.md`` §5.1: 1 paid, 2 unpaid, 3 reimbursed)."""

    PAID = "paid"
    UNPAID = "unpaid"
    REIMBURSED = "reimbursed"


@dataclass(frozen=True, slots=True)
class CcvCreditRow:
    """One row of a CCV credit invoice; ``count`` and ``total`` are what it credits."""

    row_id: str
    orderrow_id: str
    name: str
    count: Decimal
    price: Decimal
    vat_percentage: Decimal
    total: Decimal


@dataclass(frozen=True, slots=True)
class CcvCredit:
    """A CCV invoice of ``type`` credit. Amounts as CCV sent them until :func:`normalised`."""

    invoice_id: str
    number: str
    order_id: str
    created_at: datetime
    status: CcvCreditStatus
    rows: tuple[CcvCreditRow, ...]
    total: Decimal
    currency: str = "EUR"
    shipping: Decimal = ZERO
    payment_costs: Decimal = ZERO
    payment_option_price: Decimal = ZERO
    extra_costs: Decimal = ZERO
    discounts: Decimal = ZERO
    credit_point_discount: Decimal = ZERO
    #: What CCV's debit invoices of the order add up to (positive), as read with this credit;
    #: ``None``: not known. It tells whether the shop edited the order before crediting it
    #: (:func:`order_before_credits`).
    invoiced: Decimal | None = None

    @property
    def key(self) -> str:
        """The credit's ``credit_key``: one Moneybird credit per CCV credit invoice."""
        return f"ccv:{self.invoice_id}"


def normalised(credit: CcvCredit) -> CcvCredit:
    """The credit with "amount credited" positive, whichever sign CCV used.

    The invoice total decides: a negative total means CCV wrote the credit negative, and every
    amount is flipped (an extra-costs discount keeps its sign relative to the rest). Quantities
    are counts of returned items and are made positive either way.
    """
    sign = Decimal(-1) if credit.total < 0 else Decimal(1)
    rows = tuple(
        dataclasses.replace(r, count=abs(r.count), price=abs(r.price), total=r.total * sign)
        for r in credit.rows
    )
    return dataclasses.replace(
        credit,
        rows=rows,
        total=credit.total * sign,
        shipping=credit.shipping * sign,
        payment_costs=credit.payment_costs * sign,
        payment_option_price=credit.payment_option_price * sign,
        extra_costs=credit.extra_costs * sign,
        discounts=abs(credit.discounts),
        credit_point_discount=abs(credit.credit_point_discount),
    )


def order_as_booked(order: Order, credits: Sequence[CcvCredit]) -> Order:
    """The order as it was before ``credits`` (all of its CCV credits, :func:`normalised`).

    CCV makes a credit invoice for "the difference between the current order and the latest
    invoice" (``ccvshop-api.md`` §5.1): a shop that credits rows edits the order first, so the
    order read now has those rows and costs taken off. Adding every credit back gives the order
    that was booked; the caller checks that it maps to the booked invoice. A shop that credits
    without editing the order needs nothing added: the caller tries the order as read first.
    """
    if not credits:
        return order
    rows = list(order.rows)
    by_id = {row.row_id: index for index, row in enumerate(rows)}
    for credit in credits:
        for credited in credit.rows:
            index = by_id.get(credited.orderrow_id)
            if index is None:
                continue  # a row CCV removed from the order: the caller's check fails
            row = rows[index]
            rows[index] = dataclasses.replace(
                row, quantity=row.quantity + credited.count, total=row.total + credited.total
            )

    def added(field: str) -> Decimal:
        return sum((getattr(c, field) for c in credits), ZERO)

    return dataclasses.replace(
        order,
        rows=tuple(rows),
        shipping=order.shipping + added("shipping"),
        payment_costs=order.payment_costs + added("payment_costs"),
        payment_option_price=order.payment_option_price + added("payment_option_price"),
        extra_costs=order.extra_costs + added("extra_costs"),
        discounts_total=order.discounts_total + added("discounts"),
        credit_point_discount=order.credit_point_discount + added("credit_point_discount"),
        total_paid=order.total_paid + added("total"),
    )


def order_before_credits(order: Order, credits: Sequence[CcvCredit]) -> Order:
    """The order to book as the original invoice of an order CCV credited before ccvbird
    booked it: what CCV invoiced first, before its credits.

    CCV's debit invoices decide (``CcvCredit.invoiced``): when they add up to the order as read
    less its credits, the shop edited the order before crediting it (CCV's documented rule,
    ``ccvshop-api.md`` §5.1), and the credits are added back (:func:`order_as_booked`); when
    they equal the order as read, are not known or are nothing, the order is booked as read.
    Either way the credits are then booked on top, so the original and its credits net to the
    order's total now, or to what CCV invoiced less what it credited."""
    if not credits:
        return order
    invoiced = next((c.invoiced for c in credits if c.invoiced is not None), None)
    if invoiced is None or invoiced <= 0 or invoiced == order.total_paid:
        # Not known, nothing invoiced (CCV invoices an order below zero as a "credit"), or
        # not edited.
        return order
    credited = sum((c.total for c in credits), ZERO)
    if invoiced - credited != order.total_paid:
        return order
    return order_as_booked(order, credits)


class CreditProblemCode(StrEnum):
    EXCEEDS_REMAINING = "credit_exceeds_remaining"
    ROW_NOT_ON_ORIGINAL = "credit_row_not_on_original"
    VAT_RATE_NOT_ON_ORIGINAL = "credit_vat_rate_not_on_original"
    QUANTITY_EXCEEDS_ORIGINAL = "credit_quantity_exceeds_original"
    COSTS_EXCEED_ORIGINAL = "credit_costs_exceed_original"
    TOTALS_DO_NOT_RECONCILE = "credit_totals_do_not_reconcile"
    CURRENCY_DIFFERS = "credit_currency_differs"
    NOT_A_CREDIT = "credit_not_positive"
    MAPPING = "credit_mapping"
    # found by the engine, not by the mapping
    ORIGINAL_BOOKED_ELSEWHERE = "credit_original_booked_elsewhere"
    ORIGINAL_INVOICE_DELETED = "credit_original_invoice_deleted"
    ORIGINAL_NOT_BOOKABLE = "credit_original_not_bookable"


@dataclass(frozen=True, slots=True)
class CreditProblem:
    """Why a credit is parked: a code, the facts as parameters, and the words for a person."""

    code: CreditProblemCode
    message: str
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CreditResult:
    """The credit invoice a credit becomes (negative lines), and what stops it, if anything."""

    draft: InvoiceDraft
    totals: Totals
    #: What CCV credited (positive); ``-totals.incl_vat`` when the credit is exact.
    amount: Decimal
    problems: tuple[CreditProblem, ...]
    #: Order row id → quantity this credit returns (for "more than was bought" across credits).
    quantities: Mapping[str, Decimal] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def vat_by_percentage(self) -> dict[str, Decimal]:
        return self.totals.vat_by_percentage()


def credit_reference(original_reference: str, seq: int) -> str:
    """``1001-C1``: the original's reference and the credit's number within the order; how a
    credit is found again after a lost answer."""
    return f"{original_reference}-C{seq}"


def negate(line: InvoiceLine) -> InvoiceLine:
    """The line that reverses ``line``: negative quantity, the same unit price (as Moneybird's
    ``duplicate_creditinvoice`` makes them)."""
    return dataclasses.replace(line, quantity=-line.quantity)


def map_credit(
    order: Order,
    credit: CcvCredit,
    profile: MappingProfile,
    *,
    original_reference: str,
    seq: int,
    remaining: Decimal,
    already_credited: Mapping[str, Decimal] | None = None,
    credit_date: date,
) -> CreditResult:
    """The credit invoice for ``credit`` (already :func:`normalised`) of the booked ``order``.

    ``remaining`` is what is still uncredited of the booked total; ``already_credited`` the row
    quantities earlier credits of this order returned.
    """
    problems: list[CreditProblem] = []
    rows, quantities = _credited_rows(order, credit, already_credited or {}, problems)
    problems.extend(_cost_problems(order, credit))
    if credit.currency and credit.currency != order.currency:
        problems.append(
            CreditProblem(
                CreditProblemCode.CURRENCY_DIFFERS,
                f"The credit is in {credit.currency}, the order in {order.currency}.",
                {"credit_currency": credit.currency, "order_currency": order.currency},
            )
        )
    exact = dataclasses.replace(profile, rounding_tolerance=ZERO)
    # Returned goods and the discount that came with them: split over the returned rows' rates.
    goods = dataclasses.replace(
        _without_costs(order),
        rows=tuple(rows),
        discounts_total=credit.discounts,
        credit_point_discount=credit.credit_point_discount,
    )
    # Costs (and a discount without goods) were split over the whole order's goods when booked:
    # crediting them reverses that same split, so they are mapped against the original rows.
    costs = dataclasses.replace(
        _without_costs(order),
        shipping=credit.shipping,
        payment_costs=credit.payment_costs,
        payment_option_price=credit.payment_option_price,
        extra_costs=credit.extra_costs,
        discounts_total=ZERO if rows else credit.discounts,
        credit_point_discount=ZERO if rows else credit.credit_point_discount,
    )
    mapped = [map_order(costs, exact)]
    if rows:
        mapped.insert(0, map_order(goods, exact))
    lines: list[InvoiceLine] = []
    for index, result in enumerate(mapped):
        is_costs = index == len(mapped) - 1
        lines.extend(
            line for line in result.draft.lines if not is_costs or line.kind is not LineKind.PRODUCT
        )
        problems.extend(
            CreditProblem(CreditProblemCode.MAPPING, p.message, {"mapping": p.code.value})
            for p in result.problems
            if p.code not in _PARTIAL_MAPPING_NOISE
        )
    base = dataclasses.replace(mapped[0].draft, lines=tuple(lines))
    return _result(
        base,
        order,
        amount=quantize(credit.total),
        remaining=remaining,
        reference=credit_reference(original_reference, seq),
        credit_date=credit_date,
        problems=_unique(problems),
        quantities=quantities,
    )


#: Problems a partial mapping raises that say nothing about the credit: its parts are checked
#: against the credit's total at the end, and the goods part alone may be empty.
_PARTIAL_MAPPING_NOISE = frozenset(
    {ProblemCode.TOTALS_DO_NOT_RECONCILE, ProblemCode.NO_ROWS, ProblemCode.NEGATIVE_TOTAL}
)


def _without_costs(order: Order) -> Order:
    return dataclasses.replace(
        order,
        total_paid=ZERO,
        shipping=ZERO,
        payment_costs=ZERO,
        payment_option_price=ZERO,
        extra_costs=ZERO,
        discounts_total=ZERO,
        coupon=None,
        credit_point_discount=ZERO,
    )


def _unique(problems: list[CreditProblem]) -> list[CreditProblem]:
    seen: list[CreditProblem] = []
    for problem in problems:
        if problem not in seen:
            seen.append(problem)
    return seen


def map_cancellation(
    order: Order,
    profile: MappingProfile,
    *,
    original_reference: str,
    seq: int,
    remaining: Decimal,
    booked_total: Decimal,
    credit_date: date,
) -> CreditResult:
    """The full credit of a booked ``order``: every line of its invoice, reversed.

    The order is mapped exactly as it was booked (with the original's rounding line, if it had
    one), so the credit nets the original to zero. Refused when anything was credited before
    (what is left is not the whole order) or when the order no longer maps to its booked total.
    """
    result = map_order(order, profile)
    problems: list[CreditProblem] = []
    if quantize(result.totals.incl_vat) != quantize(booked_total):
        problems.append(
            CreditProblem(
                CreditProblemCode.TOTALS_DO_NOT_RECONCILE,
                f"The order now maps to {format_amount(result.totals.incl_vat)}, but "
                f"{format_amount(booked_total)} was booked: it changed in CCV Shop after "
                "booking, so a full credit cannot be rebuilt from it. Credit it by hand in "
                "Moneybird.",
                {
                    "mapped": format_amount(result.totals.incl_vat),
                    "booked": format_amount(booked_total),
                },
            )
        )
    problems.extend(
        CreditProblem(CreditProblemCode.MAPPING, p.message, {"mapping": p.code.value})
        for p in result.problems
    )
    quantities = {row.row_id: row.quantity for row in order.rows}
    return _result(
        result.draft,
        order,
        amount=quantize(booked_total),
        remaining=remaining,
        reference=credit_reference(original_reference, seq),
        credit_date=credit_date,
        problems=problems,
        quantities=quantities,
    )


# -- helpers ----------------------------------------------------------------------------------


def _result(
    booked: InvoiceDraft,
    order: Order,
    *,
    amount: Decimal,
    remaining: Decimal,
    reference: str,
    credit_date: date,
    problems: list[CreditProblem],
    quantities: Mapping[str, Decimal],
) -> CreditResult:
    """Negate ``booked``'s lines into the credit invoice and check it against what CCV credited."""
    if amount <= 0:
        problems.append(
            CreditProblem(
                CreditProblemCode.NOT_A_CREDIT,
                f"The credit totals {format_amount(amount)}: there is nothing to credit.",
                {"amount": format_amount(amount)},
            )
        )
    if amount > remaining:
        problems.append(
            CreditProblem(
                CreditProblemCode.EXCEEDS_REMAINING,
                f"The credit of {order.currency} {format_amount(amount)} is more than what "
                f"remains to be credited of the order ({format_amount(remaining)}).",
                {"amount": format_amount(amount), "remaining": format_amount(remaining)},
            )
        )
    lines = tuple(negate(line) for line in booked.lines)
    draft = dataclasses.replace(booked, reference=reference, invoice_date=credit_date, lines=lines)
    totals = compute_totals(lines, prices_include_vat=draft.prices_include_vat)
    if not problems and quantize(-totals.incl_vat) != amount:
        problems.append(
            CreditProblem(
                CreditProblemCode.TOTALS_DO_NOT_RECONCILE,
                f"The credit invoice would total {format_amount(-totals.incl_vat)}, CCV "
                f"credited {format_amount(amount)}.",
                {"computed": format_amount(-totals.incl_vat), "credited": format_amount(amount)},
            )
        )
    return CreditResult(draft, totals, amount, tuple(problems), dict(quantities))


def _credited_rows(
    order: Order,
    credit: CcvCredit,
    already: Mapping[str, Decimal],
    problems: list[CreditProblem],
) -> tuple[list[OrderRow], dict[str, Decimal]]:
    """The order's rows as far as the credit returns them, each checked against the original."""
    by_id = {row.row_id: row for row in order.rows}
    rates = {row.vat_percentage for row in order.rows}
    rows: list[OrderRow] = []
    quantities: dict[str, Decimal] = {}
    for line in credit.rows:
        original = by_id.get(line.orderrow_id)
        if original is None:
            problems.append(
                CreditProblem(
                    CreditProblemCode.ROW_NOT_ON_ORIGINAL,
                    f"Credit row {line.name!r} is not a row of order {order.number}"
                    + (f" (order row {line.orderrow_id})" if line.orderrow_id else "")
                    + ".",
                    {"row": line.name, "orderrow_id": line.orderrow_id},
                )
            )
            continue
        if line.vat_percentage != original.vat_percentage:
            where = "on the original row" if line.vat_percentage in rates else "on the order"
            problems.append(
                CreditProblem(
                    CreditProblemCode.VAT_RATE_NOT_ON_ORIGINAL,
                    f"Credit row {line.name!r} is at {format_percentage(line.vat_percentage)}% "
                    f"VAT, which is not the rate {where} "
                    f"({format_percentage(original.vat_percentage)}%).",
                    {
                        "row": line.name,
                        "credit_rate": format_percentage(line.vat_percentage),
                        "original_rate": format_percentage(original.vat_percentage),
                    },
                )
            )
            continue
        returned = quantities.get(original.row_id, ZERO) + line.count
        total_returned = returned + already.get(original.row_id, ZERO)
        if total_returned > original.quantity:
            problems.append(
                CreditProblem(
                    CreditProblemCode.QUANTITY_EXCEEDS_ORIGINAL,
                    f"The credits return {format_quantity(total_returned)}"
                    f" × {original.name!r}; the order has {format_quantity(original.quantity)}.",
                    {
                        "row": original.name,
                        "credited": format_quantity(total_returned),
                        "ordered": format_quantity(original.quantity),
                    },
                )
            )
        quantities[original.row_id] = returned
        rows.append(dataclasses.replace(original, quantity=line.count, total=line.total))
    return rows, quantities


def _cost_problems(order: Order, credit: CcvCredit) -> list[CreditProblem]:
    found = []
    for name, credited, ordered in (
        ("shipping", credit.shipping, order.shipping),
        ("payment_costs", credit.payment_costs + credit.payment_option_price,
         order.payment_costs + order.payment_option_price),
        ("extra_costs", abs(credit.extra_costs), abs(order.extra_costs)),
        ("discounts", credit.discounts + credit.credit_point_discount,
         abs(order.discounts_total) + abs(order.credit_point_discount)),
    ):  # fmt: skip
        if credited > ordered:
            found.append(
                CreditProblem(
                    CreditProblemCode.COSTS_EXCEED_ORIGINAL,
                    f"The credit returns {format_amount(credited)} of {name.replace('_', ' ')}; "
                    f"the order had {format_amount(ordered)}.",
                    {
                        "part": name,
                        "credited": format_amount(credited),
                        "ordered": format_amount(ordered),
                    },
                )
            )
    return found


__all__ = [
    "CANCEL_KEY",
    "CancellationPolicy",
    "CcvCredit",
    "CcvCreditRow",
    "CcvCreditStatus",
    "CreditPolicy",
    "CreditProblem",
    "CreditProblemCode",
    "CreditResult",
    "CreditedBeforeBooking",
    "SettleMethod",
    "credit_reference",
    "map_cancellation",
    "map_credit",
    "negate",
    "normalised",
]
