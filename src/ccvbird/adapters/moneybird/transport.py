"""Moneybird's side of :class:`~ccvbird.adapters.http.ApiTransport`: its 429s and error bodies.

* 429: ``Retry-After`` and ``RateLimit-Reset`` are **epoch timestamps**, not delays (a client that
  sleeps "1586950800 seconds" hangs forever). They are read as such, also when the body is an
  nginx HTML page instead of ``"Retry later"``; a small value is taken as a delay in seconds, in
  case Moneybird ever follows the RFC.
* 400/422 bodies become one readable line naming each field (``contact.firstname is required``);
  :class:`MoneybirdRefusal` keeps the fields for code that wants them.
* 401 → :class:`AuthenticationFailed` (``No access to …`` → :class:`PermissionDenied`),
  402 → :class:`PlanLimitReached`, 403 → :class:`PermissionDenied`, 404 → :class:`NotFound`,
  5xx → :class:`ServiceUnavailable`.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from ccvbird.adapters.http import ApiTransport
from ccvbird.adapters.http.pacing import RequestBudget, SlidingWindowLimiter, WallClock
from ccvbird.domain.errors import (
    ApiError,
    AuthenticationFailed,
    CcvbirdError,
    NotFound,
    PermissionDenied,
    PlanLimitReached,
    ServiceUnavailable,
)

#: Moneybird's budget: 150 requests per 5 minutes per token.
RATE_LIMIT = 150
RATE_WINDOW = 300.0
#: Values below this in Retry-After/RateLimit-Reset are delays, above it epoch seconds.
_EPOCH_THRESHOLD = 1_000_000_000


class MoneybirdRefusal(ApiError):
    """A 400 or 422: Moneybird refused the request's content.

    ``fields`` maps each offending field to Moneybird's messages (``{"price": ["can't be
    blank"]}``), empty when the body named no field.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        fields: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code)
        self.fields = fields or {}


def moneybird_budget(clock: WallClock | None = None) -> SlidingWindowLimiter:
    """A request budget matching Moneybird's limit (150 per 300 s per key)."""
    if clock is None:
        return SlidingWindowLimiter(RATE_LIMIT, RATE_WINDOW)
    return SlidingWindowLimiter(RATE_LIMIT, RATE_WINDOW, clock=clock)


class MoneybirdTransport(ApiTransport):
    """Budget, retries and error translation for Moneybird; one budget key per token."""

    service = "Moneybird"

    def __init__(
        self,
        client: httpx.Client,
        *,
        budget: RequestBudget | None = None,
        budget_key: str = "moneybird",
        **kwargs: Any,
    ) -> None:
        super().__init__(client, budget=budget, **kwargs)
        self._budget_key = budget_key

    def budget_key(self, request: httpx.Request) -> str:
        return self._budget_key

    def retry_at(self, response: httpx.Response) -> float | None:
        for header in ("Retry-After", "RateLimit-Reset"):
            value = response.headers.get(header, "").strip()
            try:
                number = float(value)
            except ValueError:
                continue
            if number >= _EPOCH_THRESHOLD:
                return number
            return self._clock() + max(number, 0.0)
        return None

    def error_for(self, response: httpx.Response) -> CcvbirdError:
        status = response.status_code
        body = _decode(response)
        message, code, fields = describe(body)
        where = f"{response.request.method} {_path(response.request)}"
        if status >= 500:
            return ServiceUnavailable(f"Moneybird answered {status} to {where}")
        if status == 401:
            if message.startswith("No access to"):
                return PermissionDenied(
                    f"Moneybird: {message} (the token lacks the scope for {where})"
                )
            return AuthenticationFailed(f"Moneybird refused the credentials: {message}")
        if status == 402:
            return PlanLimitReached(f"Moneybird plan limit: {message}")
        if status == 403:
            return PermissionDenied(f"Moneybird forbids {where}: {message}")
        if status == 404:
            return NotFound(f"Moneybird: {message} ({where})", status=404, code=code)
        if status in (400, 422):
            return MoneybirdRefusal(
                f"Moneybird refused {where} ({status}): {message}",
                status=status,
                code=code,
                fields=fields,
            )
        return ApiError(f"Moneybird answered {status} to {where}: {message}", status=status)


def describe(body: Any) -> tuple[str, str | None, dict[str, list[str]]]:
    """(readable message, symbolic code, fields) from any of Moneybird's error shapes."""
    if isinstance(body, dict):
        error = body.get("error")
        symbolic = body.get("symbolic")
        code = None
        if isinstance(symbolic, dict) and symbolic:
            key, value = next(iter(symbolic.items()))
            code = f"{key}:{value}"
        if isinstance(error, dict):
            fields = {
                str(name): [str(m) for m in (msgs if isinstance(msgs, list) else [msgs])]
                for name, msgs in error.items()
            }
            text = "; ".join(f"{name} {', '.join(msgs)}" for name, msgs in fields.items())
            return text or "validation failed", code, fields
        if isinstance(error, str):
            fields = {}
            if isinstance(symbolic, dict):
                fields = {str(k): [str(v)] for k, v in symbolic.items()}
            return error, code, fields
    if isinstance(body, str) and body.strip():
        return body.strip()[:200], None, {}
    return "no explanation given", None, {}


def _decode(response: httpx.Response) -> Any:
    if "json" not in response.headers.get("content-type", ""):
        text = response.text
        return "" if text.lstrip().startswith("<") else text
    try:
        return json.loads(response.content)
    except ValueError:
        return response.text


def _path(request: httpx.Request) -> str:
    return request.url.path
