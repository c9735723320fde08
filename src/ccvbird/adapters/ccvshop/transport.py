"""CCV Shop's side of the shared transport: budgets, fresh signatures on retry, CCV's errors.

Budgets (reference §6): CCV allows 150 GETs and 100 writes (POST/PATCH/PUT/DELETE) per minute
per resource and method. A request counts against ``"<METHOD> <resource>"`` where the resource is
the last named segment of the path (``/orders`` and ``/orders/7`` are ``orders``,
``/orders/7/orderrows`` is ``orderrows``): coarser than one key per URL pattern, so never more
than CCV allows whichever way CCV groups its endpoints. The window is a second longer than a
minute, to absorb clock and network jitter.

A 429 says nothing about when to come back (no ``Retry-After`` in any known client), so the key
is held for a full window; ``429.11`` (the shop's global limit) holds every key.

Errors: CCV answers refusals with ``{"status", "code", "developermessage"}``; those become the
error tree with the code and message kept, and a 401 says in words that the key or secret is
wrong.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from ccvbird.adapters.ccvshop.signing import sign_request, x_date_from_epoch
from ccvbird.adapters.http.pacing import SlidingWindowLimiter, WallClock
from ccvbird.adapters.http.transport import ApiTransport, RetryPolicy, Sleep
from ccvbird.domain.errors import (
    ApiError,
    AuthenticationFailed,
    CcvbirdError,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServiceUnavailable,
)

API_PREFIX = "/api/rest/v1/"

#: CCV's published per-minute limits (reference §6).
GET_LIMIT = 150
WRITE_LIMIT = 100
WINDOW_SECONDS = 61.0

#: Budget key that stands for "every key" (CCV's global limit, code 429.11).
EVERY_KEY = "*"

#: 5xx codes that describe the request, not a passing outage: retrying cannot help (§6).
PERMANENT_5XX_CODES = frozenset(
    {"500.20", "500.21", "500.22", "500.23", "500.24", "500.25", "500.40", "500.50", "500.60",
     "500.70", "500.80", "500.90", "501.10", "501.20", "501.30"}
)  # fmt: skip


def resource_of(path: str) -> str:
    """The resource a path addresses: its last segment that is not an id."""
    inner = path.split("?", 1)[0]
    if inner.startswith(API_PREFIX):
        inner = inner[len(API_PREFIX) :]
    names = [part for part in inner.split("/") if part and not part.isdigit()]
    return names[-1] if names else "root"


class CcvBudget:
    """CCV's limits: 150 GETs and 100 writes per minute, per resource and method."""

    def __init__(
        self,
        *,
        gets: int = GET_LIMIT,
        writes: int = WRITE_LIMIT,
        window: float = WINDOW_SECONDS,
        clock: WallClock = time.time,
    ) -> None:
        self.reads = SlidingWindowLimiter(gets, window, clock=clock)
        self.writes = SlidingWindowLimiter(writes, window, clock=clock)

    def _limiter(self, key: str) -> SlidingWindowLimiter:
        return self.reads if key.startswith("GET ") else self.writes

    def reserve(self, key: str) -> float:
        return self._limiter(key).reserve(key)

    def block_until(self, key: str, moment: float) -> None:
        if key == EVERY_KEY:
            self.reads.block_all_until(moment)
            self.writes.block_all_until(moment)
        else:
            self._limiter(key).block_until(key, moment)


@dataclass(frozen=True, slots=True)
class CcvErrorBody:
    """What a CCV error body says; empty strings where it says nothing (or is not JSON)."""

    status: int
    code: str
    message: str

    @classmethod
    def of(cls, response: httpx.Response) -> CcvErrorBody:
        code = message = ""
        try:
            body = json.loads(response.content or b"null")
        except (ValueError, UnicodeDecodeError):
            body = None
        if isinstance(body, dict):
            code = str(body.get("code") or "")
            message = str(body.get("developermessage") or body.get("message") or "")
        return cls(status=response.status_code, code=code, message=message.strip())

    def describe(self) -> str:
        detail = f" {self.code}" if self.code else ""
        said = f": {self.message}" if self.message else ""
        return f"CCV Shop answered {self.status}{detail}{said}"


class CcvTransport(ApiTransport):
    """Signs, paces and retries CCV requests; translates CCV's refusals into the error tree."""

    service = "CCV Shop"

    def __init__(
        self,
        client: httpx.Client,
        *,
        public: str,
        secret: str,
        budget: CcvBudget | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        clock: WallClock = time.time,
        rate_limit_pause: float = WINDOW_SECONDS,
    ) -> None:
        super().__init__(
            client,
            budget=budget or CcvBudget(clock=clock),
            retry=retry,
            sleep=sleep,
            clock=clock,
        )
        self._public = public
        self._secret = secret
        self._now: Callable[[], float] = clock
        self.rate_limit_pause = rate_limit_pause
        #: How many requests went out, per budget key (retries included).
        self.sent: dict[str, int] = {}

    def sign(self, request: httpx.Request) -> httpx.Request:
        sign_request(
            request,
            public=self._public,
            secret=self._secret,
            date=x_date_from_epoch(self._now()),
        )
        return request

    # -- hooks ----------------------------------------------------------------------------------

    def budget_key(self, request: httpx.Request) -> str:
        key = f"{request.method} {resource_of(request.url.path)}"
        self.sent[key] = self.sent.get(key, 0) + 1
        return key

    def stamp(self, request: httpx.Request) -> httpx.Request:
        """Sign right before each attempt (retries too), after any wait for the budget: a date
        from before a minute's wait would be stale."""
        return self.sign(request)

    def retry_at(self, response: httpx.Response) -> float | None:
        header = response.headers.get("retry-after", "").strip()
        if header.isdigit():
            return self._now() + int(header)
        return self._now() + self.rate_limit_pause

    def rate_limit_scope(self, response: httpx.Response, key: str) -> str:
        return EVERY_KEY if CcvErrorBody.of(response).code == "429.11" else key

    def rate_limited(self, response: httpx.Response, retry_at: float | None) -> RateLimited:
        body = CcvErrorBody.of(response)
        scope = "the shop's total" if body.code == "429.11" else "this resource's"
        return RateLimited(f"{body.describe()} ({scope} per-minute limit)", retry_at=retry_at)

    def error_for(self, response: httpx.Response) -> CcvbirdError:
        body = CcvErrorBody.of(response)
        status = response.status_code
        if status == 401:
            return AuthenticationFailed(
                "CCV Shop refused the API credentials: the public key or the secret is wrong, "
                f"or the key was revoked ({body.describe()})"
            )
        if status == 403:
            return PermissionDenied(
                "CCV Shop: this API key may not do this; give it the permission in the shop's "
                f"API settings ({body.describe()})"
            )
        if status == 404:
            return NotFound(body.describe(), status=status, code=body.code or None)
        if status >= 500 and body.code not in PERMANENT_5XX_CODES:
            return ServiceUnavailable(body.describe())
        return ApiError(body.describe(), status=status, code=body.code or None)
