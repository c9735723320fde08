"""Making a connection: the shop (App Store or a form), Moneybird (OAuth or a token), the
administration, and the wizard's last step."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ccvbird.domain.errors import CcvbirdError, ConfigError
from ccvbird.entrypoints.web.i18n import _
from ccvbird.entrypoints.web.pages import flash
from ccvbird.entrypoints.web.routes.common import form_of, pages, run_in_threadpool, see_other
from ccvbird.entrypoints.web.security import (
    Backend,
    ConnectionId,
    Operator,
    SignedIn,
    check_csrf,
)
from ccvbird.wiring import SETUP_REASON
from ccvbird.wiring import moneybird as mb
from ccvbird.wiring.appstore import finish_setup
from ccvbird.wiring.shop import normalise_shop_url, test_shop

router = APIRouter(dependencies=[Depends(check_csrf)])


# -- a shop by its API keys (the operator) ---------------------------------------------------


@router.get("/connections/new")
def new_connection_page(request: Request, account: Operator) -> Response:
    return pages(request).render(request, "connection_new.html", form={}, problem="", tested="")


@router.post("/connections/new")
async def new_connection(request: Request, account: Operator, backend: Backend) -> Response:
    form = await form_of(request)
    shown = {k: form.get(k, "") for k in ("name", "shop_url", "public_key")}
    public, secret = str(form.get("public_key", "")).strip(), str(form.get("secret", "")).strip()
    try:
        url = normalise_shop_url(str(form.get("shop_url", "")))
        shop_name = await run_in_threadpool(test_shop, backend.app, url, public, secret)
    except CcvbirdError as exc:
        problem = _("The shop did not accept these keys: %(reason)s", reason=str(exc))
        return pages(request).render(
            request, "connection_new.html", status=422, form=shown, problem=problem, tested=""
        )
    if form.get("action") == "test":
        return pages(request).render(
            request, "connection_new.html", form=shown, problem="",
            tested=_("Connected to %(shop)s. Save to continue.", shop=shop_name),
        )  # fmt: skip
    try:
        connection_id = backend.installs.create_pending(
            name=str(form.get("name", "")).strip() or shop_name,
            shop_url=url,
            ccv_public=public,
            ccv_secret=secret,
            source="manual",
            paused_reason=SETUP_REASON,
        )
    except ConfigError:
        problem = _("There is a connection with these API keys already.")
        return pages(request).render(
            request, "connection_new.html", status=422, form=shown, problem=problem, tested=""
        )
    return see_other(f"/connections/{connection_id}/setup")


# -- the wizard ------------------------------------------------------------------------------


@router.get("/connections/{connection_id}/setup")
def setup_page(request: Request, connection_id: ConnectionId, backend: Backend) -> Response:
    setup = backend.installs.setup(connection_id)
    connection = backend.app.store.connection(connection_id)
    has_profile = bool(backend.app.store.profile_toml(connection_id).strip())
    return pages(request).render(
        request,
        "setup.html",
        connection=connection,
        setup=setup,
        has_profile=has_profile,
        finished=connection.paused_reason != SETUP_REASON and setup.has_administration,
    )


@router.post("/connections/{connection_id}/setup/finish")
async def finish(request: Request, connection_id: ConnectionId, backend: Backend) -> Response:
    try:
        back_to = await run_in_threadpool(finish_setup, backend, connection_id)
    except CcvbirdError as exc:
        flash(request, _("Setup cannot be finished yet: %(reason)s", reason=str(exc)), "error")
        return see_other(f"/connections/{connection_id}/setup")
    flash(request, _("Setup is finished: ccvbird books paid orders from now on."))
    return see_other(back_to or f"/connections/{connection_id}")


# -- Moneybird -------------------------------------------------------------------------------


@router.get("/connections/{connection_id}/moneybird")
def moneybird_page(request: Request, connection_id: ConnectionId, backend: Backend) -> Response:
    return pages(request).render(
        request,
        "moneybird.html",
        connection=backend.app.store.connection(connection_id),
        setup=backend.installs.setup(connection_id),
        oauth=mb.oauth_available(backend),
        problem="",
    )


@router.post("/connections/{connection_id}/moneybird/oauth")
def moneybird_oauth(request: Request, connection_id: ConnectionId, backend: Backend) -> Response:
    url, state = mb.start_oauth(backend)
    request.session["oauth"] = {"state": state, "connection": connection_id}
    return see_other(url)


@router.get("/moneybird/callback")
async def moneybird_callback(request: Request, account: SignedIn, backend: Backend) -> Response:
    pending = request.session.pop("oauth", None)
    if not isinstance(pending, dict) or not account.may_see(int(pending.get("connection", 0))):
        return _oauth_refused(request, "")
    connection_id = int(pending["connection"])
    try:
        await run_in_threadpool(
            mb.finish_oauth, backend, connection_id, str(request.url), str(pending["state"])
        )
    except CcvbirdError as exc:
        return _oauth_refused(request, str(exc), connection_id)
    _resume_after_reconnect(backend, connection_id)
    flash(request, _("Moneybird is connected."))
    return see_other(f"/connections/{connection_id}/moneybird/administration")


def _oauth_refused(request: Request, reason: str, connection_id: int | None = None) -> Response:
    return pages(request).render(
        request,
        "message.html",
        status=400,
        title=_("Moneybird was not connected"),
        message=_(
            "The answer from Moneybird does not belong to a connection request made here, or "
            "access was refused. Start again from the Moneybird page."
        )
        + (f" ({reason})" if reason else ""),
        back=f"/connections/{connection_id}/moneybird" if connection_id else "/",
    )


def _resume_after_reconnect(backend: Backend, connection_id: int) -> None:
    """Access restored: a connection paused for lost access books again."""
    connection = backend.app.store.connection(connection_id)
    setup = backend.installs.setup(connection_id)
    reason = connection.paused_reason
    if reason and reason != SETUP_REASON and setup.has_administration and "reconnect" in reason:
        backend.app.store.resume(connection_id)


@router.post("/connections/{connection_id}/moneybird/token")
async def moneybird_token(
    request: Request, connection_id: ConnectionId, backend: Backend
) -> Response:
    form = await form_of(request)
    try:
        await run_in_threadpool(mb.use_token, backend, connection_id, str(form.get("token", "")))
    except CcvbirdError as exc:
        return pages(request).render(
            request,
            "moneybird.html",
            status=422,
            connection=backend.app.store.connection(connection_id),
            setup=backend.installs.setup(connection_id),
            oauth=mb.oauth_available(backend),
            problem=_("Moneybird did not accept this token: %(reason)s", reason=str(exc)),
        )
    _resume_after_reconnect(backend, connection_id)
    flash(request, _("Moneybird is connected."))
    return see_other(f"/connections/{connection_id}/moneybird/administration")


@router.get("/connections/{connection_id}/moneybird/administration")
async def administration_page(
    request: Request, connection_id: ConnectionId, backend: Backend
) -> Response:
    setup = backend.installs.setup(connection_id)
    if not setup.has_moneybird:
        return see_other(f"/connections/{connection_id}/moneybird")
    try:
        choices = await run_in_threadpool(mb.administrations, backend, connection_id)
    except CcvbirdError as exc:
        flash(request, _("Moneybird could not be read: %(reason)s", reason=str(exc)), "error")
        return see_other(f"/connections/{connection_id}/moneybird")
    return pages(request).render(
        request, "administration.html", connection_id=connection_id, choices=choices,
        current=setup.administration_id,
    )  # fmt: skip


@router.post("/connections/{connection_id}/moneybird/administration")
async def administration_choose(
    request: Request, connection_id: ConnectionId, backend: Backend
) -> Response:
    form = await form_of(request)
    try:
        suggestion = await run_in_threadpool(
            mb.choose_administration, backend, connection_id, str(form.get("administration", ""))
        )
    except CcvbirdError as exc:
        flash(request, str(exc), "error")
        return see_other(f"/connections/{connection_id}/moneybird/administration")
    if suggestion is not None:
        if suggestion.unambiguous:
            flash(request, _("A profile was drafted from your administration. Check it and save."))
        else:
            flash(
                request,
                _("A profile was drafted from your administration; some choices need you."),
                "warning",
            )
    return see_other(f"/connections/{connection_id}/profile")
