"""The interfaces the service layer needs from the outside world.

Services depend on these Protocols, never on an adapter, so tests can hand them in-memory fakes
and bootstrap can hand them the real thing.
"""

from __future__ import annotations

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
