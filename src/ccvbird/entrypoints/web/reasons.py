"""Why, in the reader's words: the engine's reason codes and facts rendered in a language.

The engine records a code and its parameters (``domain/reasons.py``); this renders them with
the gettext catalog of the page's language (English: the msgids). Amounts and dates are written
as the reader writes them; a profile key is named by its label on the profile page and, on a
page, links to that field. The CLI uses the same renderer as plain text.

A reason recorded by a version that kept only an English sentence (no parameters) renders as
that sentence in English; in another language it renders as the code's sentence when the code
needs no facts, and otherwise as a sentence saying that the details are in English only —
never as English on a Dutch page.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.dates import format_date
from markupsafe import Markup, escape

from ccvbird.domain.reasons import (
    FIELD_SEPARATOR,
    MESSAGES,
    Formatter,
    is_date,
    is_field,
    is_money,
    known_text,
    placeholders,
    render,
)
from ccvbird.entrypoints.web import i18n
from ccvbird.entrypoints.web.formats import PATTERNS, locale, money


def marked(message: str) -> str:
    """Marks a string for the catalog; translated when it is shown."""
    return message


#: The profile page's label of each form field (the same msgids as the page's labels).
FIELD_LABELS = {
    "tax_21": marked("Tax rate for 21%% VAT"),
    "tax_9": marked("Tax rate for 9%% VAT"),
    "tax_0": marked("Tax rate for 0%% VAT"),
    "tax_reverse_charge": marked("Tax rate for reverse charge (EU businesses)"),
    "tax_export": marked("Tax rate for export outside the EU"),
    "tax_platform": marked("Tax rate for platform sales"),
    "rounding_tax_rate": marked("Tax rate of rounding lines"),
    "workflow": marked("Invoice workflow"),
    "document_style": marked("Document style"),
    "ledger_revenue": marked("Revenue"),
    "ledger_revenue_9": marked("Revenue at 9%% VAT"),
    "ledger_shipping": marked("Shipping"),
    "ledger_payment_costs": marked("Payment costs"),
    "ledger_extra_costs": marked("Extra costs"),
    "ledger_discounts": marked("Discounts"),
    "ledger_rounding": marked("Rounding differences"),
    "payment_default": marked("Payments go to"),
    "oss": marked("The shop charges EU consumers their own country's VAT (OSS)"),
    "reference_prefix": marked("Invoice reference prefix"),
    "tolerance": marked("Rounding tolerance (euro)"),
    "existing_invoices": marked("An invoice Moneybird has already for an order"),
}
#: Profile keys (as reasons name them) → the form field that sets them.
FIELD_OF_KEY = {
    'tax_rates.domestic."21"': "tax_21",
    'tax_rates.domestic."9"': "tax_9",
    'tax_rates.domestic."0"': "tax_0",
    'tax_rates.reverse_charge."0"': "tax_reverse_charge",
    'tax_rates.export."0"': "tax_export",
    'tax_rates.platform."0"': "tax_platform",
    "rounding.tax_rate_id": "rounding_tax_rate",
    "invoicing.workflow_id": "workflow",
    "invoicing.document_style_id": "document_style",
    "ledger_accounts.revenue": "ledger_revenue",
    'ledger_accounts.revenue_by_rate."9"': "ledger_revenue_9",
    "ledger_accounts.shipping": "ledger_shipping",
    "ledger_accounts.payment_costs": "ledger_payment_costs",
    "ledger_accounts.extra_costs": "ledger_extra_costs",
    "ledger_accounts.discounts": "ledger_discounts",
    "ledger_accounts.rounding": "ledger_rounding",
    "payment_accounts.default": "payment_default",
    "vat.oss": "oss",
    "invoicing.reference_prefix": "reference_prefix",
    "rounding.tolerance": "tolerance",
    "existing_invoices": "existing_invoices",
}
#: Keys the profile page has no field for: named in words all the same.
OTHER_KEYS = {
    "invoicing.foreign_currency": marked(
        "invoices in another currency (invoicing.foreign_currency)"
    ),
    "coupon_in_total_discounts": marked(
        "the coupon counts in the order's discounts (coupon_in_total_discounts)"
    ),
    "credits.cancellations": marked("what to do with a cancelled order (credits.cancellations)"),
    "credits.credited_before_booking": marked(
        "an order credited before it was booked (credits.credited_before_booking)"
    ),
}
#: Said instead of an older reason that only has its English sentence.
OLDER = marked(
    "The details were recorded by an older version of ccvbird and are in English only; retry "
    "the order to see them here."
)
OLDER_PAUSE = marked("The connection is paused (the reason was recorded in English only).")


def _translate(text: str) -> str:
    return i18n.translations(i18n.current_language()).gettext(text)


def _label(message: str) -> str:
    """A field label in the current language (page labels double ``%`` for Jinja)."""
    return _translate(message).replace("%%", "%")


def field_words(key: str, connection_id: int | None, *, html: bool) -> str:
    """A profile key by its label on the profile page, linked to the field on a page."""
    name = FIELD_OF_KEY.get(key)
    if name is None and key.startswith("tax_rates.oss."):
        name = "oss"
    if name is None:
        words = _label(OTHER_KEYS[key]) if key in OTHER_KEYS else key
        return Markup("<code>{}</code>").format(words) if html else f"“{words}”"
    label = _label(FIELD_LABELS[name])
    if not html:
        return f"“{label}”"
    if connection_id is None:
        return Markup("<em>{}</em>").format(label)
    href = f"/connections/{connection_id}/profile#field-{name}"
    return Markup('<a class="field" href="{}">{}</a>').format(href, label)


def _formatter(connection_id: int | None, html: bool) -> Formatter:
    def value(name: str, raw: str, params: Mapping[str, str]) -> str:
        if is_money(name):
            try:
                amount = Decimal(raw)
            except (InvalidOperation, ValueError):
                return escape(raw) if html else raw
            return money(amount, params.get("currency") or "EUR")
        if is_date(name):
            try:
                day = date.fromisoformat(raw)
            except ValueError:
                return escape(raw) if html else raw
            pattern = PATTERNS.get(i18n.current_language(), PATTERNS["nl"])[1]
            return format_date(day, pattern, locale=locale())
        if is_field(name):
            return field_words(raw, connection_id, html=html)
        if name == "fields":
            keys = [k for k in raw.split(FIELD_SEPARATOR) if k]
            shown = [field_words(k, connection_id, html=html) for k in keys]
            return Markup(", ").join(shown) if html else ", ".join(shown)
        return escape(raw) if html else raw

    return value


def words(
    code: str,
    params: Mapping[str, str] | None,
    *,
    english: str = "",
    connection_id: int | None = None,
    html: bool = True,
) -> str:
    """The reason ``code`` with ``params`` in the current language (Markup when ``html``).

    ``params`` ``None``: recorded without them (an older version); ``english`` is what it
    stored then."""
    if not code and not english:
        return ""
    known = code in MESSAGES
    if params is None or not known:
        if not known and english:
            code = known_text(english) or code
            known = code in MESSAGES
        if known and not placeholders(MESSAGES[code]):
            params = {}
        elif i18n.current_language() == "en" and english:
            return escape(english) if html else english
        else:
            text = _translate(OLDER)
            return escape(text) if html else text
    translate = (lambda t: escape(_translate(t))) if html else _translate
    # In HTML every template and value is Markup (escaped), so the whole is Markup too.
    return render(code, params, translate=translate, value=_formatter(connection_id, html))


def pause_words(
    code: str,
    params: Mapping[str, str] | None,
    english: str,
    *,
    connection_id: int | None = None,
    html: bool = True,
) -> str:
    """Why a connection is paused, in the current language."""
    if not english:
        return ""
    code = code or known_text(english)
    if code:
        return words(code, params or {}, english=english, connection_id=connection_id, html=html)
    if i18n.current_language() == "en":
        return escape(english) if html else english
    text = _translate(OLDER_PAUSE)
    return escape(text) if html else text


def record_words(record: Any, connection_id: int | None = None, *, html: bool = True) -> str:
    """Why an order (or credit) record is in its state, in the current language."""
    return words(
        record.reason_code,
        record.reason_params,
        english=record.reason,
        connection_id=connection_id,
        html=html,
    )


def event_words(event: Any, connection_id: int | None = None) -> str:
    """A log line's details in the current language; a line an older version wrote has only
    English, shown in English only (its step's name says what happened)."""
    if event.code:
        english = event.message
        return words(event.code, event.params, english=english, connection_id=connection_id)
    return escape(event.message) if i18n.current_language() == "en" else ""


def connection_pause_words(connection: Any, *, html: bool = True) -> str:
    """Why a connection is paused, in the current language ("" when it is not)."""
    return pause_words(
        connection.paused_code,
        connection.paused_params,
        connection.paused_reason,
        connection_id=connection.id,
        html=html,
    )
