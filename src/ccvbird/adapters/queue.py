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
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from huey import Huey, RedisHuey, SqliteHuey
from huey.storage import RedisStorage

from ccvbird.adapters.metrics import QueueStats

#: A mark older than this is taken to be lost with its task (a queue flushed by hand, a worker
#: killed between taking a task and clearing the mark) and the order is queued anyway.
STALE_MARK_SECONDS = 3600.0


def make_huey(
    queue_url: str | None, sqlite_path: Path, *, immediate: bool = False, name: str = "ccvbird"
) -> Huey:
    """A Huey instance: Redis when ``queue_url`` is a redis:// URL, else a SQLite file.

    ``name`` prefixes every key in Redis: two ccvbird installations (or test runs) sharing one
    Redis keep their queues apart by it."""
    if queue_url:
        if not queue_url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"the queue URL must be a redis:// URL, got {queue_url!r}")
        return RedisHuey(name, url=queue_url, immediate=immediate)
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=str(sqlite_path), immediate=immediate)


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
    ) -> None:
        self._task = task
        self._schedule = schedule
        self._marks = marks

    def enqueue_order(self, connection_id: int, order_id: str, *, delay_seconds: float = 0) -> None:
        if delay_seconds > 0:
            self._schedule((connection_id, order_id), delay=delay_seconds)
            return
        if self._marks is None:
            self._task(connection_id, order_id)
            return
        if not self._marks.claim(connection_id, order_id):
            return
        try:
            self._task(connection_id, order_id)
        except BaseException:
            self._marks.release(connection_id, order_id)  # not queued: the next trigger must be
            raise


def queue_stats(
    huey: Huey, marks: PendingMarks, *, now: Callable[[], float] = time.time
) -> QueueStats:
    """How many tasks wait, and how long the oldest ready one has (for ``/metrics``).

    Huey keeps no enqueue time, so the oldest task's age comes from what ccvbird keeps: a
    task queued by a trigger carries its order's "queued" mark, set when it was queued; a task
    scheduled for later (a retry, a busy connection) has its ``eta``, the time it became ready.
    Only the oldest task is read: SQLite lists it first; Redis pushes on the left and pops on
    the right, so it is the list's last element (Huey's ``enqueued_items`` reads from the left).
    """
    depth = int(huey.pending_count())
    scheduled = int(huey.scheduled_count())
    if depth == 0:
        return QueueStats(0, scheduled, 0.0)
    storage = huey.storage
    if isinstance(storage, RedisStorage):
        oldest = storage.conn.lindex(storage.queue_key, -1)
    else:
        items = storage.enqueued_items(limit=1)
        oldest = items[0] if items else None
    if oldest is None:
        return QueueStats(depth, scheduled, None)
    since = _ready_since(huey, marks, oldest)
    return QueueStats(depth, scheduled, None if since is None else max(now() - since, 0.0))


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
