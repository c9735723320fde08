"""What every route module shares: the pages, the queue, forms, redirects."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from ccvbird.entrypoints.web.pages import Pages
from ccvbird.ports import Queue

__all__ = ["form_of", "pages", "queue", "run_in_threadpool", "see_other"]


def pages(request: Request) -> Pages:
    result: Pages = request.app.state.pages
    return result


def queue(request: Request) -> Queue:
    result: Queue = request.app.state.queue
    return result


async def form_of(request: Request) -> dict[str, Any]:
    """The form's fields; a field given several times (checkboxes) becomes a list."""
    form = await request.form()
    fields: dict[str, Any] = {}
    for key, value in form.multi_items():
        if not isinstance(value, str):
            continue
        if key in fields:
            existing = fields[key]
            fields[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            fields[key] = value
    return fields


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def safe_next(target: str | None) -> str:
    """Only local paths: a sign-in must never send anyone to another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"
