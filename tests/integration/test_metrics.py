"""Prometheus metrics (docs/operations.md): their values after a small sync through the queue,
the queue's oldest job, multi-process mode, ``/metrics`` on the web app, and JSON log lines."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from ccvbird import bootstrap
from ccvbird.adapters.db.budget import SharedBudget
from ccvbird.adapters.metrics import clear_when_unused
from ccvbird.adapters.queue import HueyQueue, PendingMarks, queue_stats
from ccvbird.entrypoints import worker
from ccvbird.entrypoints.logs import json_formatter
from ccvbird.entrypoints.web.factory import create_web_app
from ccvbird.wiring.metrics import metrics_endpoint
from tests.e2e.world import World, make_world
from tests.integration.test_queue import queue_url as queue_url  # the sqlite/redis fixture

ROOT = Path(__file__).resolve().parents[2]
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    made = make_world(tmp_path, orders=0)
    yield made
    made.close()


def samples(text: str) -> Samples:
    """Every sample of a scrape: (name, sorted labels) → value."""
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def huey_for(world: World, queue_url: str | None, tmp_path: Path) -> Any:
    settings = world.app.settings.model_copy(
        update={
            "queue_url": queue_url,
            "data_dir": tmp_path / "q",
            "queue_name": f"ccvbird-test-{uuid.uuid4().hex[:12]}",
        }
    )
    huey = bootstrap.task_queue(settings)
    huey.flush()
    return huey


def test_metrics_after_a_small_sync_through_the_queue(
    world: World, queue_url: str | None, tmp_path: Path
) -> None:
    app, cid = world.app, str(world.connection_id)
    # A budget that counts (the world's is unlimited), on the sandboxes' clock.
    app.moneybird_budget = SharedBudget(app.sessions, 150, 300.0, clock=world.clock)
    huey = huey_for(world, queue_url, tmp_path)
    tasks = worker.register(app, huey)
    endpoint = metrics_endpoint(app, huey, multiprocess=False)
    shop = world.sandboxes.shop
    paid = [str(shop.create_order(status=7, paid=True)) for _ in range(2)]
    queue = tasks.queue()
    for order_id in [*paid, "999999"]:  # the last one is not in the shop
        queue.enqueue_order(world.connection_id, order_id)
    before = samples(endpoint.render()[0].decode())
    assert before[("ccvbird_queue_depth", ())] == 3
    assert before[("ccvbird_queue_oldest_age_seconds", ())] >= 0  # known, not NaN
    requests_before = len(world.sandboxes.moneybird.api_requests())

    while (task := huey.dequeue()) is not None:
        huey.execute(task)

    body, content_type = endpoint.render()
    assert content_type.startswith("text/plain")
    after = samples(body.decode())
    assert after[("ccvbird_orders", (("connection_id", cid), ("state", "booked")))] == 2
    assert after[("ccvbird_orders", (("connection_id", cid), ("state", "skipped")))] == 1
    outcome = "ccvbird_sync_outcomes_total"
    assert after[(outcome, (("outcome", "booked"), ("reason_code", "")))] == 2
    assert after[(outcome, (("outcome", "skipped"), ("reason_code", "deleted")))] == 1
    assert after[("ccvbird_paid_to_booked_seconds_count", ())] == 2
    assert after[("ccvbird_paid_to_booked_seconds_sum", ())] >= 0
    assert after[("ccvbird_queue_depth", ())] == 0
    assert after[("ccvbird_queue_oldest_age_seconds", ())] == 0
    sent = len(world.sandboxes.moneybird.api_requests()) - requests_before
    assert sent > 0
    assert after[("ccvbird_moneybird_budget_used", (("connection_id", cid),))] == sent
    assert after[("ccvbird_moneybird_budget_limit", ())] == 150
    for source in ("database", "queue"):
        assert after[("ccvbird_metrics_source_up", (("source", source),))] == 1
    huey.flush()


def test_the_oldest_jobs_age_is_that_of_the_first_queued(
    world: World, queue_url: str | None, tmp_path: Path
) -> None:
    """On Redis the oldest task is the list's far end (Huey's own listing starts at the
    newest): three orders queued 10 s apart, read 42 s after the first."""
    huey = huey_for(world, queue_url, tmp_path)
    tasks = worker.register(world.app, huey)
    now = [1000.0]
    marks = PendingMarks(huey, now=lambda: now[0])
    queue = HueyQueue(tasks.sync_order, tasks.sync_order.schedule, marks)
    queue.enqueue_order(world.connection_id, "11")
    for number, at in (("12", 1010.0), ("13", 1020.0)):
        now[0] = at
        queue.enqueue_order(world.connection_id, number)
    stats = queue_stats(huey, marks, now=lambda: 1042.0)
    assert (stats.depth, stats.scheduled, stats.oldest_age) == (3, 0, 42.0)
    huey.flush()
    assert queue_stats(huey, marks).oldest_age == 0.0


COUNTING_CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from ccvbird.adapters.metrics import Metrics, use_multiprocess_dir

    use_multiprocess_dir(Path(sys.argv[1]))
    metrics = Metrics(None)
    for _ in range(int(sys.argv[2])):
        metrics.order_synced(1, "booked", "")
    metrics.order_synced(1, "parked", "unmapped_vat_rate")
    metrics.paid_invoice_booked(1.5)
    print("counted", flush=True)
    sys.stdin.read()  # alive until the test lets it go
    """
)


