"""The profile page: dropdowns from the administration, suggestions pre-selected, a preview."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ccvbird.domain.errors import CcvbirdError
from ccvbird.domain.order import STATUS_CANCELLED
from ccvbird.domain.reasons import OLD_PROFILE_PAUSES, PROFILE_PAUSES
from ccvbird.entrypoints.web import profile_form
from ccvbird.entrypoints.web.i18n import _
from ccvbird.entrypoints.web.pages import flash
from ccvbird.entrypoints.web.reasons import words
from ccvbird.entrypoints.web.routes.common import form_of, pages, run_in_threadpool, see_other
from ccvbird.entrypoints.web.security import Backend, Installed, check_csrf
from ccvbird.wiring import SETUP_REASON, WebBackend, reference_prefix_for
from ccvbird.wiring.moneybird import administration_choices
from ccvbird.wiring.shop import PreviewRefused, preview, status_names

router = APIRouter(dependencies=[Depends(check_csrf)])


def _context(backend: WebBackend, connection_id: int, *, fresh: bool = False) -> dict[str, Any]:
    settings = administration_choices(backend, connection_id, fresh=fresh)
    options = profile_form.options_from(settings)
    statuses = {
        k: v for k, v in sorted(status_names(backend, connection_id).items())
        if k != STATUS_CANCELLED
    }  # fmt: skip
    return {
        "connection": backend.app.store.connection(connection_id),
        "options": options,
        "statuses": statuses,
        "setup": backend.installs.setup(connection_id),
        "settings": settings,
    }


def _prefix_problem(backend: WebBackend, connection_id: int, prefix: str) -> str:
    """Why ``prefix`` cannot be this connection's ("": it can)."""
    if backend.app.store.reference_conflict(connection_id, prefix) is None:
        return ""
    return _(
        "Another connection books into this Moneybird administration with this prefix, or "
        "one that starts alike, so the invoice references of both shops could be the same. "
        "Choose a prefix of its own, for example %(prefix)s.",
        prefix=reference_prefix_for(
            backend.app,
            backend.app.store.connection(connection_id).administration_id,
            connection_id=connection_id,
        ),
    )


def profile_problems(backend: WebBackend, connection_id: int) -> dict[str, str]:
    """What the profile page would mark in the stored profile (empty: ready to use as it is,
    so "Check the profile" is offered but not required). Reads Moneybird (cached)."""
    context = _context(backend, connection_id)
    stored = backend.app.store.profile_toml(connection_id)
    if not stored.strip():
        return {"profile": _("There is no profile yet.")}
    problems = profile_form.stored_problems(
        stored, context["connection"].start_date, context["options"], context["settings"]
    )
    prefix = profile_form.values_from(stored, None)["reference_prefix"]
    conflict = _prefix_problem(backend, connection_id, prefix)
    if conflict:
        problems.setdefault("reference_prefix", conflict)
    return problems


@router.get("/connections/{connection_id}/profile")
async def profile_page(request: Request, connection_id: Installed, backend: Backend) -> Response:
    setup = backend.installs.setup(connection_id)
    if not setup.has_moneybird or not setup.has_administration:
        flash(request, _("Connect Moneybird and choose the administration first."), "warning")
        return see_other(f"/connections/{connection_id}/moneybird")
    try:
        context = await run_in_threadpool(_context, backend, connection_id)
    except CcvbirdError as exc:
        flash(request, _("Moneybird could not be read: %(reason)s", reason=str(exc)), "error")
        return see_other(f"/connections/{connection_id}")
    stored = backend.app.store.profile_toml(connection_id)
    values = profile_form.values_from(stored, context["connection"].start_date)
    return pages(request).render(
        request, "profile.html", values=values, problems={}, preview=None, order="", **context
    )


@router.post("/connections/{connection_id}/profile")
async def profile_save(request: Request, connection_id: Installed, backend: Backend) -> Response:
    form = await form_of(request)
    try:
        # Read now: the profile is checked against the administration as it is.
        context = await run_in_threadpool(_context, backend, connection_id, fresh=True)
    except CcvbirdError as exc:
        flash(request, _("Moneybird could not be read: %(reason)s", reason=str(exc)), "error")
        return see_other(f"/connections/{connection_id}")
    stored = backend.app.store.profile_toml(connection_id)
    checked = profile_form.check(form, stored, context["options"], context["settings"])
    taken = _prefix_problem(backend, connection_id, checked.values["reference_prefix"])
    if taken and "reference_prefix" not in checked.problems:
        checked.problems["reference_prefix"] = taken
    order = str(form.get("order", ""))
    shown: Any = None
    status = 200
    if not checked.ok:
        status = 422
    elif form.get("action") == "preview":
        try:
            shown = await run_in_threadpool(preview, backend, connection_id, checked.toml, order)
        except PreviewRefused as exc:
            checked.problems["order"] = words(
                exc.reason.code, exc.reason.params, connection_id=connection_id
            )
            status = 422
        except CcvbirdError as exc:  # the profile itself (checked above) or the order
            checked.problems["order"] = str(exc)
            status = 422
    else:
        backend.installs.set_profile_text(connection_id, checked.toml)
        backend.installs.set_start_date(connection_id, checked.start_date)
        flash(request, _("The profile is saved."))
        connection = backend.app.store.connection(connection_id)
        paused = connection.paused_reason
        if connection.paused_code in PROFILE_PAUSES or paused.startswith(OLD_PROFILE_PAUSES):
            # It has a prefix of its own now, and it fits the administration.
            backend.app.store.resume(connection_id)
        if paused == SETUP_REASON:
            return see_other(f"/connections/{connection_id}/setup")
        return see_other(f"/connections/{connection_id}/profile")
    return pages(request).render(
        request, "profile.html", status=status, values=checked.values,
        problems=checked.problems, preview=shown, order=order, **context,
    )  # fmt: skip
