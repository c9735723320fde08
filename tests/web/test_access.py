"""Who may see what: sign-in everywhere, each owner only their own shop, CSRF on every form,
slowed-down guessing, and refused forgeries (OAuth state, App Store hashes, webhooks)."""

from __future__ import annotations

import pytest

from tests.web.conftest import (
    PASSWORD,
    World,
    consent,
    first_start,
    install,
    second_shop,
    set_up,
    set_up_shop,
    sign_in,
    sign_out,
)

PRIVATE_GETS = [
    "/connections", "/connections/new", "/connections/1", "/connections/1/setup",
    "/connections/1/moneybird", "/connections/1/moneybird/administration",
    "/connections/1/profile", "/connections/1/orders", "/connections/1/orders.csv",
    "/connections/1/orders/123", "/connections/1/import", "/moneybird/callback?code=x&state=y",
]  # fmt: skip
PRIVATE_POSTS = [
    "/connections/new", "/connections/1/setup/finish", "/connections/1/moneybird/oauth",
    "/connections/1/moneybird/token", "/connections/1/moneybird/administration",
    "/connections/1/profile", "/connections/1/orders/123/retry", "/connections/1/retry-failed",
    "/connections/1/sync", "/connections/1/pause", "/connections/1/resume",
    "/connections/1/import",
]  # fmt: skip


def test_before_the_first_start_every_page_asks_for_the_operator_account(world: World) -> None:
    for path in ["/", "/login", *PRIVATE_GETS]:
        response = world.client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"] in ("/first-start", "/login"), path


