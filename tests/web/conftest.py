"""A ccvbird web app wired to both sandboxes in this process, and the steps a person takes.

The CCV sandbox shop delivers its App Store calls and webhooks straight into the web app (a
poster that uses the test client); the Moneybird sandbox is reached through its in-process
transport. Queued work is collected and run on demand (:meth:`World.drain`), so a test decides
when the workers run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from ccvbird import bootstrap
from ccvbird.config import Settings
from ccvbird.entrypoints.web import create_web_app
from ccvbird.sandbox.ccvshop import InProcessTransport, SandboxShop
from ccvbird.sandbox.moneybird import (
    IN_PROCESS_BASE_URL,
    IN_PROCESS_OAUTH_URL,
    MoneybirdSandbox,
    SandboxConfig,
    SandboxTransport,
)
from ccvbird.sandbox.moneybird import constants as mb
from ccvbird.service.sync import Trigger
from tests.web.forms import csrf_of, form_fields

PUBLIC_URL = "http://ccvbird.test"
SHOP_URL = "http://shop.sandbox.test"
APP_SECRET = "app-store-secret-for-tests"
PASSWORD = "correct horse battery"


@dataclass
class RecordingQueue:
    items: list[tuple[int, str]] = field(default_factory=list)

    def enqueue_order(self, connection_id: int, order_id: str, *, delay_seconds: float = 0) -> None:
        self.items.append((connection_id, order_id))


@dataclass
class World:
    app: bootstrap.App
    client: TestClient
    shop: SandboxShop
    moneybird: MoneybirdSandbox
    queue: RecordingQueue
    app_id: int

    def drain(self) -> None:
        """Run the engine for everything queued (what the workers do)."""
        while self.queue.items:
            connection_id, order_id = self.queue.items.pop(0)
            self.app.engine_for(connection_id).sync_order(
                connection_id, order_id, trigger=Trigger.WEBHOOK
            )

    def post_form(self, page: str, target: str, **changes: Any) -> httpx.Response:
        """Open ``page``, fill in the form posting to ``target`` and send it (no redirects)."""
        html = self.client.get(page).text
        fields = form_fields(html, target)
        fields.update(changes)
        return self.client.post(target, data=fields, follow_redirects=False)

    def csrf(self, page: str = "/login") -> str:
        return csrf_of(self.client.get(page).text)


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "public_url": PUBLIC_URL,
        "ccv_app_secret": SecretStr(APP_SECRET),
        "moneybird_client_id": mb.OAUTH_CLIENT_ID,
        "moneybird_client_secret": SecretStr(mb.OAUTH_CLIENT_SECRET),
        "moneybird_oauth_url": IN_PROCESS_OAUTH_URL,
        "moneybird_api_url": IN_PROCESS_BASE_URL,
    }
    values.update(overrides)
    return Settings(**values)


def _poster(holder: dict[str, TestClient]):  # type: ignore[no-untyped-def]
    def post(url: str, body: bytes, headers: Mapping[str, str]) -> int:
        return holder["client"].post(url, content=body, headers=dict(headers)).status_code

    return post


def make_world(
    tmp_path: Path,
    *,
    mailer: Any = None,
    clock: Any = None,
    administrations: list[Any] | None = None,
    **overrides: Any,
) -> Iterator[World]:
    holder: dict[str, TestClient] = {}
    shop = SandboxShop(base_url=SHOP_URL, poster=_poster(holder))
    shop.generate(6)
    config = SandboxConfig(auto_deliver_webhooks=False)
    if administrations is not None:
        config.administrations = administrations
    moneybird = MoneybirdSandbox(config)

    def deliver(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        response = holder["client"].post(url, content=body, headers=headers)
        return response.status_code, response.text

    moneybird.outbox.deliverer = deliver
    app = bootstrap.build_app(
        settings_for(tmp_path, **overrides),
        transports={
            SHOP_URL: InProcessTransport(shop),
            "http://moneybird.sandbox": SandboxTransport(moneybird),
        },
        clock=clock,
    )
    queue = RecordingQueue()
    web = create_web_app(app, queue, mailer=mailer)
    app_id = shop.register_app(
        "ccvbird",
        app_secret=APP_SECRET,
        handshake_uri=f"{PUBLIC_URL}/ccv/handshake",
        install_uri=f"{PUBLIC_URL}/ccv/install",
        uninstall_uri=f"{PUBLIC_URL}/ccv/uninstall",
    )
    with TestClient(web, base_url=PUBLIC_URL) as client:
        holder["client"] = client
        yield World(app, client, shop, moneybird, queue, app_id)
    app.close()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from make_world(tmp_path)


@pytest.fixture
def far_world(tmp_path: Path) -> Iterator[World]:
    """A world whose polling looks back far enough to see the sandbox's early-2026 orders."""
    yield from make_world(tmp_path, lookback_days=3650)


# -- the steps a person takes ----------------------------------------------------------------


def backend_of(world: World) -> Any:
    """The web app's backend (accounts, installs) behind the test client."""
    return world.client.app.state.backend  # type: ignore[attr-defined]


