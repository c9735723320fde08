"""What the command line calls the engine's outcomes and the states of orders, in one place.

The engine counts outcomes by their stable codes (``booked``, ``retry_later``, ``would_book``);
a person reads "8 booked, 6 will be retried". An outcome that leaves an order in a state has
the state's words (``parked``: "needs attention", ``waiting``: "waiting"), so a pass's tally and
``status`` never call one thing by two names.
"""

from __future__ import annotations

from collections.abc import Mapping

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
