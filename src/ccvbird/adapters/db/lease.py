"""The connection's lease: one worker per connection, and a worker that lost it cannot write.

A lease is a row in ``connections`` (owner, until, token). It is free when released or run out;
every acquisition writes a new random token. The lease runs out on its own (a crashed worker
frees the connection after :data:`LEASE`), so a worker that stalled longer than that — a long
wait for Moneybird's budget or a ``Retry-After``, a suspended process — may find another worker
holding the connection when it wakes. It must then write nothing, locally or remotely:

* **fenced writes**: the engine writes through :meth:`SqlStore.fenced`, whose every write
  transaction starts by renewing the lease *where the token is still this lease's*. No row
  updated means another worker took over: :class:`LeaseLost`, and the transaction is rolled
  back. On PostgreSQL that statement locks the connection's row until the commit, so a take-over
  and a fenced write never interleave; on SQLite writers take turns anyway.
* **guarded requests**: before a request goes out, and while a request waits for the budget or
  a ``Retry-After``, :meth:`DbLease.keep` renews the lease when less than half of it is left
  (see ``SendGuard`` in ``adapters/http/transport.py``). So a request never leaves with less
  than half a lease (150 s) to go, far more than the 40 s a request may take.

Time comes from the store's clock; several machines must keep their clocks in sync (NTP) —
the margin above absorbs a skew of about a minute.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Engine, Table, bindparam

from ccvbird.adapters.db.tables import ConnectionRow
from ccvbird.domain.errors import LeaseLost

#: How long a lease lasts unless renewed; every fenced write and guarded request renews it.
LEASE = timedelta(minutes=5)

_CONNECTIONS = cast(Table, ConnectionRow.__table__)
_RENEW = (
    _CONNECTIONS.update()
    .where(_CONNECTIONS.c.id == bindparam("c"), _CONNECTIONS.c.lease_token == bindparam("t"))
    .values(lease_until=bindparam("until"))
)
_ACQUIRE = (
    _CONNECTIONS.update()
    .where(
        _CONNECTIONS.c.id == bindparam("c"),
        _CONNECTIONS.c.lease_until.is_(None) | (_CONNECTIONS.c.lease_until < bindparam("now")),
    )
    .values(
        lease_owner=bindparam("owner"), lease_until=bindparam("until"), lease_token=bindparam("t")
    )
)
_RELEASE = (
    _CONNECTIONS.update()
    .where(_CONNECTIONS.c.id == bindparam("c"), _CONNECTIONS.c.lease_token == bindparam("t"))
    .values(lease_owner=None, lease_until=None, lease_token=None)
)


@dataclass(eq=False)
class DbLease:
    """One acquisition of a connection's lease (the ``SendGuard`` of the requests it makes)."""

    connection_id: int
    owner: str
    token: str
    duration: timedelta
    #: Until when the state database says this lease holds (as last written by this worker).
    until: datetime
    _engine: Engine
    _now: Callable[[], datetime]

    @property
    def check_every(self) -> float:
        """The longest wait between two checks, in seconds: a third of the lease, so a worker
        that waits renews it before less than half is left."""
        return self.duration.total_seconds() / 3

    def keep(self) -> None:
        """Make sure the lease holds for at least half its length more: nothing to do (no
        database round trip) while it does, else renewed. Raises :class:`LeaseLost`."""
        if self._now() + self.duration / 2 <= self.until:
            return
        self.renew()

    def renew(self) -> None:
        """Extend the lease to a full length from now; :class:`LeaseLost` when it is not ours."""
        with self._engine.begin() as connection:
            until = self.fence(connection)
        self.until = until

    def fence(self, connection: Any) -> datetime:
        """Renew within the caller's transaction (its first statement) or raise
        :class:`LeaseLost`, which rolls the transaction back. Returns the new end, for the
        caller to keep once the transaction is committed."""
        until = self._now() + self.duration
        result = connection.execute(
            _RENEW, {"c": self.connection_id, "t": self.token, "until": until}
        )
        if not result.rowcount:
            raise self.lost()
        return until

    def lost(self) -> LeaseLost:
        """The error for a write that found the lease taken over."""
        return LeaseLost(
            f"connection {self.connection_id}: the lease of {self.owner} ran out and another "
            "worker holds the connection now; this worker stops and writes nothing more"
        )


def acquire(
    engine: Engine, now: Callable[[], datetime], connection_id: int, owner: str, duration: timedelta
) -> DbLease | None:
    """The connection's lease for ``owner`` with a new token, or ``None`` while another holds it
    (a lease is held up to and including its ``until``)."""
    at = now()
    token = secrets.token_hex(16)
    with engine.begin() as connection:
        taken = connection.execute(
            _ACQUIRE,
            {"c": connection_id, "now": at, "owner": owner, "until": at + duration, "t": token},
        ).rowcount
    if not taken:
        return None
    return DbLease(connection_id, owner, token, duration, at + duration, engine, now)


def release(engine: Engine, lease: DbLease) -> None:
    """Free the connection, if the lease is still this one (a lost lease frees nothing)."""
    with engine.begin() as connection:
        connection.execute(_RELEASE, {"c": lease.connection_id, "t": lease.token})
