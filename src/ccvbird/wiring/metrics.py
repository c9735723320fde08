"""``/metrics`` of the serving commands: the metrics adapter wired to an :class:`App`.

:func:`metrics_endpoint` makes the app's engines report to the metrics (``App.observer``) and
returns what the web app's and a worker's ``/metrics`` answer. docs/operations.md lists every
metric.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from ccvbird.adapters.metrics import (
    MetricsEndpoint,
    StateCollector,
    multi_process,
    single_process,
    use_multiprocess_dir,
)
from ccvbird.adapters.queue import PendingMarks, queue_stats
from ccvbird.bootstrap import App

#: How long the budget key of a connection (which depends on its token) is trusted before it is
#: read again: reading it decrypts the connection's credentials, per connection and scrape else.
BUDGET_KEY_SECONDS = 300.0

__all__ = ["MetricsEndpoint", "metrics_endpoint"]


def metrics_endpoint(app: App, huey: Any | None, *, multiprocess: bool) -> MetricsEndpoint:
    """The metrics of ``app`` (and of ``huey``, its queue, when given).

    ``multiprocess``: keep the counters in the machine's metrics directory
    (``CCVBIRD_METRICS_DIR``, default ``<data dir>/metrics``) with every other ccvbird process
    there — what ``run``, ``web`` and ``worker`` do; else in this process alone.
    """
    collector = StateCollector(
        states=partial(_states, app),
        budget=BudgetUse(app),
        budget_limit=app.settings.moneybird_requests,
        queue=partial(queue_stats, huey, PendingMarks(huey)) if huey is not None else None,
    )
    if multiprocess:
        directory = app.settings.resolved_metrics_dir
        use_multiprocess_dir(directory)
        metrics, endpoint = multi_process(collector, directory)
    else:
        metrics, endpoint = single_process(collector)
    app.observer = metrics
    return endpoint


def _states(app: App) -> dict[tuple[int, str], int]:
    return {(cid, state.value): n for (cid, state), n in app.store.state_counts().items()}


@dataclass
class BudgetUse:
    """Moneybird requests in the current window, per connection (one query for every token)."""

    app: App
    _keys: dict[int, str] = field(default_factory=dict)
    _read_at: float = -math.inf
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self) -> dict[int, int]:
        with self._lock:
            ids = {c.id for c in self.app.store.connections()}
            if time.monotonic() - self._read_at > BUDGET_KEY_SECONDS or ids != set(self._keys):
                self._keys = {cid: self.app.moneybird_budget_key(cid) for cid in sorted(ids)}
                self._read_at = time.monotonic()
            keys = dict(self._keys)
        budget = self.app.moneybird_budget
        by_key = getattr(budget, "used_by_key", None)
        if by_key is not None:
            used: dict[str, int] = by_key()
        else:
            single = getattr(budget, "used", None)
            used = {k: int(single(k)) if single else 0 for k in set(keys.values())}
        return {cid: used.get(key, 0) for cid, key in keys.items()}
