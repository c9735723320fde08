"""What a request may bring: bodies are limited in size on every route, and a body or address
the routes cannot read — a thousand-digit id, JSON nested 100,000 deep — is a bad request
(400), never a server error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ccvbird.adapters.ccvshop.signing import hmac_sha512
from ccvbird.sandbox.moneybird import constants as mb
from ccvbird.sandbox.moneybird.webhooks import signature_header
from tests.web.conftest import (
    APP_SECRET,
    PUBLIC_URL,
    SHOP_URL,
    World,
    first_start,
    make_world,
    set_up,
)

DEEP = b"[" * 100_000 + b"]" * 100_000
LONG_ID = "1" * 1000


def signed(path: str, body: bytes) -> dict[str, str]:
    """An App Store call correctly signed with the app secret (as only CCV can)."""
    return {"x-hash": hmac_sha512(APP_SECRET, f"{PUBLIC_URL}{path}".encode() + b"|" + body)}


def test_an_oversized_body_is_refused_on_every_route(world: World) -> None:
    first_start(world)
    connection_id = set_up(world)
    token = world.app.store.webhook_token(connection_id)
    big = b"x" * 1_000_001
    for path in (
        f"/webhooks/ccv/{token}/orders.created",
        "/webhooks/moneybird/anything",
        "/ccv/handshake",
        "/ccv/uninstall",
        "/login",
        f"/connections/{connection_id}/profile",
    ):
        assert world.client.post(path, content=big).status_code == 413, path

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while read
        for _ in range(20):
            yield b"x" * 100_000

    response = world.client.post(f"/webhooks/ccv/{token}/orders.created", content=chunks())
    assert response.status_code == 413


def test_the_body_limit_is_a_setting(tmp_path: Path) -> None:
    for world in make_world(tmp_path, max_body_bytes=2048):
        assert world.client.post("/ccv/handshake", content=b"x" * 2049).status_code == 413
        assert world.client.post("/ccv/handshake", content=b"{}").status_code == 403  # unsigned


def test_a_ccv_delivery_with_a_thousand_digit_id_or_deep_json_is_a_bad_request(
    world: World,
) -> None:
    first_start(world)
    connection_id = set_up(world)
    world.queue.items.clear()
    address = f"/webhooks/ccv/{world.app.store.webhook_token(connection_id)}/orders.created"
    long_id = f'{{"id": {LONG_ID}, "href": "{SHOP_URL}/api/rest/v1/orders/{LONG_ID}"}}'.encode()
    long_href = f'{{"href": "{SHOP_URL}/api/rest/v1/orders/{LONG_ID}"}}'.encode()
    huge_number = f'{{"id": {"9" * 5000}, "href": "{SHOP_URL}/"}}'.encode()
    for body in (long_id, long_href, huge_number, DEEP, b'{"a": ' * 100_000):
        response = world.client.post(address, content=body)
        assert response.status_code == 400, (body[:40], response.text)
    assert world.queue.items == []


def test_app_store_calls_with_deep_json_are_bad_requests(world: World) -> None:
    for path in ("/ccv/handshake", "/ccv/uninstall"):
        response = world.client.post(path, content=DEEP, headers=signed(path, DEEP))
        assert response.status_code == 400, response.text


def test_a_moneybird_push_with_deep_json_is_refused(world: World) -> None:
    first_start(world)
    connection_id = set_up(world)
    token = world.client.app.state.backend.installs.moneybird_address_token(connection_id)  # type: ignore[attr-defined]
    (webhook,) = world.moneybird.books(mb.ADMINISTRATION_ID).webhooks.values()
    headers = {
        "Idempotency-Key": "deep",
        "Moneybird-Signature": signature_header(
            webhook.secrets, DEEP, int(world.moneybird.clock())
        ),
    }
    response = world.client.post(f"/webhooks/moneybird/{token}", content=DEEP, headers=headers)
    assert response.status_code == 400, response.text
    unsigned = world.client.post(f"/webhooks/moneybird/{token}", content=DEEP)
    assert unsigned.status_code == 401


def test_pages_and_the_api_answer_a_thousand_digit_id_with_400(world: World) -> None:
    first_start(world)
    connection_id = set_up(world)
    for path in (
        f"/api/connections/{LONG_ID}",
        f"/api/connections/{LONG_ID}/orders",
        f"/api/connections/{connection_id}/orders?offset={LONG_ID}",
        f"/connections/{LONG_ID}",
        f"/connections/{connection_id}/orders/{LONG_ID}",
        f"/connections/{connection_id}/orders?page={LONG_ID}",
    ):
        response = world.client.get(path, follow_redirects=False)
        assert response.status_code == 400, (path, response.status_code)
    page = world.client.get(f"/connections/{LONG_ID}")
    assert "Ongeldig verzoek" in page.text
