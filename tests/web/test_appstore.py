"""The CCV App Store flow: handshake, install wizard, marked installed, back to the shop;
uninstall keeps the history; installing again brings the connection back."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tests.web.conftest import World, connect_moneybird, first_start, install, save_profile


def test_install_runs_the_wizard_marks_the_app_installed_and_returns_to_the_shop(
    world: World,
) -> None:
    first_start(world)
    connection_id = install(world)
    connection = world.app.store.connection(connection_id)
    assert connection.shop_url == world.shop.base_url
    assert connection.paused_reason.startswith("Setup is not finished")
    secrets = world.app.store.secrets(connection_id)
    assert world.shop.app_of(secrets.ccv_public) == world.app_id  # the handed-over keys
    assert not world.shop.app(world.app_id).installed

    connect_moneybird(world, connection_id)
    assert save_profile(world, connection_id).status_code == 303
    response = world.post_form(
        f"/connections/{connection_id}/setup", f"/connections/{connection_id}/setup/finish"
    )
    assert response.status_code == 303
    assert (
        response.headers["location"]
        == f"{world.shop.base_url}/_sandbox/apps/{world.app_id}/installed"
    )
    assert world.shop.app(world.app_id).installed
    assert world.app.store.connection(connection_id).paused_reason == ""
    token = world.app.store.webhook_token(connection_id)
    hooks = world.shop.webhooks()
    assert sorted(h["event"] for h in hooks) == [
        "invoices.updated.status", "orders.created", "orders.updated.ispaid",
        "orders.updated.status", "returns.created", "returns.updated",
    ]  # fmt: skip
    assert all(f"/webhooks/ccv/{token}/" in h["address"] for h in hooks)
    # Finishing again registers nothing twice.
    world.client.post(
        f"/connections/{connection_id}/setup/finish",
        data={"csrf_token": world.csrf(f"/connections/{connection_id}/setup")},
    )
    assert len(world.shop.webhooks()) == 6


def test_the_wizard_cannot_finish_without_moneybird(world: World) -> None:
    first_start(world)
    connection_id = install(world)
    response = world.client.post(
        f"/connections/{connection_id}/setup/finish",
        data={"csrf_token": world.csrf(f"/connections/{connection_id}/setup")},
    )
    assert response.status_code == 200
    assert "Koppel eerst Moneybird" in response.text or "connect Moneybird" in response.text
    assert not world.shop.app(world.app_id).installed
    assert world.shop.webhooks() == []


def test_a_second_handshake_with_the_same_keys_is_refused(world: World) -> None:
    first_start(world)
    install(world)
    call = [c for c in world.shop.deliveries]
    assert call == []
    connection = world.app.store.connections()[0]
    secrets = world.app.store.secrets(connection.id)
    assert secrets.ccv_secret  # stored (encrypted at rest)
    # Replay the handshake CCV sent: a known api_public is refused.
    import json

    from ccvbird.sandbox.ccvshop.signing import hmac_sha512

    body = json.dumps(
        {"api_public": secrets.ccv_public, "api_secret": "x", "api_root": world.shop.base_url,
         "return_url": ""}
    ).encode()  # fmt: skip
    uri = "http://ccvbird.test/ccv/handshake"
    signed = hmac_sha512("app-store-secret-for-tests", uri.encode() + b"|" + body)
    response = world.client.post("/ccv/handshake", content=body, headers={"x-hash": signed})
    assert response.status_code == 409


def test_uninstall_disables_the_connection_removes_webhooks_and_keeps_history(
    world: World,
) -> None:
    from tests.web.conftest import set_up, sign_in

    first_start(world)
    connection_id = set_up(world)
    world.shop.set_paid(world.shop.create_order(scenario="consumer", status=7, paid=False))
    world.drain()
    booked = world.app.store.records(connection_id)
    assert booked

    assert world.shop.uninstall_app(world.app_id) == 200
    connection = world.app.store.connection(connection_id)
    assert not connection.enabled
    assert world.shop.webhooks() == []
    assert world.app.store.records(connection_id) == booked
    page = world.client.get(f"/connections/{connection_id}")
    assert "verwijderd" in page.text

    # Installing again brings the same connection back, with its history and profile; the
    # owner signs in with the account they have.
    world.client.cookies.clear()
    visit = world.client.get(world.shop.install_app(world.app_id), follow_redirects=False)
    assert visit.headers["location"] == f"/login?next=/connections/{connection_id}/setup"
    response = sign_in(world, "owner@shop.example", page=visit.headers["location"])
    assert response.headers["location"] == f"/connections/{connection_id}/setup"
    assert world.app.store.connection(connection_id).enabled
    assert world.app.store.records(connection_id) == booked


def _recording_calls(world: World) -> list[tuple[str, bytes, dict[str, str]]]:
    """What the shop posts to the app (App Store calls and webhooks), as an eavesdropper sees it."""
    calls: list[tuple[str, bytes, dict[str, str]]] = []
    deliver = world.shop.poster

    def recording(url: str, body: bytes, headers: Mapping[str, str]) -> int | None:
        calls.append((url, body, dict(headers)))
        return deliver(url, body, headers)

    world.shop.poster = recording
    return calls


def _captured(calls: list[tuple[str, bytes, dict[str, str]]], path: str) -> list[Any]:
    return [(url, body, headers) for url, body, headers in calls if url.endswith(path)]


def _reinstall(world: World, connection_id: int) -> None:
    from tests.web.conftest import sign_in

    world.client.cookies.clear()
    visit = world.client.get(world.shop.install_app(world.app_id), follow_redirects=False)
    sign_in(world, "owner@shop.example", page=visit.headers["location"])
    response = world.post_form(
        f"/connections/{connection_id}/setup", f"/connections/{connection_id}/setup/finish"
    )
    assert response.status_code == 303, response.text


def test_a_replayed_handshake_and_uninstall_leave_the_reinstalled_shop_alone(
    world: World,
) -> None:
    from tests.web.conftest import set_up

    calls = _recording_calls(world)
    first_start(world)
    connection_id = set_up(world)
    assert world.shop.uninstall_app(world.app_id) == 200
    _reinstall(world, connection_id)
    live = world.app.store.secrets(connection_id).ccv_public
    assert world.app.store.connection(connection_id).enabled
    first_handshake = _captured(calls, "/ccv/handshake")[0]
    first_uninstall = _captured(calls, "/ccv/uninstall")[0]
    assert json.loads(first_handshake[1])["api_public"] != live

    url, body, headers = first_handshake
    replayed = world.client.post(url, content=body, headers=headers)
    assert replayed.status_code == 409
    assert world.app.store.secrets(connection_id).ccv_public == live  # the old keys stay out

    url, body, headers = first_uninstall
    replayed = world.client.post(url, content=body, headers=headers)
    assert replayed.status_code == 409
    connection = world.app.store.connection(connection_id)
    assert connection.enabled and not connection.paused_reason
    assert world.shop.webhooks()  # the live installation's webhooks are still there


def test_an_uninstall_naming_an_earlier_installation_is_refused(world: World) -> None:
    from tests.web.conftest import set_up

    calls = _recording_calls(world)
    first_start(world)
    connection_id = set_up(world)
    assert world.shop.uninstall_app(world.app_id) == 200
    _reinstall(world, connection_id)
    url, body, headers = _captured(calls, "/ccv/uninstall")[0]
    assert world.client.post(url, content=body, headers=headers).status_code == 409
    assert world.app.store.connection(connection_id).enabled
    # The current installation's own uninstall is honoured (and a repeat of it changes nothing).
    assert world.shop.uninstall_app(world.app_id) == 200
    assert not world.app.store.connection(connection_id).enabled
    url, body, headers = _captured(calls, "/ccv/uninstall")[-1]
    assert world.client.post(url, content=body, headers=headers).status_code == 200
