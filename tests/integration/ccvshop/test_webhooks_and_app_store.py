"""Webhook deliveries and the App Store flow, end to end between the sandbox and the client's
pure functions (the receiving app is a few lines in this file)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from ccvbird.adapters.ccvshop import (
    Handshake,
    SignatureMismatch,
    parse_webhook,
    verify_handshake,
    verify_install,
    verify_uninstall,
    webhook_hash,
)
from ccvbird.adapters.ccvshop.client import CcvShopClient
from ccvbird.domain.errors import AuthenticationFailed
from ccvbird.sandbox.ccvshop import (
    HandshakeRefused,
    InProcessTransport,
    RecordingPoster,
    SandboxShop,
)

from .conftest import ClientFactory, ShopFactory

# -- webhooks ------------------------------------------------------------------------------------


def test_order_events_reach_every_active_address_in_the_real_format(
    shop: SandboxShop, client: CcvShopClient, poster: RecordingPoster
) -> None:
    created = client.create_webhook("orders.created", "https://app.test/hooks/created/t0k3n")
    paid = client.create_webhook("orders.updated.ispaid", "https://app.test/hooks/paid/t0k3n")
    status = client.create_webhook("orders.updated.status", "https://app.test/hooks/status/t0k3n")
    also_paid = client.create_webhook("orders.updated.ispaid", "https://other.test/paid")
    muted = client.create_webhook("orders.updated.ispaid", "https://muted.test/paid")
    client.update_webhook(muted.id, is_active=False)
    keys = {h.address: h.key for h in (created, paid, status, also_paid)}

    order_id = shop.create_order(status=4, paid=False)
    shop.set_paid(order_id)
    shop.set_status(order_id, 7)
    shop.set_status(order_id, 7)  # no change, no event

    delivered = [(url, json.loads(body)) for url, body, _ in poster.calls]
    assert [url for url, _ in delivered] == [
        created.address,
        paid.address,
        also_paid.address,
        status.address,
    ]
    for url, body, headers in poster.calls:
        assert headers["x-hash"] == webhook_hash(keys[url], url, body)
        assert headers["Content-Type"] == "application/json"
        trigger = parse_webhook(body)
        assert trigger.order_id == str(order_id)
        assert trigger.shop == shop.base_url
    order = shop.order(order_id)
    assert order is not None
    status_body = delivered[-1][1]
    assert (status_body["previous_status"], status_body["status"]) == (4, 7)
    assert status_body["order_number"] == order["ordernumber"]
    assert delivered[1][1]["paid"] is True
    assert parse_webhook(poster.calls[1][1], event="orders.updated.ispaid").paid is True
    assert all(d.delivered for d in shop.deliveries)


def test_an_unfinished_checkout_announces_itself_when_it_completes(
    shop: SandboxShop, poster: RecordingPoster
) -> None:
    shop.add_webhook("orders.created", "https://app.test/created")
    basket = shop.create_order(status=None, paid=False)
    assert poster.calls == []
    shop.set_status(basket, 1)
    order = shop.order(basket)
    assert order is not None
    assert order["is_completed"] is True
    assert order["ordernumber"] is not None
    assert [json.loads(body)["id"] for _, body, _ in poster.calls] == [basket]


def test_a_failing_receiver_is_logged_not_fatal(make_shop: ShopFactory) -> None:
    def unreachable(url: str, body: bytes, headers: Mapping[str, str]) -> int:
        raise httpx.ConnectError("connection refused")

    shop = make_shop(poster=unreachable)
    shop.add_webhook("orders.created", "https://down.test/created")
    shop.create_order()
    (delivery,) = shop.deliveries
    assert not delivery.delivered
    assert "connection refused" in delivery.error


# -- the App Store -----------------------------------------------------------------------------


class App:
    """A tiny app on ccvbird's pure functions: what the web app will do, minus the web."""

    secret = "app-secret-from-the-app-center"
    handshake_uri = "https://ccvbird.test/ccv/handshake"
    install_uri = "https://ccvbird.test/ccv/install"
    uninstall_uri = "https://ccvbird.test/ccv/uninstall"

    def __init__(self, answer: int = 200) -> None:
        self.answer = answer
        self.handshakes: dict[str, Handshake] = {}
        self.uninstalled: list[str] = []

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        if url == self.handshake_uri:
            handshake = verify_handshake(self.secret, url, body, headers.get("x-hash"))
            self.handshakes[handshake.api_public] = handshake
            return self.answer
        if url == self.uninstall_uri:
            gone = verify_uninstall(self.secret, url, body, headers.get("x-hash"))
            self.uninstalled.append(gone.api_public)
            return 200
        return 404


