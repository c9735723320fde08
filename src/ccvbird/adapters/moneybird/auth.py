"""Getting and keeping access to Moneybird: personal API tokens and OAuth2 (Authlib).

Personal tokens are sent as ``Authorization: Bearer``. OAuth2 uses the authorization-code flow;
the protocol pieces (authorize URL, token requests, callback parsing) come from Authlib's
RFC 6749 helpers and go over the same httpx transport as the API calls, so tests run them
against the sandbox. The rules Moneybird needs, kept by :class:`OAuthRefresh`:

* refresh before a call when ``expires_in`` said the token is (nearly) expired;
* refresh **once** when a call is refused with 401, then give up (the user must reconnect);
* store every token a refresh returns *before* using it: the refresh token rotates, and the old
  one stops working.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.oauth2.rfc6749 import parameters

from ccvbird.adapters.http.pacing import WallClock
from ccvbird.adapters.http.tls import shared_tls
from ccvbird.adapters.http.transport import DEFAULT_TIMEOUT
from ccvbird.domain.errors import AuthenticationFailed, NetworkError, RequestTimeout
from ccvbird.ports import OAuthToken, TokenStore

#: The scopes ccvbird asks for: invoices, plus settings for financial accounts and webhooks.
SCOPES = ("sales_invoices", "settings")
MONEYBIRD_OAUTH_URL = "https://moneybird.com/oauth"
OUT_OF_BAND = "urn:ietf:wg:oauth:2.0:oob"
#: Refresh this many seconds before the announced expiry, so a call never races it.
EXPIRY_MARGIN = 60.0


class BearerToken(httpx.Auth):
    """A personal API token (no expiry, no refresh)."""

    def __init__(self, token: str) -> None:
        if not token.strip():
            raise ValueError("a Moneybird API token must not be empty")
        self._header = f"Bearer {token.strip()}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:  # never show the token
        return "BearerToken(***)"


@dataclass(frozen=True)
class OAuthApp:
    """A registered Moneybird application (client id/secret) and where the user returns to."""

    client_id: str
    client_secret: str
    redirect_uri: str = OUT_OF_BAND
    oauth_url: str = MONEYBIRD_OAUTH_URL
    scopes: tuple[str, ...] = SCOPES

    @property
    def authorize_url(self) -> str:
        return f"{self.oauth_url.rstrip('/')}/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.oauth_url.rstrip('/')}/token"

    def __repr__(self) -> str:  # the secret stays out of logs and tracebacks
        return f"OAuthApp(client_id={self.client_id!r}, redirect_uri={self.redirect_uri!r})"


def authorization_url(app: OAuthApp, state: str) -> str:
    """Where to send the user to grant access (scopes ``sales_invoices settings`` and ``state``)."""
    if not state:
        raise ValueError("an OAuth state value is required (it protects the callback)")
    url: str = parameters.prepare_grant_uri(
        app.authorize_url,
        client_id=app.client_id,
        response_type="code",
        redirect_uri=app.redirect_uri,
        scope=" ".join(app.scopes),
        state=state,
    )
    return url


def code_from_callback(callback_url: str, state: str) -> str:
    """The ``code`` of the redirect back to us, after checking its ``state``.

    Raises :class:`AuthenticationFailed` when the user refused, the state does not match (a
    forged callback) or no code came back.
    """
    query = httpx.URL(callback_url).params
    if "error" in query:
        raise AuthenticationFailed(f"Moneybird authorization was refused: {query['error']}")
    try:
        result = parameters.parse_authorization_code_response(callback_url, state=state)
    except Exception as exc:
        raise AuthenticationFailed(f"the Moneybird callback is not valid: {exc}") from None
    return str(result["code"])


class TokenEndpoint:
    """Token requests (code exchange, refresh) over httpx; answers become :class:`OAuthToken`."""

    def __init__(
        self,
        app: OAuthApp,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: WallClock = time.time,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        self.app = app
        self._clock = clock
        self._client = httpx.Client(transport=transport, timeout=timeout, verify=shared_tls())

    def exchange_code(self, code: str) -> OAuthToken:
        body = parameters.prepare_token_request(
            "authorization_code",
            code=code,
            redirect_uri=self.app.redirect_uri,
            client_id=self.app.client_id,
            client_secret=self.app.client_secret,
        )
        return self._request(body, "exchanging the authorization code")

    def refresh(self, refresh_token: str) -> OAuthToken:
        body = parameters.prepare_token_request(
            "refresh_token",
            refresh_token=refresh_token,
            client_id=self.app.client_id,
            client_secret=self.app.client_secret,
        )
        return self._request(body, "refreshing the access token")

    def _request(self, body: str, doing: str) -> OAuthToken:
        try:
            response = self._client.post(
                self.app.token_url,
                content=body,
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Accept": "application/json",
                },
            )
        except httpx.TimeoutException as exc:
            raise RequestTimeout(f"Moneybird did not answer in time while {doing}") from exc
        except httpx.TransportError as exc:
            raise NetworkError(f"could not reach Moneybird while {doing} ({exc})") from exc
        try:
            data: dict[str, Any] = response.json()
        except ValueError:
            data = {}
        if response.status_code != 200 or "access_token" not in data:
            reason = data.get("error_description") or data.get("error") or response.status_code
            raise AuthenticationFailed(f"Moneybird refused {doing}: {reason}")
        return token_from_response(data, now=self._clock())

    def close(self) -> None:
        self._client.close()


def token_from_response(data: dict[str, Any], *, now: float) -> OAuthToken:
    """An :class:`OAuthToken` from a token response; ``expires_in`` counts from ``created_at``."""
    expires_at = None
    if data.get("expires_in") not in (None, ""):
        start = float(data.get("created_at") or now)
        expires_at = start + float(data["expires_in"])
    return OAuthToken(
        access_token=str(data["access_token"]),
        refresh_token=str(data["refresh_token"]) if data.get("refresh_token") else None,
        expires_at=expires_at,
        scope=str(data.get("scope", "")),
    )


class OAuthRefresh(httpx.Auth):
    """Bearer auth from a :class:`TokenStore` that refreshes when needed (thread-safe)."""

    requires_response_body = True

    def __init__(
        self,
        endpoint: TokenEndpoint,
        store: TokenStore,
        *,
        clock: WallClock = time.time,
        margin: float = EXPIRY_MARGIN,
    ) -> None:
        self._endpoint = endpoint
        self._store = store
        self._clock = clock
        self._margin = margin
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the token endpoint's HTTP connections."""
        self._endpoint.close()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._usable_token()
        request.headers["Authorization"] = f"Bearer {token.access_token}"
        response = yield request
        if response.status_code != 401 or _is_scope_refusal(response):
            return
        token = self._refreshed(stale=token)
        request.headers["Authorization"] = f"Bearer {token.access_token}"
        yield request

    def _usable_token(self) -> OAuthToken:
        token = self._store.load()
        if token is None:
            raise AuthenticationFailed("no Moneybird token is stored; connect Moneybird first")
        expiring = token.expires_at is not None and token.expires_at - self._margin <= self._clock()
        if expiring and token.refresh_token:
            return self._refreshed(stale=token)
        return token

    def _refreshed(self, *, stale: OAuthToken) -> OAuthToken:
        with self._lock:
            current = self._store.load()
            if current is not None and current.access_token != stale.access_token:
                return current  # another request refreshed meanwhile
            if stale.refresh_token is None:
                raise AuthenticationFailed(
                    "the Moneybird access token was refused and there is no refresh token"
                )
            fresh = self._endpoint.refresh(stale.refresh_token)
            if fresh.refresh_token is None:
                fresh = OAuthToken(
                    fresh.access_token, stale.refresh_token, fresh.expires_at, fresh.scope
                )
            self._store.save(fresh)
            return fresh


def _is_scope_refusal(response: httpx.Response) -> bool:
    """A 401 "No access to settings" means a missing scope: a new token would not help."""
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and str(body.get("error", "")).startswith("No access to")


class MemoryTokenStore:
    """A :class:`TokenStore` in memory (tests, one-off scripts)."""

    def __init__(self, token: OAuthToken | None = None) -> None:
        self.token = token
        self.saved: list[OAuthToken] = []

    def load(self) -> OAuthToken | None:
        return self.token

    def save(self, token: OAuthToken) -> None:
        self.token = token
        self.saved.append(token)
