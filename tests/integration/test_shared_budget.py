"""The request budget shared through the state database: never more than the limit per window,
also when workers reserve at the same moment (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy.orm import Session, sessionmaker

from ccvbird.adapters.db.budget import SharedBudget


def test_concurrent_reservations_never_share_a_slot(sessions: sessionmaker[Session]) -> None:
    budget = SharedBudget(sessions, 5, 100.0, clock=lambda: 1000.0)
    waits: list[float] = []
    lock = threading.Lock()

    def reserve_five() -> None:
        for _ in range(5):
            wait = budget.reserve("moneybird:token")
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=reserve_five) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Five requests per window of 100 s: the first five now, the next five a window later, …
    assert Counter(waits) == {0.0: 5, 100.0: 5, 200.0: 5, 300.0: 5}
    assert budget.used("moneybird:token") == 5
    assert budget.used("another token") == 0


def test_a_block_delays_the_next_reservation(sessions: sessionmaker[Session]) -> None:
    now = [1000.0]
    budget = SharedBudget(sessions, 150, 300.0, clock=lambda: now[0])
    assert budget.reserve("k") == 0.0
    budget.block_until("k", 1060.0)  # a 429 said: not before then
    budget.block_until("k", 1030.0)  # an earlier moment does not shorten it
    assert budget.reserve("k") == 60.0
    now[0] = 1400.0  # the window has passed: the slots are forgotten
    assert budget.reserve("k") == 0.0
    assert budget.used("k") == 1
