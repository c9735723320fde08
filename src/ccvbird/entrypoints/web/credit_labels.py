"""Words for credits, in the page's language: their states, how they were settled, why one
is parked (from its reason code and parameters, never the engine's English), and what
*Credit it* did.

``labels.advice`` says what to do about each credit reason code; this module says what
happened.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from ccvbird.domain.credit_records import CreditRecord, CreditState
from ccvbird.domain.credits import CreditProblemCode
from ccvbird.domain.money import ZERO
from ccvbird.domain.sync import OrderRecord
from ccvbird.entrypoints.web.formats import money
from ccvbird.entrypoints.web.i18n import _
from ccvbird.entrypoints.web.labels import advice, state_label
from ccvbird.entrypoints.web.reasons import record_words
from ccvbird.service.sync import CANCELLED_AFTER_BOOKING_ASK, CREDITED_BEFORE_BOOKING

#: The credit states a person has to look at (the order list's "credit needs attention").
CREDIT_ATTENTION = frozenset({CreditState.PARKED, CreditState.NEEDS_ATTENTION})


def credit_state_label(state: CreditState | str) -> str:
    labels = {
        CreditState.WAITING: _("Waiting"),
        CreditState.BOOKING: _("Being booked"),
        CreditState.BOOKED: _("Booked"),
        CreditState.PARKED: _("Needs attention"),
        CreditState.NEEDS_ATTENTION: _("Needs attention"),
    }
    return labels.get(CreditState(state), str(state))


def event_state_label(state: str) -> str:
    """The state column of an order's log: the order's state, or a credit's (``credit:booked``:
    a credit step writes its credit's state there)."""
    if state.startswith("credit:"):
        return _("Credit: %(state)s", state=credit_state_label(state.removeprefix("credit:")))
    return state_label(state)


def filter_label(name: str) -> str:
    """The order list's credit filters (``routes/orders.CREDIT_FILTERS``) and their tiles."""
    labels = {
        "credited": _("Credited"),
        "credit_needs_attention": _("Credit needs attention"),
    }
    return labels.get(name, name)


def settle_label(method: str) -> str:
    """How a booked credit was settled (``CreditRecord.settle_method``); "" when not yet."""
    labels = {
        "refund": _("Refund registered as paid back"),
        "set_off": _("Set off against the invoice"),
    }
    return labels.get(method, method.replace("_", " "))


def _amount(text: str | None) -> str:
    """A parameter amount ("121.00", as the engine wrote it) as the reader writes amounts."""
    try:
        return money(Decimal(str(text)))
    except (InvalidOperation, ValueError):
        return str(text or "")


def _part(name: str) -> str:
    parts = {
        "shipping": _("shipping costs"),
        "payment_costs": _("payment costs"),
        "extra_costs": _("extra costs"),
        "discounts": _("discount"),
    }
    return parts.get(name, name.replace("_", " "))


def credit_why(code: str, params: Mapping[str, str]) -> str:
    """Why a credit is where it is, from its code and parameters ("" when the code has none)."""
    p = {k: str(v) for k, v in params.items()}
    if code == CreditProblemCode.EXCEEDS_REMAINING:
        return _(
            "The credit of %(amount)s is more than what is left to credit of the invoice "
            "(%(remaining)s).",
            amount=_amount(p.get("amount")), remaining=_amount(p.get("remaining")),
        )  # fmt: skip
    if code == CreditProblemCode.ROW_NOT_ON_ORIGINAL:
        return _("The credit returns “%(row)s”, which is not on the invoice.",
                 row=p.get("row", ""))  # fmt: skip
    if code == CreditProblemCode.VAT_RATE_NOT_ON_ORIGINAL:
        return _(
            "The credit returns “%(row)s” at %(credit_rate)s%% VAT; the invoice has it at "
            "%(original_rate)s%%.",
            row=p.get("row", ""), credit_rate=p.get("credit_rate", ""),
            original_rate=p.get("original_rate", ""),
        )  # fmt: skip
    if code == CreditProblemCode.QUANTITY_EXCEEDS_ORIGINAL:
        return _(
            "The credits return %(credited)s × “%(row)s”; the order has %(ordered)s.",
            credited=p.get("credited", ""), row=p.get("row", ""), ordered=p.get("ordered", ""),
        )  # fmt: skip
    if code == CreditProblemCode.COSTS_EXCEED_ORIGINAL:
        return _(
            "The credit returns %(credited)s of %(part)s; the order had %(ordered)s.",
            credited=_amount(p.get("credited")), part=_part(p.get("part", "")),
            ordered=_amount(p.get("ordered")),
        )  # fmt: skip
    if code == CreditProblemCode.TOTALS_DO_NOT_RECONCILE:
        if "booked" in p:  # a cancellation: the order no longer maps to what was booked
            return _(
                "The order now comes to %(mapped)s, but %(booked)s was booked: it changed in CCV "
                "Shop after booking, so its full credit cannot be made from it.",
                mapped=_amount(p.get("mapped")), booked=_amount(p.get("booked")),
            )  # fmt: skip
        return _(
            "The credit invoice would come to %(computed)s; CCV Shop credited %(credited)s.",
            computed=_amount(p.get("computed")), credited=_amount(p.get("credited")),
        )  # fmt: skip
    if code == CreditProblemCode.CURRENCY_DIFFERS:
        return _(
            "The credit is in %(credit_currency)s, the order in %(order_currency)s.",
            credit_currency=p.get("credit_currency", ""),
            order_currency=p.get("order_currency", ""),
        )  # fmt: skip
    if code == CreditProblemCode.NOT_A_CREDIT:
        return _("The credit comes to %(amount)s: there is nothing to credit.",
                 amount=_amount(p.get("amount")))  # fmt: skip
    if code == CreditProblemCode.MAPPING:
        todo = advice(p.get("mapping", ""))
        why = _("The credited lines cannot be booked with the profile.")
        return f"{why} {todo}" if todo else why
    if code == CreditProblemCode.ORIGINAL_BOOKED_ELSEWHERE:
        return _("The order's invoice was not booked by this connection.")
    if code == CreditProblemCode.ORIGINAL_INVOICE_DELETED:
        return _("The order's invoice was deleted in Moneybird.")
    if code == CreditProblemCode.ORIGINAL_NOT_BOOKABLE:
        return _("The order itself would not be booked.")
    if code == "original_not_booked":
        return _("Waiting for the order's invoice: the credit is booked right after it.")
    if code == "keeps_failing":
        return _("Booking the credit failed several times in a row.")
    if code == "transient":
        return _("A temporary problem; ccvbird tries again by itself.")
    return ""


