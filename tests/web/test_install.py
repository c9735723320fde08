"""The shortest install: the signed install link signs the owner in, one "Connect Moneybird",
the administration picked on Moneybird's consent screen used at once, finishing without the
profile page when the drafted profile is complete, and the dashboard offering the history
import. And undoing it in ccvbird: disconnect Moneybird, uninstall; a reinstall registers the
Moneybird webhook again."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import datetime
from html import unescape
from pathlib import Path

import pytest

from ccvbird.adapters.ccvshop.webhooks import REGISTERED_EVENTS
from ccvbird.sandbox.moneybird import constants as mb
from ccvbird.sandbox.moneybird.seed import voorbeeld_bv
from tests.web.conftest import (
    World,
    backend_of,
    connect_moneybird,
    first_start,
    install,
    make_world,
    set_up,
)
from tests.web.forms import form_fields
from tests.web.test_pages import _untranslated_in


def _forms(html: str) -> list[str]:
    """Where the page's forms post (the language switch and sign-out left out)."""
    actions = re.findall(r'<form method="post" action="([^"]+)"', html)
    return [a for a in actions if a not in ("/language", "/logout")]


def _moneybird_webhooks(world: World) -> int:
    return len(world.moneybird.books(mb.ADMINISTRATION_ID).webhooks)


# -- the install link signs in ----------------------------------------------------------------


def test_the_install_link_signs_the_owner_in_with_the_merchants_email_and_no_password(
    world: World,
) -> None:
    first_start(world)
    connection_id = install(world, "mira@koffie.example", password=None)
    (owner,) = backend_of(world).accounts.owners_of(connection_id)
    assert owner.email == "mira@koffie.example"  # from CCV's GET /webshops/:id/merchant
    assert owner.password_hash == "" and not owner.is_operator
    setup = world.client.get(f"/connections/{connection_id}")
    assert setup.url.path == f"/connections/{connection_id}/setup"
    assert "mira@koffie.example" in setup.text  # signed in
    # No password to invent; one can be set later (without a current one to give).
    page = world.client.get("/account/password").text
    assert "current" not in form_fields(page, "/account/password")


def test_a_second_install_visit_signs_the_same_owner_in_again(world: World) -> None:
    first_start(world)
    connection_id = install(world, password=None)
    public = world.app.store.secrets(connection_id).ccv_public
    link = world.shop.install_url(world.app_id, public)
    world.client.cookies.clear()  # another day, or another browser
    visit = world.client.get(link, follow_redirects=False)
    assert visit.status_code == 303
    assert visit.headers["location"] == f"/connections/{connection_id}"
    assert visit.headers["cache-control"] == "no-store"
    assert visit.headers["referrer-policy"] == "no-referrer"
    assert len(backend_of(world).accounts.owners_of(connection_id)) == 1  # the same owner
    assert world.client.get(f"/connections/{connection_id}/setup").status_code == 200


def test_the_install_link_of_a_removed_installation_signs_nobody_in(world: World) -> None:
    first_start(world)
    connection_id = set_up(world)
    link = world.shop.install_url(world.app_id, world.app.store.secrets(connection_id).ccv_public)
    assert world.shop.uninstall_app(world.app_id) == 200
    world.client.cookies.clear()
    visit = world.client.get(link, follow_redirects=False)
    assert visit.status_code == 409
    assert (
        world.client.get(f"/connections/{connection_id}", follow_redirects=False)
        .headers["location"]
        .startswith("/login")
    )


def test_a_forged_install_link_signs_nobody_in(world: World) -> None:
    first_start(world)
    connection_id = install(world, password=None)
    link = world.shop.install_url(world.app_id, world.app.store.secrets(connection_id).ccv_public)
    world.client.cookies.clear()
    forged = re.sub(r"x-hash=[0-9a-f]{8}", "x-hash=00000000", link)
    assert forged != link
    assert world.client.get(forged, follow_redirects=False).status_code == 403
    assert world.client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_without_an_email_from_ccv_the_owner_types_one_in_one_field(world: World) -> None:
    first_start(world)
    world.client.cookies.clear()
    world.shop.merchant_email = ""  # CCV gives none
    visit = world.client.get(world.shop.install_app(world.app_id), follow_redirects=False)
    assert visit.headers["location"] == "/ccv/account"
    page = world.client.get("/ccv/account").text
    assert sorted(form_fields(page, "/ccv/account")) == ["csrf_token", "email"]
    assert _untranslated_in(page) == []
    response = world.post_form("/ccv/account", "/ccv/account", email="eigenaar@koffie.example")
    assert response.status_code == 303
    (connection,) = world.app.store.connections()
    assert response.headers["location"] == f"/connections/{connection.id}"
    (owner,) = backend_of(world).accounts.owners_of(connection.id)
    assert owner.email == "eigenaar@koffie.example" and owner.password_hash == ""


