"""Faults on request, reproducible from a seed, and Moneybird's request budget.

Four faults matter for an exactly-once engine:

* ``RATE_LIMIT`` — a 429 before the request is processed (safe to repeat);
* ``SERVER_ERROR`` — a 500 before the request is processed;
* ``TIMEOUT`` — no answer, and nothing happened;
* ``LOST_RESPONSE`` — the request **was processed** (the invoice exists) but the answer never
  arrives. A client that repeats a create after this makes a duplicate.

A :class:`FaultPlan` chooses faults either from a script (``plan.add(Fault.LOST_RESPONSE,
method="POST", path="/sales_invoices")`` — the next matching request gets it) or at random with
per-fault probabilities from a seeded generator, so a failing run can be replayed exactly.

In-process the transport turns ``TIMEOUT`` and ``LOST_RESPONSE`` into ``httpx.ReadTimeout``; a
real server answers them as a 504 and a 502 from "the proxy" (the ``X-Sandbox-Fault`` header
says which).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


class Fault(StrEnum):
    RATE_LIMIT = "rate_limit"
    SERVER_ERROR = "server_error"
    TIMEOUT = "timeout"
    LOST_RESPONSE = "lost_response"


#: Header on a faulted response naming the fault, for the in-process transport and for humans.
FAULT_HEADER = "X-Sandbox-Fault"


@dataclass
class _Scripted:
    fault: Fault
    method: str | None
    path: str | None
    times: int


@dataclass
class FaultPlan:
    """Which requests fail and how. Thread-safe; empty by default (no faults)."""

    seed: int = 0
    rates: dict[Fault, float] = field(default_factory=dict)
    #: Random faults only hit requests whose method is in this set (e.g. only writes).
    methods: frozenset[str] = frozenset({"GET", "POST", "PATCH", "PUT", "DELETE"})
    _script: list[_Scripted] = field(default_factory=list, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _rng: random.Random = field(init=False)
    #: Every fault handed out, as (fault, method, path), for assertions and replay reports.
    history: list[tuple[Fault, str, str]] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)  # noqa: S311 - reproducible test faults

    def add(
        self,
        fault: Fault,
        *,
        method: str | None = None,
        path: str | None = None,
        times: int = 1,
    ) -> FaultPlan:
        """Fail the next ``times`` requests with this method whose path contains ``path``."""
        with self._lock:
            self._script.append(_Scripted(fault, method and method.upper(), path, times))
        return self

    def clear(self) -> None:
        with self._lock:
            self._script.clear()
            self.rates = {}

    def decide(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for item in self._script:
                if (item.method is None or item.method == method) and (
                    item.path is None or item.path in path
                ):
                    item.times -= 1
                    if item.times <= 0:
                        self._script.remove(item)
                    self.history.append((item.fault, method, path))
                    return item.fault
            if method not in self.methods or not self.rates:
                return None
            roll = self._rng.random()
            for fault, rate in self.rates.items():
                if roll < rate:
                    self.history.append((fault, method, path))
                    return fault
                roll -= rate
            return None


@dataclass
class RateLimitDecision:
    allowed: bool
    limit: int
    remaining: int
    reset: int


class RateLimiter:
    """Moneybird's budget: ``limit`` requests per ``window`` seconds per token (150 / 300 s).

    Fixed windows that start at a token's first request; the reset time is what the 429's
    ``RateLimit-Reset`` and ``Retry-After`` carry, as absolute epoch seconds.
    """

    def __init__(self, limit: int, window: float, clock: Callable[[], float]) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> RateLimitDecision:
        with self._lock:
            now = self._clock()
            start, count = self._windows.get(key, (now, 0))
            if now >= start + self.window:
                start, count = now, 0
            reset = int(-(-(start + self.window) // 1))  # ceil: never earlier than the reset
            if count >= self.limit:
                self._windows[key] = (start, count)
                return RateLimitDecision(False, self.limit, 0, reset)
            count += 1
            self._windows[key] = (start, count)
            return RateLimitDecision(True, self.limit, self.limit - count, reset)
