"""What a booked order is compared with when it is read again, and the dates booking keeps.

A booked order's invoice is never edited; reading the order again (a later webhook, a retry,
a poll) only tells whether *the shop* changed it since. The invoice date is not the shop's to
change: with ``invoice_date = "booking_date"`` it is the day ccvbird booked, which a re-read a
day later cannot reproduce. So the comparison uses the invoice date the order was booked with,
kept on its record; for records booked before ccvbird kept it, the date is recovered from the
stored fingerprint itself.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from ccvbird.domain.invoice import InvoiceDraft


def same_as_booked(draft: InvoiceDraft, fingerprint: str, invoice_date: date) -> bool:
    """``draft`` (the order as read now) is what was booked on ``invoice_date``."""
    return replace(draft, invoice_date=invoice_date).fingerprint() == fingerprint


def recover_invoice_date(draft: InvoiceDraft, fingerprint: str, *, until: date) -> date | None:
    """The invoice date an order was booked with, for a record that did not keep it: the day
    (from the day before the order date up to ``until``) whose draft has ``fingerprint``.
    ``None``: no day matches, so the order's lines, amounts or VAT changed.

    The order date is tried first (the default profile books with it); the search costs one
    hash per day and runs once per such record (the date found is kept).
    """
    first = draft.invoice_date - timedelta(days=1)
    candidates = [draft.invoice_date] + [
        first + timedelta(days=n) for n in range(max((until - first).days, 0) + 2)
    ]
    for day in candidates:
        if same_as_booked(draft, fingerprint, day):
            return day
    return None


@lru_cache(maxsize=16)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def shop_date(moment: datetime, timezone: str) -> date:
    """The date of ``moment`` in the shop's time zone (22:30 UTC on 24 October is the 25th in
    Amsterdam, in summer time)."""
    return moment.astimezone(_zone(timezone)).date()
