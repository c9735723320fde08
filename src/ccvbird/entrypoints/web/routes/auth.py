"""First start (the operator's account), sign-in, sign-out, the language switch, sign-in links
by e-mail and changing the password.

A sign-in link is the way back for an owner without a password, and "forgot password" for one
with: it signs in once, within :data:`LINK_VALID`, and from there a password can be set. Its
page asks for a click before it signs in, so a mail scanner that opens links does not use it.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ccvbird.domain.errors import ConfigError
from ccvbird.entrypoints.web.i18n import LANGUAGES, _
from ccvbird.entrypoints.web.pages import flash
from ccvbird.entrypoints.web.routes.common import (
    form_of,
    pages,
    run_in_threadpool,
    safe_next,
    see_other,
)
from ccvbird.entrypoints.web.security import (
    Backend,
    SignedIn,
    check_csrf,
    check_password,
    client_address,
    current_account,
    sign_in,
    sign_out,
)
from ccvbird.wiring import MIN_LENGTH, OPERATOR, hash_password, verify_password

router = APIRouter(dependencies=[Depends(check_csrf)])

#: How long a mailed sign-in link works (once).
LINK_VALID = timedelta(minutes=30)
#: Sign-in links one address may ask for before it waits (each costs an e-mail).
FREE_LINKS_PER_ADDRESS = 5


def password_problem(password: str, again: str) -> str:
    if len(password) < MIN_LENGTH:
        return _("Choose a password of at least %(count)s characters.", count=MIN_LENGTH)
    if password != again:
        return _("The two passwords differ; type the same password twice.")
    return ""


def email_problem(email: str) -> str:
    if "@" not in email or "." not in email.split("@")[-1] or len(email) > 320:
        return _("Fill in an e-mail address, like name@example.nl.")
    return ""


@router.get("/")
def home(request: Request, backend: Backend) -> Response:
    account = current_account(request, backend)
    if account is None:
        return see_other("/first-start" if not backend.accounts.has_operator() else "/login")
    if account.is_operator:
        return see_other("/connections")
    return see_other(f"/connections/{account.connection_id}")


@router.get("/first-start")
def first_start_page(request: Request, backend: Backend) -> Response:
    if backend.accounts.has_operator():
        return see_other("/login")
    return pages(request).render(request, "first_start.html", email="", problem="")


@router.post("/first-start")
async def first_start(request: Request, backend: Backend) -> Response:
    if backend.accounts.has_operator():
        return see_other("/login")
    form = await form_of(request)
    email = str(form.get("email", "")).strip()
    password = str(form.get("password", ""))
    problem = email_problem(email) or password_problem(password, str(form.get("again", "")))
    if not problem:
        try:
            account = backend.accounts.create(email, hash_password(password), role=OPERATOR)
        except ConfigError as exc:
            problem = str(exc)
        else:
            sign_in(request, backend, account)
            flash(request, _("Welcome! You are the operator of this ccvbird."))
            return see_other("/connections")
    return pages(request).render(
        request, "first_start.html", status=422, email=email, problem=problem
    )


@router.get("/login")
def login_page(request: Request, backend: Backend, next: str = "/") -> Response:
    if not backend.accounts.has_operator():
        return see_other("/first-start")
    return pages(request).render(request, "login.html", email="", problem="", next=safe_next(next))


@router.post("/login")
async def login(request: Request, backend: Backend) -> Response:
    form = await form_of(request)
    email = str(form.get("email", "")).strip()
    target = safe_next(str(form.get("next", "/")))
    password = str(form.get("password", ""))
    account, problem, throttled = check_password(request, backend, email, password)
    if account is None:
        status = 429 if throttled else 401
        return pages(request).render(
            request, "login.html", status=status, email=email, problem=problem, next=target
        )
    sign_in(request, backend, account)
    return see_other(target)


@router.post("/logout")
def logout(request: Request, backend: Backend) -> Response:
    sign_out(request, backend)
    return see_other("/login")


@router.post("/language")
async def language(request: Request, backend: Backend) -> Response:
    form = await form_of(request)
    chosen = str(form.get("language", ""))
    if chosen in LANGUAGES:
        request.session["lang"] = chosen
        account = current_account(request, backend)
        if account is not None:
            backend.accounts.set_language(account.id, chosen)
    return see_other(safe_next(str(form.get("next", "/"))))


@router.post("/login/link")
async def send_link(request: Request, backend: Backend) -> Response:
    """Mail a one-time sign-in link. The answer is the same whether or not the address has an
    account, so the form tells nobody who has one."""
    form = await form_of(request)
    email = str(form.get("email", "")).strip()
    target = "/login"
    if backend.mailer is None:
        flash(
            request,
            _("Sign-in links need e-mail, which this ccvbird has not been set up to send. "
              "Ask the person who runs it."),
        )  # fmt: skip
        return see_other(target)
    key = f"link:address:{client_address(request)}"
    if backend.accounts.blocked_for([key]) > timedelta(0):
        flash(request, _("Too many sign-in links asked for; wait a few minutes and try again."))
        return see_other(target)
    backend.accounts.failed([key], free=FREE_LINKS_PER_ADDRESS, longest=timedelta(hours=1))
    account = backend.accounts.by_email(email) if email else None
    if account is not None:
        token = backend.accounts.make_sign_in_link(account.id, LINK_VALID)
        link = backend.url(f"/login/link/{token}")
        await run_in_threadpool(
            backend.mailer.send,
            [account.email],
            _("Your ccvbird sign-in link"),
            _(
                "Open this link to sign in to ccvbird. It works once, for %(minutes)s "
                "minutes:\n\n%(link)s\n\nDid you not ask for it? Then ignore this e-mail; "
                "nothing changes.",
                minutes=int(LINK_VALID.total_seconds() // 60),
                link=link,
            ),
        )
    flash(
        request,
        _("If %(email)s has an account, a sign-in link is on its way to it.", email=email),
    )
    return see_other(target)


@router.get("/login/link/{token}")
def link_page(request: Request, token: str) -> Response:
    return pages(request).render(request, "sign_in_link.html", token=token)


@router.post("/login/link/{token}")
def use_link(request: Request, backend: Backend, token: str) -> Response:
    account = backend.accounts.use_sign_in_link(token)
    if account is None:
        flash(
            request,
            _("This sign-in link has been used or has expired. Ask for a new one below."),
        )
        return see_other("/login")
    sign_in(request, backend, account)
    backend.accounts.signed_in(account.id)
    return see_other("/")


@router.get("/account/password")
def password_page(request: Request, account: SignedIn) -> Response:
    return pages(request).render(
        request, "password.html", problem="", has_password=bool(account.password_hash)
    )


@router.post("/account/password")
async def change_password(request: Request, backend: Backend, account: SignedIn) -> Response:
    """Set or change the password. Every session of the account ends (a copy of a cookie
    elsewhere stops working); this browser gets a new one."""
    form = await form_of(request)
    password = str(form.get("password", ""))
    problem = ""
    if account.password_hash and not verify_password(
        account.password_hash, str(form.get("current", ""))
    ):
        problem = _("Your current password is not right.")
    problem = problem or password_problem(password, str(form.get("again", "")))
    if problem:
        return pages(request).render(
            request,
            "password.html",
            status=422,
            problem=problem,
            has_password=bool(account.password_hash),
        )
    backend.accounts.set_password(account.id, hash_password(password))
    sign_in(request, backend, account)
    flash(
        request, _("Your password is saved. Everywhere else you were signed in, you are not now.")
    )
    return see_other("/")
