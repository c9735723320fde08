"""CCV Shop request and response signatures (reference §1.1 and §1.2).

Every REST call carries ``x-public``, ``x-date`` and ``x-hash``, where ``x-hash`` is the lowercase
hex HMAC-SHA512, keyed with the API secret, of five parts joined by ``|``::

    public key | METHOD | path?query exactly as sent | body bytes exactly as sent | x-date

Whatever the HTTP library does to a URL or a body after signing would break the hash, so
:func:`sign_request` signs the request that is actually sent: the path and query come from
``request.url.raw_path`` (percent-encoding and parameter order as they go on the wire) and the
body from ``request.content``. A ``next`` link is signed the same way once it is a request.

Responses carry their own ``x-date``/``x-hash`` over the request's method and path and the
response body; :func:`response_signature_matches` checks them (CCV's SDK does the same).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import httpx

from ccvbird.domain.errors import ApiError


class SignatureMismatch(ApiError):
    """A signature that should match does not: a response, or a call from the App Store."""


def string_to_sign(public: str, method: str, uri: str, body: bytes | str, date: str) -> bytes:
    """The exact bytes CCV hashes: ``public|METHOD|uri|body|date``."""
    raw_body = body.encode() if isinstance(body, str) else body
    head = f"{public}|{method.upper()}|{uri}|".encode()
    return head + raw_body + f"|{date}".encode()


def hmac_sha512(secret: str, message: bytes) -> str:
    """Lowercase hex HMAC-SHA512 of ``message`` keyed with ``secret``."""
    return hmac.new(secret.encode(), message, hashlib.sha512).hexdigest()


def signature(secret: str, public: str, method: str, uri: str, body: bytes | str, date: str) -> str:
    """``x-hash`` for one request (or response)."""
    return hmac_sha512(secret, string_to_sign(public, method, uri, body, date))


def same_hash(expected: str, offered: str | None) -> bool:
    """Constant-time comparison of two hex digests, ignoring the case of the hex letters."""
    if not offered:
        return False
    return hmac.compare_digest(expected.lower().encode(), offered.strip().lower().encode())


def x_date(moment: datetime) -> str:
    """The ``x-date`` value: UTC, second precision, trailing ``Z`` (as CCV's own example sends)."""
    if moment.tzinfo is None:
        raise ValueError("x-date needs an aware datetime")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def x_date_from_epoch(seconds: float) -> str:
    return x_date(datetime.fromtimestamp(seconds, UTC))


def request_uri(request: httpx.Request) -> str:
    """Path plus query exactly as they go on the wire (no scheme, no host)."""
    return request.url.raw_path.decode("ascii")


def sign_request(request: httpx.Request, *, public: str, secret: str, date: str) -> None:
    """Set ``x-public``, ``x-date`` and ``x-hash`` on ``request`` for the bytes it will send."""
    request.headers["x-public"] = public
    request.headers["x-date"] = date
    request.headers["x-hash"] = signature(
        secret, public, request.method, request_uri(request), request.content, date
    )


def response_signature_matches(response: httpx.Response, *, public: str, secret: str) -> bool:
    """Whether a response's ``x-hash`` matches its body; ``True`` when it carries none.

    Real shops sign responses; a response without the headers (a proxy's error page, an empty
    204) is left to the status-code handling instead of being refused here.
    """
    offered = response.headers.get("x-hash")
    date = response.headers.get("x-date")
    if not offered or date is None:
        return True
    request = response.request
    expected = signature(
        secret, public, request.method, request_uri(request), response.content, date
    )
    return same_hash(expected, offered)
