"""Shared httpx plumbing: budgets, retries, timeouts, and errors translated at the boundary.

Both API clients send every request through :class:`ApiTransport`. It

* waits for a slot in the request budget before each attempt;
* retries 429 always (the request was not processed) and waits as long as the service says;
* retries 5xx, network errors and timeouts only for requests that are safe to repeat — a create
  whose outcome is unknown is never repeated here; the caller finds out what happened instead
  (the engine looks the invoice up by reference);
* turns every httpx exception and every refusal into ccvbird's error tree, so nothing above the
  adapters ever sees httpx;
* keeps the right to send: inside :func:`guarded_by` (a worker holding the connection's lease)
  every wait is cut into steps that each end with ``guard.keep()`` (which renews the lease), and
  ``keep()`` runs again right before each attempt goes out — a worker that lost its lease while
  it waited raises :class:`~ccvbird.domain.errors.LeaseLost` instead of sending.

Service specifics (how a 429 says when to come back, how an error body reads) are two small
hooks that each client overrides.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol

import httpx

from ccvbird.adapters.http.pacing import RequestBudget, Unlimited, WallClock
from ccvbird.domain.errors import (
    CcvbirdError,
    NetworkError,
    RateLimited,
    RequestTimeout,
    ServiceUnavailable,
    TransientError,
)

Sleep = Callable[[float], None]

#: Every call has a timeout: connect quickly, allow a slow answer, never hang.
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


class SendGuard(Protocol):
    """What must still hold when a request goes out: the connection's lease, in a worker."""

    @property
    def check_every(self) -> float:
        """The longest wait, in seconds, between two calls of :meth:`keep`."""
        ...

    def keep(self) -> None:
        """Raise when the right to send is gone; renew it when due."""
        ...


_GUARD: ContextVar[SendGuard | None] = ContextVar("ccvbird_send_guard", default=None)


@contextmanager
def guarded_by(guard: SendGuard) -> Iterator[None]:
    """Requests this thread sends inside the block wait and go out only while ``guard`` holds.

    A context variable rather than a client setting: one client serves every thread that works
    for a connection, while a lease belongs to one run of the engine in one thread.
    """
    token = _GUARD.set(guard)
    try:
        yield
    finally:
        _GUARD.reset(token)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped; ``seed`` makes the jitter reproducible."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_rate_limit_wait: float = 600.0
    seed: int | None = None

    def delays(self) -> Callable[[int], float]:
        rng = random.Random(self.seed)  # noqa: S311 - jitter, not cryptography

        def delay(attempt: int) -> float:
            ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
            return rng.uniform(ceiling / 2, ceiling)

        return delay


class ApiTransport:
    """Sends requests through a budget with retries; subclasses translate the service's errors."""

    #: Name used in error messages ("Moneybird answered 503").
    service = "the service"

    def __init__(
        self,
        client: httpx.Client,
        *,
        budget: RequestBudget | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        clock: WallClock = time.time,
    ) -> None:
        self.client = client
        self.budget: RequestBudget = budget or Unlimited()
        self.retry = retry or RetryPolicy()
        self._delay = self.retry.delays()
        self._sleep = sleep
        self._clock = clock

    # -- hooks ------------------------------------------------------------------------------------

    def budget_key(self, request: httpx.Request) -> str:
        """Which budget a request counts against (one per token, or per resource and method)."""
        return ""

    def retry_at(self, response: httpx.Response) -> float | None:
        """When a 429 says to come back, as epoch seconds; ``None`` when it does not say."""
        return None

    def rate_limit_scope(self, response: httpx.Response, key: str) -> str:
        """Which budget key a 429 holds back: by default the one the request counted against."""
        return key

    def rate_limited(self, response: httpx.Response, retry_at: float | None) -> RateLimited:
        """The error a 429 stands for (a service may add its own code and message)."""
        return RateLimited(f"{self.service} asked to slow down (429)", retry_at=retry_at)

    def error_for(self, response: httpx.Response) -> CcvbirdError:
        """The error a refused (4xx/5xx) response stands for."""
        if response.status_code >= 500:
            return ServiceUnavailable(f"{self.service} answered {response.status_code}")
        return CcvbirdError(f"{self.service} answered {response.status_code}")

    # -- sending ----------------------------------------------------------------------------------

    def send(self, request: httpx.Request, *, idempotent: bool) -> httpx.Response:
        """Send ``request``, retrying what is safe to retry; return a 2xx/3xx response or raise.

        ``request`` must be complete (signed) before it gets here; ``prepare`` is called again
        before a retry so signatures with a timestamp can be renewed.
        """
        attempt = 0
        while True:
            attempt += 1
            key = self.budget_key(request)
            self._wait(self.budget.reserve(key))
            guard = _GUARD.get()
            if guard is not None:
                guard.keep()
            request = self.stamp(request)
            try:
                response = self.client.send(request)
            except httpx.TimeoutException as exc:
                error: TransientError = RequestTimeout(
                    f"{self.service} did not answer in time ({exc})"
                )
            except httpx.TransportError as exc:
                error = NetworkError(f"could not reach {self.service} ({exc})")
            else:
                if response.status_code < 400:
                    return response
                response.read()
                failure = self._failure(response, key)
                if not isinstance(failure, TransientError):
                    raise failure
                error = failure
            retryable = isinstance(error, RateLimited) or idempotent
            if not retryable or attempt >= self.retry.attempts:
                raise error
            self._pause_before_retry(error, attempt)
            request = self.prepare(request)

    def prepare(self, request: httpx.Request) -> httpx.Request:
        """Renew a request before it is sent again (e.g. a fresh signature date)."""
        return request

    def stamp(self, request: httpx.Request) -> httpx.Request:
        """Last touch right before every attempt goes out, after any wait for the budget.

        Signatures that carry a timestamp belong here: a request signed before a minute's wait
        for a rate-limit window would arrive with a stale date.
        """
        return request

    def _failure(self, response: httpx.Response, key: str) -> CcvbirdError:
        if response.status_code == 429:
            retry_at = self.retry_at(response)
            if retry_at is not None:
                self.budget.block_until(self.rate_limit_scope(response, key), retry_at)
            return self.rate_limited(response, retry_at)
        return self.error_for(response)

    def _pause_before_retry(self, error: TransientError, attempt: int) -> None:
        if isinstance(error, RateLimited) and error.retry_at is not None:
            wait = min(max(error.retry_at - self._clock(), 0.0), self.retry.max_rate_limit_wait)
            # Wait here rather than rely on the budget: an Unlimited budget ignores
            # block_until, and after this sleep a limiter's reserve() has nothing left to wait.
            self._wait(wait if wait > 0 else self._delay(attempt))
            return
        self._wait(self._delay(attempt))

    def _wait(self, seconds: float) -> None:
        """Sleep ``seconds``; under a guard in steps of at most ``check_every``, each followed
        by ``keep()``, so a long wait renews the lease instead of letting it run out."""
        guard = _GUARD.get()
        while seconds > 0:
            step = seconds if guard is None else min(seconds, guard.check_every)
            self._sleep(step)
            seconds -= step
            if guard is not None:
                guard.keep()
