"""The sandbox's merchant page: a person tries ccvbird by hand with buttons, not curl.

Each button is pressed as a browser would (an HTML form, url-encoded), and the outcome is read
from the shop's own records: the order, its credit invoices, the App Store's apps.
"""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape

import httpx
import pytest

from ccvbird.sandbox.ccvshop import InProcessTransport, RecordingPoster, SandboxShop

PAGE = "/_sandbox/shop"


@pytest.fixture
def shop() -> SandboxShop:
    shop = SandboxShop(base_url="http://shop.test", poster=RecordingPoster())
    shop.generate(3)
    return shop


@pytest.fixture
def browser(shop: SandboxShop) -> httpx.Client:
    return httpx.Client(transport=InProcessTransport(shop), base_url="http://shop.test")


def press(browser: httpx.Client, action: str, **fields: str) -> httpx.Response:
    """Submit the page's form with ``action`` (it must be on the page), as a browser does."""
    page = browser.get(PAGE).text
    assert f'action="{action}"' in page, action
    response = browser.post(action, data=fields)
    assert response.status_code == 303, response.text
    return browser.get(response.headers["location"])


def test_the_page_lists_every_order_and_loads_nothing_from_elsewhere(
    shop: SandboxShop, browser: httpx.Client
) -> None:
    page = browser.get(PAGE)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for order in shop.orders():
        assert f'id="order-{order["id"]}"' in page.text
        assert str(order["ordernumber_full"]) in page.text
    # Offline: no script, stylesheet or image from another site.
    assert not re.search(r'(src|href)="https?://', page.text)
    assert "<script" not in page.text


def test_a_new_order_is_placed_paid_and_completed(shop: SandboxShop, browser: httpx.Client) -> None:
    before = {o["id"] for o in shop.orders()}
    page = press(browser, f"{PAGE}/orders", scenario="b2b", paid="1", complete="1")
    (new,) = [o for o in shop.orders() if o["id"] not in before]
    assert new["paid"] is True and new["status"] == 7
    assert f"Bestelling {new['ordernumber_full']} geplaatst." in unescape(page.text)


def test_an_unpaid_order_is_marked_paid_then_completed(
    shop: SandboxShop, browser: httpx.Client
) -> None:
    order_id = shop.create_order(status=4, paid=False)
    press(browser, f"{PAGE}/orders/{order_id}/paid")
    assert shop.order(order_id)["paid"] is True  # type: ignore[index]
    press(browser, f"{PAGE}/orders/{order_id}/complete")
    assert shop.order(order_id)["status"] == 7  # type: ignore[index]


def _credits(shop: SandboxShop, order_id: int) -> list[dict]:  # type: ignore[type-arg]
    return [
        i for i in shop.invoices() if i["type"] == "credit" and i["order"].endswith(f"/{order_id}")
    ]


def test_part_of_an_order_is_credited_with_chosen_rows(
    shop: SandboxShop, browser: httpx.Client
) -> None:
    order_id = shop.create_order(status=7, paid=True)
    rows = shop.order_rows(order_id) or []
    row = rows[0]
    press(browser, f"{PAGE}/orders/{order_id}/credit/rows", **{f"row_{row['id']}": "1"})
    (credit,) = _credits(shop, order_id)
    (credit_row,) = shop.invoice_rows(int(credit["id"])) or []
    assert Decimal(str(credit_row["count"])) == 1
    assert credit_row["orderrow"]["href"].endswith(f"/{row['id']}")


def test_a_full_credit_a_shipping_credit_and_a_cancellation(
    shop: SandboxShop, browser: httpx.Client
) -> None:
    shipped = next(
        o["id"] for o in shop.orders() if o["paid"] and Decimal(str(o["total_shipping"])) > 0
    )
    press(browser, f"{PAGE}/orders/{shipped}/credit/shipping")
    (shipping,) = _credits(shop, shipped)
    assert Decimal(str(shipping["total_shipping"])) < 0 and not shop.invoice_rows(
        int(shipping["id"])
    )
    press(browser, f"{PAGE}/orders/{shipped}/credit")
    assert Decimal(str(shop.order(shipped)["total_price"])) == 0  # type: ignore[index]
    other = shop.create_order(status=7, paid=True)
    press(browser, f"{PAGE}/orders/{other}/cancel")
    assert shop.order(other)["status"] == 8  # type: ignore[index]
    assert _credits(shop, other) == []


def test_a_refused_action_says_why_on_the_page(shop: SandboxShop, browser: httpx.Client) -> None:
    unpaid = shop.create_order(status=4, paid=False)  # nothing invoiced yet: nothing to credit
    page = press(browser, f"{PAGE}/orders/{unpaid}/credit")
    assert 'class="refused"' in page.text
    assert _credits(shop, unpaid) == []


def test_an_app_is_added_to_the_app_store_and_installed_with_one_click(
    shop: SandboxShop, browser: httpx.Client
) -> None:
    page = press(
        browser, f"{PAGE}/apps", name="ccvbird", url="http://127.0.0.1:8700",
        app_secret="a-secret-for-the-test",
    )  # fmt: skip
    (app,) = shop.apps()
    assert app.install_uri == "http://127.0.0.1:8700/ccv/install"
    assert app.handshake_uri == "http://127.0.0.1:8700/ccv/handshake"
    assert "CCVBIRD_CCV_APP_SECRET=a-secret-for-the-test" in unescape(page.text)
    assert f'href="/_sandbox/apps/{app.app_id}/install"' in page.text
