"""Server-rendered pages: Jinja2 templates with gettext, autoescaped, one ``render`` call."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ccvbird.domain.money import format_amount
from ccvbird.entrypoints.web import i18n
from ccvbird.entrypoints.web.labels import advice, outcome_label, state_label
from ccvbird.entrypoints.web.security import csrf_token, current_account

TEMPLATES = Path(__file__).parent / "templates"
ZONE = ZoneInfo("Europe/Amsterdam")


def _when(value: datetime | date | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.astimezone(ZONE).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def _money(value: Decimal | None) -> str:
    return "—" if value is None else format_amount(value)


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
