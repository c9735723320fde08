"""Invoice references when several connections book into one Moneybird administration.

An invoice's reference is the connection's ``reference_prefix`` followed by the CCV order number
(``B-1001``). It is how ccvbird finds an invoice again, so two connections in one administration
must never be able to make the same reference: shop B's order 1001 would be "found" as shop A's
invoice 1001 and B's revenue would never be booked.

What ccvbird guarantees, for all connections that share an administration:

1. Their prefixes differ, and no non-empty prefix is the start of another (``B`` next to ``B-``
   is refused). Two *prefixed* connections then can never make one reference, whatever their
   order numbers look like: the references differ within the prefixes already.
2. At most one of them has no prefix (so an existing connection keeps its bare references when
   a second shop is added). Its order numbers can still look like another's references — a CCV
   shop may number its orders ``B-1001`` itself. Such an order of the unprefixed connection is
   not booked: it waits (``reference_taken``), because the reference belongs to the connection
   with that prefix. Giving the unprefixed connection a prefix too ends that.

Together: a reference in the administration can only ever be made by one connection.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from string import ascii_uppercase

from ccvbird.domain.reasons import Reason, english

#: Why an order waits: its reference belongs to another connection in the same administration.
REFERENCE_TAKEN = "reference_taken"
#: A prefix is short, and made of characters that survive a URL and Moneybird's reference
#: filter (``|`` and ``,`` separate filter values there).
PREFIX_MAX_LENGTH = 12
PREFIX_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")


def prefix_problem(prefix: str) -> str | None:
    """Why ``prefix`` cannot be a reference prefix (``None``: it can)."""
    if not prefix:
        return None
    if len(prefix) > PREFIX_MAX_LENGTH:
        return f"at most {PREFIX_MAX_LENGTH} characters, got {len(prefix)}"
    if not PREFIX_PATTERN.fullmatch(prefix):
        return (
            f"{prefix!r}: use letters and digits, optionally followed by - . _ or / "
            '(for example "B-")'
        )
    return None


def conflict(prefix: str, others: Iterable[str]) -> str | None:
    """Why ``prefix`` cannot be used beside the ``others`` (the prefixes of the other
    connections in the same administration), in English; ``None`` when it can."""
    why = conflict_reason(prefix, others)
    return None if why is None else english(why.code, why.params).rstrip(".")


def conflict_reason(prefix: str, others: Iterable[str]) -> Reason | None:
    """Why ``prefix`` cannot be used beside the ``others``, as a code and its facts."""
    others = list(others)
    instead = draft_prefix([*others, prefix])
    field = "invoicing.reference_prefix"
    for other in others:
        if other == prefix:
            return Reason(
                "prefix.same",
                {"prefix": f'"{prefix}"', "example": f'"{instead}"', "field": field},
            )
        if prefix and other and (other.startswith(prefix) or prefix.startswith(other)):
            return Reason(
                "prefix.alike",
                {
                    "prefix": f'"{prefix}"',
                    "other": f'"{other}"',
                    "example": f'"{instead}"',
                    "field": field,
                },
            )
    return None


def claimed_by(reference: str, prefix: str, others: Iterable[str]) -> str | None:
    """The other connection's prefix that ``reference`` (made with ``prefix``) falls under, if
    any: such a reference belongs to that connection, not to this one (rule 2 above)."""
    for other in others:
        if len(other) > len(prefix) and reference.startswith(other):
            return other
    return None


def draft_prefix(taken: Iterable[str]) -> str:
    """A prefix for a new connection beside the ``taken`` ones: none when there are none, else
    the first of ``B-``, ``C-``, … (then ``B2-``, …) that does not conflict."""
    used = list(taken)
    if not used:
        return ""
    for round_ in ("", *map(str, range(2, 100))):
        for letter in ascii_uppercase[1:]:
            candidate = f"{letter}{round_}-"
            if not any(
                t == candidate or (t and (t.startswith(candidate) or candidate.startswith(t)))
                for t in used
            ):
                return candidate
    raise ValueError("no free reference prefix")  # pragma: no cover - 2,500 connections
