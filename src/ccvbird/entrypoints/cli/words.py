"""What the command line calls the engine's outcomes and the states of orders, in one place.

The engine counts outcomes by their stable codes (``booked``, ``retry_later``, ``would_book``);
a person reads "8 booked, 6 will be retried". An outcome that leaves an order in a state has
the state's words (``parked``: "needs attention", ``waiting``: "waiting"), so a pass's tally and
``status`` never call one thing by two names.
"""

from __future__ import annotations

from collections.abc import Mapping

from ccvbird.domain.credit_records import CreditRecord, CreditState
from ccvbird.domain.money import ZERO, format_amount
from ccvbird.domain.sync import SyncState
from ccvbird.service.sync import Outcome

#: (one, several) for every outcome a pass, an import, a dry run or a retry counts; the
#: order of this table is the order they are listed in.
OUTCOME_WORDS: dict[str, tuple[str, str]] = {
    Outcome.BOOKED.value: ("booked", "booked"),
    Outcome.AWAITING_PAYMENT.value: ("booked (awaiting payment)", "booked (awaiting payment)"),
    Outcome.PAID.value: ("payment registered", "payments registered"),
    Outcome.TAKEN_OVER.value: (
        "taken over (Moneybird had its invoice)",
        "taken over (Moneybird had their invoices)",
    ),
    Outcome.ALREADY_BOOKED.value: ("already booked", "already booked"),
    Outcome.WAITING.value: ("waiting", "waiting"),  # as the state: not paid or complete yet
    Outcome.SKIPPED.value: ("skipped", "skipped"),
    Outcome.PARKED.value: ("needs attention", "need attention"),
    Outcome.CHANGED.value: ("changed after booking", "changed after booking"),
    Outcome.RETRY_LATER.value: ("will be retried", "will be retried"),
    Outcome.PAUSED.value: ("held (the connection is paused)", "held (the connection is paused)"),
    # Imports: an order CCV Shop returned that cannot be read at all.
    "invalid": ("cannot be read", "cannot be read"),
    # Dry runs (``import --dry-run``): nothing is booked, these say what would happen.
    "would_book": ("would be booked", "would be booked"),
    "would_not_book": ("would not be booked", "would not be booked"),
    "already_in_moneybird": ("already in Moneybird", "already in Moneybird"),
}

#: States whose code alone would mislead: an open invoice is booked, but not paid.
STATE_WORDS: dict[SyncState, str] = {
    SyncState.AWAITING_PAYMENT: "booked, awaiting payment",
}


def outcome_words(outcome: str, count: int = 1) -> str:
    """``outcome`` in words, for ``count`` orders (without the number)."""
    one, several = OUTCOME_WORDS.get(outcome, (outcome.replace("_", " "),) * 2)
    return one if count == 1 else several


def tally(outcomes: Mapping[str, int]) -> str:
    """``{"booked": 8, "parked": 3}`` as "8 booked, 3 need attention" (table order)."""
    order = list(OUTCOME_WORDS)
    known = sorted(
        (name for name, count in outcomes.items() if count),
        key=lambda name: (order.index(name) if name in order else len(order), name),
    )
    return ", ".join(f"{outcomes[name]} {outcome_words(name, outcomes[name])}" for name in known)


def state_words(state: SyncState) -> str:
    return STATE_WORDS.get(state, state.value.replace("_", " "))


#: How ``status`` groups the states of credits: (words, states), in this order. A credit being
#: booked (its retries included) waits as much as one whose original is not booked yet; a
#: parked one needs a person as much as one that kept failing.
CREDIT_GROUPS: tuple[tuple[str, frozenset[CreditState]], ...] = (
    ("booked", frozenset({CreditState.BOOKED})),
    ("waiting", frozenset({CreditState.WAITING, CreditState.BOOKING})),
    ("needs attention", frozenset({CreditState.PARKED, CreditState.NEEDS_ATTENTION})),
)

#: How a booked credit was settled, in words (``CreditRecord.settle_method``).
SETTLE_WORDS: dict[str, str] = {
    "refund": "the refund is registered as paid back",
    "set_off": "set off against the original invoice",
}


def credit_counts(counts: Mapping[CreditState, int]) -> str:
    """``status``'s credit line: "booked 3, waiting 1, needs attention 0"."""
    return ", ".join(
        f"{words} {sum(counts.get(state, 0) for state in states)}"
        for words, states in CREDIT_GROUPS
    )


def credit_booked_words(credit: CreditRecord) -> str:
    """A booked credit in words: "credit 1027-C1 booked: 121.00 credited, Moneybird credit
    invoice 4567, set off against the original invoice"."""
    settled = SETTLE_WORDS.get(credit.settle_method, credit.settle_method.replace("_", " "))
    kind = "external credit invoice" if credit.external else "credit invoice"
    return (
        f"credit {credit.reference} booked: {format_amount(credit.total or ZERO)} credited, "
        f"Moneybird {kind} {credit.credit_id}" + (f", {settled}" if settled else "")
    )
