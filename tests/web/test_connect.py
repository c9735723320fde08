"""Connecting by hand: a shop by its API keys (with a test button), Moneybird by a personal
token, and reconnecting when access is lost."""

from __future__ import annotations

from ccvbird.sandbox.moneybird import constants as mb
from tests.web.conftest import SHOP_URL, World, connect_moneybird, first_start, install


def test_the_operator_connects_a_shop_by_its_api_keys(world: World) -> None:
    first_start(world)
    page = "/connections/new"
    keys = {"shop_url": SHOP_URL, "public_key": "sandbox-public", "secret": "sandbox-secret"}
    tested = world.post_form(page, page, action="test", **keys)
    assert tested.status_code == 200
    assert "Verbonden met Koffie &amp; Co (sandbox)" in tested.text
    assert world.app.store.connections() == []
    wrong = world.post_form(page, page, action="test", **{**keys, "secret": "wrong"})
    assert wrong.status_code == 422
    assert "De winkel accepteerde deze sleutels niet. Controleer de publieke sleutel" in wrong.text
    assert "x-hash" not in wrong.text and "does not match" not in wrong.text  # no CCV English
    missing = world.post_form(page, page, action="test", **{**keys, "secret": ""})
    assert "Vul zowel de publieke sleutel als het secret in." in missing.text
    empty = world.post_form(page, page, action="test", **{**keys, "shop_url": ""})
    assert "Vul het adres van de winkel in" in empty.text
    nowhere = world.post_form(page, page, action="test", **{**keys, "shop_url": "geen.winkel.test"})
    assert "Op https://geen.winkel.test antwoordt geen CCV Shop" in nowhere.text
    saved = world.post_form(page, page, action="save", **keys)
    assert saved.status_code == 303
    (connection,) = world.app.store.connections()
    assert connection.shop_url == SHOP_URL and connection.name == "Koffie & Co (sandbox)"
    assert saved.headers["location"] == f"/connections/{connection.id}/setup"


def test_a_personal_api_token_connects_moneybird(world: World) -> None:
    first_start(world)
    connection_id = install(world)
    page = f"/connections/{connection_id}/moneybird"
    refused = world.post_form(page, f"{page}/token", token="not-a-token")
    assert refused.status_code == 422
    assert "Moneybird accepteerde dit token niet" in refused.text
    accepted = world.post_form(page, f"{page}/token", token=mb.DEMO_TOKEN)
    # The token reaches one administration: it is used without a question.
    assert accepted.headers["location"] == f"/connections/{connection_id}/setup"
    assert world.app.store.secrets(connection_id).moneybird == {
        "type": "token",
        "token": mb.DEMO_TOKEN,
    }
    assert world.app.store.connection(connection_id).administration_id == mb.ADMINISTRATION_ID
    # It can still be chosen by hand (the same one again: the profile stays as drafted).
    drafted = world.app.store.profile_toml(connection_id)
    chosen = world.post_form(f"{page}/administration", f"{page}/administration")
    assert chosen.headers["location"] == f"/connections/{connection_id}/setup"
    assert world.app.store.profile_toml(connection_id) == drafted
    # The Moneybird webhook is registered with its secret kept encrypted.
    assert len(world.moneybird.books(mb.ADMINISTRATION_ID).webhooks) == 1


def test_reconnecting_after_lost_access_resumes_the_connection(world: World) -> None:
    from tests.web.conftest import set_up

    first_start(world)
    connection_id = set_up(world)
    token = world.app.store.secrets(connection_id).moneybird["access_token"]
    world.moneybird.grants.pop(token)  # Moneybird revoked the access
    world.app.store.pause(
        connection_id,
        "Moneybird refused the token — reconnect or fix this in the settings; syncing resumes "
        "where it stopped.",
    )
    page = world.client.get(f"/connections/{connection_id}").text
    assert "Moneybird opnieuw koppelen" in page
    connect_moneybird(world, connection_id)
    assert world.app.store.connection(connection_id).paused_reason == ""
    assert world.app.store.secrets(connection_id).moneybird["access_token"] != token
