"""``ccvbird worker`` as a real child process: SIGTERM stops it cleanly, and
``--metrics-port`` serves the health endpoints.

The sandboxes run in this test's process (tests/cli/conftest.py); the workers are child
processes (``python -m ccvbird worker``) on the same data directory, with SQLite state and
queue. A worker is stopped while a booking waits for the Moneybird request budget (set so low
that its next request would wait an hour): it must exit 0 at once, hand the order back (due
again, lease released), and a second worker books it — one paid invoice in Moneybird.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from ccvbird import bootstrap
from ccvbird.entrypoints import worker
from ccvbird.sandbox.moneybird import Fault
from ccvbird.sandbox.moneybird.constants import ADMINISTRATION_ID
from tests.cli.conftest import MONEYBIRD_TOKEN, Sandboxes, free_port

ROOT = Path(__file__).resolve().parents[2]
#: Upper bound for any one wait on a child (start, booking, stop); never reached when it works.
BOUND = 60.0


@contextmanager
def worker_process(
    data_dir: Path, log: Path, *args: str, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """``ccvbird worker`` in a child process; killed should the test leave it running."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ccvbird", "worker", "--workers", "1",
             "--data-dir", str(data_dir), *args],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {}), "COLUMNS": "200"},
        )  # fmt: skip
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(BOUND)


def wait_until(condition: Callable[[], bool], proc: subprocess.Popen[bytes], log: Path) -> None:
    """Until ``condition`` holds (bounded); the pause between looks is a wait on the child, so
    a child that dies early fails the test at once with its output."""
    deadline = datetime.now(UTC).timestamp() + BOUND
    while not condition():
        try:
            proc.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            pass
        else:
            raise AssertionError(f"the worker exited ({proc.returncode}):\n{log.read_text()}")
        assert datetime.now(UTC).timestamp() < deadline, log.read_text()


def stop(proc: subprocess.Popen[bytes], log: Path) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=BOUND)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"no exit {BOUND} s after SIGTERM:\n{log.read_text()}") from None
    assert code == 0, log.read_text()


def lease_rows(data_dir: Path) -> list[tuple[str | None, str | None]]:
    engine = create_engine(f"sqlite:///{data_dir / 'ccvbird.sqlite3'}")
    try:
        with engine.connect() as db:
            rows = db.execute(text("SELECT lease_owner, lease_until FROM connections"))
            return [(owner, until) for owner, until in rows]
    finally:
        engine.dispose()


def paid_invoices(sandboxes: Sandboxes) -> list[dict[str, object]]:
    """The sales invoices as Moneybird's API lists them."""
    response = httpx.get(
        f"{sandboxes.moneybird_url}/{ADMINISTRATION_ID}/sales_invoices.json",
        headers={"Authorization": f"Bearer {MONEYBIRD_TOKEN}"},
    )
    response.raise_for_status()
    return list(response.json())


def test_sigterm_hands_back_a_waiting_booking_and_a_second_worker_books_it_once(
    connected: Sandboxes, data_dir: Path, tmp_path: Path
) -> None:
    connected.add_order(total="121.00")
    order_id = str(connected.shop.orders()[-1]["id"])
    app = bootstrap.build_app(bootstrap.load_settings(data_dir=data_dir))
    try:
        connection_id = app.store.connections()[0].id
        used_before, _limit = bootstrap.budget_use(app, connection_id)
        # Four Moneybird requests of the booking go out (the contact is made, the invoice's
        # intent stored); the fifth waits an hour for the budget.
        limit = used_before + 4
        tasks = worker.register(app, bootstrap.task_queue(app.settings))
        tasks.queue().enqueue_order(connection_id, order_id)

        first_log = tmp_path / "first.log"
        slow = {"CCVBIRD_MONEYBIRD_REQUESTS": str(limit),
                "CCVBIRD_MONEYBIRD_WINDOW_SECONDS": "3600"}  # fmt: skip
        with worker_process(data_dir, first_log, env=slow) as first:
            # The budget is used up: the booking's next request waits (or is about to).
            wait_until(
                lambda: bootstrap.budget_use(app, connection_id)[0] >= limit, first, first_log
            )
            stop(first, first_log)

        owner, until = lease_rows(data_dir)[0]
        assert owner is None and until is None, f"lease left behind: {owner} until {until}"
        record = app.store.record(connection_id, order_id)
        assert record.state.value == "booking", record
        assert record.next_attempt_at is not None  # the scheduler resumes it, nobody has to
        assert record.next_attempt_at <= app.clock.now() + worker.LEASE
        assert record.attempts == 0  # a stop is no failed attempt
        # Stopped mid-booking: an intent was committed (the contact made, the invoice's intent
        # stored), which the next run resumes from.
        assert record.contact_id is not None or record.contact_intent, record
        assert not any(i["state"] == "paid" for i in paid_invoices(connected))

        # A second worker (normal budget) takes the order up and books it, once.
        tasks.queue().enqueue_order(connection_id, order_id)
        second_log = tmp_path / "second.log"
        with worker_process(data_dir, second_log) as second:
            wait_until(
                lambda: app.store.record(connection_id, order_id).state.value == "booked",
                second,
                second_log,
            )
            stop(second, second_log)
        assert lease_rows(data_dir)[0] == (None, None)
    finally:
        app.close()

    invoices = paid_invoices(connected)
    assert len(invoices) == 1, invoices
    assert invoices[0]["state"] == "paid"
    assert invoices[0]["total_price_incl_tax"] == "121.0"


