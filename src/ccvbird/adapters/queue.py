"""The task queue: Huey, with SQLite storage on one machine and Redis storage on many.

The same task code runs either way; only where the queue lives changes (``CCVBIRD_QUEUE_URL``).
Triggers put "sync order X of connection C" on the queue; workers take it off.

Duplicates are harmless (the engine re-reads the order and the state decides), but they pile up:
polling every minute while the workers are stopped or slow once left 3,586 tasks for 291
orders. So an order is queued at most once while a copy of it is waiting: :class:`PendingMarks`
keeps a "queued" mark per (connection, order) in Huey's own storage (the same SQLite file or
Redis as the queue, so every process sees it), set atomically when the order is queued and
cleared by the worker when it takes the task — before it reads the order, so a trigger that
arrives while the order is being processed queues another run.

The queue is fair between connections (:class:`FairShares`): a task's priority is a virtual
finish time kept per connection, so one connection that queues thousands of orders (a first
poll of a big shop, a backlog of due retries) does not make another connection's webhook wait
behind all of them. Huey takes the highest priority first, on SQLite and on Redis (a sorted
set: :class:`~huey.PriorityRedisHuey`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from huey import Huey, PriorityRedisHuey, SqliteHuey

from ccvbird.adapters.metrics import QueueStats

#: A mark older than this is taken to be lost with its task (a queue flushed by hand, a worker
#: killed between taking a task and clearing the mark) and the order is queued anyway.
STALE_MARK_SECONDS = 3600.0


def make_huey(
    queue_url: str | None, sqlite_path: Path, *, immediate: bool = False, name: str = "ccvbird"
) -> Huey:
    """A Huey instance: Redis when ``queue_url`` is a redis:// URL, else a SQLite file.

    ``name`` prefixes every key in Redis: two ccvbird installations (or test runs) sharing one
    Redis keep their queues apart by it. Both storages honour task priorities (Redis as a sorted
    set, which needs Redis 5 or later): :class:`FairShares` relies on it.

    No task results are kept (``results=False``): nothing reads them (the state database holds
    each order's outcome), and Huey keeps a result until it is read, so a provider's Redis
    grew by one entry per booking, for ever, and every task paid a write for it."""
    if queue_url:
        if not queue_url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"the queue URL must be a redis:// URL, got {queue_url!r}")
        return PriorityRedisHuey(name, url=queue_url, immediate=immediate, results=False)
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=str(sqlite_path), immediate=immediate, results=False)


class PendingMarks:
    """Which orders have a copy waiting on the queue (Huey's key-value storage)."""

    def __init__(
        self,
        huey: Huey,
        *,
        stale_after: float = STALE_MARK_SECONDS,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._huey = huey
        self._stale_after = stale_after
        self._now = now

    @staticmethod
    def _key(connection_id: int, order_id: str) -> str:
        return f"ccvbird.queued:{connection_id}:{order_id}"

    def claim(self, connection_id: int, order_id: str) -> bool:
        """Set the mark; False when it is set already (a copy is waiting: queue nothing)."""
        key = self._key(connection_id, order_id)
        now = self._now()
        if self._huey.put_if_empty(key, now):
            return True
        since = self._huey.get(key, peek=True)
        if isinstance(since, int | float) and now - since < self._stale_after:
            return False
        self._huey.put(key, now)  # lost with its task (or cleared meanwhile): queue again
        return True

    def release(self, connection_id: int, order_id: str) -> float | None:
        """Clear the mark: the waiting copy was taken (or never made it onto the queue).
        Returns when it was set (the time the order was queued), ``None`` when there was none."""
        since = self._huey.get(self._key(connection_id, order_id))
        return float(since) if isinstance(since, int | float) else None

    def since(self, connection_id: int, order_id: str) -> float | None:
        """When the order's waiting copy was queued (``None``: no copy is marked)."""
        since = self._huey.get(self._key(connection_id, order_id), peek=True)
        return float(since) if isinstance(since, int | float) else None


#: The virtual time one queued order of a connection costs: about what a booking takes. A
#: connection with a backlog of N orders has its last one N slots ahead; another
#: connection's new order goes in after at most one slot of each backlog.
FAIR_SLOT_SECONDS = 0.5


class FairShares:
    """Per-connection fair queueing for Huey priorities (start-time fair queueing).

    Each connection has a virtual finish time ``tag`` in Huey's key-value storage. An order
    queued for it gets ``tag = max(now, tag) + slot`` and the priority ``-tag`` (Huey runs the
    highest priority first): a connection with one order waiting is served in arrival order,
    and a connection that queues thousands has them spread out in virtual time, so the others'
    orders go in between. It is work-conserving (when nothing else waits, the backlog is
    served at full speed) and needs no count of queued tasks to be kept right: the read and
    write of the tag are not atomic, and a race between two processes can only put one order a
    slot early or late.
    """

    def __init__(
        self,
        huey: Huey,
        *,
        slot: float = FAIR_SLOT_SECONDS,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._huey = huey
        self._slot = slot
        self._now = now

    @staticmethod
    def _key(connection_id: int) -> str:
        return f"ccvbird.fair:{connection_id}"

    def priority(self, connection_id: int, *, delay: float = 0.0) -> float:
        """The priority of one more order of the connection, starting no earlier than ``delay``
        seconds from now (a delayed task: when it becomes due); its tag moves on by a slot."""
        key = self._key(connection_id)
        start = self._now() + max(delay, 0.0)
        last = self._huey.get(key, peek=True)
        tag = max(start, last if isinstance(last, int | float) else 0.0) + self._slot
        self._huey.put(key, tag)
        return -tag


class HueyQueue:
    """The ``Queue`` port on a Huey task that takes (connection_id, order_id).

    An order is queued now only when no copy of it is waiting (``marks``). A delayed task (a
    retry at its time) is scheduled unmarked: a webhook or a poll meanwhile queues the order at
    once rather than waiting for the retry.
    """

    def __init__(
        self,
        task: Callable[..., object],
        schedule: Callable[..., object],
        marks: PendingMarks | None = None,
        shares: FairShares | None = None,
    ) -> None:
        self._task = task
        self._schedule = schedule
        self._marks = marks
        self._shares = shares

    def _priority(self, connection_id: int, delay: float = 0.0) -> dict[str, float]:
        if self._shares is None:
            return {}
        return {"priority": self._shares.priority(connection_id, delay=delay)}

    def enqueue_order(self, connection_id: int, order_id: str, *, delay_seconds: float = 0) -> None:
        if delay_seconds > 0:
            self._schedule(
                (connection_id, order_id),
                delay=delay_seconds,
                **self._priority(connection_id, delay_seconds),
            )
            return
        if self._marks is None:
            self._task(connection_id, order_id, **self._priority(connection_id))
            return
        if not self._marks.claim(connection_id, order_id):
            return
        try:
            self._task(connection_id, order_id, **self._priority(connection_id))
        except BaseException:
            self._marks.release(connection_id, order_id)  # not queued: the next trigger must be
            raise


#: How many of the tasks first in line ``/metrics`` reads to find the oldest one.
OLDEST_AMONG = 200


def queue_stats(
    huey: Huey, marks: PendingMarks, *, now: Callable[[], float] = time.time
) -> QueueStats:
    """How many tasks wait, and how long the oldest ready one has (for ``/metrics``).

    Huey keeps no enqueue time, so a task's age comes from what ccvbird keeps: a task queued by
    a trigger carries its order's "queued" mark, set when it was queued; a task scheduled for
    later (a retry, a busy connection) has its ``eta``, the time it became ready. The queue is
    ordered by fair-share priority, not by age (``FairShares``), so the oldest is looked for
    among the first :data:`OLDEST_AMONG` in line (a backlog's older tasks are spread out, but
    never that far back while the others' wait).
    """
    depth = int(huey.pending_count())
    scheduled = int(huey.scheduled_count())
    if depth == 0:
        return QueueStats(0, scheduled, 0.0)
    ready = [
        since
        for message in huey.storage.enqueued_items(limit=OLDEST_AMONG)
        if (since := _ready_since(huey, marks, message)) is not None
    ]
    if not ready:
        return QueueStats(depth, scheduled, None)
    return QueueStats(depth, scheduled, max(now() - min(ready), 0.0))


def _ready_since(huey: Huey, marks: PendingMarks, message: bytes) -> float | None:
    try:
        task = huey.deserialize_task(message)
    except Exception:  # a task of another version or program: its age is not known
        return None
    if task.eta is not None:
        eta: datetime = task.eta
        return (eta.replace(tzinfo=UTC) if huey.utc else eta.astimezone()).timestamp()
    args = tuple(task.args or ())
    if len(args) >= 2 and isinstance(args[0], int):
        return marks.since(args[0], str(args[1]))
    return None
