"""Paging over many orders, CCV's limits, and faults: every order exactly once, whatever happens."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from ccvbird.adapters.ccvshop import CcvCredentials, CcvShopClient, OrderFilter, PagingError
from ccvbird.adapters.http import RetryPolicy
from ccvbird.domain.errors import RateLimited, RequestTimeout
from ccvbird.sandbox.ccvshop import FaultPlan, Limits, SandboxShop

from .conftest import ClientFactory, FakeClock, ShopFactory


def completed_ids(shop: SandboxShop) -> list[str]:
    return [str(o["id"]) for o in shop.orders() if o["is_completed"]]


def test_paging_over_a_thousand_orders(make_shop: ShopFactory, connect: ClientFactory) -> None:
    shop = make_shop(max_page_size=100)
    shop.generate(1050)
    client = connect(shop, page_size=100)
    seen = [str(body["id"]) for body in client.order_bodies()]
    assert len(seen) > 1000
    assert seen == completed_ids(shop)
    assert client.requests_sent == {"GET orders": -(-len(seen) // 100)}


def test_a_shop_that_serves_fewer_per_page_than_asked_is_followed_to_the_end(
    make_shop: ShopFactory, connect: ClientFactory
) -> None:
    shop = make_shop(max_page_size=7)
    shop.generate(60)
    client = connect(shop, page_size=100)
    assert [str(b["id"]) for b in client.order_bodies()] == completed_ids(shop)
    assert client.requests_sent["GET orders"] == -(-len(completed_ids(shop)) // 7)


def test_429_and_5xx_at_20_percent_still_yield_every_order_exactly_once(
    make_shop: ShopFactory, connect: ClientFactory, clock: FakeClock
) -> None:
    faults = FaultPlan(rate=0.2, seed=7, kinds=("429.10", "429.11", "500", "503"))
    shop = make_shop(faults=faults, max_page_size=50)
    shop.generate(1000)
    client = connect(shop, page_size=50, retry=RetryPolicy(attempts=12, seed=3))
    orders = list(client.orders())
    ids = [o.order_id for o in orders]
    assert Counter(ids).most_common(1)[0][1] == 1
    assert ids == completed_ids(shop)
    assert all(order.rows for order in orders)
    assert set(faults.injected) == {"429.10", "429.11", "500", "503"}
    assert sum(faults.injected.values()) > 150


def test_lost_and_slow_answers_are_retried_for_reads(
    make_shop: ShopFactory, connect: ClientFactory, clock: FakeClock
) -> None:
    faults = FaultPlan(rate=0.3, seed=11, kinds=("timeout", "slow"), slow_seconds=5)
    shop = make_shop(faults=faults)
    shop.generate(80)
    client = connect(shop, page_size=25, retry=RetryPolicy(attempts=10, seed=3))
    assert [o.order_id for o in client.orders()] == completed_ids(shop)
    assert faults.injected["timeout"] > 0
    assert clock.slept >= 5 * faults.injected["slow"]


def test_a_write_whose_answer_is_lost_is_not_repeated_but_did_happen(
    make_shop: ShopFactory, connect: ClientFactory
) -> None:
    shop = make_shop(faults=FaultPlan(rate=1.0, kinds=("timeout",)))
    client = connect(shop, retry=RetryPolicy(attempts=5, seed=1))
    with pytest.raises(RequestTimeout):
        client.create_webhook("orders.created", "https://app.test/created")
    assert [h["address"] for h in shop.webhooks()] == ["https://app.test/created"]


def test_the_client_keeps_to_ccvs_limits(make_shop: ShopFactory, connect: ClientFactory,
                                         clock: FakeClock) -> None:  # fmt: skip
    shop = make_shop(limits=Limits())
    shop.generate(400)
    client = connect(shop)
    fetched = list(client.orders())
    assert len(fetched) == len(completed_ids(shop))
    assert shop.limiter.refused == {}
    # ~390 rows calls at 150 a minute take more than two minutes (of fake time).
    assert clock.slept >= 120


def test_the_shop_enforces_its_limits(make_shop: ShopFactory, connect: ClientFactory) -> None:
    shop = make_shop(limits=Limits(gets=150, writes=100, total=10_000))
    greedy = connect(shop, budget=_Unpaced(), retry=RetryPolicy(attempts=1))
    for _ in range(150):
        greedy.paymethods()
    with pytest.raises(RateLimited, match=r"429 429\.10") as caught:
        greedy.paymethods()
    assert caught.value.retry_at is not None
    assert greedy.webshops()  # another resource has its own budget
    assert shop.limiter.refused == {"429.10": 1}


def test_the_shops_total_limit_answers_429_11(
    make_shop: ShopFactory, connect: ClientFactory
) -> None:
    shop = make_shop(limits=Limits(total=5))
    greedy = connect(shop, budget=_Unpaced(), retry=RetryPolicy(attempts=1))
    for _ in range(5):
        greedy.paymethods()
    with pytest.raises(RateLimited, match=r"429\.11.*total"):
        greedy.webshops()


class _Unpaced:
    """A budget that never waits: to see the shop's own limits."""

    def reserve(self, key: str) -> float:
        return 0.0

    def block_until(self, key: str, moment: float) -> None:
        return None


