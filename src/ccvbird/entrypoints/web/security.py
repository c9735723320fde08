"""Who is signed in, what they may see, and the checks every form passes.

* Sessions live on the server (``web_sessions``): the signed cookie (Starlette's
  ``SessionMiddleware``, itsdangerous) carries a random session token, the CSRF token and,
  during OAuth, the expected ``state``. Signing out deletes the session's row and a password
  change deletes every row of the account, so a replayed copy of the cookie stops working.
* Every page but sign-in, first start, the App Store calls and the webhooks requires a session:
  :func:`signed_in` redirects to the sign-in page otherwise.
* The operator sees every connection; an owner only their own. :func:`connection_id` is the one
  place that decides, and every connection route depends on it: another shop's connection is
  "not found", whether asked for by URL, form or API.
* Every form carries the session's CSRF token; :func:`check_csrf` refuses a form without it.
* Failed sign-ins are counted per account *and* client address together, and per address;
  from the third failure of an account at one address (the twentieth of an address over all
  accounts) each one makes the next attempt from there wait twice as long (up to 15 minutes).
  Nothing counts per account alone: a guesser elsewhere never locks the owner out.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request

from ccvbird.domain.errors import ConfigError
from ccvbird.entrypoints.web.i18n import _
from ccvbird.entrypoints.web.limits import ID_IN_PATH
from ccvbird.wiring import Account, WebBackend, verify_password

LONGEST_WAIT = timedelta(minutes=15)


class SignInRequired(Exception):
    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class FirstStartRequired(Exception):
    pass


class NotFoundPage(Exception):
    pass


class CsrfRefused(Exception):
    pass


class Uninstalled(Exception):
    """A page or action that connects or changes a connection, asked of an uninstalled one."""

    def __init__(self, connection_id: int) -> None:
        self.connection_id = connection_id


def backend_of(request: Request) -> WebBackend:
    backend: WebBackend = request.app.state.backend
    return backend


Backend = Annotated[WebBackend, Depends(backend_of)]


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str) or len(token) < 20:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def check_csrf(request: Request) -> None:
    """Refuse an unsafe request whose form does not carry this session's CSRF token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    expected = request.session.get("csrf")
    form = await request.form()
    given = form.get("csrf_token")
    if (
        not isinstance(expected, str)
        or not isinstance(given, str)
        or not hmac.compare_digest(expected.encode(), given.encode())
    ):
        raise CsrfRefused


def sign_in(request: Request, backend: WebBackend, account: Account) -> None:
    """Start a fresh session for ``account`` (a new CSRF token; nothing carried over). The
    session lives on the server: the cookie carries its random token, and signing out or a
    password change ends it there, so a copy of the cookie stops working too."""
    language = request.session.get("lang")
    previous = request.session.get("sid")
    if isinstance(previous, str):
        backend.accounts.end_session(previous)
    request.session.clear()
    request.session.update(
        {"sid": backend.accounts.open_session(account.id), "csrf": secrets.token_urlsafe(32)}
    )
    if isinstance(language, str):
        request.session["lang"] = language


def sign_out(request: Request, backend: WebBackend) -> None:
    """End the session on the server and forget it in the browser (the language stays)."""
    token = request.session.get("sid")
    if isinstance(token, str):
        backend.accounts.end_session(token)
    language = request.session.get("lang")
    request.session.clear()
    if isinstance(language, str):
        request.session["lang"] = language


def current_account(request: Request, backend: WebBackend) -> Account | None:
    token = request.session.get("sid")
    if not isinstance(token, str):
        return None
    return backend.accounts.session_account(token)


def signed_in(request: Request, backend: Backend) -> Account:
    account = current_account(request, backend)
    if account is None:
        if not backend.accounts.has_operator():
            raise FirstStartRequired
        raise SignInRequired(request.url.path)
    return account


SignedIn = Annotated[Account, Depends(signed_in)]


def operator(account: SignedIn) -> Account:
    if not account.is_operator:
        raise NotFoundPage
    return account


Operator = Annotated[Account, Depends(operator)]


def connection_id(
    connection_id: Annotated[int, ID_IN_PATH], account: SignedIn, backend: Backend
) -> int:
    """The connection in the path, if this account may see it; else "not found"."""
    if not account.may_see(connection_id):
        raise NotFoundPage
    try:
        backend.app.store.connection(connection_id)
    except ConfigError:
        raise NotFoundPage from None
    return connection_id


ConnectionId = Annotated[int, Depends(connection_id)]


def installed_connection_id(connection_id: ConnectionId, backend: Backend) -> int:
    """The connection in the path, if it is installed: after an uninstall, every action that
    would connect, change or book it is refused (the dashboard says why), so no button is left
    that does nothing."""
    if not backend.installs.setup(connection_id).enabled:
        raise Uninstalled(connection_id)
    return connection_id


Installed = Annotated[int, Depends(installed_connection_id)]


#: Failures one account may have from one address before each next attempt waits.
FREE_PER_ACCOUNT_AND_ADDRESS = 3
#: Failures one address may have over all accounts (one guesser trying many addresses).
FREE_PER_ADDRESS = 20


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def throttle_keys(request: Request, email: str) -> tuple[str, str]:
    """(this account from this address, this address): never the account alone, so someone
    guessing elsewhere slows down themselves, not the owner signing in from their own place."""
    client = client_address(request)
    return f"account:{email.strip().lower()}|address:{client}", f"address:{client}"


def check_password(
    request: Request, backend: WebBackend, email: str, password: str
) -> tuple[Account | None, str, bool]:
    """(the account, "", False) when the password is right; else (None, what to tell the
    person, whether the attempt was refused for being too soon)."""
    pair, address = throttle_keys(request, email)
    keys = [pair, address]
    wait = backend.accounts.blocked_for(keys)
    if wait > timedelta(0):
        seconds = int(wait.total_seconds()) + 1
        message = _("Too many failed attempts. Try again in %(seconds)s seconds.", seconds=seconds)
        return None, message, True
    account = backend.accounts.by_email(email)
    if not verify_password(account.password_hash if account else None, password):
        backend.accounts.failed([pair], free=FREE_PER_ACCOUNT_AND_ADDRESS, longest=LONGEST_WAIT)
        backend.accounts.failed([address], free=FREE_PER_ADDRESS, longest=LONGEST_WAIT)
        return None, _("That e-mail address and password do not match an account."), False
    assert account is not None
    backend.accounts.succeeded([pair])  # the address's count stays: it may guess others
    backend.accounts.signed_in(account.id)
    return account, "", False
