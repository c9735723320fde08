"""Server-rendered pages: Jinja2 templates with gettext, autoescaped, one ``render`` call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ccvbird.entrypoints.web import i18n
from ccvbird.entrypoints.web.credit_labels import (
    credit_state_label,
    credit_todo,
    credit_why,
    event_state_label,
    filter_label,
    order_why,
    settle_label,
)
from ccvbird.entrypoints.web.formats import day as _day
from ccvbird.entrypoints.web.formats import money as _money
from ccvbird.entrypoints.web.formats import when as _when
from ccvbird.entrypoints.web.labels import advice, event_label, outcome_label, state_label
from ccvbird.entrypoints.web.reasons import connection_pause_words, event_words, record_words, words
from ccvbird.entrypoints.web.security import csrf_token, current_account

TEMPLATES = Path(__file__).parent / "templates"


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
        day=_day,
        money=_money,
        state_label=state_label,
        advice=advice,
        event_label=event_label,
        outcome_label=outcome_label,
        credit_state_label=credit_state_label,
        settle_label=settle_label,
        credit_why=credit_why,
        credit_todo=credit_todo,
        order_why=order_why,
        filter_label=filter_label,
        event_state_label=event_state_label,
    )
    env.globals.update(
        why=record_words,
        event_words=event_words,
        pause_words=connection_pause_words,
        reason_words=words,
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
