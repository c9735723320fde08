"""A worker whose lease ran out cannot book: two workers, one order, an injected clock.

Worker A takes order 1001 and is held up in the middle — waiting out a ``Retry-After``, or
inside a Moneybird call — until its lease has run out; worker B takes the connection over and
books the order. Afterwards the Moneybird sandbox holds exactly one paid invoice with one payment,
and A wrote nothing (no record change, no log line, no request) after B took over. Also: a
worker that merely waits long keeps its lease (B stays out), the edge of the lease to the
microsecond, and the in-process passes (``ccvbird import`` / ``sync``) waiting for the lease.

Everything runs on one fake timeline (sandboxes, clients, the store's leases). Worker B runs in a
thread of its own (another worker), started and joined while A is held up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from ccvbird import bootstrap
from ccvbird.adapters.db.tables import ConnectionRow
from ccvbird.adapters.http import Unlimited
from ccvbird.config import Settings
from ccvbird.domain.sync import SyncState
from ccvbird.entrypoints import worker
from ccvbird.service.passes import import_history, sync_pass
from ccvbird.service.sync import Trigger
from tests.e2e.world import SINCE, FakeWallClock, connect_sandboxes

LEASE = bootstrap.LEASE.total_seconds()


@dataclass
class FakeTime:
    """The ``Clock`` port on the sandboxes' fake wall clock: one timeline for everything."""

    wall: FakeWallClock

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.wall.now, UTC)

    def today(self) -> date:
        return self.now().date()


class Moneybird(httpx.BaseTransport):
    """The Moneybird sandbox as one worker reaches it: counts that worker's requests and lets a
    test step in at its first ``POST /sales_invoices`` (``hitch``: returns the response to give
    instead, or ``None`` to pass the request on; ``after``: runs once the sandbox answered)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.requests: list[tuple[str, str]] = []
        self.hitch: Callable[[httpx.Request], httpx.Response | None] | None = None
        self.after: Callable[[], None] | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.method, request.url.path))
        first_invoice = request.method == "POST" and request.url.path.endswith(
            "/sales_invoices.json"
        )
        if first_invoice and self.hitch is not None:
            hitch, self.hitch = self.hitch, None
            answer = hitch(request)
            if answer is not None:
                return answer
        response = self.inner.handle_request(request)
        if first_invoice and self.after is not None:
            after, self.after = self.after, None
            response.read()
            after()
        return response

    def writes(self) -> int:
        return sum(1 for method, _ in self.requests if method != "GET")


@dataclass
class Worker:
    app: bootstrap.App
    moneybird: Moneybird
    #: Called instead of a plain fake sleep (a test's hitch), else the timeline moves on.
    on_sleep: Callable[[float], None] | None = None


@dataclass
class Two:
    """Two workers on one state database, one shop, one administration, one fake clock."""

    wall: FakeWallClock
    sandboxes: bootstrap.Sandboxes
    connection_id: int
    order_id: str
    a: Worker
    b: Worker
    apps: list[bootstrap.App] = field(default_factory=list)

    def run(self, who: Worker) -> str:
        outcome, _ = worker.run_sync(who.app, self.connection_id, self.order_id, Trigger.WEBHOOK)
        return outcome

    def run_in_thread(self, who: Worker) -> str:
        """Run ``who`` to the end in a thread of its own (another worker) and wait for it."""
        outcomes: list[str] = []
        thread = threading.Thread(target=lambda: outcomes.append(self.run(who)))
        thread.start()
        thread.join()
        assert outcomes, "the other worker failed (see the captured log)"
        return outcomes[0]

    def lease_until(self) -> datetime:
        with self.a.app.sessions() as session:
            row = session.get(ConnectionRow, self.connection_id)
            assert row is not None and row.lease_until is not None
            return row.lease_until

    def written(self) -> tuple[Any, ...]:
        """Everything ccvbird wrote about the order: its record and its log."""
        store = self.a.app.store
        record = store.find_record(self.connection_id, self.order_id)
        events = store.events(self.connection_id, self.order_id)
        return (record, [(e.event, e.state, e.message) for e in events])

    def check_one_paid_invoice(self) -> None:
        """On Moneybird's side: one invoice for the order, paid, with one payment."""
        invoices = self.sandboxes.moneybird.invoices()
        assert len(invoices) == 1, f"{len(invoices)} invoices for one order"
        rendered = self.sandboxes.moneybird.renderer().sales_invoice(invoices[0])
        assert rendered["state"] == "paid"
        assert len(rendered["payments"]) == 1
        record = self.a.app.store.find_record(self.connection_id, self.order_id)
        assert record is not None and record.state is SyncState.BOOKED
        assert record.invoice_id == str(rendered["id"])


