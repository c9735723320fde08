"""Shared HTTP plumbing for the API clients: request budgets, retries, error translation."""

from ccvbird.adapters.http.pacing import RequestBudget, SlidingWindowLimiter, Unlimited
from ccvbird.adapters.http.transport import (
    DEFAULT_TIMEOUT,
    ApiTransport,
    RetryPolicy,
    SendGuard,
    guarded_by,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "ApiTransport",
    "RequestBudget",
    "RetryPolicy",
    "SendGuard",
    "SlidingWindowLimiter",
    "Unlimited",
    "guarded_by",
]
