"""The task queue: Huey with SQLite storage (one machine) and Redis storage (many)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ccvbird import bootstrap
from ccvbird.entrypoints import worker
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
        update={"queue_url": queue_url, "data_dir": tmp_path / "q"}
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
    assert len(world.invoices()) == 1
    huey.flush()
