"""E-mail notices: a connection paused, or orders waiting for a person too long.

Checked periodically (the web app runs the check; ``ccvbird run`` with it). Each notice is sent
once — per pause reason, and per order that waits — which a :class:`NoticeLog` remembers. A
pause a person made by hand is recorded as noticed when it is made, so it sends nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from ccvbird.domain.sync import OrderRecord, SyncState
from ccvbird.ports import ConnectionInfo

log = logging.getLogger(__name__)

PAUSED = "paused"
PARKED = "parked"


class Mailer(Protocol):
    def send(self, to: list[str], subject: str, body: str) -> None: ...


class NoticeLog(Protocol):
    def first_time(self, connection_id: int, kind: str, key: str) -> bool: ...


class ParkedRecords(Protocol):
    def records(
        self, connection_id: int, *, states: Iterable[SyncState] | None = None
    ) -> list[OrderRecord]: ...


@dataclass(frozen=True, slots=True)
class Notice:
    connection_id: int
    subject: str
    body: str


def pause_key(reason: str) -> str:
    return reason[:200]


def due_notices(
    connections: Iterable[ConnectionInfo],
    store: ParkedRecords,
    log_: NoticeLog,
    *,
    now: datetime,
    parked_after: timedelta,
    dashboard_url: Callable[[int], str],
) -> list[Notice]:
    """The notices to send now (and recorded as sent: call it once per check)."""
    notices: list[Notice] = []
    for connection in connections:
        if not connection.enabled:
            continue
        link = dashboard_url(connection.id)
        if connection.paused_reason and log_.first_time(
            connection.id, PAUSED, pause_key(connection.paused_reason)
        ):
            notices.append(
                Notice(
                    connection.id,
                    f"ccvbird: {connection.name} is paused",
                    f"ccvbird stopped booking orders of {connection.name}:\n\n"
                    f"{connection.paused_reason}\n\nNothing is lost: once this is fixed, booking "
                    f"resumes where it stopped.\n\n{link}\n",
                )
            )
        parked = [
            r
            for r in store.records(connection.id, states=[SyncState.NEEDS_ATTENTION])
            if r.updated_at is not None and now - r.updated_at >= parked_after
        ]
        fresh = [
            r
            for r in parked
            if log_.first_time(
                connection.id,
                PARKED,
                f"{r.order_id}:{r.updated_at.isoformat() if r.updated_at else ''}",
            )
        ]
        if fresh:
            lines = "\n".join(f"- order {r.order_number or r.order_id}: {r.reason}" for r in fresh)
            hours = round(parked_after.total_seconds() / 3600, 1)
            notices.append(
                Notice(
                    connection.id,
                    f"ccvbird: {len(fresh)} order(s) of {connection.name} need attention",
                    f"These orders have waited for a decision for more than {hours:g} hours:\n\n"
                    f"{lines}\n\nOpen them on the dashboard to see what to do:\n{link}\n",
                )
            )
    return notices


def send_notices(
    notices: Iterable[Notice], mailer: Mailer, recipients: Callable[[int], list[str]]
) -> int:
    """Send each notice to its connection's recipients; a failing mail is logged, not raised."""
    sent = 0
    for notice in notices:
        to = recipients(notice.connection_id)
        if not to:
            continue
        try:
            mailer.send(to, notice.subject, notice.body)
            sent += 1
        except Exception as exc:
            log.warning("could not send the notice %r: %s", notice.subject, exc)
    return sent
