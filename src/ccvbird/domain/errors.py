"""ccvbird's error tree, grouped by what the engine does with an error.

::

    CcvbirdError
    ├── TransientError            retry with backoff
    │   ├── RateLimited           429 (CCV 429.10/429.11, Moneybird with an epoch Retry-After)
    │   ├── ServiceUnavailable    5xx
    │   ├── NetworkError          connection refused/reset, DNS
    │   └── RequestTimeout        no answer in time (the outcome of a write is then *uncertain*)
    ├── NeedsUserError            pause the connection until a person acts
    │   ├── AuthenticationFailed  401 after a refresh, wrong key or secret
    │   ├── PlanLimitReached      402
    │   └── PermissionDenied      403, or a missing OAuth scope
    ├── OrderProblem              park this one order, the others go on
    │   ├── InvalidOrderData      a field is missing or malformed
    │   ├── UnmappedVatRate       no Moneybird tax rate for (treatment, %, country)
    │   └── TotalsDoNotReconcile  the invoice would not equal what the customer paid
    ├── LeaseLost                 another worker holds the connection now: stop at once, write
    │   │                         nothing more, put the order back on the queue
    │   └── RecordMoved           the order's record changed since this worker read it
    ├── ConfigError               a profile or setting is wrong; says which key and why
    │   └── SchemaMismatch        the state database's schema is older or newer than the code
    └── ApiError                  any other refusal by a remote API (400/404/422 …): a bug or
                                  a data problem; park the order and log it with context

Anything that is not a :class:`CcvbirdError` is a bug: the engine parks the order and logs it.
Adapters translate library exceptions (httpx, SQLAlchemy) into this tree at their boundary, so
nothing above the adapters ever sees a third-party exception.
"""

from __future__ import annotations


class CcvbirdError(Exception):
    """Base of every error ccvbird raises on purpose."""


# -- the connection's lease ----------------------------------------------------------------------


class LeaseLost(CcvbirdError):
    """This worker no longer holds the connection's lease: another worker took it over.

    Raised by a write fenced with the lease (the state database refuses it in the same
    transaction) and before a request goes out. Nothing is wrong with the order: the engine
    writes nothing more and the order goes back on the queue; whoever holds the connection now
    carries on from what is stored.
    """


class RecordMoved(LeaseLost):
    """The order's record was changed by someone else since this worker read it (another
    worker, a Moneybird webhook, a retry request): the same as a lost lease — stop, requeue."""


# -- transient ------------------------------------------------------------------------------------


class TransientError(CcvbirdError):
    """Worth retrying later: nothing is wrong with the order or the configuration."""


class Interrupted(TransientError):
    """This process is stopping (a worker got SIGTERM) while the order waited: the order is
    handed back — the next worker books it from what is stored — and it counts as no attempt."""


class RateLimited(TransientError):
    """The remote service asked us to slow down.

    ``retry_at`` is a Unix timestamp (seconds) when known, so the caller can wait exactly long
    enough rather than guess.
    """

    def __init__(self, message: str, *, retry_at: float | None = None) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class ServiceUnavailable(TransientError):
    """The remote service answered with a 5xx."""


class NetworkError(TransientError):
    """The request did not reach the service, or the answer did not reach us."""


class RequestTimeout(NetworkError):
    """No answer in time. For a write, whether it happened is unknown."""


# -- needs the user -------------------------------------------------------------------------------


class NeedsUserError(CcvbirdError):
    """Only a person can fix this (credentials, plan, permissions): pause the connection."""


class AuthenticationFailed(NeedsUserError):
    """The credentials were refused (wrong key or secret, revoked or expired token)."""


class PlanLimitReached(NeedsUserError):
    """Moneybird's plan does not allow more of this (402)."""


class PermissionDenied(NeedsUserError):
    """The credentials are valid but may not do this (403, missing scope)."""


# -- one order ------------------------------------------------------------------------------------


class OrderProblem(CcvbirdError):
    """Something about one order stops it from being booked; the other orders go on."""


class InvalidOrderData(OrderProblem):
    """The order as received is missing a field or has a malformed one.

    ``field`` is the dotted path of the offending field (``orderrows.items[2].count``).
    """

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class UnmappedVatRate(OrderProblem):
    """A VAT rate in the order has no Moneybird tax rate in the profile."""


class TotalsDoNotReconcile(OrderProblem):
    """The invoice total would differ from what the customer paid by more than the tolerance."""


# -- configuration --------------------------------------------------------------------------------


class ConfigError(CcvbirdError):
    """A profile or setting is invalid. The message names the key and what is wrong."""

    def __init__(self, message: str, *, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


class SchemaMismatch(ConfigError):
    """The state database's schema is not the one this ccvbird's code is written for: older
    (run the migrations: ``ccvbird init --upgrade``) or newer (a newer ccvbird upgraded it)."""

    def __init__(self, message: str, *, current: str, head: str, newer: bool) -> None:
        super().__init__(message)
        self.current = current
        self.head = head
        self.newer = newer


# -- other API refusals ---------------------------------------------------------------------------


class ApiError(CcvbirdError):
    """A remote API refused a request for a reason not covered above.

    ``status`` is the HTTP status, ``code`` the service's own error code when it has one
    (CCV's ``"500.40"``, Moneybird's ``symbolic`` key).
    """

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class NotFound(ApiError):
    """The remote record does not exist (404)."""