def credit_todo(code: str) -> str:
    """What to do about a credit with this code: a parked credit is not booked again by itself,
    so "retry" is never the advice."""
    if code == "keeps_failing":
        return _(
            "Look in Moneybird whether the credit invoice is there and complete; if not, make "
            "it by hand in Moneybird (Credit the invoice)."
        )
    return advice(code)


def order_why(record: OrderRecord, connection_id: int | None = None) -> str:
    """Why an order is where it is: in short words for the credit codes that have them, else
    the engine's reason rendered from its code and facts (``reasons.py``)."""
    if record.reason_code == CANCELLED_AFTER_BOOKING_ASK:
        return _(
            "The order was cancelled in CCV Shop after invoice %(invoice)s was booked. The "
            "profile leaves crediting a cancelled order to you.",
            invoice=record.invoice_number or record.invoice_id or "",
        )  # fmt: skip
    if record.reason_code == CREDITED_BEFORE_BOOKING:
        return _("CCV Shop credited the order in full before it was booked.")
    return record_words(record, connection_id)


def credits_total(credits: Iterable[CreditRecord]) -> Decimal:
    return sum((c.total or ZERO for c in credits), ZERO)


def credit_answer_words(outcome: str, code: str, credits: Iterable[CreditRecord]) -> str:
    """What pressing *Credit it* did, in words (``bootstrap.CreditAnswer``)."""
    booked = [c for c in credits if c.state is CreditState.BOOKED]
    if outcome == "booked":
        return _(
            "Credited: credit invoice %(references)s for %(amount)s is booked in Moneybird.",
            references=", ".join(c.reference for c in booked),
            amount=money(credits_total(booked)),
        )  # fmt: skip
    if outcome == "retry_later":
        return _("The credit is under way: ccvbird finishes it by itself.")
    if outcome == "parked":
        return _("The credit needs attention: see below why.")
    if outcome == "busy":
        return _("ccvbird is busy with this shop right now (an import or a sync). Try again in "
                 "a minute.")  # fmt: skip
    refusals = {
        "already_credited": _("Nothing was done: this order is credited already."),
        "credited_in_moneybird": _(
            "Nothing was done: the invoice was credited in Moneybird already."
        ),
        "partly_credited": _(
            "Nothing was done: the order is partly credited already, and a full credit would "
            "credit more than is left. Make a credit invoice for the rest in CCV Shop, or "
            "credit it in Moneybird."
        ),
        "not_booked": _("Nothing was done: the order has no booked invoice to credit."),
        "not_cancelled": _(
            "Nothing was done: the order is not cancelled in CCV Shop. A return or refund is "
            "credited when CCV Shop makes its credit invoice."
        ),
        "unknown_order": _("Nothing was done: ccvbird does not know this order."),
        "connection_paused": _("Nothing was done: the connection is paused; resume it first."),
        "connection_disabled": _("Nothing was done: the app is uninstalled from this shop."),
        "transient": _(
            "Nothing was done: CCV Shop or Moneybird could not be reached. Try again shortly."
        ),
        "refused": _(
            "CCV Shop or Moneybird refused the credit. The order's log below says what happened."
        ),
    }
    return refusals.get(code, _("Nothing was done."))
