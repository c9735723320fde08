"""How large or how strange a value from a shop may be before ccvbird refuses to pass it on.

Every field of an order is bounded before it reaches the state database or Moneybird, so one
absurd order is parked with a reason instead of failing a database insert (and with it every
import and every poll of the shop). The limits, and where they come from:

* **reference** (the invoice's reference, the CCV order number): Moneybird's API documents no
  maximum, and the state database keeps order numbers in ``varchar(100)``; an order number
  longer than :data:`REFERENCE_LIMIT` is not a real CCV order number, so the order is parked
  rather than booked under a shortened reference that could collide with another order's.
* **order id**: CCV's ids are integers; the database keeps them in ``varchar(40)``. An id that is
  not digits, or longer than :data:`ORDER_ID_LIMIT`, cannot be looked up again in CCV Shop.
* **amounts**: Moneybird accepts money within ±1,000,000,000 (:data:`MONEY_LIMIT`); the database
  keeps booked totals as ``numeric(14, 2)``, far beyond that.
* **e-mail**: RFC 5321 allows at most 64 characters before the ``@``, 255 after it and 254 in
  all; Moneybird documents no check of its own. An address outside that shape would become a
  contact nobody can write to, so the order is parked (see :func:`email_problem`).

Pure functions over text and Decimals: the domain layer imports nothing else.
"""

from __future__ import annotations

import re
from decimal import Decimal

from ccvbird.domain.reasons import Reason, english

#: Characters the invoice reference may have (the state database's ``order_number`` column).
REFERENCE_LIMIT = 100
#: Characters of a CCV order id (the state database's ``order_id`` column is ``varchar(40)``).
ORDER_ID_LIMIT = 40
#: Moneybird's range for any amount: strictly between minus and plus this.
MONEY_LIMIT = Decimal(1_000_000_000)
#: RFC 5321: a whole address, its local part and its domain.
EMAIL_LIMIT = 254
EMAIL_LOCAL_LIMIT = 64
EMAIL_DOMAIN_LIMIT = 255

_LETTER = r"A-Za-z0-9\u00a1-\uffff"  # letters and digits, international domains included
_DOMAIN_LABEL = re.compile(rf"^[{_LETTER}](?:[{_LETTER}-]{{0,61}}[{_LETTER}])?$")
_LOCAL = re.compile(r"^[^\s@\"(),:;<>\[\\\]]+$")


def is_order_id(text: str) -> bool:
    """A CCV order id ccvbird can record and look up again: digits, not absurdly many."""
    return text.isdigit() and text.isascii() and len(text) <= ORDER_ID_LIMIT


def in_money_range(amount: Decimal) -> bool:
    return -MONEY_LIMIT < amount < MONEY_LIMIT


def email_problem(email: str) -> str | None:
    """Why ``email`` is not an address Moneybird should get for a contact (``None``: it is),
    in English (:func:`email_reason` gives the code and its facts)."""
    why = email_reason(email)
    return None if why is None else english(why.code, why.params)


def email_reason(email: str) -> Reason | None:
    """Why ``email`` is not an address Moneybird should get for a contact (``None``: it is).

    RFC-ish: one ``@``, a local part of at most 64 characters without spaces or quotes, a domain
    of dot-separated labels with at least one dot, 254 characters in all. Quoted local parts and
    address literals (``[192.0.2.1]``) are legal but no web shop customer has one; they are
    refused too, which only means the order waits for a person.
    """
    if len(email) > EMAIL_LIMIT:
        return Reason("email.too_long", {"length": str(len(email)), "limit": str(EMAIL_LIMIT)})
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain:
        return Reason("email.no_at")
    if len(local) > EMAIL_LOCAL_LIMIT:
        limits = {"length": str(len(local)), "limit": str(EMAIL_LOCAL_LIMIT)}
        return Reason("email.local_too_long", limits)
    if len(domain) > EMAIL_DOMAIN_LIMIT:
        limits = {"length": str(len(domain)), "limit": str(EMAIL_DOMAIN_LIMIT)}
        return Reason("email.domain_too_long", limits)
    if not _LOCAL.match(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        return Reason("email.bad_local")
    labels = domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.match(label) for label in labels):
        return Reason("email.bad_domain")
    return None


def has_undecodable_text(text: str) -> bool:
    """True when ``text`` holds bytes that were not UTF-8 (decoded as lone surrogates)."""
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def storable(text: str, limit: int | None = None) -> str:
    """``text`` as a database column can take it: no NUL, no undecodable bytes, at most
    ``limit`` characters (shortened with an ellipsis). For what ccvbird *shows* (order numbers,
    reasons); values that are booked are refused instead of shortened."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    if has_undecodable_text(text):
        text = text.encode("utf-8", "replace").decode("utf-8")
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text
