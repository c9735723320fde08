"""The task queue: Huey, with SQLite storage on one machine and Redis storage on many.

The same task code runs either way; only where the queue lives changes (``CCVBIRD_QUEUE_URL``).
Triggers put "sync order X of connection C" on the queue; workers take it off. Duplicates are
harmless (the engine re-reads the order and the state decides), so nothing here deduplicates.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from huey import Huey, RedisHuey, SqliteHuey


def make_huey(queue_url: str | None, sqlite_path: Path, *, immediate: bool = False) -> Huey:
    """A Huey instance: Redis when ``queue_url`` is a redis:// URL, else a SQLite file."""
    if queue_url:
        if not queue_url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"the queue URL must be a redis:// URL, got {queue_url!r}")
        return RedisHuey("ccvbird", url=queue_url, immediate=immediate)
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("ccvbird", filename=str(sqlite_path), immediate=immediate)


class HueyQueue:
    """The ``Queue`` port on a Huey task that takes (connection_id, order_id)."""

    def __init__(self, task: Callable[..., object], schedule: Callable[..., object]) -> None:
        self._task = task
        self._schedule = schedule

    def enqueue_order(self, connection_id: int, order_id: str, *, delay_seconds: float = 0) -> None:
        if delay_seconds > 0:
            self._schedule((connection_id, order_id), delay=delay_seconds)
        else:
            self._task(connection_id, order_id)