def test_every_private_page_redirects_to_sign_in(world: World) -> None:
    first_start(world)
    set_up(world)
    sign_out(world)
    for path in PRIVATE_GETS:
        response = world.client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next="), path
    token = world.csrf("/login")
    for path in PRIVATE_POSTS:
        response = world.client.post(path, data={"csrf_token": token}, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next="), path
    assert world.client.get("/api/connections/1").status_code == 401
    assert world.client.get("/api/connections/1/orders").status_code == 401


def test_a_shop_owner_sees_and_changes_only_their_own_connection(world: World) -> None:
    first_start(world)
    mine = set_up(world, "anna@koffie.example")
    shop2, app2 = second_shop(world)
    theirs = set_up_shop(world, shop2, app2, "bert@thee.example")
    world.shop.set_paid(world.shop.create_order(scenario="consumer", status=7, paid=False))
    shop2.set_paid(shop2.create_order(scenario="consumer", status=7, paid=False))
    world.drain()
    their_order = world.app.store.records(theirs)[0].order_id
    before = world.app.store.profile_toml(theirs)

    sign_out(world)
    assert sign_in(world, "anna@koffie.example").status_code == 303
    assert world.client.get(f"/connections/{mine}").status_code == 200
    base = f"/connections/{theirs}"
    for path in [base, f"{base}/setup", f"{base}/moneybird", f"{base}/profile",
                 f"{base}/orders", f"{base}/orders.csv", f"{base}/orders/{their_order}",
                 f"{base}/import", "/connections", "/connections/new"]:  # fmt: skip
        response = world.client.get(path)
        assert response.status_code == 404, path
        assert "Thee" not in response.text
    for api in [f"/api{base}", f"/api{base}/orders"]:
        assert world.client.get(api).status_code == 404
    token = world.csrf(f"/connections/{mine}")
    for path in [f"{base}/pause", f"{base}/profile", f"{base}/orders/{their_order}/retry",
                 f"{base}/moneybird/token", f"{base}/moneybird/oauth", f"{base}/import",
                 f"{base}/setup/finish", f"{base}/retry-failed", f"{base}/sync"]:  # fmt: skip
        response = world.client.post(
            path, data={"csrf_token": token, "token": "x", "since": "2020-01-01"}
        )
        assert response.status_code == 404, path
    assert world.app.store.connection(theirs).paused_reason == ""
    assert world.app.store.profile_toml(theirs) == before
    assert world.queue.items == []
    # The operator sees both.
    sign_out(world)
    sign_in(world, "operator@example.nl")
    assert world.client.get(base).status_code == 200
    assert "Thee &amp; Zo (sandbox)" in world.client.get("/connections").text


def test_a_form_without_its_csrf_token_is_refused(world: World) -> None:
    first_start(world)
    connection_id = set_up(world)
    sign_out(world)
    sign_in(world, "owner@shop.example")
    for data in ({}, {"csrf_token": "forged-token-of-the-right-length-000"}):
        response = world.client.post(f"/connections/{connection_id}/pause", data=data)
        assert response.status_code == 403
    assert world.app.store.connection(connection_id).paused_reason == ""
    assert world.client.post("/login", data={"email": "x@y.nl", "password": "p"}).status_code == 403
    assert world.client.post("/logout", data={}).status_code == 403


def test_repeated_failed_sign_ins_are_slowed_down(world: World) -> None:
    first_start(world)
    sign_out(world)
    for _ in range(3):
        assert sign_in(world, "operator@example.nl", "wrong password!").status_code == 401
    # The third failure blocks the next attempt for a while — even with the right password.
    response = sign_in(world, "operator@example.nl", PASSWORD)
    assert response.status_code == 429
    assert "Te veel mislukte pogingen" in response.text
    assert "uid" not in str(world.client.cookies)


def test_an_unknown_address_and_a_wrong_password_get_the_same_answer(world: World) -> None:
    first_start(world)
    sign_out(world)
    unknown = sign_in(world, "nobody@example.nl", "whatever it is")
    wrong = sign_in(world, "operator@example.nl", "whatever it is")
    assert unknown.status_code == wrong.status_code == 401


def test_an_oauth_callback_with_a_wrong_state_is_refused(world: World) -> None:
    first_start(world)
    connection_id = install(world)
    page = f"/connections/{connection_id}/moneybird"
    authorize = world.post_form(page, f"{page}/oauth").headers["location"]
    callback = consent(world, authorize).replace("state=", "state=forged")
    response = world.client.get(callback)
    assert response.status_code == 400
    assert world.app.store.secrets(connection_id).moneybird == {"type": "none"}


def test_no_callback_without_a_request_made_here(world: World) -> None:
    first_start(world)
    connection_id = install(world)
    response = world.client.get("/moneybird/callback?code=abc&state=def")
    assert response.status_code == 400
    assert world.app.store.secrets(connection_id).moneybird == {"type": "none"}


@pytest.mark.parametrize("where", ["handshake", "uninstall"])
def test_app_store_calls_with_a_bad_hash_are_refused(world: World, where: str) -> None:
    body = (
        b'{"api_public": "p", "api_secret": "s", "api_root": "http://evil.test", "return_url": ""}'
    )
    for x_hash in (None, "0" * 128):
        headers = {"x-hash": x_hash} if x_hash else {}
        response = world.client.post(f"/ccv/{where}", content=body, headers=headers)
        assert response.status_code == 403
    assert world.app.store.connections() == []


def test_an_install_visit_with_a_bad_hash_is_refused(world: World) -> None:
    first_start(world)
    sign_out(world)
    url = world.shop.install_app(world.app_id)
    tampered = url.replace("x-hash=", "x-hash=00")
    response = world.client.get(tampered, follow_redirects=False)
    assert response.status_code == 403
    assert "install" not in world.client.cookies.get("ccvbird_session", "")
    assert world.client.get("/ccv/account", follow_redirects=False).status_code == 303


def test_webhooks_with_a_wrong_token_or_signature_are_refused(world: World) -> None:
    first_start(world)
    connection_id = set_up(world)
    world.shop.create_order(scenario="consumer", status=7, paid=False)
    body = world.shop.deliveries[-1].body
    world.queue.items.clear()
    forged = world.client.post("/webhooks/ccv/not-the-token/orders.created", content=body)
    assert forged.status_code == 404
    backend = world.client.app.state.backend  # type: ignore[attr-defined]
    token = backend.installs.moneybird_address_token(connection_id)
    unsigned = world.client.post(f"/webhooks/moneybird/{token}", content=b"{}")
    assert unsigned.status_code == 401
    assert world.client.post("/webhooks/moneybird/wrong", content=b"{}").status_code == 401
    signed = {"Moneybird-Signature": "t=1,v1=" + "0" * 64, "Idempotency-Key": "k"}
    wrong = world.client.post(f"/webhooks/moneybird/{token}", content=b"{}", headers=signed)
    assert wrong.status_code == 401
    assert world.queue.items == []
