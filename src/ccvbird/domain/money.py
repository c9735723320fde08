"""Money arithmetic: the one place that rounds.

Every amount in ccvbird is a :class:`decimal.Decimal` built from a string or an int. Floats are
refused at the door (:func:`to_decimal`) because a float cannot hold 0.10 exactly, and a connector
whose whole promise is "to the cent" cannot start from an approximation.

Two operations need rounding and both live here, so the rounding policy is one named choice:

* :func:`quantize` rounds to cents (or another exponent) half away from zero, the way Moneybird
  rounds VAT (27.2895 → 27.29) and the way Dutch bookkeepers round by hand.
* :func:`allocate` splits an amount over weights so that the parts always add up to the whole,
  handing out the leftover cents by largest remainder (the "Hamilton" method pretix and most
  accounting software use for fees spread over VAT rates).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0")
HUNDRED = Decimal("100")

#: The rounding mode used everywhere money is rounded (half away from zero).
ROUNDING = ROUND_HALF_UP


class MoneyTypeError(TypeError):
    """A value that is not an exact decimal was offered as money."""


def to_decimal(value: object, *, field: str = "amount") -> Decimal:
    """Turn an int, a decimal string or a Decimal into a finite Decimal; refuse floats.

    ``field`` names the value in the error, so a malformed order says which field is wrong.
    """
    if isinstance(value, bool):  # bool is an int subclass; True is not an amount
        raise MoneyTypeError(f"{field}: expected a number, got a boolean")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise MoneyTypeError(f"{field}: {value!r} is not a number") from None
    elif isinstance(value, float):
        raise MoneyTypeError(
            f"{field}: got a float ({value!r}); money must be parsed as Decimal "
            "(json.loads(..., parse_float=Decimal))"
        )
    else:
        raise MoneyTypeError(f"{field}: expected a number, got {type(value).__name__}")
    if not result.is_finite():
        raise MoneyTypeError(f"{field}: {value!r} is not a finite number")
    return result


def quantize(amount: Decimal, exponent: Decimal = CENT) -> Decimal:
    """Round ``amount`` to ``exponent`` (cents by default), half away from zero."""
    return amount.quantize(exponent, rounding=ROUNDING)


def is_exact(amount: Decimal, exponent: Decimal = CENT) -> bool:
    """True when ``amount`` needs no rounding at ``exponent`` precision."""
    return amount == amount.quantize(exponent, rounding=ROUND_DOWN)


def allocate(total: Decimal, weights: Sequence[Decimal], exponent: Decimal = CENT) -> list[Decimal]:
    """Split ``total`` over ``weights`` pro rata; the parts sum to ``total`` exactly.

    Each part is first rounded towards zero to ``exponent``; the units still missing are handed
    out one at a time to the parts with the largest remainders (ties: the earlier part). Negative
    totals are split by splitting their absolute value and flipping the signs, so a discount and
    the equal surcharge split into mirror images.

    ``total`` must already be a multiple of ``exponent``; weights must be non-negative and not
    all zero.
    """
    if not weights:
        raise ValueError("allocate needs at least one weight")
    if any(w < 0 for w in weights):
        raise ValueError("allocate needs non-negative weights")
    weight_sum = sum(weights, ZERO)
    if weight_sum == 0:
        raise ValueError("allocate needs at least one positive weight")
    if not is_exact(total, exponent):
        raise ValueError(f"total {total} is not a multiple of {exponent}")
    if total < 0:
        return [-part for part in allocate(-total, weights, exponent)]

    exact = [total * w / weight_sum for w in weights]
    floors = [e.quantize(exponent, rounding=ROUND_DOWN) for e in exact]
    missing_units = int((total - sum(floors, ZERO)) / exponent)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in by_remainder[:missing_units]:
        floors[i] += exponent
    return floors


def vat_from_net(net: Decimal, percentage: Decimal) -> Decimal:
    """VAT on a net amount, rounded to cents."""
    return quantize(net * percentage / HUNDRED)


def vat_in_gross(gross: Decimal, percentage: Decimal) -> Decimal:
    """The VAT contained in a gross (incl. VAT) amount, rounded to cents."""
    return quantize(gross * percentage / (HUNDRED + percentage))


def format_amount(amount: Decimal) -> str:
    """Cents as a plain decimal string ("12.30", "-0.05"), the form Moneybird and our JSON use."""
    return f"{quantize(amount):f}"


def format_quantity(quantity: Decimal) -> str:
    """A quantity without trailing zeros ("3", "0.5"), as Moneybird's ``amount`` expects."""
    text = f"{quantity.normalize():f}"
    return text
