"""Amounts and dates as the reader writes them, in the page's language (Babel, no floats)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency

from ccvbird.entrypoints.web import i18n

ZONE = ZoneInfo("Europe/Amsterdam")


#: The Babel locale each page language formats amounts and dates in, and the date patterns
#: (Babel's "short" puts a comma in Dutch, and a slashed English date reads as American).
LOCALES = {"nl": "nl_NL", "en": "en_GB"}
PATTERNS = {"nl": ("dd-MM-yyyy HH:mm", "dd-MM-yyyy"), "en": ("d MMM yyyy, HH:mm", "d MMM yyyy")}


def locale() -> str:
    return LOCALES.get(i18n.current_language(), "nl_NL")


def when(value: datetime | date | None) -> str:
    """A time as the reader writes it: 01-12-2026 13:05 in Dutch, 1 Dec 2026, 13:05 in
    English (the Amsterdam wall clock)."""
    if value is None:
        return "—"
    moment, day = PATTERNS.get(i18n.current_language(), PATTERNS["nl"])
    if isinstance(value, datetime):
        return format_datetime(value, moment, tzinfo=ZONE, locale=locale())
    return format_date(value, day, locale=locale())


def money(value: Decimal | None, currency: str = "EUR") -> str:
    """An amount as the reader writes it: € 1.234,56 in Dutch, €1,234.56 in English. Always
    two decimals, exactly the Decimal given (Babel formats Decimals without floats)."""
    if value is None:
        return "—"
    return format_currency(value, currency, locale=locale(), currency_digits=True)


def day(value: datetime | date | None) -> str:
    """The day of ``value`` as the reader writes it (a time: its Amsterdam day)."""
    if isinstance(value, datetime):
        value = value.astimezone(ZONE).date()
    return when(value)
