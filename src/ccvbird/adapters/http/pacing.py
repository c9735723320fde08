"""Request budgets: send as fast as a service allows, never faster.

CCV Shop allows 150 GETs and 100 writes per minute per resource and method; Moneybird 150
requests per 5 minutes per token, shared by everything the token does. A
:class:`SlidingWindowLimiter` hands out send times so that no window of ``window`` seconds ever
holds more than ``limit`` requests: a 429 becomes rare instead of routine, and a long import uses
the whole budget instead of stopping to wait after every refusal.

The limiter only computes delays; the caller sleeps (through an injected ``sleep``), so tests run
on a fake clock without sleeping. :class:`RequestBudget` is the interface the engine can replace
with a shared store when several workers or machines share one token.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

WallClock = Callable[[], float]


class RequestBudget(Protocol):
    """Where the next request of a budget may go out."""

    def reserve(self, key: str) -> float:
        """Claim a slot for one request under ``key``; return seconds to wait before sending it."""
        ...

    def block_until(self, key: str, moment: float) -> None:
        """The service said "not before ``moment``" (epoch seconds): hold every slot until then."""
        ...


class SlidingWindowLimiter:
    """At most ``limit`` requests in any ``window`` seconds, per key. Thread-safe.

    Each reservation is recorded at the time it is allowed to go out; a reservation made while the
    window is full is scheduled for when the oldest one leaves the window.
    """

    def __init__(self, limit: int, window: float, *, clock: WallClock = time.time) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a budget needs a positive limit and window")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._slots: dict[str, deque[float]] = {}
        self._blocked_until: dict[str, float] = {}
        self._all_blocked_until = 0.0
        self._lock = threading.Lock()

    def reserve(self, key: str = "") -> float:
        with self._lock:
            now = self._clock()
            slots = self._slots.setdefault(key, deque())
            while slots and slots[0] <= now - self.window:
                slots.popleft()
            at = max(now, self._blocked_until.get(key, now), self._all_blocked_until)
            if len(slots) >= self.limit:
                at = max(at, slots[-self.limit] + self.window)
            slots.append(at)
            return at - now

    def block_until(self, key: str, moment: float) -> None:
        with self._lock:
            self._blocked_until[key] = max(self._blocked_until.get(key, 0.0), moment)

    def block_all_until(self, moment: float) -> None:
        """The service said "nothing at all before ``moment``" (a global limit): hold every key."""
        with self._lock:
            self._all_blocked_until = max(self._all_blocked_until, moment)

    def used(self, key: str = "") -> int:
        """Requests sent or scheduled within the current window."""
        with self._lock:
            now = self._clock()
            return sum(1 for t in self._slots.get(key, ()) if now - self.window < t <= now)


class Unlimited:
    """A budget that never waits (for sandboxes configured without limits)."""

    def reserve(self, key: str = "") -> float:
        return 0.0

    def block_until(self, key: str, moment: float) -> None:
        return None
