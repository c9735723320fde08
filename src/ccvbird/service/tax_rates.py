"""A recent copy of each administration's tax rates, so the engine checks the profile against
Moneybird before it books without a request per order.

The engine re-reads the rates when its copy is older than ``max_age`` (10 minutes by default,
``CCVBIRD_TAX_RATE_REFRESH_MINUTES``) and always before the first booking of a pass (a poll or
an import calls :meth:`TaxRateCache.invalidate` first). One cache per process, shared by every
engine of it (the worker makes an engine per order).
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from ccvbird.domain.administration import TaxRateInfo


class TaxRateCache:
    """Tax rates per connection, with when they were read."""

    def __init__(self) -> None:
        self._entries: dict[int, tuple[datetime, tuple[TaxRateInfo, ...]]] = {}
        self._lock = threading.Lock()

    def get(
        self, connection_id: int, *, now: datetime, max_age: timedelta
    ) -> tuple[TaxRateInfo, ...] | None:
        """The rates, or ``None`` when there is no copy or it is older than ``max_age``."""
        with self._lock:
            entry = self._entries.get(connection_id)
        if entry is None or now - entry[0] >= max_age or now < entry[0]:
            return None
        return entry[1]

    def put(self, connection_id: int, rates: tuple[TaxRateInfo, ...], at: datetime) -> None:
        with self._lock:
            self._entries[connection_id] = (at, rates)

    def invalidate(self, connection_id: int) -> None:
        """Forget the copy: the next booking reads the rates again."""
        with self._lock:
            self._entries.pop(connection_id, None)
