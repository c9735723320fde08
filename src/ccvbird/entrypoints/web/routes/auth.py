"""First start (the operator's account), sign-in, sign-out and the language switch."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ccvbird.domain.errors import ConfigError
from ccvbird.entrypoints.web.i18n import LANGUAGES, _
from ccvbird.entrypoints.web.pages import flash
from ccvbird.entrypoints.web.routes.common import form_of, pages, safe_next, see_other
from ccvbird.entrypoints.web.security import (
    Backend,
    check_csrf,
    check_password,
    current_account,
    sign_in,
)
from ccvbird.wiring import MIN_LENGTH, OPERATOR, hash_password

router = APIRouter(dependencies=[Depends(check_csrf)])


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
            sign_in(request, account)
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
    sign_in(request, account)
    return see_other(target)


@router.post("/logout")
def logout(request: Request) -> Response:
    language = request.session.get("lang")
    request.session.clear()
    if language:
        request.session["lang"] = language
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
