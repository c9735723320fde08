"""The sandbox's ways in: order files, the merchant's backend over HTTP, and a real server."""

from __future__ import annotations

import json
import socket
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from ccvbird.adapters.ccvshop import CcvCredentials, CcvShopClient, OrderFilter
from ccvbird.adapters.ccvshop.wire import dumps
from ccvbird.sandbox.ccvshop import (
    DEFAULT_PUBLIC_KEY,
    DEFAULT_SECRET,
    InProcessTransport,
    OrderFileError,
    SandboxConfig,
    SandboxShop,
    build_shop,
    generate_orders,
    make_server,
)
from tests.shared import CCV_FIXTURES, require

from .conftest import ClientFactory

FIXTURES = CCV_FIXTURES


def test_orders_load_from_preview_files(
    tmp_path: Path, shop: SandboxShop, connect: ClientFactory
) -> None:
    documents = generate_orders(3, seed=5)
    for index, document in enumerate(documents):
        (tmp_path / f"order-{index}.json").write_text(dumps(document))
    (tmp_path / "notes.txt").write_text("not an order")
    loaded = shop.load_orders(tmp_path)
    assert loaded == [d["order"]["id"] for d in documents]
    client = connect(shop)
    fetched = {o.order_id: o for o in client.orders(OrderFilter(is_completed=None))}
    for document in documents:
        order = document["order"]
        if not order["is_completed"]:
            continue
        got = fetched[str(order["id"])]
        assert got.total_paid == order["total_price"]
        assert len(got.rows) == len(document["orderrows"]["items"])
    body = client.order_body(documents[0]["order"]["id"])
    assert body["href"].startswith(shop.base_url)


def test_the_captured_order_loads_with_its_links_rewritten(
    tmp_path: Path, shop: SandboxShop, connect: ClientFactory
) -> None:
    order = json.loads(require(FIXTURES / "order.json").read_text())
    row = json.loads((FIXTURES / "orderrow.json").read_text())
    (tmp_path / "real.json").write_text(json.dumps({"order": order, "orderrows": [row]}))
    (order_id,) = shop.load_orders(tmp_path / "real.json")
    assert order_id == 339323562
    client = connect(shop)
    fetched = client.order(order_id)
    assert fetched.total_paid == 590
    assert client.order_body(order_id)["orderrows"]["href"] == (
        f"{shop.base_url}/api/rest/v1/orders/339323562/orderrows/"
    )
    again = shop.add_order({"order": order, "orderrows": [row]})
    assert again != order_id  # a taken id gets a new one


def test_a_malformed_order_file_is_refused_naming_file_and_field(
    tmp_path: Path, shop: SandboxShop
) -> None:
    document = generate_orders(1, seed=1)[0]
    del document["order"]["total_price"]
    bad = tmp_path / "broken.json"
    bad.write_text(dumps([document]))
    with pytest.raises(OrderFileError, match=r"broken\.json\[0\]: order\.total_price: missing"):
        shop.load_orders(bad)
    with pytest.raises(OrderFileError, match="no such file"):
        shop.load_orders(tmp_path / "absent")


def test_the_merchant_backend_over_http(shop: SandboxShop, connect: ClientFactory) -> None:
    with httpx.Client(transport=InProcessTransport(shop), base_url=shop.base_url) as browser:
        made = browser.post("/_sandbox/orders", json={"status": 4, "paid": False})
        assert made.status_code == 201
        order_id = made.json()["id"]
        assert browser.post(f"/_sandbox/orders/{order_id}/paid", json={}).json()["paid"] is True
        moved = browser.post(f"/_sandbox/orders/{order_id}/status", json={"status": 7})
        assert moved.json()["status"] == 7
        bad = browser.post(f"/_sandbox/orders/{order_id}/status", json={"status": 99})
        assert bad.status_code == 400
        assert "status" in bad.json()["developermessage"]
        generated = browser.post("/_sandbox/orders/generate", json={"count": 5})
        assert len(generated.json()["created"]) == 5
        overview = browser.get("/_sandbox").json()
        assert overview["orders"] == 6
        credit = browser.post(f"/_sandbox/orders/{order_id}/credit")
        assert credit.json()["type"] == "credit"
    client = connect(shop)
    assert client.order(order_id).paid


def test_unknown_api_paths_answer_like_ccv(shop: SandboxShop) -> None:
    with httpx.Client(transport=InProcessTransport(shop), base_url=shop.base_url) as http:
        client = CcvShopClient(
            CcvCredentials(shop.base_url, DEFAULT_PUBLIC_KEY, DEFAULT_SECRET),
            http=http,
            clock=shop.clock,
        )
        with pytest.raises(Exception, match=r"404 404\.20"):
            client._get(client._url("products/nonsense"))


def _free_port() -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    return listener


def test_the_real_server_mode_serves_the_client_over_a_socket() -> None:
    """uvicorn on a loopback socket bound before the server starts (connections queue, so
    nothing needs to wait for start-up)."""
    listener = _free_port()
    port = listener.getsockname()[1]
    config = SandboxConfig(port=port, generate=12, seed=4)
    server = make_server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        credentials = CcvCredentials(config.base_url, "sandbox-public", "sandbox-secret")
        with CcvShopClient(credentials) as client:
            orders = list(client.orders())
            assert orders
            assert len(orders) == len([o for o in build_shop(config).orders() if o["is_completed"]])
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()
    assert not thread.is_alive()


def test_the_cli_settings_come_through_bootstrap(tmp_path: Path) -> None:
    from ccvbird import bootstrap

    document = generate_orders(1, seed=2)[0]
    (tmp_path / "one.json").write_text(dumps(document))
    config = bootstrap.ccv_sandbox_config(orders_dir=tmp_path, generate=3, fault_rate=0.1)
    text = config.describe()
    assert "http://127.0.0.1:8701/api/rest/v1/" in text
    assert "sandbox-public" in text
    assert "sandbox-secret" in text
    assert "10%" in text
    shop = build_shop(config)
    assert len(shop.orders()) == 4
    assert shop.orders()[0]["id"] == document["order"]["id"]


def test_generated_orders_can_span_a_year_up_to_the_shops_now() -> None:
    now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    shop = SandboxShop(seed=3, clock=now.timestamp)
    shop.generate(300, over=timedelta(days=365))
    dates = sorted(
        datetime.strptime(o["create_date"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        for o in shop.orders()
    )
    assert now - timedelta(days=365) < dates[0] < now - timedelta(days=360)
    assert now - timedelta(days=60) < dates[-1] <= now  # near now, never after it
    # The same seed makes the same orders, on the generator's own timeline by default.
    plain = SandboxShop(seed=3)
    plain.generate(300)
    assert [o["total_price"] for o in plain.orders()] == [o["total_price"] for o in shop.orders()]
