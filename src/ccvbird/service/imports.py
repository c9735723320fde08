"""A history import started from the web app, with its progress for the page to show.

The import runs in the background (``passes.import_history``); :class:`ImportProgress` is its
:class:`~ccvbird.service.passes.ProgressReporter` and what the page reads. One import per
connection at a time: :class:`ImportBoard` refuses a second while the first runs.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass
class ImportProgress:
    connection_id: int
    since: date
    started_at: datetime
    total: int = 0
    done: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    finished_at: datetime | None = None
    error: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def start(self, total: int) -> None:
        with self._lock:
            self.total = total

    def advance(self, outcome: str) -> None:
        with self._lock:
            self.done += 1
            self.outcomes[outcome] += 1
            self.total = max(self.total, self.done)

    def finish(self, at: datetime, error: str = "") -> None:
        with self._lock:
            self.finished_at, self.error = at, error

    @property
    def running(self) -> bool:
        return self.finished_at is None

    @property
    def percent(self) -> int:
        if not self.running:
            return 100
        return int(100 * self.done / self.total) if self.total else 0


class ImportBoard:
    """The latest import per connection (this process)."""

    def __init__(self) -> None:
        self._imports: dict[int, ImportProgress] = {}
        self._lock = threading.Lock()

    def begin(self, connection_id: int, since: date, now: datetime) -> ImportProgress | None:
        """A new import's progress, or ``None`` while one runs for this connection."""
        with self._lock:
            current = self._imports.get(connection_id)
            if current is not None and current.running:
                return None
            progress = ImportProgress(connection_id, since, now)
            self._imports[connection_id] = progress
            return progress

    def latest(self, connection_id: int) -> ImportProgress | None:
        with self._lock:
            return self._imports.get(connection_id)
