"""OAuth2: the consent page a browser clicks through, code exchange, refresh and rotation."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from ccvbird.adapters.moneybird import (
    MemoryTokenStore,
    MoneybirdClient,
    OAuthApp,
    OAuthRefresh,
    TokenEndpoint,
    authorization_url,
    code_from_callback,
)
from ccvbird.domain.errors import AuthenticationFailed
from ccvbird.ports import OAuthToken
from ccvbird.sandbox.moneybird import IN_PROCESS_OAUTH_URL, MoneybirdSandbox, SandboxConfig
from ccvbird.sandbox.moneybird import constants as mb
from tests.integration.moneybird.conftest import ClientFactory, FakeClock
from tests.integration.moneybird.openapi import ValidatingTransport

CALLBACK = "https://ccvbird.example/moneybird/callback"
APP = OAuthApp(mb.OAUTH_CLIENT_ID, mb.OAUTH_CLIENT_SECRET, CALLBACK, IN_PROCESS_OAUTH_URL)
EXPIRING = SandboxConfig(access_token_ttl=3600)


def click_through(
    transport: httpx.BaseTransport,
    url: str,
    *,
    password: str = mb.USER_PASSWORD,
    decision: str = "approve",
) -> httpx.Response:
    """What a person does in the browser: open the page, sign in, pick the administration."""
    browser = httpx.Client(transport=transport)
    page = browser.get(url)
    assert page.status_code == 200
    fields = dict(re.findall(r"<input type='hidden' name='(\w+)' value='([^']*)'>", page.text))
    assert "sales_invoices" in page.text
    assert "settings" in page.text
    return browser.post(
        "http://moneybird.sandbox/oauth/authorize",
        data={
            **fields,
            "email": mb.USER_EMAIL,
            "password": password,
            "administration_id": mb.ADMINISTRATION_ID,
            "decision": decision,
        },
    )


def connect_oauth(
    transport: ValidatingTransport, clock: FakeClock
) -> tuple[MemoryTokenStore, TokenEndpoint]:
    url = authorization_url(APP, state="st-123")
    answer = click_through(transport, url)
    assert answer.status_code == 302
    code = code_from_callback(answer.headers["location"], state="st-123")
    endpoint = TokenEndpoint(APP, transport=transport, clock=clock)
    store = MemoryTokenStore()
    store.save(endpoint.exchange_code(code))
    return store, endpoint


def test_authorization_url_asks_for_invoices_and_settings_with_state() -> None:
    query = parse_qs(urlsplit(authorization_url(APP, state="xyz")).query)

    assert query["scope"] == ["sales_invoices settings"]
    assert query["state"] == ["xyz"]
    assert query["response_type"] == ["code"]
    assert query["client_id"] == [mb.OAUTH_CLIENT_ID]
    assert query["redirect_uri"] == [CALLBACK]


def test_code_exchange_gives_a_working_token(
    transport: ValidatingTransport, clock: FakeClock, make_client: ClientFactory
) -> None:
    store, endpoint = connect_oauth(transport, clock)
    client = make_client(auth=OAuthRefresh(endpoint, store, clock=clock))

    assert [a.name for a in client.administrations()] == [mb.ADMINISTRATION_NAME]
    assert store.token is not None
    assert store.token.scope == "sales_invoices settings"
    assert store.token.expires_at is None  # no expires_in, as in Moneybird's recorded answer


@pytest.mark.parametrize("config", [EXPIRING], indirect=True)
def test_expired_token_is_refreshed_first_and_the_rotated_refresh_token_stored(
    transport: ValidatingTransport,
    clock: FakeClock,
    make_client: ClientFactory,
    sandbox: MoneybirdSandbox,
) -> None:
    store, endpoint = connect_oauth(transport, clock)
    first = store.token
    assert first is not None
    assert first.expires_at == pytest.approx(clock() + 3600)
    client = make_client(auth=OAuthRefresh(endpoint, store, clock=clock))
    client.workflows()

    clock.advance(3600)
    client.workflows(refresh=True)

    assert len(store.saved) == 2
    second = store.token
    assert second is not None
    assert second.refresh_token != first.refresh_token
    assert [s for _, _, s in sandbox.api_requests()] == [200, 200]  # no 401 on the way
    with pytest.raises(AuthenticationFailed, match="refresh"):
        endpoint.refresh(first.refresh_token or "")  # the old refresh token is spent


def test_a_401_triggers_one_refresh_then_the_call_succeeds(
    transport: ValidatingTransport,
    clock: FakeClock,
    make_client: ClientFactory,
    sandbox: MoneybirdSandbox,
) -> None:
    store, endpoint = connect_oauth(transport, clock)
    client = make_client(auth=OAuthRefresh(endpoint, store, clock=clock))
    assert store.token is not None
    sandbox.expire_token(store.token.access_token)

    assert client.workflows()

    assert [s for _, _, s in sandbox.api_requests()] == [401, 200]
    assert len(store.saved) == 2


def test_a_refused_refresh_is_an_authentication_failure_without_a_loop(
    transport: ValidatingTransport,
    clock: FakeClock,
    make_client: ClientFactory,
    sandbox: MoneybirdSandbox,
) -> None:
    store = MemoryTokenStore(OAuthToken("expired-access", "revoked-refresh"))
    endpoint = TokenEndpoint(APP, transport=transport, clock=clock)
    client = make_client(auth=OAuthRefresh(endpoint, store, clock=clock))

    with pytest.raises(AuthenticationFailed):
        client.workflows()

    token_calls = [r for r in sandbox.requests if r[1] == "/oauth/token"]
    assert len(token_calls) == 1
    assert store.saved == []


def test_wrong_password_gives_no_code(transport: ValidatingTransport) -> None:
    answer = click_through(transport, authorization_url(APP, state="s"), password="wrong")

    assert answer.status_code == 401
    assert "onjuist" in answer.text


def test_refusing_access_and_a_forged_state_are_refused(transport: ValidatingTransport) -> None:
    denied = click_through(transport, authorization_url(APP, state="s1"), decision="deny")
    approved = click_through(transport, authorization_url(APP, state="s2"))

    with pytest.raises(AuthenticationFailed, match="access_denied"):
        code_from_callback(denied.headers["location"], state="s1")
    with pytest.raises(AuthenticationFailed):
        code_from_callback(approved.headers["location"], state="forged")


def test_out_of_band_code_is_shown_on_the_page(transport: ValidatingTransport) -> None:
    oob = OAuthApp(mb.OAUTH_CLIENT_ID, mb.OAUTH_CLIENT_SECRET, oauth_url=IN_PROCESS_OAUTH_URL)
    answer = click_through(transport, authorization_url(oob, state="s"))

    assert answer.status_code == 200
    code = re.search(r"<code>(\w+)</code>", answer.text)
    assert code is not None
    assert TokenEndpoint(oob, transport=transport).exchange_code(code.group(1)).access_token


def test_secrets_stay_out_of_reprs() -> None:
    assert mb.OAUTH_CLIENT_SECRET not in repr(APP)


def test_client_works_with_a_token_store_in_use(make_client: ClientFactory) -> None:
    client: MoneybirdClient = make_client()
    assert client.administrations()[0].id == mb.ADMINISTRATION_ID