def test_sigterm_while_a_request_is_under_way_lets_the_booking_finish(
    connected: Sandboxes, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM arrives while the invoice is being created (the sandbox holds the request until
    the worker said it is stopping): it finishes the booking, then exits 0 with no lease held."""
    connected.add_order(total="121.00")
    order_id = str(connected.shop.orders()[-1]["id"])
    arrived, go_on = threading.Event(), threading.Event()
    decide = connected.moneybird.faults.decide

    def holding(method: str, path: str) -> Fault | None:
        if method == "POST" and path.endswith("/sales_invoices"):
            arrived.set()
            go_on.wait(BOUND)
        return decide(method, path)

    monkeypatch.setattr(connected.moneybird.faults, "decide", holding)
    app = bootstrap.build_app(bootstrap.load_settings(data_dir=data_dir))
    try:
        connection_id = app.store.connections()[0].id
        tasks = worker.register(app, bootstrap.task_queue(app.settings))
        tasks.queue().enqueue_order(connection_id, order_id)
        log = tmp_path / "worker.log"
        with worker_process(data_dir, log) as proc:
            wait_until(arrived.is_set, proc, log)
            proc.send_signal(signal.SIGTERM)
            # The request goes on only once the worker said it is stopping.
            wait_until(lambda: "ccvbird stopping" in log.read_text(), proc, log)
            go_on.set()
            assert proc.wait(timeout=BOUND) == 0, log.read_text()
        assert lease_rows(data_dir)[0] == (None, None)
        assert app.store.record(connection_id, order_id).state.value == "booked"
    finally:
        go_on.set()
        app.close()
    invoices = paid_invoices(connected)
    assert [i["state"] for i in invoices] == ["paid"]


def test_worker_metrics_port_answers_healthz_readyz_and_metrics(
    connected: Sandboxes, data_dir: Path, tmp_path: Path
) -> None:
    """The worker books one order; its ``/metrics`` (multi-process files in the data
    directory) counts the booking and reads the order's state from the database."""
    connected.add_order(total="121.00")
    order_id = str(connected.shop.orders()[-1]["id"])
    app = bootstrap.build_app(bootstrap.load_settings(data_dir=data_dir))
    try:
        connection_id = app.store.connections()[0].id
        tasks = worker.register(app, bootstrap.task_queue(app.settings))
        tasks.queue().enqueue_order(connection_id, order_id)
    finally:
        app.close()
    port = free_port()
    log = tmp_path / "worker.log"
    with worker_process(data_dir, log, "--metrics-port", str(port)) as proc:
        answers: dict[str, httpx.Response] = {}

        def answered() -> bool:
            try:
                answers["readyz"] = httpx.get(f"http://127.0.0.1:{port}/readyz")
            except httpx.TransportError:
                return False
            return True

        wait_until(answered, proc, log)
        health = httpx.get(f"http://127.0.0.1:{port}/healthz")

        def counted() -> bool:
            # The engine counts the outcome as it returns; the task observes paid-to-booked
            # a moment later: a scrape in between sees the one, not yet the other.
            answers["metrics"] = httpx.get(f"http://127.0.0.1:{port}/metrics")
            text = answers["metrics"].text
            return 'outcome="booked"' in text and "ccvbird_paid_to_booked_seconds_count" in text

        wait_until(counted, proc, log)
        stop(proc, log)
    metrics = answers["metrics"].text
    assert 'ccvbird_sync_outcomes_total{outcome="booked",reason_code=""} 1.0' in metrics
    assert "ccvbird_paid_to_booked_seconds_count 1.0" in metrics
    assert f'ccvbird_orders{{connection_id="{connection_id}",state="booked"}} 1.0' in metrics
    assert "ccvbird_queue_depth 0.0" in metrics
    assert list((data_dir / "metrics").glob("counter_*.db"))  # multi-process mode
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    ready = answers["readyz"]
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok", "queue": "ok"}
