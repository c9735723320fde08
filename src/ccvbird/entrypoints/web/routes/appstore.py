"""CCV's App Store calls (no session: the hash proves the shop) and the owner's new account.

``POST /ccv/handshake`` and ``POST /ccv/uninstall`` are server-to-server; ``GET /ccv/install``
is the merchant's browser. After a valid install visit the session remembers which connection
the browser may set up; the merchant creates their account (or signs in) and the wizard runs.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse, Response

from ccvbird.domain.errors import ConfigError
from ccvbird.entrypoints.web.i18n import LANGUAGES, _
from ccvbird.entrypoints.web.pages import flash
from ccvbird.entrypoints.web.routes.auth import email_problem, password_problem
from ccvbird.entrypoints.web.routes.common import form_of, pages, run_in_threadpool, see_other
from ccvbird.entrypoints.web.security import Backend, check_csrf, current_account, sign_in
from ccvbird.wiring import OWNER, hash_password
from ccvbird.wiring.appstore import AppStoreRefused, handshake, install_visit, uninstall

router = APIRouter()


@router.post("/ccv/handshake")
async def ccv_handshake(request: Request, backend: Backend) -> Response:
    raw = await request.body()
    try:
        await run_in_threadpool(
            handshake,
            backend,
            raw,
            request.headers.get("x-hash"),
            request.query_params.get("language", ""),
        )
    except AppStoreRefused as exc:
        return PlainTextResponse(str(exc), status_code=exc.status)
    return PlainTextResponse("OK")


@router.post("/ccv/uninstall")
async def ccv_uninstall(request: Request, backend: Backend) -> Response:
    raw = await request.body()
    try:
        await run_in_threadpool(uninstall, backend, raw, request.headers.get("x-hash"))
    except AppStoreRefused as exc:
        return PlainTextResponse(str(exc), status_code=exc.status)
    return PlainTextResponse("OK")


def _refused(request: Request, exc: AppStoreRefused) -> Response:
    return pages(request).render(
        request,
        "message.html",
        status=exc.status,
        title=_("Installation refused"),
        message=_(
            "This installation link is not valid: it was not made by CCV Shop for this app, or "
            "it is incomplete. Start the installation again from the CCV App Store."
        ),
    )


@router.get("/ccv/install")
def ccv_install(request: Request, backend: Backend) -> Response:
    try:
        connection_id, language = install_visit(backend, dict(request.query_params))
    except AppStoreRefused as exc:
        return _refused(request, exc)
    request.session["install"] = connection_id
    if language[:2].lower() in LANGUAGES:
        request.session["lang"] = language[:2].lower()
    owners = backend.accounts.owners_of(connection_id)
    account = current_account(request, backend)
    if account is not None and account.may_see(connection_id):
        return see_other(f"/connections/{connection_id}/setup")
    if owners:
        flash(request, _("Sign in to finish installing ccvbird for your shop."))
        return see_other(f"/login?next=/connections/{connection_id}/setup")
    return see_other("/ccv/account")


def _installing(request: Request, backend: Backend) -> int | None:
    connection_id = request.session.get("install")
    if not isinstance(connection_id, int) or backend.accounts.owners_of(connection_id):
        return None
    return connection_id


@router.get("/ccv/account")
def account_page(request: Request, backend: Backend) -> Response:
    connection_id = _installing(request, backend)
    if connection_id is None:
        return see_other("/login")
    shop = backend.app.store.connection(connection_id).shop_url
    return pages(request).render(request, "account_new.html", email="", problem="", shop=shop)


@router.post("/ccv/account", dependencies=[Depends(check_csrf)])
async def account_create(request: Request, backend: Backend) -> Response:
    connection_id = _installing(request, backend)
    if connection_id is None:
        return see_other("/login")
    form = await form_of(request)
    email = str(form.get("email", "")).strip()
    password = str(form.get("password", ""))
    problem = email_problem(email) or password_problem(password, str(form.get("again", "")))
    if not problem:
        try:
            account = backend.accounts.create(
                email,
                hash_password(password),
                role=OWNER,
                connection_id=connection_id,
                language=str(request.session.get("lang", "nl")),
            )
        except ConfigError:
            problem = _("There is an account for this e-mail address already; sign in instead.")
        else:
            sign_in(request, backend, account)
            return see_other(f"/connections/{connection_id}/setup")
    shop = backend.app.store.connection(connection_id).shop_url
    return pages(request).render(
        request, "account_new.html", status=422, email=email, problem=problem, shop=shop
    )
