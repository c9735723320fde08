"""CCV's App Store calls (no session: the hash proves the shop) and the owner's new account.

``POST /ccv/handshake`` and ``POST /ccv/uninstall`` are server-to-server; ``GET /ccv/install``
is the merchant's browser: the signed link proves the shop, so it signs the shop's owner in
(their account is made on the first visit, with the merchant's e-mail address from CCV and no
password), and the wizard runs. Only when CCV gives no usable address does the owner type one.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse, Response

from ccvbird.domain.errors import ConfigError
from ccvbird.entrypoints.web.i18n import LANGUAGES, _
from ccvbird.entrypoints.web.routes.auth import email_problem
from ccvbird.entrypoints.web.routes.common import form_of, pages, run_in_threadpool, see_other
from ccvbird.entrypoints.web.security import Backend, check_csrf, current_account, sign_in
from ccvbird.wiring import OWNER, Account
from ccvbird.wiring.appstore import (
    AppStoreRefused,
    handshake,
    install_visit,
    merchant_email,
    uninstall,
)

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


def _private(response: Response) -> Response:
    """The install link signs in: keep it out of caches and out of any Referer header."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _owner_for(request: Request, backend: Backend, connection_id: int) -> Account | None:
    """The shop's owner: the account the connection has, or a new one (without a password)
    with the e-mail address CCV has for the merchant. ``None``: CCV gives no usable address,
    or it belongs to another account — then the owner gives one (:func:`account_page`)."""
    owners = backend.accounts.owners_of(connection_id)
    if owners:
        return owners[0]
    email = merchant_email(backend, connection_id)
    if email_problem(email) or backend.accounts.by_email(email) is not None:
        return None
    try:
        return _new_owner(request, backend, connection_id, email)
    except ConfigError:  # made a moment ago by a second tab
        return None


def _new_owner(request: Request, backend: Backend, connection_id: int, email: str) -> Account:
    return backend.accounts.create(
        email,
        "",  # no password: the install link signs in; later a mailed link, or one they set
        role=OWNER,
        connection_id=connection_id,
        language=str(request.session.get("lang", "nl")),
    )


@router.get("/ccv/install")
def ccv_install(request: Request, backend: Backend) -> Response:
    """The merchant arrives from the App Store. The signed link proves the shop, so it signs
    the shop's owner in — on every visit while this installation lasts (see docs/web.md,
    "The install link signs in")."""
    try:
        connection_id, language = install_visit(backend, dict(request.query_params))
    except AppStoreRefused as exc:
        return _private(_refused(request, exc))
    if language[:2].lower() in LANGUAGES:
        request.session["lang"] = language[:2].lower()
    account = current_account(request, backend)
    if account is None or not account.may_see(connection_id):
        owner = _owner_for(request, backend, connection_id)
        if owner is None:
            request.session["install"] = connection_id
            return _private(see_other("/ccv/account"))
        sign_in(request, backend, owner)
        backend.accounts.signed_in(owner.id)
    return _private(see_other(f"/connections/{connection_id}"))


def _installing(request: Request, backend: Backend) -> int | None:
    connection_id = request.session.get("install")
    if not isinstance(connection_id, int) or backend.accounts.owners_of(connection_id):
        return None
    return connection_id


def _account_form(
    request: Request, backend: Backend, connection_id: int, email: str, problem: str,
    status: int = 200, *, taken: bool = False,
) -> Response:  # fmt: skip
    connection = backend.app.store.connection(connection_id)
    return pages(request).render(
        request, "account_new.html", status=status, email=email, problem=problem,
        taken=taken, shop=connection.name, connection_id=connection_id,
    )  # fmt: skip


def _taken(email: str) -> str:
    return _(
        "There is an account for %(email)s already (for another shop, or for the person who "
        "runs ccvbird). Give another e-mail address for this shop, or sign in with that "
        "account.",
        email=email,
    )


@router.get("/ccv/account")
def account_page(request: Request, backend: Backend) -> Response:
    """Only when CCV gives no usable e-mail address for the merchant, or one that another
    account has: one field."""
    connection_id = _installing(request, backend)
    if connection_id is None:
        return see_other("/login")
    email = merchant_email(backend, connection_id)
    taken = bool(email) and backend.accounts.by_email(email) is not None
    problem = _taken(email) if taken else ""
    return _account_form(
        request, backend, connection_id, "" if taken else email, problem, taken=taken
    )


@router.post("/ccv/account", dependencies=[Depends(check_csrf)])
async def account_create(request: Request, backend: Backend) -> Response:
    connection_id = _installing(request, backend)
    if connection_id is None:
        return see_other("/login")
    form = await form_of(request)
    email = str(form.get("email", "")).strip()
    problem = email_problem(email)
    taken = False
    if not problem:
        try:
            account = _new_owner(request, backend, connection_id, email)
        except ConfigError:
            problem, taken = _taken(email), True
        else:
            sign_in(request, backend, account)
            backend.accounts.signed_in(account.id)
            return see_other(f"/connections/{connection_id}")
    return _account_form(request, backend, connection_id, email, problem, 422, taken=taken)
