"""Faults on request, reproducible from a seed: what a real shop does on a bad day.

With ``rate`` 0.2, one API request in five (drawn from a seeded generator, so the same run of
requests meets the same faults) gets one of:

* ``429.10`` / ``429.11`` — refused as over the per-resource or the shop's total limit;
* ``500`` / ``503`` — refused by a failing server (nothing was done);
* ``slow`` — answered correctly after ``slow_seconds``;
* ``timeout`` — done, but the answer never arrives in time: the real server holds it for
  ``timeout_seconds`` (longer than a client waits); in-process the transport raises a read
  timeout. Either way a write *has happened* — the case exactly-once code must survive.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

FAULT_KINDS = ("429.10", "429.11", "500", "503", "slow", "timeout")


@dataclass
class FaultPlan:
    rate: float = 0.0
    seed: int = 0
    kinds: tuple[str, ...] = FAULT_KINDS
    slow_seconds: float = 2.0
    timeout_seconds: float = 45.0
    _rng: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)
    #: Faults handed out so far, per kind.
    injected: dict[str, int] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("fault rate: must be between 0 and 1")
        unknown = set(self.kinds) - set(FAULT_KINDS)
        if unknown or not self.kinds:
            raise ValueError(f"fault kinds: choose from {', '.join(FAULT_KINDS)}")
        self._rng = random.Random(self.seed)  # noqa: S311 - reproducible faults, not secrets

    def draw(self) -> str | None:
        """The fault for the next request, or ``None``."""
        if self.rate <= 0:
            return None
        with self._lock:
            if self._rng.random() >= self.rate:
                return None
            kind = self._rng.choice(self.kinds)
            self.injected[kind] = self.injected.get(kind, 0) + 1
            return kind
