"""Many sandbox shops behind one server (``sandbox/ccvshop/mall.py``), read by ccvbird's client."""

from __future__ import annotations

import httpx
import pytest

from ccvbird.adapters.ccvshop.client import CcvCredentials, CcvShopClient
from ccvbird.adapters.ccvshop.transport import CcvBudget
from ccvbird.domain.errors import AuthenticationFailed
from ccvbird.sandbox.ccvshop.inprocess import InProcessTransport
from ccvbird.sandbox.ccvshop.mall import ShopMall, mall_public_key, mall_secret

BASE = "https://mall.sandbox.test"


class MallTransport(InProcessTransport):
    """The in-process transport, serving the whole mall instead of one shop."""

    def __init__(self, mall: ShopMall) -> None:
        self.shop = mall.shop(1)
        self.app = mall  # type: ignore[assignment]
        self._asgi = httpx.ASGITransport(app=mall)
        self._loop = None
        self._thread = None
        import threading

        self._lock = threading.Lock()


def _client(mall: ShopMall, number: int, secret: str | None = None) -> CcvShopClient:
    credentials = CcvCredentials(
        mall.shop_url(number), mall_public_key(number), secret or mall_secret(number)
    )
    http = httpx.Client(transport=MallTransport(mall))
    return CcvShopClient(credentials, http=http, budget=CcvBudget(gets=10**6, writes=10**6))


def test_each_shop_has_its_own_orders_key_and_pages() -> None:
    mall = ShopMall(BASE, 3)
    mall.shop(2).generate(130)  # more than one page of 100
    mall.shop(3).create_order(status=7, paid=True)
    with _client(mall, 2) as two, _client(mall, 3) as three:
        orders = list(two.order_bodies())
        assert len(orders) > 100  # more than a page: the next links stay under /shops/2
        assert all(o["href"].startswith(f"{BASE}/shops/2/api/rest/v1/") for o in orders)
        assert len(list(three.order_bodies())) == 1
        assert two.webshops()[0].name == "Shop 2 (sandbox)"


def test_a_shop_refuses_another_shops_key() -> None:
    mall = ShopMall(BASE, 2)
    with _client(mall, 2, secret=mall_secret(1)) as wrong, pytest.raises(AuthenticationFailed):
        wrong.webshops()


def test_a_shop_outside_the_mall_is_not_found() -> None:
    mall = ShopMall(BASE, 2)
    http = httpx.Client(transport=MallTransport(mall))
    assert http.get(f"{BASE}/shops/3/_sandbox").status_code == 404
    assert http.get(f"{BASE}/elsewhere").status_code == 404
