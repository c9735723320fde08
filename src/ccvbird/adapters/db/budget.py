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
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Engine,
    Float,
    String,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ccvbird.adapters.db.tables import BudgetRow, BudgetSlotRow

_BUDGETS = cast(Table, BudgetRow.__table__)
_SLOTS = cast(Table, BudgetSlotRow.__table__)


class SharedBudget:
    """``RequestBudget`` backed by the state database.

    Every Moneybird request reserves a slot, so this is on the hot path: SQLAlchemy Core
    statements on one connection, and the lock row is taken by an ``UPDATE … RETURNING`` (the
    row lock on PostgreSQL, the write lock on SQLite) that also reads its "blocked until".
    """

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
        self._engine: Engine = sessions.kw["bind"]
        self.limit = limit
        self.window = window
        self._clock = clock

    @staticmethod
    def _lock(connection: Connection, key: str) -> float:
        """Take the key's lock row for this transaction; its "blocked until" moment."""
        take = (
            update(_BUDGETS)
            .where(_BUDGETS.c.budget_key == key)
            .values(blocked_until=_BUDGETS.c.blocked_until)
            .returning(_BUDGETS.c.blocked_until)
        )
        blocked = connection.execute(take).scalar()
        if blocked is None:
            try:
                with connection.begin_nested():
                    connection.execute(insert(_BUDGETS).values(budget_key=key, blocked_until=0.0))
            except IntegrityError:
                pass  # another worker made it meanwhile: take it as it is
            blocked = connection.execute(take).scalar_one()
        return float(blocked)

    def reserve(self, key: str = "") -> float:
        if self._engine.dialect.name == "postgresql":
            return self._reserve_postgresql(key)
        with self._engine.begin() as connection:
            blocked_until = self._lock(connection, key)
            now = self._clock()
            connection.execute(
                delete(_SLOTS).where(_SLOTS.c.budget_key == key, _SLOTS.c.at <= now - self.window)
            )
            at = max(now, blocked_until)
            nth_latest = connection.execute(
                select(_SLOTS.c.at)
                .where(_SLOTS.c.budget_key == key)
                .order_by(_SLOTS.c.at.desc())
                .offset(self.limit - 1)
                .limit(1)
            ).scalar()
            if nth_latest is not None:
                at = max(at, nth_latest + self.window)
            connection.execute(insert(_SLOTS).values(budget_key=key, at=at))
            return at - now

    def _reserve_postgresql(self, key: str) -> float:
        """:meth:`reserve` in two statements: the lock, then :data:`_TAKE_SLOT` (the expired
        slots dropped, the window's n-th latest read and the new slot written at once).

        Under READ COMMITTED each statement reads a snapshot taken when it starts, so the
        second one, started once the lock is ours, sees every slot the lock's previous holder
        committed: two workers still never take the same last slot."""
        with self._engine.begin() as connection:
            blocked_until = self._lock(connection, key)
            now = self._clock()
            at = connection.execute(
                _TAKE_SLOT,
                {
                    "k": key,
                    "at": max(now, blocked_until),
                    "expired": now - self.window,
                    "window": self.window,
                    "nth": self.limit - 1,
                },
            ).scalar_one()
            return float(at) - now

    def block_until(self, key: str, moment: float) -> None:
        with self._engine.begin() as connection:
            if moment > self._lock(connection, key):
                connection.execute(
                    update(_BUDGETS)
                    .where(_BUDGETS.c.budget_key == key)
                    .values(blocked_until=moment)
                )

    def used(self, key: str = "") -> int:
        """Requests sent or scheduled within the current window."""
        now = self._clock()
        with self._engine.connect() as connection:
            count = connection.execute(
                select(func.count())
                .select_from(_SLOTS)
                .where(
                    _SLOTS.c.budget_key == key,
                    _SLOTS.c.at > now - self.window,
                    _SLOTS.c.at <= now,
                )
            ).scalar()
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


def _take_slot() -> Any:
    """PostgreSQL: ``WITH gone AS (DELETE expired slots) INSERT INTO budget_slots SELECT :k,
    greatest(:at, n-th latest slot + window) RETURNING at`` (run holding the key's lock row)."""
    at = bindparam("at", type_=Float())
    nth_latest = (
        select(_SLOTS.c.at)
        .where(_SLOTS.c.budget_key == bindparam("k"))
        .order_by(_SLOTS.c.at.desc())
        .offset(bindparam("nth"))
        .limit(1)
        .scalar_subquery()
    )
    gone = (
        delete(_SLOTS)
        .where(_SLOTS.c.budget_key == bindparam("k"), _SLOTS.c.at <= bindparam("expired"))
        .cte("gone")
    )
    return (
        insert(_SLOTS)
        .from_select(
            ["budget_key", "at"],
            select(
                bindparam("k", type_=String()),
                func.greatest(
                    at, func.coalesce(nth_latest + bindparam("window", type_=Float()), at)
                ),
            ),
        )
        .returning(_SLOTS.c.at)
        .add_cte(gone)
    )


_TAKE_SLOT = _take_slot()
