"""The task queue: Huey with SQLite storage (one machine) and Redis storage (many)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from huey import MemoryHuey

from ccvbird import bootstrap
from ccvbird.adapters.queue import FairShares, HueyQueue, PendingMarks
from ccvbird.entrypoints import worker
from ccvbird.service.triggers import poll
from ccvbird.service.webhooks import Delivery, receive_ccv_delivery
from tests.e2e.world import World, make_world

REDIS_URL = os.environ.get("CCVBIRD_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_problem() -> str | None:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:
        return str(exc)
    return None


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def queue_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    if request.param == "sqlite":
        yield None
        return
    problem = redis_problem()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"Redis must run in CI: {problem}")
        pytest.skip(f"Redis is not running at {REDIS_URL} ({problem})")
    yield REDIS_URL


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    made = make_world(tmp_path, orders=0)
    yield made
    made.close()


def test_a_webhook_goes_through_the_queue_to_a_worker(
    world: World, queue_url: str | None, tmp_path: Path
) -> None:
    settings = world.app.settings.model_copy(
        update={"queue_url": queue_url, "data_dir": tmp_path / "q", "queue_name": _own_name()}
    )
    huey = bootstrap.task_queue(settings)
    huey.flush()  # a test database (Redis db 15, or a fresh SQLite file): start empty
    tasks = worker.register(world.app, huey)
    order_id = str(world.sandboxes.shop.create_order(status=7, paid=True))
    body = b'{"id": %s, "href": "https://shop.test/api/rest/v1/orders/%s"}' % (
        order_id.encode(),
        order_id.encode(),
    )
    receive_ccv_delivery(
        Delivery(world.connection_id, "orders.updated.ispaid", order_id, body),
        store=world.store,
        queue=tasks.queue(),
    )
    assert huey.pending_count() == 1
    task = huey.dequeue()
    assert huey.execute(task) == "booked"
    assert huey.pending_count() == 0
    # Nothing reads a task's result, so none is kept; what Huey's key-value store holds is
    # ccvbird's own: the connection's fair-share tag (the order's "queued" mark is cleared).
    kept = [k.decode() if isinstance(k, bytes) else k for k in huey.all_results()]
    assert kept == [f"ccvbird.fair:{world.connection_id}"]
    assert len(world.invoices()) == 1
    huey.flush()


def _own_name() -> str:
    """A queue of this test's own: test runs sharing one Redis never see each other's tasks."""
    return f"ccvbird-test-{uuid.uuid4().hex[:12]}"


def _huey_for(world: World, queue_url: str | None, tmp_path: Path) -> Any:
    settings = world.app.settings.model_copy(
        update={"queue_url": queue_url, "data_dir": tmp_path / "q", "queue_name": _own_name()}
    )
    huey = bootstrap.task_queue(settings)
    huey.flush()
    return huey


def _poll(world: World, queue: Any) -> int:
    report = poll(
        world.connection_id,
        store=world.store,
        shop=world.app.shop_for(world.connection_id),
        queue=queue,
        clock=world.app.clock,
        lookback=timedelta(days=3650),
    )
    return report.enqueued


def test_polls_while_the_workers_are_stopped_queue_each_order_once(
    world: World, queue_url: str | None, tmp_path: Path
) -> None:
    huey = _huey_for(world, queue_url, tmp_path)
    tasks = worker.register(world.app, huey)
    for _ in range(3):
        world.sandboxes.shop.create_order(status=7, paid=True)
    for _ in range(5):  # five minutes of polling, no worker running
        _poll(world, tasks.queue())
    assert huey.pending_count() == 3
    while (task := huey.dequeue()) is not None:
        assert huey.execute(task) == "booked"
    assert len(world.invoices()) == 3
    # Once taken, an order is queued again by the next trigger.
    order_id = str(world.sandboxes.shop.create_order(status=7, paid=True))
    tasks.queue().enqueue_order(world.connection_id, order_id)
    assert huey.pending_count() == 1
    huey.flush()


def test_a_trigger_while_the_order_is_processed_queues_another_run(
    world: World, queue_url: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    huey = _huey_for(world, queue_url, tmp_path)
    tasks = worker.register(world.app, huey)
    order_id = str(world.sandboxes.shop.create_order(status=7, paid=True))
    tasks.queue().enqueue_order(world.connection_id, order_id)
    real_run_sync = worker.run_sync

    def webhook_arrives_meanwhile(*args: Any) -> tuple[str, float | None]:
        tasks.queue().enqueue_order(world.connection_id, order_id)  # the order is being read
        return real_run_sync(*args)

    monkeypatch.setattr(worker, "run_sync", webhook_arrives_meanwhile)
    task = huey.dequeue()
    assert huey.execute(task) == "booked"
    assert huey.pending_count() == 1  # the trigger was not absorbed by the run it arrived in
    monkeypatch.setattr(worker, "run_sync", real_run_sync)
    assert huey.execute(huey.dequeue()) == "already_booked"  # the second run writes nothing
    assert len(world.invoices()) == 1
    huey.flush()


def test_an_order_whose_queueing_failed_is_queued_by_the_next_trigger() -> None:
    huey = MemoryHuey("marks")
    calls: list[tuple[int, str]] = []

    def failing(connection_id: int, order_id: str) -> None:
        calls.append((connection_id, order_id))
        if len(calls) == 1:
            raise ConnectionError("the queue is down")

    queue = HueyQueue(failing, lambda *a, **k: None, PendingMarks(huey))
    with pytest.raises(ConnectionError):
        queue.enqueue_order(1, "7")
    queue.enqueue_order(1, "7")
    queue.enqueue_order(1, "7")  # a copy is waiting now
    assert calls == [(1, "7"), (1, "7")]


def test_a_mark_lost_with_its_task_expires() -> None:
    now = [1000.0]
    marks = PendingMarks(MemoryHuey("marks"), stale_after=3600, now=lambda: now[0])
    assert marks.claim(1, "7")
    assert not marks.claim(1, "7")
    assert marks.claim(1, "8")  # per order
    assert marks.claim(2, "7")  # per connection
    now[0] += 3599
    assert not marks.claim(1, "7")
    now[0] += 2
    assert marks.claim(1, "7")  # its task never cleared it: queue the order again
    marks.release(1, "7")
    assert marks.claim(1, "7")


def test_an_order_put_back_while_the_connection_is_busy_is_still_queued_once(
    world: World, queue_url: str | None, tmp_path: Path
) -> None:
    huey = _huey_for(world, queue_url, tmp_path)
    tasks = worker.register(world.app, huey)
    order_id = str(world.sandboxes.shop.create_order(status=7, paid=True))
    assert world.store.acquire_lease(world.connection_id, "another worker", timedelta(minutes=5))
    tasks.queue().enqueue_order(world.connection_id, order_id)
    assert huey.execute(huey.dequeue()) == "busy"
    assert huey.pending_count() == 1  # back on the queue (due in a moment), holding the mark
    for _ in range(3):
        _poll(world, tasks.queue())
    assert huey.pending_count() == 1
    huey.flush()


def _dequeued(huey: Any) -> list[tuple[int, str]]:
    taken = []
    while (task := huey.dequeue()) is not None:
        taken.append((task.args[0], task.args[1]))
    return taken


def test_one_connections_backlog_does_not_make_the_others_wait_behind_it(
    queue_url: str | None, tmp_path: Path
) -> None:
    settings = bootstrap.load_settings(
        queue_url=queue_url, data_dir=tmp_path / "q", queue_name=_own_name()
    )
    huey = bootstrap.task_queue(settings)
    huey.flush()

    @huey.task(name="ccvbird.sync_order")  # type: ignore[untyped-decorator]
    def sync_order(connection_id: int, order_id: str) -> None:
        raise AssertionError("only dequeued here, never run")

    clock = [1000.0]
    queue = HueyQueue(
        sync_order,
        sync_order.schedule,
        PendingMarks(huey, now=lambda: clock[0]),
        FairShares(huey, slot=0.5, now=lambda: clock[0]),
    )
    for number in range(1, 201):  # a big shop's first poll queues its history
        queue.enqueue_order(1, str(number))
    clock[0] += 0.1
    queue.enqueue_order(2, "a")  # then small shops' webhooks arrive
    queue.enqueue_order(3, "b")
    clock[0] += 0.1
    queue.enqueue_order(2, "c")
    taken = _dequeued(huey)
    assert len(taken) == 203
    # The small shops' orders come within the first few: one slot of the backlog each.
    assert taken[:5] == [(1, "1"), (2, "a"), (3, "b"), (1, "2"), (2, "c")]
    # The backlog itself keeps its order and loses nothing.
    assert [order for cid, order in taken if cid == 1] == [str(n) for n in range(1, 201)]
    huey.flush()


def test_a_connection_with_one_order_at_a_time_is_served_in_arrival_order() -> None:
    huey = MemoryHuey("fair")

    @huey.task(name="ccvbird.sync_order")  # type: ignore[untyped-decorator]
    def sync_order(connection_id: int, order_id: str) -> None:
        raise AssertionError("only dequeued here, never run")

    clock = [1000.0]
    queue = HueyQueue(sync_order, sync_order.schedule, None, FairShares(huey, now=lambda: clock[0]))
    for connection_id in (5, 3, 9, 1):
        queue.enqueue_order(connection_id, "7")
        clock[0] += 1.0
    assert _dequeued(huey) == [(5, "7"), (3, "7"), (9, "7"), (1, "7")]