# -- a shop whose next links misbehave (a stand-in server; the sandbox pages correctly) -----


def _looping_shop(pages: dict[str, dict[str, Any]]) -> CcvShopClient:
    def answer(request: httpx.Request) -> httpx.Response:
        key = request.url.raw_path.decode()
        return httpx.Response(200, json=pages[key])

    http = httpx.Client(transport=httpx.MockTransport(answer))
    credentials = CcvCredentials("https://shop.test", "pub", "sec")
    return CcvShopClient(credentials, http=http, page_size=2, retry=RetryPolicy(attempts=1))


FIRST = "/api/rest/v1/orders?start=0&size=2&orderby=id"


def test_a_next_link_back_to_a_page_already_read_is_a_loop() -> None:
    second = "/api/rest/v1/orders/?start=2&size=2&orderby=id"
    client = _looping_shop(
        {
            FIRST: {"items": [{"id": 1}, {"id": 2}], "next": f"https://shop.test{second}"},
            second: {"items": [{"id": 3}], "next": f"https://shop.test{FIRST}"},
        }
    )
    with pytest.raises(PagingError, match="loops"):
        list(client.order_bodies())


def test_endless_empty_pages_are_a_loop() -> None:
    pages = {
        f"/api/rest/v1/orders?start={n}&size=2&orderby=id": {
            "items": [],
            "next": f"https://shop.test/api/rest/v1/orders?start={n + 2}&size=2&orderby=id",
        }
        for n in range(0, 20, 2)
    }
    with pytest.raises(PagingError, match="empty pages"):
        list(_looping_shop(pages).order_bodies(OrderFilter()))


def test_a_next_link_leaving_the_api_is_refused() -> None:
    client = _looping_shop({FIRST: {"items": [], "next": "https://evil.test/steal?x=1"}})
    with pytest.raises(PagingError, match="leaves the API"):
        list(client.order_bodies())


def test_a_next_link_on_another_host_is_fetched_from_the_shop_itself() -> None:
    seen_hosts: list[str] = []
    second = "/api/rest/v1/orders/?start=2&size=2&orderby=id"

    def answer(request: httpx.Request) -> httpx.Response:
        seen_hosts.append(request.url.host)
        if request.url.raw_path.decode() == FIRST:
            return httpx.Response(
                200, json={"items": [{"id": 1}], "next": f"https://cdn.other.test{second}"}
            )
        return httpx.Response(200, json={"items": [{"id": 2}], "next": None})

    http = httpx.Client(transport=httpx.MockTransport(answer))
    client = CcvShopClient(CcvCredentials("https://shop.test", "p", "s"), http=http, page_size=2)
    assert [b["id"] for b in client.order_bodies()] == [1, 2]
    assert seen_hosts == ["shop.test", "shop.test"]
