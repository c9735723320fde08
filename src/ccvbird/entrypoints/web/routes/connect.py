"""Making a connection: the shop (App Store or a form), Moneybird (OAuth or a token), the
administration, and the wizard's last step; and undoing it: disconnect Moneybird, uninstall.

The shortest install: *Installeren* in the App Store (the link signs the owner in) → *Connect
Moneybird* on the setup page → approve on Moneybird's consent screen (the administration picked
there is used when the access reaches just that one, and the profile is drafted from it) →
*Finish setup* (when the drafted profile is complete) → the dashboard, which offers the
history import.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ccvbird.domain.errors import (
    AuthenticationFailed,
    CcvbirdError,
    ConfigError,
    NetworkError,
    NotFound,
    PermissionDenied,
    TransientError,
)
from ccvbird.domain.reasons import ACCESS_PAUSES
from ccvbird.entrypoints.web.i18n import _
from ccvbird.entrypoints.web.pages import flash
from ccvbird.entrypoints.web.routes.common import form_of, pages, run_in_threadpool, see_other
from ccvbird.entrypoints.web.routes.profile import profile_problems
from ccvbird.entrypoints.web.security import (
    Backend,
    Installed,
    Operator,
    SignedIn,
    check_csrf,
)
from ccvbird.service.suggest import Suggestion
from ccvbird.wiring import SETUP_REASON, WebBackend
from ccvbird.wiring import moneybird as mb
from ccvbird.wiring.appstore import finish_setup, uninstall_here
from ccvbird.wiring.shop import normalise_shop_url, test_shop

router = APIRouter(dependencies=[Depends(check_csrf)])


# -- a shop by its API keys (the operator) ---------------------------------------------------


def key_test_problem(exc: CcvbirdError, url: str, both_given: bool) -> str:
    """Why the API-key test failed, in the reader's words (never CCV's or the client's English:
    "x-hash does not match the request" means the keys are wrong)."""
    if not both_given:
        return _("Fill in both the public key and the secret.")
    if isinstance(exc, AuthenticationFailed | PermissionDenied):
        return _(
            "The shop did not accept these keys. Check the public key and the secret (in CCV "
            "Shop: the API keys of your app or of Instellingen → API), and that they belong to "
            "this shop."
        )
    if isinstance(exc, NotFound | NetworkError):
        return _("No CCV Shop answers at %(url)s: check the shop's address.", url=url)
    if isinstance(exc, TransientError):
        return _("The shop could not be reached just now; try again in a moment.")
    return _("The shop refused the test: %(reason)s", reason=str(exc))


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
    except ConfigError:
        problem = _("Fill in the shop's address, like https://www.jouwwinkel.nl.")
        return pages(request).render(
            request, "connection_new.html", status=422, form=shown, problem=problem, tested=""
        )
    try:
        shop_name = await run_in_threadpool(test_shop, backend.app, url, public, secret)
    except CcvbirdError as exc:
        problem = key_test_problem(exc, url, bool(public and secret))
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


def _profile_state(backend: WebBackend, connection_id: int) -> tuple[bool, str]:
    """(whether the stored profile can be used as it is, why not)."""
    setup = backend.installs.setup(connection_id)
    if not setup.has_moneybird or not setup.has_administration:
        return False, ""
    try:
        problems = profile_problems(backend, connection_id)
    except CcvbirdError as exc:
        return False, _("Moneybird could not be read: %(reason)s", reason=str(exc))
    return not problems, ""


@router.get("/connections/{connection_id}/setup")
async def setup_page(request: Request, connection_id: Installed, backend: Backend) -> Response:
    setup = backend.installs.setup(connection_id)
    connection = backend.app.store.connection(connection_id)
    if connection.paused_reason != SETUP_REASON and setup.has_administration:
        return see_other(f"/connections/{connection_id}")  # finished already
    ready, problem = await run_in_threadpool(_profile_state, backend, connection_id)
    name = (
        await run_in_threadpool(mb.administration_name, backend, connection_id)
        if setup.has_administration
        else ""
    )
    return pages(request).render(
        request, "setup.html", connection=connection, setup=setup,
        oauth=mb.oauth_available(backend), profile_ready=ready, problem=problem,
        administration_name=name,
    )  # fmt: skip


@router.post("/connections/{connection_id}/setup/finish")
async def finish(request: Request, connection_id: Installed, backend: Backend) -> Response:
    ready, problem = await run_in_threadpool(_profile_state, backend, connection_id)
    setup = backend.installs.setup(connection_id)
    if setup.has_moneybird and setup.has_administration and not ready and not problem:
        flash(request, _("The profile needs a few choices from you first."), "warning")
        return see_other(f"/connections/{connection_id}/profile")
    try:
        await run_in_threadpool(finish_setup, backend, connection_id)
    except CcvbirdError as exc:
        flash(request, _("Setup cannot be finished yet: %(reason)s", reason=str(exc)), "error")
        return see_other(f"/connections/{connection_id}/setup")
    flash(request, _("Setup is finished: ccvbird books paid orders from now on."))
    return see_other(f"/connections/{connection_id}")


# -- Moneybird -------------------------------------------------------------------------------


def _moneybird_page(
    request: Request, backend: WebBackend, connection_id: int, problem: str = "", status: int = 200
) -> Response:
    return pages(request).render(
        request,
        "moneybird.html",
        status=status,
        connection=backend.app.store.connection(connection_id),
        setup=backend.installs.setup(connection_id),
        oauth=mb.oauth_available(backend),
        problem=problem,
        in_setup=backend.app.store.connection(connection_id).paused_reason == SETUP_REASON,
    )


@router.get("/connections/{connection_id}/moneybird")
def moneybird_page(request: Request, connection_id: Installed, backend: Backend) -> Response:
    return _moneybird_page(request, backend, connection_id)


@router.post("/connections/{connection_id}/moneybird/oauth")
def moneybird_oauth(request: Request, connection_id: Installed, backend: Backend) -> Response:
    url, state = mb.start_oauth(backend)
    request.session["oauth"] = {"state": state, "connection": connection_id}
    return see_other(url)


@router.get("/moneybird/callback")
async def moneybird_callback(request: Request, account: SignedIn, backend: Backend) -> Response:
    pending = request.session.pop("oauth", None)
    if not isinstance(pending, dict) or not account.may_see(int(pending.get("connection", 0))):
        return _oauth_refused(request, "")
    connection_id = int(pending["connection"])
    if not backend.installs.setup(connection_id).enabled:
        return see_other(f"/connections/{connection_id}")
    try:
        await run_in_threadpool(
            mb.finish_oauth, backend, connection_id, str(request.url), str(pending["state"])
        )
    except CcvbirdError as exc:
        return _oauth_refused(request, str(exc), connection_id)
    _resume_after_reconnect(backend, connection_id)
    return await _after_access(request, backend, connection_id)


async def _after_access(request: Request, backend: WebBackend, connection_id: int) -> Response:
    """Moneybird access is stored. When it reaches exactly one administration — the one picked
    on Moneybird's consent screen — that one is used without asking again."""
    try:
        only = await run_in_threadpool(mb.only_administration, backend, connection_id)
        suggestion = (
            await run_in_threadpool(mb.choose_administration, backend, connection_id, only)
            if only is not None
            else None
        )
    except CcvbirdError as exc:
        flash(request, _("Moneybird could not be read: %(reason)s", reason=str(exc)), "error")
        return see_other(f"/connections/{connection_id}/moneybird")
    if only is None:
        flash(request, _("Moneybird is connected."))
        return see_other(f"/connections/{connection_id}/moneybird/administration")
    return _after_choice(request, backend, connection_id, suggestion)