def first_start(world: World, email: str = "operator@example.nl") -> None:
    response = world.post_form(
        "/first-start", "/first-start", email=email, password=PASSWORD, again=PASSWORD
    )
    assert response.status_code == 303, response.text


def sign_in(
    world: World, email: str, password: str = PASSWORD, page: str = "/login"
) -> httpx.Response:
    html = world.client.get(page).text
    fields = form_fields(html, "/login")
    fields.update(email=email, password=password)
    return world.client.post("/login", data=fields, follow_redirects=False)


def sign_out(world: World) -> None:
    world.client.post("/logout", data={"csrf_token": world.csrf("/login")})
    world.client.cookies.clear()


def install(
    world: World, owner: str = "owner@shop.example", *, password: str | None = PASSWORD
) -> int:
    """The merchant installs the app: handshake, then the install link signs them in as the
    shop's owner (an account with the e-mail address CCV has for the merchant, no password).
    ``password``: then also set one on /account/password, as an owner may, for tests that sign
    in again with it; ``None``: none. Returns the connection id (the browser is signed in)."""
    world.client.cookies.clear()  # the merchant's own browser
    world.shop.merchant_email = owner
    install_url = world.shop.install_app(world.app_id)
    response = world.client.get(install_url, follow_redirects=False)
    assert response.status_code == 303, response.text
    found = re.fullmatch(r"/connections/(\d+)", response.headers["location"])
    assert found, response.headers["location"]
    connection_id = int(found.group(1))
    if password is not None:
        page = "/account/password"
        response = world.post_form(page, page, password=password, again=password)
        assert response.status_code == 303, response.text
    return connection_id


def consent(world: World, authorize_url: str, *, approve: bool = True) -> str:
    """Click through the Moneybird sandbox's consent page; returns where it sends the browser."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
    form = {
        "client_id": query["client_id"],
        "redirect_uri": query["redirect_uri"],
        "scope": query.get("scope", ""),
        "state": query.get("state", ""),
        "response_type": "code",
        "email": mb.USER_EMAIL,
        "password": mb.USER_PASSWORD,
        "administration_id": mb.ADMINISTRATION_ID,
        "decision": "approve" if approve else "deny",
    }
    with httpx.Client(transport=SandboxTransport(world.moneybird)) as browser:
        answer = browser.post(f"{IN_PROCESS_OAUTH_URL}/authorize", data=form)
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def connect_moneybird(world: World, connection_id: int) -> str:
    """*Connect Moneybird* and approve on the consent screen; the one administration granted is
    used without asking again. Returns where ccvbird sends the browser then."""
    page = f"/connections/{connection_id}/moneybird"
    response = world.post_form(page, f"{page}/oauth")
    assert response.status_code == 303
    callback = consent(world, response.headers["location"])
    response = world.client.get(callback, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"] != f"{page}/administration", "asked again"
    return str(response.headers["location"])


def save_profile(world: World, connection_id: int, **changes: Any) -> httpx.Response:
    """Save the profile form as shown, with ``changes`` (``None``: leave the field out, as an
    unticked checkbox)."""
    page = f"/connections/{connection_id}/profile"
    fields = form_fields(world.client.get(page).text, page)
    fields.update(action="save", **changes)
    data = {k: v for k, v in fields.items() if v is not None}
    return world.client.post(page, data=data, follow_redirects=False)


def set_up(world: World, owner: str = "owner@shop.example", *, start: date | None = None) -> int:
    """Install, connect Moneybird, save the suggested profile, finish. Returns the id."""
    connection_id = install(world, owner)
    connect_moneybird(world, connection_id)
    extra: dict[str, Any] = {"start_date": start.isoformat()} if start else {}
    # The sandbox shop charges Dutch VAT to every EU consumer: no OSS.
    response = save_profile(world, connection_id, oss=None, **extra)
    assert response.status_code == 303, response.text
    response = world.post_form(
        f"/connections/{connection_id}/setup", f"/connections/{connection_id}/setup/finish"
    )
    assert response.status_code == 303, response.text
    return connection_id


SHOP2_URL = "http://shop2.sandbox.test"


def second_shop(world: World) -> tuple[SandboxShop, int]:
    """Another shop (its own address and App Store entry) that delivers into the same app."""
    shop = SandboxShop(
        base_url=SHOP2_URL, poster=world.shop.poster, name="Thee & Zo (sandbox)", seed=7
    )
    shop.generate(3)
    world.app.transports[SHOP2_URL] = InProcessTransport(shop)
    app_id = shop.register_app(
        "ccvbird",
        app_secret=APP_SECRET,
        handshake_uri=f"{PUBLIC_URL}/ccv/handshake",
        install_uri=f"{PUBLIC_URL}/ccv/install",
        uninstall_uri=f"{PUBLIC_URL}/ccv/uninstall",
    )
    return shop, app_id


def set_up_shop(world: World, shop: SandboxShop, app_id: int, owner: str) -> int:
    """``set_up`` for another shop of the world."""
    first, first_id = world.shop, world.app_id
    world.shop, world.app_id = shop, app_id
    try:
        return set_up(world, owner)
    finally:
        world.shop, world.app_id = first, first_id