def test_a_merchant_email_that_has_an_account_already_is_not_signed_in_to(world: World) -> None:
    first_start(world, "winkel@example.nl")  # the operator uses the merchant's address
    world.client.cookies.clear()
    world.shop.merchant_email = "winkel@example.nl"
    visit = world.client.get(world.shop.install_app(world.app_id), follow_redirects=False)
    assert visit.headers["location"] == "/ccv/account"
    page = world.client.get("/ccv/account")
    assert "Er is al een account voor winkel@example.nl" in page.text
    assert world.client.get("/connections", follow_redirects=False).status_code == 303  # no one
    taken = world.post_form("/ccv/account", "/ccv/account", email="WINKEL@example.nl")
    assert taken.status_code == 422
    assert "Er is al een account" in taken.text
    mine = world.post_form("/ccv/account", "/ccv/account", email="mira@koffie.example")
    assert mine.status_code == 303
    assert world.client.get("/connections", follow_redirects=False).status_code == 404


# -- connect Moneybird once, finish without the profile page -----------------------------------


def test_the_shortest_install_connects_moneybird_once_and_finishes_on_the_dashboard(
    world: World,
) -> None:
    first_start(world)
    connection_id = install(world, password=None)
    base = f"/connections/{connection_id}"
    setup = world.client.get(f"{base}/setup").text
    assert setup.count("Moneybird koppelen") == 1
    assert f"{base}/moneybird/oauth" in _forms(setup)  # straight to Moneybird's consent
    assert f"{base}/moneybird/administration" not in setup

    landed = connect_moneybird(world, connection_id)
    assert landed == f"{base}/setup"  # not asked for the administration again
    assert world.app.store.connection(connection_id).administration_id == mb.ADMINISTRATION_ID
    setup = world.client.get(landed).text
    assert "Moneybird is gekoppeld, en er is een profiel opgesteld" in setup
    # The administration by the name Moneybird gives it, not its id.
    assert f"De administratie {mb.ADMINISTRATION_NAME} wordt gebruikt." in unescape(setup)
    assert mb.ADMINISTRATION_ID not in setup.split("<main", 1)[-1]
    assert f'href="{base}/profile">Profiel controleren</a>' in setup  # offered
    finish = re.search(r"<button ?([^>]*)>Installatie afronden</button>", setup)
    assert finish and "disabled" not in finish.group(1)  # not required

    response = world.post_form(f"{base}/setup", f"{base}/setup/finish")
    assert response.headers["location"] == base
    connection = world.app.store.connection(connection_id)
    assert connection.paused_reason == "" and connection.enabled
    assert world.shop.app(world.app_id).installed
    assert len(world.shop.webhooks()) == len(REGISTERED_EVENTS) and _moneybird_webhooks(world) == 1
    dashboard = world.client.get(base).text
    assert "Je eerdere bestellingen importeren" in dashboard
    first = min(
        datetime.fromisoformat(o["create_date"]).date() for o in world.shop.orders()
    ).isoformat()
    assert form_fields(dashboard, f"{base}/import")["since"] == first


SECOND_ADMINISTRATION = "470000000000000002"


@pytest.fixture
def two_administrations(tmp_path: Path) -> Iterator[World]:
    second = dataclasses.replace(voorbeeld_bv(), id=SECOND_ADMINISTRATION, name="Tweede B.V.")
    yield from make_world(tmp_path, administrations=[voorbeeld_bv(), second])


def test_access_to_several_administrations_asks_which_one(two_administrations: World) -> None:
    world = two_administrations
    first_start(world)
    connection_id = install(world, password=None)
    page = f"/connections/{connection_id}/moneybird"
    response = world.post_form(page, f"{page}/token", token=mb.DEMO_TOKEN)
    assert response.headers["location"] == f"{page}/administration"
    assert world.app.store.connection(connection_id).administration_id == ""
    choices = world.client.get(f"{page}/administration").text
    assert "Voorbeeld B.V." in choices and "Tweede B.V." in choices
    chosen = world.post_form(
        f"{page}/administration", f"{page}/administration", administration=SECOND_ADMINISTRATION
    )
    assert chosen.headers["location"] == f"/connections/{connection_id}/setup"
    assert world.app.store.connection(connection_id).administration_id == SECOND_ADMINISTRATION


def test_an_incomplete_profile_is_asked_for_before_finishing(world: World) -> None:
    first_start(world)
    connection_id = install(world, password=None)
    base = f"/connections/{connection_id}"
    connect_moneybird(world, connection_id)
    toml = world.app.store.profile_toml(connection_id)
    assert '"21" = ' in toml
    incomplete = re.sub(r'^"21" = .*\n', "", toml, flags=re.MULTILINE)
    backend_of(world).installs.set_profile_text(connection_id, incomplete)
    setup = world.client.get(f"{base}/setup").text
    assert "Profiel aanvullen" in setup
    assert re.search(r"<button disabled>Installatie afronden</button>", setup)
    response = world.client.post(
        f"{base}/setup/finish", data={"csrf_token": world.csrf(f"{base}/setup")},
        follow_redirects=False,
    )  # fmt: skip
    assert response.headers["location"] == f"{base}/profile"
    assert world.app.store.connection(connection_id).paused_reason.startswith("Setup is not")
    assert world.shop.webhooks() == []


