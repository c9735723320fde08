"""The CCV App Store installation flow (reference §1.4), as pure functions.

CCV signs every shop→app call of this flow with the *app secret* (from the Developer App
Center), as hex ``HMAC-SHA512(app_secret, "<URI>|<payload>")``:

1. handshake — a server-to-server POST of ``{api_public, api_secret, api_root, return_url}`` to
   the handshake URI; ``x-hash`` covers ``"<handshake URI>|<raw body>"``. Answer 200 to accept.
2. install — the merchant's browser GETs the install URI with ``api_public``, ``language`` and
   ``x-hash`` in the query; the hash covers ``"<install URI without query>|<api_public>"``.
3. uninstall — a POST with at least ``api_public``; ``x-hash`` over
   ``"<uninstall URI>|<raw body>"``.

The URI is the app's configured absolute URL, which is not necessarily the URL the request
arrived at (a proxy may rewrite it): the web app passes its configured URI in. Each function
returns what the call says, or raises :class:`SignatureMismatch` / :class:`InvalidAppStoreCall`;
none touches the network.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from ccvbird.adapters.ccvshop.signing import SignatureMismatch, hmac_sha512, same_hash
from ccvbird.domain.errors import CcvbirdError


class InvalidAppStoreCall(CcvbirdError):
    """A correctly signed App Store call that lacks what it must carry; names the field."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Handshake:
    """Fresh credentials for one shop, pushed by CCV when a merchant installs the app."""

    api_public: str
    api_secret: str = field(repr=False)
    api_root: str
    return_url: str
    language: str = ""


@dataclass(frozen=True, slots=True)
class InstallVisit:
    """The merchant's browser arriving at the install page."""

    api_public: str
    language: str = ""


@dataclass(frozen=True, slots=True)
class Uninstall:
    api_public: str


def app_store_hash(app_secret: str, uri: str, payload: bytes | str) -> str:
    """``HMAC-SHA512(app_secret, "<uri>|<payload>")`` as lowercase hex."""
    raw = payload.encode() if isinstance(payload, str) else payload
    return hmac_sha512(app_secret, uri.encode() + b"|" + raw)


def _without_query(uri: str) -> str:
    parts = urlsplit(uri)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _check(app_secret: str, uri: str, payload: bytes | str, x_hash: str | None, what: str) -> None:
    if not app_secret:
        raise ValueError("the app secret is not configured")
    if not same_hash(app_store_hash(app_secret, uri, payload), x_hash):
        raise SignatureMismatch(
            f"the {what} does not carry a valid x-hash for {uri}: it was not sent by CCV for "
            "this app (or the app secret or the configured URI differs)",
            status=403,
            code="app-store-signature",
        )


def _json_object(raw_body: bytes, what: str) -> Mapping[str, object]:
    try:
        body = json.loads(raw_body or b"null")
    except RecursionError:
        raise InvalidAppStoreCall(what, "the body is nested too deeply") from None
    except ValueError:  # not JSON, not UTF-8, or an integer too long to read
        raise InvalidAppStoreCall(what, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise InvalidAppStoreCall(what, "the body is not a JSON object")
    return body


def _text(body: Mapping[str, object], name: str, *, required: bool = True) -> str:
    value = body.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidAppStoreCall(name, "missing")
        return ""
    if not isinstance(value, str):
        raise InvalidAppStoreCall(name, "expected text")
    return value.strip()


def verify_handshake(
    app_secret: str,
    handshake_uri: str,
    raw_body: bytes,
    x_hash: str | None,
    *,
    language: str = "",
) -> Handshake:
    """Check a handshake POST and return the credentials it brings.

    ``language`` may arrive outside the body (a query parameter); the body's value wins.
    """
    _check(app_secret, handshake_uri, raw_body, x_hash, "handshake")
    body = _json_object(raw_body, "handshake")
    root = _text(body, "api_root")
    if urlsplit(root).scheme not in {"http", "https"}:
        raise InvalidAppStoreCall("api_root", f"{root!r} is not an http(s) URL")
    return Handshake(
        api_public=_text(body, "api_public"),
        api_secret=_text(body, "api_secret"),
        api_root=root.rstrip("/"),
        return_url=_text(body, "return_url", required=False),
        language=_text(body, "language", required=False) or language,
    )


def verify_install(app_secret: str, install_uri: str, query: Mapping[str, str]) -> InstallVisit:
    """Check the install page's query (``api_public``, ``language``, ``x-hash``; URL-decoded)."""
    api_public = query.get("api_public", "")
    if not api_public:
        raise InvalidAppStoreCall("api_public", "missing")
    _check(app_secret, _without_query(install_uri), api_public, query.get("x-hash"), "install")
    return InstallVisit(api_public=api_public, language=query.get("language", ""))


def verify_uninstall(
    app_secret: str, uninstall_uri: str, raw_body: bytes, x_hash: str | None
) -> Uninstall:
    """Check an uninstall POST; returns whose installation ended."""
    _check(app_secret, uninstall_uri, raw_body, x_hash, "uninstall call")
    return Uninstall(api_public=_text(_json_object(raw_body, "uninstall call"), "api_public"))
