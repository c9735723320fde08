"""The interfaces the service layer needs from the outside world.

Services depend on these Protocols, never on an adapter, so tests can hand them in-memory fakes
and bootstrap can hand them the real thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from ccvbird.domain.invoice import InvoiceDraft
from ccvbird.domain.order import Order


class Clock(Protocol):
    """Time, injected so that nothing reads the wall clock behind a test's back."""

    def now(self) -> datetime: ...

    def today(self) -> date:
        """Today's date in the shop's time zone."""
        ...


class OrderDecoder(Protocol):
    """Turns a CCV order document (the ``ccvbird preview`` input) into a domain order."""

    def __call__(self, data: bytes, /) -> Order: ...


class InvoicePayloadRenderer(Protocol):
    """Turns an invoice draft into the request body Moneybird expects."""

    def __call__(
        self, draft: InvoiceDraft, /, *, contact_id: str | None = None
    ) -> dict[str, object]: ...


@dataclass(frozen=True, slots=True)
class OAuthToken:
    """An OAuth2 token pair as stored for a connection.

    ``expires_at`` is epoch seconds, ``None`` when the service gave no lifetime (Moneybird's
    tokens often have none; the client then refreshes only when a call is refused with 401).
    """

    access_token: str
    refresh_token: str | None = None
    expires_at: float | None = None
    scope: str = ""


class TokenStore(Protocol):
    """Where a connection's OAuth token lives (encrypted in the state DB in production).

    ``save`` must persist before it returns: Moneybird rotates the refresh token on every
    refresh, so a token pair that is lost after a refresh locks the connection out.
    """

    def load(self) -> OAuthToken | None: ...

    def save(self, token: OAuthToken) -> None: ...


class SeenKeys(Protocol):
    """Remembers delivery keys (webhook ``Idempotency-Key``) so a push is handled once."""

    def first_time(self, key: str) -> bool:
        """Record ``key``; True the first time it is offered, False on every repeat."""
        ...