# -- undoing it in ccvbird ---------------------------------------------------------------------


def test_disconnecting_moneybird_pauses_and_connecting_again_resumes(world: World) -> None:
    first_start(world)
    connection_id = set_up(world)
    base = f"/connections/{connection_id}"
    profile = world.app.store.profile_toml(connection_id)
    assert _moneybird_webhooks(world) == 1
    response = world.post_form(f"{base}/moneybird", f"{base}/moneybird/disconnect")
    assert response.status_code == 303
    setup = backend_of(world).installs.setup(connection_id)
    assert not setup.has_moneybird and setup.moneybird_webhook_id is None
    assert world.app.store.secrets(connection_id).moneybird == {"type": "none"}
    assert _moneybird_webhooks(world) == 0
    assert world.app.store.connection(connection_id).paused_reason.startswith(
        "Moneybird is disconnected"
    )
    dashboard = world.client.get(base).text
    assert f'href="{base}/moneybird">Moneybird koppelen</a>' in dashboard
    assert _forms(dashboard) == []  # no Resume, Sync or Import that could not work now

    connect_moneybird(world, connection_id)
    assert world.app.store.connection(connection_id).paused_reason == ""
    assert _moneybird_webhooks(world) == 1
    assert world.app.store.profile_toml(connection_id) == profile  # the same administration


def test_uninstalling_in_ccvbird_leaves_no_button_that_does_nothing(world: World) -> None:
    first_start(world)
    connection_id = set_up(world)
    world.shop.set_paid(world.shop.create_order(scenario="consumer", status=7, paid=False))
    world.drain()
    booked = world.app.store.records(connection_id)
    base = f"/connections/{connection_id}"
    assert f'href="{base}/uninstall"' in world.client.get(base).text
    response = world.post_form(f"{base}/uninstall", f"{base}/uninstall")
    assert response.headers["location"] == base

    connection = world.app.store.connection(connection_id)
    assert not connection.enabled
    assert world.shop.webhooks() == [] and _moneybird_webhooks(world) == 0
    secrets = world.app.store.secrets(connection_id)
    assert secrets.ccv_secret == "" and secrets.moneybird == {"type": "none"}  # forgotten
    assert world.app.store.records(connection_id) == booked  # the history is kept
    dashboard = world.client.get(base).text
    assert "ccvbird is voor deze winkel verwijderd" in dashboard
    assert _forms(dashboard) == []
    assert f"{base}/profile" not in dashboard and f"{base}/moneybird" not in dashboard
    order = world.client.get(f"{base}/orders/{booked[0].order_id}").text
    assert _forms(order) == []
    # Every action on it is refused and changes nothing.
    token = world.csrf(base)
    for path in ("sync", "import", "pause", "resume", "retry-failed", "moneybird/oauth",
                 "moneybird/token", "setup/finish", "profile", "uninstall",
                 f"orders/{booked[0].order_id}/retry"):  # fmt: skip
        refused = world.client.post(
            f"{base}/{path}", data={"csrf_token": token, "since": "2026-01-01", "token": "x"},
            follow_redirects=False,
        )  # fmt: skip
        assert refused.status_code == 303 and refused.headers["location"] == base, path
    assert world.queue.items == []
    assert not world.app.store.connection(connection_id).enabled
    # The merchant then removes the app in the shop too: its uninstall call changes nothing.
    assert world.shop.uninstall_app(world.app_id) == 200


def test_a_reinstall_registers_the_moneybird_webhook_again(world: World) -> None:
    first_start(world)
    connection_id = set_up(world)
    assert _moneybird_webhooks(world) == 1
    assert world.shop.uninstall_app(world.app_id) == 200
    assert _moneybird_webhooks(world) == 0
    assert backend_of(world).installs.setup(connection_id).moneybird_webhook_id is None

    world.client.cookies.clear()
    visit = world.client.get(world.shop.install_app(world.app_id), follow_redirects=False)
    assert visit.headers["location"] == f"/connections/{connection_id}"  # the owner again
    base = f"/connections/{connection_id}"
    response = world.post_form(f"{base}/setup", f"{base}/setup/finish")
    assert response.headers["location"] == base
    assert _moneybird_webhooks(world) == 1
    setup = backend_of(world).installs.setup(connection_id)
    assert setup.moneybird_webhook_id in world.moneybird.books(mb.ADMINISTRATION_ID).webhooks
    assert backend_of(world).installs.moneybird_webhook(connection_id) is not None


def test_after_an_uninstall_from_the_shop_no_action_is_offered(world: World) -> None:
    first_start(world)
    connection_id = set_up(world)
    assert world.shop.uninstall_app(world.app_id) == 200
    world.client.cookies.clear()
    from tests.web.conftest import sign_in

    assert sign_in(world, "owner@shop.example").status_code == 303
    dashboard = world.client.get(f"/connections/{connection_id}").text
    assert "De app is uit deze winkel verwijderd" in dashboard
    assert _forms(dashboard) == []
    assert "/uninstall" not in dashboard and "/moneybird" not in dashboard