def _after_choice(
    request: Request, backend: WebBackend, connection_id: int, suggestion: Suggestion | None
) -> Response:
    in_setup = backend.app.store.connection(connection_id).paused_reason == SETUP_REASON
    if suggestion is not None and not suggestion.unambiguous:
        flash(
            request,
            _("A profile was drafted from your administration; some choices need you."),
            "warning",
        )
        return see_other(f"/connections/{connection_id}/profile")
    if suggestion is not None:
        flash(
            request,
            _("Moneybird is connected, and a profile was drafted from your administration."),
        )
    else:
        flash(request, _("Moneybird is connected."))
    if in_setup:
        return see_other(f"/connections/{connection_id}/setup")
    if suggestion is not None:
        return see_other(f"/connections/{connection_id}/profile")  # a new administration
    return see_other(f"/connections/{connection_id}")


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


def _resume_after_reconnect(backend: WebBackend, connection_id: int) -> None:
    """Access restored: a connection paused for lost access, or disconnected, books again."""
    connection = backend.app.store.connection(connection_id)
    setup = backend.installs.setup(connection_id)
    reason = connection.paused_reason
    if not reason or reason == SETUP_REASON or not setup.has_administration:
        return
    if (
        connection.paused_code in ACCESS_PAUSES
        or "reconnect" in reason
        or reason == mb.DISCONNECTED_REASON
    ):
        backend.app.store.resume(connection_id)


@router.post("/connections/{connection_id}/moneybird/token")
async def moneybird_token(request: Request, connection_id: Installed, backend: Backend) -> Response:
    form = await form_of(request)
    try:
        await run_in_threadpool(mb.use_token, backend, connection_id, str(form.get("token", "")))
    except CcvbirdError as exc:
        problem = _("Moneybird did not accept this token: %(reason)s", reason=str(exc))
        return _moneybird_page(request, backend, connection_id, problem, status=422)
    _resume_after_reconnect(backend, connection_id)
    return await _after_access(request, backend, connection_id)


@router.post("/connections/{connection_id}/moneybird/disconnect")
async def moneybird_disconnect(
    request: Request, connection_id: Installed, backend: Backend
) -> Response:
    if backend.installs.setup(connection_id).has_moneybird:
        await run_in_threadpool(mb.disconnect_moneybird, backend, connection_id)
        flash(
            request,
            _("Moneybird is disconnected: ccvbird books nothing until you connect it again. "
              "The profile and the history are kept."),
        )  # fmt: skip
    return see_other(f"/connections/{connection_id}/moneybird")


@router.get("/connections/{connection_id}/moneybird/administration")
async def administration_page(
    request: Request, connection_id: Installed, backend: Backend
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
    request: Request, connection_id: Installed, backend: Backend
) -> Response:
    form = await form_of(request)
    try:
        suggestion = await run_in_threadpool(
            mb.choose_administration, backend, connection_id, str(form.get("administration", ""))
        )
    except CcvbirdError as exc:
        flash(request, str(exc), "error")
        return see_other(f"/connections/{connection_id}/moneybird/administration")
    return _after_choice(request, backend, connection_id, suggestion)


# -- uninstalling from ccvbird -----------------------------------------------------------------


@router.get("/connections/{connection_id}/uninstall")
def uninstall_page(request: Request, connection_id: Installed, backend: Backend) -> Response:
    return pages(request).render(
        request, "uninstall.html", connection=backend.app.store.connection(connection_id),
        setup=backend.installs.setup(connection_id),
    )  # fmt: skip


@router.post("/connections/{connection_id}/uninstall")
async def uninstall(request: Request, connection_id: Installed, backend: Backend) -> Response:
    await run_in_threadpool(uninstall_here, backend, connection_id)
    flash(request, _("ccvbird is uninstalled for this shop. The order history is kept."))
    return see_other(f"/connections/{connection_id}")