def register(shop: SandboxShop, app: App) -> int:
    return shop.register_app(
        "ccvbird",
        app_secret=app.secret,
        handshake_uri=app.handshake_uri,
        install_uri=app.install_uri,
        uninstall_uri=app.uninstall_uri,
    )


def test_install_handshake_then_install_page_then_mark_installed_then_uninstall(
    make_shop: ShopFactory, connect: ClientFactory
) -> None:
    app = App()
    shop = make_shop(poster=app)
    app_id = register(shop, app)

    install_url = shop.install_app(app_id, language="nl")
    (handshake,) = app.handshakes.values()
    assert handshake.api_root == shop.base_url
    assert "^" in handshake.api_public  # real keys carry characters that need URL-encoding
    assert handshake.return_url.endswith(f"/_sandbox/apps/{app_id}/installed")

    page = urlsplit(install_url)
    assert f"{page.scheme}://{page.netloc}{page.path}" == app.install_uri
    assert "%5E" in page.query
    visit = verify_install(app.secret, install_url, dict(parse_qsl(page.query)))
    assert visit.api_public == handshake.api_public
    assert visit.language == "nl"

    client = connect(
        shop,
        public=handshake.api_public,
        secret=handshake.api_secret,
        api_root=handshake.api_root,
    )
    ours = client.our_app()
    assert ours.id == str(app_id)
    assert ours.is_installed is False
    client.set_app_installed(ours.id)
    assert client.our_app().is_installed is True
    assert shop.app(app_id).installed

    shop.uninstall_app(app_id)
    assert app.uninstalled == [handshake.api_public]
    with pytest.raises(AuthenticationFailed):
        client.apps()


def test_a_refused_handshake_stops_the_installation(make_shop: ShopFactory) -> None:
    app = App(answer=500)
    shop = make_shop(poster=app)
    app_id = register(shop, app)
    with pytest.raises(HandshakeRefused, match="500"):
        shop.install_app(app_id)
    (public,) = app.handshakes
    assert shop.secret_for(public) is None


def test_a_handshake_with_another_secret_is_refused_by_the_app(make_shop: ShopFactory) -> None:
    app = App()
    shop = make_shop(poster=app)
    app_id = shop.register_app(
        "impostor",
        app_secret="not-the-app-secret",
        handshake_uri=app.handshake_uri,
        install_uri=app.install_uri,
    )
    with pytest.raises(HandshakeRefused) as caught:
        shop.install_app(app_id)
    assert isinstance(caught.value.__cause__, SignatureMismatch)
    assert app.handshakes == {}


def test_the_install_button_redirects_the_browser(make_shop: ShopFactory) -> None:
    app = App()
    shop = make_shop(poster=app)
    app_id = register(shop, app)
    with httpx.Client(transport=InProcessTransport(shop), base_url=shop.base_url) as browser:
        response = browser.get(f"/_sandbox/apps/{app_id}/install", params={"language": "en"})
        assert response.status_code == 302
        location = response.headers["location"]
        assert location.startswith(app.install_uri + "?api_public=")
        query = dict(parse_qsl(urlsplit(location).query))
        assert verify_install(app.secret, app.install_uri, query).language == "en"
        page = browser.get(f"/_sandbox/apps/{app_id}/installed")
        assert "not marked installed" in page.text
