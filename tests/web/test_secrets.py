"""No secret or token appears on any page, in any export, or in any log line of the app (as text
or as JSON), and no customer's e-mail or address appears in a log line."""

from __future__ import annotations

import json
import logging

import pytest

from ccvbird.entrypoints.logs import json_formatter
from ccvbird.sandbox.moneybird import constants as mb
from tests.web.conftest import APP_SECRET, PASSWORD, World, first_start, set_up, sign_in, sign_out
from tests.web.test_pages import pages_of


def secrets_of(world: World, connection_id: int) -> list[str]:
    store = world.app.store
    found = store.secrets(connection_id)
    backend = world.client.app.state.backend  # type: ignore[attr-defined]
    webhook = backend.installs.moneybird_webhook(connection_id)
    assert webhook is not None
    values = [
        found.ccv_secret,
        found.moneybird["access_token"],
        found.moneybird["refresh_token"],
        store.webhook_token(connection_id),
        *webhook,
        APP_SECRET,
        PASSWORD,
        mb.OAUTH_CLIENT_SECRET,
        backend.session_secret,
        world.app.settings.key_file.read_text().strip(),
    ]
    values += [a.password_hash for a in backend.accounts.owners_of(connection_id)]
    return [v for v in values if v]


def test_no_secret_on_any_page_or_in_any_log_line(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    first_start(world)
    connection_id = set_up(world)
    order_id = world.shop.create_order(scenario="consumer", status=7, paid=False)
    world.shop.set_paid(order_id)
    world.drain()
    customer = world.app.shop_for(connection_id).get_order(str(order_id)).customer
    assert customer.email and customer.billing.address_line_1
    # The customer's e-mail and address are no more for the logs than a secret is.
    private = [customer.email, customer.billing.address_line_1, customer.billing.zipcode]
    seen: list[str] = []
    for who in ("owner@shop.example", "operator@example.nl"):
        sign_out(world)
        sign_in(world, who)
        paths = pages_of(world, connection_id)
        if who.startswith("owner"):
            paths = [
                p for p in paths if not p.startswith("/connections/new") and p != "/connections"
            ]
        for path in [*paths, f"/connections/{connection_id}/orders.csv",
                     f"/api/connections/{connection_id}",
                     f"/api/connections/{connection_id}/orders"]:  # fmt: skip
            response = world.client.get(path)
            assert response.status_code == 200, path
            seen.append(response.text)
    secrets = secrets_of(world, connection_id)
    for text in seen:
        for secret in secrets:
            assert secret not in text
    ours = [
        r
        for r in caplog.records
        # what the test's own browser, CCV and Moneybird logged is not ours
        if not (r.name.startswith("httpx") and "http://ccvbird.test" in r.getMessage())
    ]
    app_lines = [r.getMessage() for r in ours]
    assert any("/webhooks/ccv/{token}" in line for line in app_lines)  # requests are logged
    # The same records as CCVBIRD_LOG_FORMAT=json writes them (every field, not only the text).
    formatter = json_formatter()
    json_lines = [formatter.format(r) for r in ours]
    assert all(isinstance(json.loads(line), dict) for line in json_lines)
    for line in app_lines + json_lines:
        for secret in secrets + private:
            assert secret not in line, line
