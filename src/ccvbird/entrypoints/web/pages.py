"""Server-rendered pages: Jinja2 templates with gettext, autoescaped, one ``render`` call."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ccvbird.entrypoints.web import i18n
from ccvbird.entrypoints.web.labels import advice, event_label, outcome_label, state_label
from ccvbird.entrypoints.web.security import csrf_token, current_account

TEMPLATES = Path(__file__).parent / "templates"
ZONE = ZoneInfo("Europe/Amsterdam")


#: The Babel locale each page language formats amounts and dates in, and the date patterns
#: (Babel's "short" puts a comma in Dutch, and a slashed English date reads as American).
LOCALES = {"nl": "nl_NL", "en": "en_GB"}
PATTERNS = {"nl": ("dd-MM-yyyy HH:mm", "dd-MM-yyyy"), "en": ("d MMM yyyy, HH:mm", "d MMM yyyy")}


def _locale() -> str:
    return LOCALES.get(i18n.current_language(), "nl_NL")


def _when(value: datetime | date | None) -> str:
    """A time as the reader writes it: 01-12-2026 13:05 in Dutch, 1 Dec 2026, 13:05 in
    English (the Amsterdam wall clock)."""
    if value is None:
        return "—"
    moment, day = PATTERNS.get(i18n.current_language(), PATTERNS["nl"])
    if isinstance(value, datetime):
        return format_datetime(value, moment, tzinfo=ZONE, locale=_locale())
    return format_date(value, day, locale=_locale())


def _money(value: Decimal | None, currency: str = "EUR") -> str:
    """An amount as the reader writes it: € 1.234,56 in Dutch, €1,234.56 in English. Always
    two decimals, exactly the Decimal given (Babel formats Decimals without floats)."""
    if value is None:
        return "—"
    return format_currency(value, currency, locale=_locale(), currency_digits=True)


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    env.filters.update(
        when=_when,
        money=_money,
        state_label=state_label,
        advice=advice,
        event_label=event_label,
        outcome_label=outcome_label,
    )
    return env


class Pages:
    def __init__(self) -> None:
        self.env = environment()

    def render(
        self, request: Request, template: str, *, status: int = 200, **context: Any
    ) -> HTMLResponse:
        backend = request.app.state.backend
        account = current_account(request, backend)
        flashes = request.session.pop("flash", [])
        html = self.env.get_template(template).render(
            request=request,
            account=account,
            lang=i18n.current_language(),
            languages=i18n.LANGUAGES,
            csrf=csrf_token(request),
            flashes=flashes,
            **context,
        )
        return HTMLResponse(html, status_code=status)


def flash(request: Request, message: str, kind: str = "info") -> None:
    request.session.setdefault("flash", []).append([kind, message])
    request.session["flash"] = request.session["flash"]  # mark the session as changed
