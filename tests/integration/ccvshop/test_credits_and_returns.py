"""Credits, cancellations and returns in the CCV sandbox, over signed HTTP (issue 11).

The merchant edits an order down (``/_sandbox/orders/{id}/credit…``) and the shop invoices the
difference as a ``type`` credit invoice; every order's debit and credit invoices net to the
order as it is now. Requests are signed here independently of ccvbird's client.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest

from ccvbird.sandbox.ccvshop import (
    DEFAULT_PUBLIC_KEY,
    DEFAULT_SECRET,
    InProcessTransport,
    RecordingPoster,
    SandboxConfig,
    SandboxShop,
    build_shop,
)

from .conftest import FakeClock

D = Decimal
V1 = "/api/rest/v1"


class Api:
    """Signed calls to the sandbox (HMAC-SHA512 of public|METHOD|uri|body|date)."""

    def __init__(self, http: httpx.Client, clock: FakeClock) -> None:
        self.http, self.clock = http, clock

    def call(self, method: str, uri: str, body: Any = None) -> httpx.Response:
        text = "" if body is None else json.dumps(body)
        date = datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        message = f"{DEFAULT_PUBLIC_KEY}|{method}|{uri}|{text}|{date}"
        signed = hmac.new(DEFAULT_SECRET.encode(), message.encode(), hashlib.sha512).hexdigest()
        headers = {"x-public": DEFAULT_PUBLIC_KEY, "x-date": date, "x-hash": signed}
        if text:
            headers["Content-Type"] = "application/json"
        return self.http.request(method, uri, content=text.encode() or None, headers=headers)

    def get(self, uri: str) -> Any:
        response = self.call("GET", uri)
        assert response.status_code == 200, response.text
        return json.loads(response.text, parse_float=Decimal)


@pytest.fixture
def http(shop: SandboxShop) -> Iterator[httpx.Client]:
    with httpx.Client(transport=InProcessTransport(shop), base_url=shop.base_url) as client:
        yield client


@pytest.fixture
def api(http: httpx.Client, clock: FakeClock) -> Api:
    return Api(http, clock)


def _merchant(http: httpx.Client, path: str, body: Any = None, status: int = 201) -> Any:
    response = http.post(f"/_sandbox{path}", json=body or {})
    assert response.status_code == status, response.text
    return json.loads(response.text, parse_float=Decimal)


def _order_with(shop: SandboxShop, wanted: Any) -> int:
    for order_id in shop.generate(60):
        order = shop.order(order_id)
        assert order is not None
        if order["paid"] and order["is_completed"] and order["status"] != 8 and wanted(order):
            return order_id
    raise AssertionError("the generator made no such order")


def _goods(shop: SandboxShop, order_id: int) -> list[dict[str, Any]]:
    return [r for r in shop.order_rows(order_id) or [] if r["product_type"] == "product"]


def _invoices(api: Api, number: int, kind: str = "") -> list[dict[str, Any]]:
    query = f"ordernumber={number}" + (f"&type={kind}" if kind else "")
    items: list[dict[str, Any]] = api.get(f"{V1}/invoices?{query}")["items"]
    return items


def _nets_to_the_order(api: Api, order_id: int) -> None:
    order = api.get(f"{V1}/orders/{order_id}")
    invoices = _invoices(api, order["ordernumber"])
    for name in ("total_price", "total_tax", "total_shipping", "total_discounts"):
        assert sum(i[name] for i in invoices) == order[name], name
    rows = api.get(f"{V1}/orders/{order_id}/orderrows")["items"]
    for row in rows:
        net = D(0)
        for invoice in invoices:
            for item in api.get(f"{V1}/invoices/{invoice['id']}/invoicerows")["items"]:
                if item["orderrow"]["href"].endswith(f"/{row['id']}"):
                    net += item["total_price_with_attributes"]
        assert net == row["total_price_with_attributes"]


def test_a_partial_credit_carries_its_discount_share_and_nets(
    shop: SandboxShop, http: httpx.Client, api: Api
) -> None:
    order_id = _order_with(
        shop,
        lambda o: o["total_discounts"] > 0 and len(_goods(shop, o["id"])) >= 2
        and _goods(shop, o["id"])[0]["count"] == 1,
    )  # fmt: skip
    before = json.loads(json.dumps(shop.order(order_id), default=str), parse_float=Decimal)
    goods = _goods(shop, order_id)
    row = goods[0]
    goods_value = sum(D(str(r["total_price_with_attributes"])) for r in goods)
    row_value = D(str(row["total_price_with_attributes"]))
    discount = D(str(before["total_discounts"]))

    credit = _merchant(
        http, f"/orders/{order_id}/credit/rows", {"rows": [{"id": row["id"], "count": 1}]}
    )

    left = (discount * (goods_value - row_value) / goods_value).quantize(
        D("0.01"), rounding=ROUND_HALF_UP
    )
    assert credit["type"] == "credit"
    assert credit["status"] == "3"  # refunded: reimbursed
    assert credit["total_discounts"] == -(discount - left)  # the row's share, given back
    assert credit["total_price"] < 0
    assert credit["total_price_exc_tax"] == credit["total_price"] - credit["total_tax"]
    assert [i["id"] for i in _invoices(api, before["ordernumber"], "credit")] == [credit["id"]]
    rows = api.get(f"{V1}/invoices/{credit['id']}/invoicerows")["items"]
    assert [(r["count"], r["orderrow"]["href"].rsplit("/", 1)[-1]) for r in rows] == [
        (1, str(row["id"]))
    ]
    assert rows[0]["total_price_with_attributes"] < 0
    assert rows[0]["price"] == -row["price"]
    assert api.get(f"{V1}/invoicerows/{rows[0]['id']}") == rows[0]
    _nets_to_the_order(api, order_id)


def test_two_partial_credits_then_the_rest_sum_to_the_debit_exactly(
    shop: SandboxShop, http: httpx.Client, api: Api
) -> None:
    order_id = _order_with(
        shop,
        lambda o: o["total_discounts"] > 0 and o["total_shipping"] > 0
        and len(_goods(shop, o["id"])) >= 2,
    )  # fmt: skip
    first, second = _goods(shop, order_id)[:2]
    _merchant(http, f"/orders/{order_id}/credit/rows", {"rows": [{"id": first["id"]}]})
    _merchant(
        http, f"/orders/{order_id}/credit/rows",
        {"rows": [{"id": second["id"], "count": 1}], "shipping": True, "refunded": False},
    )  # fmt: skip
    _merchant(http, f"/orders/{order_id}/credit")
    order = api.get(f"{V1}/orders/{order_id}")

    invoices = _invoices(api, order["ordernumber"])
    assert [i["type"] for i in invoices] == ["debit", "credit", "credit", "credit"]
    assert [i["status"] for i in invoices] == ["1", "3", "2", "3"]
    assert sum(i["total_price"] for i in invoices) == 0 == order["total_price"]
    assert sum(i["total_discounts"] for i in invoices) == 0
    assert invoices[2]["total_shipping"] == -invoices[0]["total_shipping"]
    _nets_to_the_order(api, order_id)
    again = http.post(f"/_sandbox/orders/{order_id}/credit", json={})
    assert again.status_code == 409
    nothing = api.call("POST", f"{V1}/orders/{order_id}/invoices", {})
    assert nothing.status_code == 400
    assert nothing.json()["code"] == "400.10"


def test_a_shipping_only_credit(shop: SandboxShop, http: httpx.Client, api: Api) -> None:
    order_id = _order_with(shop, lambda o: o["total_shipping"] > 0)
    shipping = D(str(shop.order(order_id)["total_shipping"]))  # type: ignore[index]

    credit = _merchant(http, f"/orders/{order_id}/credit/shipping")

    assert credit["total_shipping"] == -shipping
    assert credit["total_price"] == -shipping
    assert api.get(f"{V1}/invoices/{credit['id']}/invoicerows")["items"] == []
    assert credit["total_discounts"] == 0
    _nets_to_the_order(api, order_id)


def test_a_cancellation_changes_the_status_and_credits_nothing(
    shop: SandboxShop, http: httpx.Client, api: Api, poster: RecordingPoster
) -> None:
    order_id = _order_with(shop, lambda o: True)
    api.call(
        "POST", f"{V1}/webhooks", {"event": "orders.updated.status", "address": "https://a.test/s"}
    )
    number = shop.order(order_id)["ordernumber"]  # type: ignore[index]

    cancelled = _merchant(http, f"/orders/{order_id}/cancel", status=200)

    assert cancelled["status"] == 8
    assert [i["type"] for i in _invoices(api, number)] == ["debit"]
    body = json.loads(poster.calls[-1][1])
    assert (body["id"], body["previous_status"], body["status"]) == (order_id, 7, 8)


def test_webhooks_tell_of_a_credit_and_of_its_status(
    shop: SandboxShop, http: httpx.Client, api: Api, poster: RecordingPoster
) -> None:
    order_id = _order_with(shop, lambda o: o["status"] == 7)
    for event in ("invoices.updated.status", "orders.updated.status"):
        made = api.call(
            "POST", f"{V1}/webhooks", {"event": event, "address": f"https://a.test/{event}"}
        )
        assert made.status_code == 201
    refused = api.call(
        "POST", f"{V1}/webhooks", {"event": "invoices.created", "address": "https://a.test/x"}
    )
    assert refused.status_code == 400  # not an event the reference knows

    credit = _merchant(http, f"/orders/{order_id}/credit", {"refunded": False})
    patched = api.call("PATCH", f"{V1}/invoices/{credit['id']}", {"status": "reimbursed"})

    assert patched.status_code == 204
    sent = [(url.rsplit("/", 1)[-1], json.loads(body)) for url, body, _ in poster.calls]
    assert [event for event, _ in sent] == [
        "orders.updated.status", "invoices.updated.status", "invoices.updated.status",
    ]  # fmt: skip
    order_event, created, reimbursed = (body for _, body in sent)
    assert (order_event["id"], order_event["previous_status"], order_event["status"]) == (
        order_id, 7, 7,
    )  # fmt: skip
    assert created["id"] == credit["id"] and created["type"] == "credit"
    assert (created["previous_status"], created["status"]) == (None, "2")
    assert (created["order_id"], created["order_href"]) == (
        order_id,
        f"{shop.root}/orders/{order_id}",
    )
    assert (reimbursed["previous_status"], reimbursed["status"]) == ("2", "3")
    assert api.get(f"{V1}/invoices/{credit['id']}")["status_name"] == "Terugbetaald"


def test_an_invoice_for_the_difference_through_the_api(shop: SandboxShop, api: Api) -> None:
    order_id = shop.create_order(status=4, paid=False)
    assert shop.invoices() == []

    made = api.call("POST", f"{V1}/orders/{order_id}/invoices", {"external_reference": "X-1"})
    unknown = api.call("POST", f"{V1}/orders/{order_id}/invoices", {"colour": "red"})

    assert made.status_code == 201, made.text
    invoice = made.json()
    assert (invoice["type"], invoice["status"], invoice["external_reference"]) == (
        "debit", "2", "X-1",
    )  # fmt: skip
    assert unknown.status_code == 400
    shop.set_paid(order_id)  # paid later: no second invoice, nothing changed
    assert len(shop.invoices()) == 1
    assert api.call("GET", f"{V1}/orders/{order_id}/invoices").status_code == 405


def test_returns_their_rows_statuses_webhooks_and_credit(
    shop: SandboxShop, http: httpx.Client, api: Api, poster: RecordingPoster
) -> None:
    order_id = _order_with(shop, lambda o: any(r["count"] >= 2 for r in _goods(shop, o["id"])))
    row = next(r for r in _goods(shop, order_id) if r["count"] >= 2)
    for event in ("returns.created", "returns.updated", "returns.deleted"):
        api.call("POST", f"{V1}/webhooks", {"event": event, "address": f"https://a.test/{event}"})
    number = shop.order(order_id)["ordernumber"]  # type: ignore[index]

    made = _merchant(http, f"/orders/{order_id}/returns", {"rows": [{"id": row["id"], "count": 1}]})
    listed = api.get(f"{V1}/returns?ordernumber={number}")["items"]
    rows = api.get(f"{V1}/returns/{made['id']}/returnrows")["items"]
    moved = _merchant(http, f"/returns/{made['id']}/status", {"status": 4}, status=200)
    credit = _merchant(http, f"/returns/{made['id']}/credit")
    credited = api.get(f"{V1}/returns/{made['id']}")
    other = _merchant(http, f"/orders/{order_id}/returns", {"rows": [{"id": row["id"]}]})
    deleted = http.delete(f"/_sandbox/returns/{other['id']}")

    assert [r["id"] for r in listed] == [made["id"]]
    assert (made["status"], made["status_name"]) == ("1", "Nieuw")
    assert [(r["count"], r["orderrow"]["href"].rsplit("/", 1)[-1]) for r in rows] == [
        (1, str(row["id"]))
    ]
    assert moved["status"] == "4"
    assert (credited["status"], credited["status_name"]) == ("8", "Gecrediteerd")
    invoice_rows = api.get(f"{V1}/invoices/{credit['id']}/invoicerows")["items"]
    assert [r["count"] for r in invoice_rows] == [1]
    assert deleted.status_code == 204
    assert api.call("GET", f"{V1}/returns/{other['id']}").status_code == 404
    events = [(url.rsplit("/", 1)[-1], json.loads(body)) for url, body, _ in poster.calls]
    assert [(e, b["id"], b["status"]) for e, b in events] == [
        ("returns.created", made["id"], "1"),
        ("returns.updated", made["id"], "4"),
        ("returns.updated", made["id"], "8"),
        ("returns.created", other["id"], "1"),
        ("returns.deleted", other["id"], "1"),
    ]
    assert events[0][1]["order_id"] == order_id
    settings = api.get(f"{V1}/webshops/{shop.webshop_id}/settings")
    assert [s["id"] for s in settings["return_status"]] == list(range(1, 9))
    _nets_to_the_order(api, order_id)


def test_a_credit_that_does_not_fit_is_refused(shop: SandboxShop, http: httpx.Client) -> None:
    unpaid = shop.create_order(status=4, paid=False)
    paid = _order_with(shop, lambda o: True)
    row = _goods(shop, paid)[0]

    for path, body in (
        (f"/orders/{unpaid}/credit", {}),
        (f"/orders/{paid}/credit/rows", {"rows": [{"id": row["id"], "count": 99}]}),
        (f"/orders/{paid}/credit/rows", {"rows": [{"id": 1, "count": 1}]}),
    ):
        refused = http.post(f"/_sandbox{path}", json=body)
        assert refused.status_code == 409, path
        assert set(refused.json()) == {"status", "code", "developermessage"}
    assert http.post(f"/_sandbox/orders/{paid}/credit/rows", json={"rows": []}).status_code == 400


def test_the_sandbox_servers_orders_are_dated_over_the_last_25_days() -> None:
    now = datetime.now(UTC)
    shop = build_shop(SandboxConfig(generate=30, seed=2))
    fixed = build_shop(SandboxConfig(generate=30, seed=2, history_days=None))

    dates = [datetime.fromisoformat(o["create_date"].replace("Z", "+00:00")) for o in shop.orders()]
    assert all(
        now - timedelta(days=25, minutes=5) <= d <= now + timedelta(minutes=5) for d in dates
    )
    assert min(dates) < now - timedelta(days=20)
    # The same seed makes the same orders, on the generator's own timeline if asked.
    assert [o["total_price"] for o in fixed.orders()] == [o["total_price"] for o in shop.orders()]
    assert fixed.orders()[0]["create_date"].startswith("2026-01")