@pytest.fixture
def two(tmp_path: Path, database_url: str) -> Iterator[Two]:
    wall = FakeWallClock()
    sandboxes = bootstrap.in_process_sandboxes(clock=wall, sleep=wall.sleep)
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url)
    apps: list[bootstrap.App] = []
    workers = []
    for _ in range(2):
        moneybird = Moneybird(sandboxes.transports[_moneybird_prefix(sandboxes)])
        transports = {**sandboxes.transports, _moneybird_prefix(sandboxes): moneybird}
        app = bootstrap.build_app(
            settings, transports=transports, moneybird_budget=Unlimited(), clock=FakeTime(wall)
        )
        who = Worker(app, moneybird)

        def sleep(seconds: float, who: Worker = who) -> None:
            if who.on_sleep is not None:
                who.on_sleep(seconds)
            else:
                wall.sleep(seconds)

        app.sleep, app.wall_clock, app.ccv_limits = sleep, wall, (10**9, 10**9)
        apps.append(app)
        workers.append(who)
    connected = connect_sandboxes(apps[0], sandboxes)
    order_id = str(sandboxes.shop.create_order(status=7, paid=True))
    yield Two(wall, sandboxes, connected.connection_id, order_id, workers[0], workers[1], apps)
    for app in apps:
        app.close()


def _moneybird_prefix(sandboxes: bootstrap.Sandboxes) -> str:
    (prefix,) = [p for p in sandboxes.transports if p != sandboxes.ccv_url]
    return prefix


def _too_many(request: httpx.Request, retry_at: float) -> httpx.Response:
    """Moneybird's 429: ``Retry-After`` is an epoch timestamp."""
    return httpx.Response(
        429, headers={"Retry-After": str(int(retry_at))}, text="Retry later", request=request
    )


def _stall_once(two: Two, who: Worker, stalled: Callable[[], None]) -> None:
    """``who``'s next sleep is a stall: ``stalled`` runs in it, then the timeline goes on."""

    def sleep(seconds: float) -> None:
        who.on_sleep = None
        stalled()

    who.on_sleep = sleep


def test_a_worker_that_lost_its_lease_while_waiting_for_retry_after_sends_nothing(
    two: Two,
) -> None:
    """A's invoice create gets a 429 asking it to come back in 400 s; A's process stalls in that
    wait for longer than a lease. B takes over and books. A wakes, sends nothing, writes nothing."""
    seen: dict[str, Any] = {}
    two.a.moneybird.hitch = lambda request: _too_many(request, two.wall.now + 400)

    def stalled() -> None:
        two.wall.now += LEASE + 60  # no renewal can happen in a stall
        seen["b"] = two.run_in_thread(two.b)
        seen["written"], seen["a_requests"] = two.written(), len(two.a.moneybird.requests)

    _stall_once(two, two.a, stalled)
    outcome = two.run(two.a)

    assert seen["b"] == "booked"
    assert outcome == worker.LEASE_LOST
    two.check_one_paid_invoice()
    assert two.written() == seen["written"], "A wrote after it lost its lease"
    assert len(two.a.moneybird.requests) == seen["a_requests"], "A sent a request after"


def test_a_worker_that_lost_its_lease_inside_a_moneybird_call_writes_nothing_after(
    two: Two,
) -> None:
    """A's invoice is created, but the answer takes longer than a lease to arrive (a stalled
    process). B takes over: it finds A's invoice by its reference, sends it and pays it. A gets
    its answer and must not record it, nor send or pay the invoice."""
    seen: dict[str, Any] = {}

    def stalled() -> None:
        two.wall.now += LEASE + 60
        seen["b"] = two.run_in_thread(two.b)
        seen["written"], seen["a_requests"] = two.written(), len(two.a.moneybird.requests)

    two.a.moneybird.after = stalled
    outcome = two.run(two.a)

    assert seen["b"] == "booked"
    assert outcome == worker.LEASE_LOST
    two.check_one_paid_invoice()
    assert two.written() == seen["written"], "A wrote after it lost its lease"
    assert len(two.a.moneybird.requests) == seen["a_requests"], "A sent a request after"


def test_a_worker_that_waits_long_keeps_its_lease_and_books(two: Two) -> None:
    """A 429 asks A to wait 500 s — longer than a lease. A renews its lease while it waits, so
    B, trying 400 s into the wait, finds the connection busy; A then books the order."""
    seen: dict[str, Any] = {}
    midway: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        midway.append(two.wall.now + 400)
        return _too_many(request, two.wall.now + 500)

    def sleep(seconds: float) -> None:
        end = two.wall.now + seconds
        if midway and two.wall.now < midway[0] <= end:
            two.wall.now = midway.pop()
            seen["b"] = two.run_in_thread(two.b)
        two.wall.now = end

    two.a.moneybird.hitch = answer
    two.a.on_sleep = sleep
    outcome = two.run(two.a)

    assert seen["b"] == worker.BUSY
    assert outcome == "booked"
    two.check_one_paid_invoice()
    assert two.b.moneybird.requests == []


