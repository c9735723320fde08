"""Moneybird's OAuth2 authorization-code flow, small enough to click through in a browser.

``GET /oauth/authorize`` shows a sign-in and consent page (sandbox user, administration,
scopes); approving redirects to ``redirect_uri`` with ``code`` and ``state`` (or shows the code
for the out-of-band ``urn:ietf:wg:oauth:2.0:oob``). ``POST /oauth/token`` exchanges a code or a
refresh token; every refresh hands out a new refresh token and retires the old one, so a client
that does not store the rotated token loses access — the mistake this sandbox exists to catch.
"""

from __future__ import annotations

import base64
import html
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from ccvbird.sandbox.moneybird.constants import ALL_SCOPES, OUT_OF_BAND_REDIRECT
from ccvbird.sandbox.moneybird.state import Grant, MoneybirdSandbox

router = APIRouter(prefix="/oauth")


def _sandbox(request: Request) -> MoneybirdSandbox:
    sandbox: MoneybirdSandbox = request.app.state.sandbox
    return sandbox


def _scopes(text: str) -> list[str]:
    return [s for s in text.replace("+", " ").split() if s] or ["sales_invoices"]


def _redirect(uri: str, **params: str) -> Response:
    joiner = "&" if "?" in uri else "?"
    return RedirectResponse(f"{uri}{joiner}{urlencode(params)}", status_code=302)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><html lang='nl'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body>"
        f"<h1>{html.escape(title)}</h1>{body}</body></html>",
        status_code=status,
    )


@router.get("/authorize")
async def authorize_page(request: Request) -> Response:
    q = request.query_params
    return _consent(request, dict(q))


def _consent(request: Request, params: dict[str, str], error: str = "") -> Response:
    sandbox = _sandbox(request)
    client_id = params.get("client_id", "")
    redirect_uri = params.get("redirect_uri", "")
    if client_id != sandbox.config.oauth_client_id:
        return _page("Onbekende applicatie", "<p>The client_id is not known.</p>", 400)
    if not redirect_uri:
        return _page("Ongeldig verzoek", "<p>redirect_uri is required.</p>", 400)
    state = params.get("state", "")
    if params.get("response_type", "code") != "code":
        return _redirect(redirect_uri, error="unsupported_response_type", state=state)
    scopes = _scopes(params.get("scope", ""))
    unknown = [s for s in scopes if s not in ALL_SCOPES]
    if unknown:
        return _redirect(redirect_uri, error="invalid_scope", state=state)
    hidden = "".join(
        f"<input type='hidden' name='{name}' value='{html.escape(value, quote=True)}'>"
        for name, value in (
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("scope", " ".join(scopes)),
            ("state", state),
            ("response_type", "code"),
        )
    )
    admins = "".join(
        f"<option value='{a}'>{html.escape(sandbox.books(a).setup.name)} ({a})</option>"
        for a in sandbox.administration_ids
    )
    scope_items = "".join(f"<li>{html.escape(s)}</li>" for s in scopes)
    problem = f"<p role='alert'>{html.escape(error)}</p>" if error else ""
    body = (
        f"{problem}<form method='post' action='/oauth/authorize'>{hidden}"
        "<p><label>E-mailadres <input name='email' type='email' "
        f"value='{html.escape(sandbox.config.user_email, quote=True)}'></label></p>"
        "<p><label>Wachtwoord <input name='password' type='password'></label>"
        f" <small>(sandbox: {html.escape(sandbox.config.user_password)})</small></p>"
        f"<p><label>Administratie <select name='administration_id'>{admins}</select></label></p>"
        f"<p>De applicatie vraagt toegang tot:</p><ul>{scope_items}</ul>"
        "<button name='decision' value='approve'>Toegang verlenen</button> "
        "<button name='decision' value='deny'>Weigeren</button></form>"
    )
    return _page("Moneybird sandbox — toegang verlenen", body, 401 if error else 200)


@router.post("/authorize")
async def authorize_decision(request: Request) -> Response:
    sandbox = _sandbox(request)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    client_id = form.get("client_id", "")
    redirect_uri = form.get("redirect_uri", "")
    state = form.get("state", "")
    if client_id != sandbox.config.oauth_client_id or not redirect_uri:
        return _page("Ongeldig verzoek", "<p>Unknown client or missing redirect_uri.</p>", 400)
    if form.get("decision") != "approve":
        return _redirect(redirect_uri, error="access_denied", state=state)
    if not sandbox.check_user(form.get("email", ""), form.get("password", "")):
        return _consent(request, form, "E-mailadres of wachtwoord onjuist.")
    admin = form.get("administration_id", "")
    if not sandbox.has_administration(admin):
        return _consent(request, form, "Kies een administratie.")
    scopes = frozenset(_scopes(form.get("scope", "")))
    code = sandbox.issue_code(client_id, redirect_uri, scopes, frozenset({admin}))
    if redirect_uri == OUT_OF_BAND_REDIRECT:
        return _page("Autorisatiecode", f"<p>Kopieer deze code: <code>{code}</code></p>")
    params = {"code": code}
    if state:
        params["state"] = state
    return _redirect(redirect_uri, **params)


def _token_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:]).decode()
        except ValueError:
            return "", ""
        client_id, _, secret = decoded.partition(":")
        return client_id, secret
    return form.get("client_id", ""), form.get("client_secret", "")


def token_body(sandbox: MoneybirdSandbox, grant: Grant, refresh_token: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "access_token": grant.token,
        "token_type": "bearer",
        "refresh_token": refresh_token,
        "scope": " ".join(sorted(grant.scopes)),
        "created_at": int(sandbox.clock()),
    }
    if grant.expires_at is not None:
        body["expires_in"] = round(grant.expires_at - sandbox.clock())
    return body


@router.post("/token")
async def token(request: Request) -> Response:
    sandbox = _sandbox(request)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    client_id, secret = _client_credentials(request, form)
    if not sandbox.check_client(client_id, secret):
        return _token_error("invalid_client", "Client authentication failed.", 401)
    grant_type = form.get("grant_type", "")
    if grant_type == "authorization_code":
        grant = sandbox.redeem_code(form.get("code", ""), client_id, form.get("redirect_uri", ""))
        if grant is None:
            return _token_error("invalid_grant", "The authorization code is invalid or used.")
        return JSONResponse(token_body(sandbox, grant, sandbox.refresh_token_of(grant)))
    if grant_type == "refresh_token":
        refreshed = sandbox.refresh(form.get("refresh_token", ""), client_id)
        if refreshed is None:
            return _token_error("invalid_grant", "The refresh token is invalid or was used.")
        grant, refresh_token = refreshed
        return JSONResponse(token_body(sandbox, grant, refresh_token))
    return _token_error("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")
