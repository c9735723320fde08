"""The sandbox's per-minute limits, as CCV publishes them (reference §6).

Every GET may be made 150 times and every write (POST/PATCH/PUT/DELETE) 100 times per minute,
per resource and method; past that the shop answers 429 with code ``429.10``. On top, the shop
as a whole takes at most ``total`` requests a minute (code ``429.11``); CCV does not publish that
number, so the sandbox picks one well above what the per-resource limits allow together for a
sync (orders + orderrows).

A request counts against ``"<METHOD> <resource>"``, the resource being the last segment of the
path that is not an id (``/orders/7/orderrows`` → ``orderrows``). Windows slide: any 60 seconds
hold at most the limit, which is what a client that keeps to "150 a minute" never exceeds,
however CCV aligns its minutes. Refused requests do not count.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

API_PREFIX = "/api/rest/v1/"


def resource_of(path: str) -> str:
    inner = path.split("?", 1)[0]
    if inner.startswith(API_PREFIX):
        inner = inner[len(API_PREFIX) :]
    names = [part for part in inner.split("/") if part and not part.isdigit()]
    return names[-1] if names else "root"


@dataclass(frozen=True, slots=True)
class Limits:
    gets: int = 150
    writes: int = 100
    total: int = 1000
    window: float = 60.0


class RateLimiter:
    """Decides whether a request is within the limits; records it when it is."""

    def __init__(self, limits: Limits, clock: Callable[[], float]) -> None:
        self.limits = limits
        self._clock = clock
        self._per_key: dict[str, deque[float]] = {}
        self._all: deque[float] = deque()
        self._lock = threading.Lock()
        #: Requests refused so far, per CCV code.
        self.refused: dict[str, int] = {}

    def _trim(self, times: deque[float], now: float) -> None:
        while times and times[0] <= now - self.limits.window:
            times.popleft()

    def admit(self, method: str, path: str) -> str | None:
        """``None`` when the request may go ahead, else the CCV error code to refuse it with."""
        key = f"{method.upper()} {resource_of(path)}"
        limit = self.limits.gets if method.upper() == "GET" else self.limits.writes
        with self._lock:
            now = self._clock()
            times = self._per_key.setdefault(key, deque())
            self._trim(times, now)
            self._trim(self._all, now)
            code = None
            if len(times) >= limit:
                code = "429.10"
            elif len(self._all) >= self.limits.total:
                code = "429.11"
            if code is not None:
                self.refused[code] = self.refused.get(code, 0) + 1
                return code
            times.append(now)
            self._all.append(now)
            return None
