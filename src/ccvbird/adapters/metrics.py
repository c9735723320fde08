"""Prometheus metrics (``prometheus-client``): what ccvbird counts, and what it reads at a scrape.

Two kinds, kept apart on purpose (docs/operations.md lists every metric):

* What happened in this process — bookings and failures by outcome and reason code, the time
  from "paid" to the paid invoice — are counters and a histogram (:class:`Metrics`). Workers are
  separate processes, so the serving commands keep these in prometheus-client's multi-process
  files (:func:`use_multiprocess_dir`): any ``/metrics`` of the machine sums every process.
* What *is* — orders by state, the queue's depth and its oldest job, the Moneybird budget in
  use — is read from the state database and the queue at scrape time (:class:`StateCollector`):
  a gauge that is read cannot drift from the truth the way a counter kept beside it would.

Labels stay bounded: outcomes and reason codes (codes, never messages), connection ids and
states — no order ids, names, addresses or error texts.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector

log = logging.getLogger(__name__)

#: Seconds from "paid" to the paid invoice: a webhook order takes about one; a poll, minutes; a
#: retry after a failure, its backoff.
PAID_TO_BOOKED_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 6 * 3600, 86400)
#: The longest reason code kept as a label value (the column's width): codes, not messages.
REASON_CODE_LIMIT = 60


class Metrics:
    """The counters and the histogram of this process; the engines' ``SyncObserver``.

    ``registry``: where they are registered (one process); ``None`` in multi-process mode, where
    they live in the multi-process files and :class:`MultiProcessCollector` reads them all.
    """

    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.outcomes = Counter(
            "ccvbird_sync_outcomes",
            "Orders the engine finished a run for, by outcome and reason code.",
            ["outcome", "reason_code"],
            registry=registry,
        )
        self.paid_to_booked = Histogram(
            "ccvbird_paid_to_booked_seconds",
            "Seconds from the trigger that found an order paid (webhook, poll) being queued "
            "to its paid invoice booked by a worker.",
            buckets=PAID_TO_BOOKED_BUCKETS,
            registry=registry,
        )

    def order_synced(self, connection_id: int, outcome: str, reason_code: str) -> None:
        del connection_id  # per connection: the orders-by-state gauge (bounded labels here)
        self.outcomes.labels(outcome, reason_code[:REASON_CODE_LIMIT]).inc()

    def paid_invoice_booked(self, seconds: float) -> None:
        self.paid_to_booked.observe(max(seconds, 0.0))  # clocks of two machines may differ


@dataclass(frozen=True, slots=True)
class QueueStats:
    """The task queue now: tasks ready to run, tasks waiting for their time, and how long the
    oldest ready task has waited (seconds; ``None``: unknown)."""

    depth: int
    scheduled: int
    oldest_age: float | None


@dataclass(eq=False)  # registered by identity
class StateCollector:
    """Gauges read at scrape time. Each source is a callable, so a source that fails (the
    database is down) costs only its own families, and ``ccvbird_metrics_source_up`` says so."""

    #: (connection id, state) → orders in that state.
    states: Callable[[], Mapping[tuple[int, str], int]]
    #: connection id → Moneybird requests used in the current window (by its token).
    budget: Callable[[], Mapping[int, int]]
    budget_limit: int
    #: The queue now; ``None`` where the process has no queue.
    queue: Callable[[], QueueStats] | None = None

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "ccvbird_metrics_source_up",
            "Whether the source of the gauges read at scrape time answered (1) or not (0).",
            labels=["source"],
        )
        try:
            states = self.states()
            budget = self.budget()
        except Exception as exc:  # the message may name hosts and users: the type only
            log.warning("metrics: the state database does not answer (%s)", type(exc).__name__)
            up.add_metric(["database"], 0)
        else:
            up.add_metric(["database"], 1)
            yield _orders(states)
            yield from _budget(budget, self.budget_limit)
        if self.queue is not None:
            try:
                stats = self.queue()
            except Exception as exc:
                log.warning("metrics: the task queue does not answer (%s)", type(exc).__name__)
                up.add_metric(["queue"], 0)
            else:
                up.add_metric(["queue"], 1)
                yield from _queue(stats)
        yield up


def _orders(states: Mapping[tuple[int, str], int]) -> Metric:
    family = GaugeMetricFamily(
        "ccvbird_orders",
        "Orders in the state database, by connection and state.",
        labels=["connection_id", "state"],
    )
    for (connection_id, state), count in sorted(states.items()):
        family.add_metric([str(connection_id), state], count)
    return family


def _budget(used: Mapping[int, int], limit: int) -> Iterator[Metric]:
    family = GaugeMetricFamily(
        "ccvbird_moneybird_budget_used",
        "Moneybird requests sent (or reserved) in the current window by the token of each "
        "connection (connections sharing a token show the same number).",
        labels=["connection_id"],
    )
    for connection_id, count in sorted(used.items()):
        family.add_metric([str(connection_id)], count)
    yield family
    yield GaugeMetricFamily(
        "ccvbird_moneybird_budget_limit",
        "Moneybird requests allowed per token and window (CCVBIRD_MONEYBIRD_REQUESTS).",
        value=limit,
    )


def _queue(stats: QueueStats) -> Iterator[Metric]:
    yield GaugeMetricFamily(
        "ccvbird_queue_depth", "Tasks on the queue, ready to be taken.", value=stats.depth
    )
    yield GaugeMetricFamily(
        "ccvbird_queue_scheduled",
        "Tasks waiting for their time (a retry's backoff, a busy connection).",
        value=stats.scheduled,
    )
    age = stats.oldest_age if stats.oldest_age is not None else math.nan
    yield GaugeMetricFamily(
        "ccvbird_queue_oldest_age_seconds",
        "How long the oldest ready task has waited (0: none waits; NaN: not known).",
        value=0.0 if stats.depth == 0 else age,
    )


@dataclass
class MetricsEndpoint:
    """What ``/metrics`` answers: :meth:`render` gives the body and its content type."""

    collector: StateCollector
    #: The registry of a single process; ``None`` in multi-process mode.
    registry: CollectorRegistry | None
    multiprocess_dir: Path | None = None

    def render(self) -> tuple[bytes, str]:
        if self.multiprocess_dir is None:
            assert self.registry is not None
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(self.multiprocess_dir))  # type: ignore[no-untyped-call]
        registry.register(self.collector)
        return generate_latest(registry), CONTENT_TYPE_LATEST


def single_process(collector: StateCollector) -> tuple[Metrics, MetricsEndpoint]:
    """Metrics kept in this process alone (tests, one-off tools)."""
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    registry.register(collector)
    return metrics, MetricsEndpoint(collector, registry)


def multi_process(collector: StateCollector, directory: Path) -> tuple[Metrics, MetricsEndpoint]:
    """Metrics kept in the multi-process files in ``directory`` (see
    :func:`use_multiprocess_dir`, which must have been called first)."""
    return Metrics(None), MetricsEndpoint(collector, None, directory)


def use_multiprocess_dir(directory: Path) -> None:
    """Keep this process's counters in ``directory``, beside those of the machine's other
    ccvbird processes, so any of them serves the sum.

    Files of processes that are gone are kept while another process of the directory runs: they
    hold that process's counts, and removing them would lower the sum (Prometheus would read a
    counter reset). When no process of the directory is alive — a fresh start of the machine's
    ccvbird — every file is removed, which Prometheus reads as the reset it is.

    prometheus-client chooses its multi-process values when the first metric is made, from
    ``PROMETHEUS_MULTIPROC_DIR``; it is set here, before this process makes any. Call it once
    per process, early (the serving commands do).
    """
    clear_when_unused(directory)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]


def clear_when_unused(directory: Path) -> bool:
    """Make ``directory``; remove its metrics files when none of the processes that wrote
    them is alive (True when it did). See :func:`use_multiprocess_dir` for why not per file."""
    directory.mkdir(parents=True, exist_ok=True)
    if any(_alive(pid) for pid in _pids(directory)):
        return False
    for stale in directory.glob("*.db"):
        stale.unlink(missing_ok=True)
    return True


def _pids(directory: Path) -> set[int]:
    """The processes that wrote files in ``directory`` (``counter_1234.db``: 1234)."""
    found = set()
    for path in directory.glob("*.db"):
        tail = path.stem.rsplit("_", 1)[-1]
        if tail.isdigit():
            found.add(int(tail))
    return found


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # this process's own files are from a process that had its number
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, another user's
    return True