def test_two_worker_processes_counters_sum_in_the_metrics_directory(tmp_path: Path) -> None:
    """Two processes running at once, each counting into the directory: a scrape of it (from a
    third process, as the web app is) sums them."""
    directory = tmp_path / "metrics"
    children = []
    try:
        for count in (3, 4):
            child = subprocess.Popen(
                [sys.executable, "-c", COUNTING_CHILD, str(directory), str(count)],
                cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            children.append(child)
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "counted"
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(directory))
        found: Samples = {}
        for family in registry.collect():
            for sample in family.samples:
                found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    finally:
        for child in children:
            child.communicate(timeout=30)
    outcome = "ccvbird_sync_outcomes_total"
    assert found[(outcome, (("outcome", "booked"), ("reason_code", "")))] == 7
    assert found[(outcome, (("outcome", "parked"), ("reason_code", "unmapped_vat_rate")))] == 2
    assert found[("ccvbird_paid_to_booked_seconds_count", ())] == 2
    assert found[("ccvbird_paid_to_booked_seconds_sum", ())] == 3.0


def test_metrics_files_are_kept_while_a_process_of_the_directory_lives(tmp_path: Path) -> None:
    """A dead worker's counts stay while others run (removing them would lower the sums);
    once no process of the directory is alive, a start clears them all."""
    directory = tmp_path / "metrics"
    directory.mkdir()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    (directory / f"counter_{int(gone.stdout)}.db").write_bytes(b"")
    living = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                              stdin=subprocess.PIPE)  # fmt: skip
    try:
        (directory / f"counter_{living.pid}.db").write_bytes(b"")
        assert clear_when_unused(directory) is False
        assert len(list(directory.glob("*.db"))) == 2
    finally:
        assert living.stdin is not None
        living.stdin.close()
        living.wait(30)
    assert clear_when_unused(directory) is True
    assert list(directory.glob("*.db")) == []


class NoQueue:
    def enqueue_order(self, connection_id: int, order_id: str, *, delay_seconds: float = 0) -> None:
        raise AssertionError("nothing is queued here")


def test_the_web_app_serves_metrics_and_asks_for_the_token_when_one_is_set(
    world: World,
) -> None:
    endpoint = metrics_endpoint(world.app, None, multiprocess=False)
    open_app = create_web_app(world.app, NoQueue(), metrics=endpoint.render)
    with TestClient(open_app) as client:
        answer = client.get("/metrics")
    assert answer.status_code == 200
    assert ("ccvbird_metrics_source_up", (("source", "database"),)) in samples(answer.text)

    world.app.settings = world.app.settings.model_copy(
        update={"metrics_token": SecretStr("scrape-me-7f3a")}
    )
    guarded = create_web_app(world.app, NoQueue(), metrics=endpoint.render)
    with TestClient(guarded) as client:
        assert client.get("/metrics").status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert client.get("/metrics", headers=wrong).status_code == 401
        right = {"Authorization": "Bearer scrape-me-7f3a"}
        assert client.get("/metrics", headers=right).status_code == 200
        assert client.get("/healthz").status_code == 200  # probes need no token


def test_json_log_lines_carry_the_connection_and_order_but_no_customer_data(
    world: World,
) -> None:
    """A booking logs (its HTTP requests, at least): each line is JSON with the ids bound by
    the engine, and none holds the customer's e-mail, name, street or the shop's secret."""
    shop = world.sandboxes.shop
    order_id = str(shop.create_order(status=7, paid=True, scenario="consumer"))
    order = world.app.shop_for(world.connection_id).get_order(order_id)
    billing = order.customer.billing
    private = [order.customer.email, billing.address_line_1, billing.last_name]
    private += [world.sandboxes.ccv_secret, world.sandboxes.moneybird_token]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        with world.app.leased_engine(world.connection_id, "test") as engine:
            result = engine.sync_order(world.connection_id, order_id)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    assert result.outcome.value == "booked"
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    booking = [line for line in lines if line.get("order_id") == order_id]
    assert booking, lines
    for line in booking:
        assert line["connection_id"] == world.connection_id
        assert {"timestamp", "level", "logger", "message"} <= set(line)
    for text in stream.getvalue().splitlines():
        for value in filter(None, private):
            assert value not in text, (value, text)
