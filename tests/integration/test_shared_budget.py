"""The request budget shared through the state database: never more than the limit per window,
also when workers reserve at the same moment (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ccvbird.adapters.db.budget import SharedBudget
from ccvbird.adapters.db.tables import BudgetSlotRow


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


def test_slots_older_than_the_window_are_dropped_as_new_ones_are_taken(
    sessions: sessionmaker[Session],
) -> None:
    """The table holds one window of slots per key, however long a worker runs."""
    now = [1000.0]
    budget = SharedBudget(sessions, 3, 300.0, clock=lambda: now[0])
    for _ in range(3):
        assert budget.reserve("k") == 0.0
    assert budget.reserve("k") == 300.0  # the fourth waits for the first to leave the window
    now[0] = 1301.0
    assert budget.reserve("k") == 0.0  # the three of 1000 have left it; the one of 1300 not
    with sessions() as session:
        kept = sorted(
            session.scalars(select(BudgetSlotRow.at).where(BudgetSlotRow.budget_key == "k"))
        )
    assert kept == [1300.0, 1301.0]