@pytest.mark.parametrize(
    ("past_the_end", "b_gets", "a_gets"),
    [
        (timedelta(0), worker.BUSY, "booked"),
        (timedelta(microseconds=1), "booked", worker.LEASE_LOST),
    ],
    ids=["exactly-at-the-end", "one-microsecond-past"],
)
def test_the_edge_of_the_lease(two: Two, past_the_end: timedelta, b_gets: str, a_gets: str) -> None:
    """A stalls right before its invoice create until exactly the end of its lease: it still
    holds it (B is busy) and books. One microsecond later the lease is B's, and A stops."""
    seen: dict[str, Any] = {}
    two.a.moneybird.hitch = lambda request: _too_many(request, two.wall.now + 60)

    def stalled() -> None:
        two.wall.now = (two.lease_until() + past_the_end).timestamp()
        assert FakeTime(two.wall).now() == two.lease_until() + past_the_end
        seen["b"] = two.run_in_thread(two.b)

    _stall_once(two, two.a, stalled)
    outcome = two.run(two.a)

    assert (seen["b"], outcome) == (b_gets, a_gets)
    two.check_one_paid_invoice()


@pytest.mark.parametrize("which", ["import", "sync"])
def test_an_import_or_sync_pass_waits_for_the_lease_a_worker_holds(two: Two, which: str) -> None:
    """While worker A is inside its invoice create, ``ccvbird import`` in another process
    reaches the same order: it waits for the lease instead of booking beside A (``ccvbird
    sync`` leaves the order alone: it is not due). After A is done, the pass finds the order
    booked."""

    class StillWaiting(Exception):
        """Raised from the pass's first wait for the lease: it stops there, for the test."""

    def run_pass() -> Any:
        """As ``ccvbird import`` / ``ccvbird sync`` run it (entrypoints/cli/operate.py)."""
        app = two.b.app
        shop = app.shop_for(two.connection_id)
        with app.leased_engine(two.connection_id, "cli") as engine:
            if which == "import":
                return import_history(
                    two.connection_id, since=SINCE, engine=engine, store=app.store, shop=shop
                )
            everything = timedelta(days=400)  # the sandbox's orders are from early 2026
            return sync_pass(
                two.connection_id,
                engine=engine,
                store=app.store,
                shop=shop,
                clock=app.clock,
                lookback=everything,
            )

    def busy(seconds: float) -> None:
        raise StillWaiting

    seen: dict[str, Any] = {}

    def in_the_call() -> None:
        two.b.on_sleep = busy
        thread = threading.Thread(target=lambda: seen.update(report=_catch(run_pass)))
        thread.start()
        thread.join()

    two.a.moneybird.after = in_the_call
    assert two.run(two.a) == "booked"

    if which == "import":
        assert isinstance(seen["report"], StillWaiting), f"the pass did not wait: {seen['report']}"
    else:
        # A sync pass does not even reach the order: a booking under way has a time to be
        # looked at again (minutes ahead), so it is not due, and nothing else changed.
        assert not isinstance(seen["report"], StillWaiting)
        assert sum(seen["report"].outcomes.values()) == 0
    assert two.b.moneybird.writes() == 0
    two.b.on_sleep = None
    report = run_pass()
    assert report.outcomes.get("booked", 0) == 0
    two.check_one_paid_invoice()
    assert two.run(two.a) == "already_booked"  # the pass let the connection go again


def _catch(run: Callable[[], Any]) -> Any:
    try:
        return run()
    except Exception as exc:
        return exc


def test_an_import_that_lost_the_lease_mid_order_books_it_again_from_what_is_stored(
    two: Two,
) -> None:
    """``ccvbird import`` stalls inside its invoice create for longer than a lease; a worker
    takes over and books the order. The import writes nothing for it, takes the lease again,
    finds the order booked and goes on."""
    seen: dict[str, Any] = {}

    def stalled() -> None:
        two.wall.now += LEASE + 60
        seen["b"] = two.run_in_thread(two.b)

    two.a.moneybird.after = stalled
    app = two.a.app
    with app.leased_engine(two.connection_id, "cli") as engine:
        report = import_history(
            two.connection_id,
            since=SINCE,
            engine=engine,
            store=app.store,
            shop=app.shop_for(two.connection_id),
        )

    assert seen["b"] == "booked"
    assert dict(report.outcomes) == {"already_booked": 1}
    assert report.stopped_reason == ""
    two.check_one_paid_invoice()
