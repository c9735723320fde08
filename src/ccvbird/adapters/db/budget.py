"""A request budget shared by every worker and machine that uses the same state database.

Moneybird's 150 requests per 5 minutes count per token, whoever sends them. Each reservation is a
row in ``budget_slots``; a reservation takes the budget's lock row (``budgets``) for the length of
one short transaction, so two workers can never both take the last slot of a window — on SQLite
(one writer at a time) and on PostgreSQL (``SELECT … FOR UPDATE``) alike. The arithmetic is the
same sliding window as :class:`ccvbird.adapters.http.SlidingWindowLimiter`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ccvbird.adapters.db.tables import BudgetRow, BudgetSlotRow


class SharedBudget:
    """``RequestBudget`` backed by the state database."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        limit: int,
        window: float,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a budget needs a positive limit and window")
        self._sessions = sessions
        self.limit = limit
        self.window = window
        self._clock = clock

    def _lock(self, session: Session, key: str) -> BudgetRow:
        row = session.scalar(select(BudgetRow).where(BudgetRow.budget_key == key).with_for_update())
        if row is None:
            try:
                with session.begin_nested():
                    session.add(BudgetRow(budget_key=key, blocked_until=0.0))
            except IntegrityError:
                pass
            row = session.scalar(
                select(BudgetRow).where(BudgetRow.budget_key == key).with_for_update()
            )
            assert row is not None
        # A write on the lock row: on SQLite this takes the database's write lock right away.
        session.execute(
            update(BudgetRow)
            .where(BudgetRow.budget_key == key)
            .values(blocked_until=row.blocked_until)
        )
        return row

    def reserve(self, key: str = "") -> float:
        with self._sessions() as session, session.begin():
            lock = self._lock(session, key)
            now = self._clock()
            session.execute(
                delete(BudgetSlotRow).where(
                    BudgetSlotRow.budget_key == key, BudgetSlotRow.at <= now - self.window
                )
            )
            at = max(now, lock.blocked_until)
            nth_latest = session.scalar(
                select(BudgetSlotRow.at)
                .where(BudgetSlotRow.budget_key == key)
                .order_by(BudgetSlotRow.at.desc())
                .offset(self.limit - 1)
                .limit(1)
            )
            if nth_latest is not None:
                at = max(at, nth_latest + self.window)
            session.add(BudgetSlotRow(budget_key=key, at=at))
            return at - now

    def block_until(self, key: str, moment: float) -> None:
        with self._sessions() as session, session.begin():
            lock = self._lock(session, key)
            if moment > lock.blocked_until:
                session.execute(
                    update(BudgetRow)
                    .where(BudgetRow.budget_key == key)
                    .values(blocked_until=moment)
                )

    def used(self, key: str = "") -> int:
        """Requests sent or scheduled within the current window."""
        now = self._clock()
        with self._sessions() as session:
            count = session.scalar(
                select(func.count())
                .select_from(BudgetSlotRow)
                .where(
                    BudgetSlotRow.budget_key == key,
                    BudgetSlotRow.at > now - self.window,
                    BudgetSlotRow.at <= now,
                )
            )
            return int(count or 0)

    def used_by_key(self) -> dict[str, int]:
        """:meth:`used` of every key at once (one query, for ``/metrics``)."""
        now = self._clock()
        with self._sessions() as session:
            rows = session.execute(
                select(BudgetSlotRow.budget_key, func.count())
                .where(BudgetSlotRow.at > now - self.window, BudgetSlotRow.at <= now)
                .group_by(BudgetSlotRow.budget_key)
            ).all()
        return {str(key): int(count) for key, count in rows}
