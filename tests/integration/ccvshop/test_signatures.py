"""The sandbox checks signatures exactly as §1.1 specifies, and signs its answers (§1.2).

The signer here is written out independently from both the client and the sandbox: the few
lines of the reference, nothing imported.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from ccvbird.adapters.ccvshop import SignatureMismatch
from ccvbird.adapters.http import RetryPolicy
from ccvbird.sandbox.ccvshop import DEFAULT_PUBLIC_KEY, DEFAULT_SECRET, InProcessTransport
from ccvbird.sandbox.ccvshop.shop import SandboxShop

from .conftest import ClientFactory, FakeClock, ShopFactory


def independent_hash(public: str, secret: str, method: str, uri: str, body: str, date: str) -> str:
    message = f"{public}|{method}|{uri}|{body}|{date}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha512).hexdigest()


@pytest.fixture
def raw(shop: SandboxShop) -> Iterator[httpx.Client]:
    shop.generate(5)
    with httpx.Client(transport=InProcessTransport(shop), base_url=shop.base_url) as http:
        yield http


def now_text(clock: FakeClock, shift: float = 0) -> str:
    moment = datetime.fromtimestamp(clock() + shift, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def send(
    http: httpx.Client,
    method: str,
    uri: str,
    body: str,
    date: str,
    *,
    signed_uri: str | None = None,
    signed_body: str | None = None,
    signed_date: str | None = None,
) -> httpx.Response:
    x_hash = independent_hash(
        DEFAULT_PUBLIC_KEY,
        DEFAULT_SECRET,
        method,
        signed_uri if signed_uri is not None else uri,
        signed_body if signed_body is not None else body,
        signed_date if signed_date is not None else date,
    )
    headers = {"x-public": DEFAULT_PUBLIC_KEY, "x-date": date, "x-hash": x_hash}
    if body:
        headers["Content-Type"] = "application/json"
    return http.request(method, uri, content=body.encode() or None, headers=headers)


LISTING = "/api/rest/v1/orders?start=0&size=2&orderby=id"
WEBHOOK = '{"event":"orders.created","address":"https://app.test/hooks/created"}'


def test_an_independently_computed_signature_is_accepted(
    raw: httpx.Client, clock: FakeClock
) -> None:
    listing = send(raw, "GET", LISTING, "", now_text(clock))
    assert listing.status_code == 200
    assert len(listing.json()["items"]) == 2
    created = send(raw, "POST", "/api/rest/v1/webhooks", WEBHOOK, now_text(clock))
    assert created.status_code == 201
    assert created.json()["event"] == "orders.created"


@pytest.mark.parametrize(
    ("method", "changed"),
    [
        ("GET", {"signed_uri": "/api/rest/v1/orderz?start=0&size=2&orderby=id"}),  # path
        ("GET", {"signed_uri": "/api/rest/v1/orders?start=0&size=3&orderby=id"}),  # query
        ("GET", {"signed_uri": "/api/rest/v1/orders/?start=0&size=2&orderby=id"}),  # slash
        ("GET", {"signed_date": "2026-01-01T10:00:01Z"}),  # date
        ("POST", {"signed_body": WEBHOOK.replace("hooks/created", "hooks/createD")}),  # body
        ("POST", {"signed_body": WEBHOOK + " "}),  # one byte more
    ],
    ids=["path", "query", "trailing-slash", "date", "body", "body-length"],
)
def test_one_changed_byte_is_refused(
    raw: httpx.Client, clock: FakeClock, method: str, changed: dict[str, str]
) -> None:
    uri, body = (LISTING, "") if method == "GET" else ("/api/rest/v1/webhooks", WEBHOOK)
    response = send(raw, method, uri, body, now_text(clock), **changed)
    assert response.status_code == 401
    error = response.json()
    assert error["status"] == 401
    assert error["code"] == "401.10"
    assert "x-hash" in error["developermessage"]


@pytest.mark.parametrize(
    "date_format",
    ["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S+00:00", "%Y-%m-%dT%H:%M:%S+0000",
     "%Y-%m-%dT%H:%M:%S.000Z"],
)  # fmt: skip
def test_every_date_format_of_working_clients_passes(
    raw: httpx.Client, clock: FakeClock, date_format: str
) -> None:
    date = datetime.fromtimestamp(clock(), UTC).strftime(date_format)
    assert send(raw, "GET", LISTING, "", date).status_code == 200


@pytest.mark.parametrize("shift", [-301, 301])
def test_a_stale_or_future_date_is_refused(raw: httpx.Client, clock: FakeClock, shift: int) -> None:
    response = send(raw, "GET", LISTING, "", now_text(clock, shift))
    assert response.status_code == 401
    assert "away from the server's time" in response.json()["developermessage"]
    assert send(raw, "GET", LISTING, "", now_text(clock, shift * 0.9)).status_code == 200


def test_missing_headers_and_a_date_without_zone_are_refused(
    raw: httpx.Client, clock: FakeClock
) -> None:
    assert raw.get(LISTING).json()["developermessage"] == "Missing header x-public"
    naive = datetime.fromtimestamp(clock(), UTC).strftime("%Y-%m-%dT%H:%M:%S")
    response = send(raw, "GET", LISTING, "", naive)
    assert response.status_code == 401
    assert "time zone" in response.json()["developermessage"]


def test_the_shop_signs_its_answers(raw: httpx.Client, clock: FakeClock) -> None:
    response = send(raw, "GET", LISTING, "", now_text(clock))
    expected = independent_hash(
        DEFAULT_PUBLIC_KEY,
        DEFAULT_SECRET,
        "GET",
        LISTING,
        response.content.decode(),
        response.headers["x-date"],
    )
    assert response.headers["x-hash"] == expected


class Tamper(httpx.BaseTransport):
    """Changes one byte of every answer body on its way to the client."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = self.inner.handle_request(request)
        body = answer.read().replace(b'"start"', b'"Start"', 1)
        return httpx.Response(answer.status_code, headers=answer.headers, content=body)


def test_the_client_refuses_an_altered_answer(shop: SandboxShop, connect: ClientFactory) -> None:
    shop.generate(2)
    client = connect(shop)
    with httpx.Client(transport=Tamper(InProcessTransport(shop))) as http:
        tampered = type(client)(client.credentials, http=http, clock=shop.clock)
        with pytest.raises(SignatureMismatch, match="valid signature"):
            list(tampered.order_bodies())
    assert len(list(client.order_bodies())) == 2


def test_a_retry_is_signed_again_with_a_fresh_date(
    make_shop: ShopFactory,
    connect: ClientFactory,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 429 holds the client back a minute; a retry with the old date would be stale."""
    shop = make_shop(max_clock_skew=30)
    script = iter(["429.10"])  # the first answer is a 429, the rest are fine
    monkeypatch.setattr(shop.faults, "draw", lambda: next(script, None))
    client = connect(shop, retry=RetryPolicy(attempts=3, seed=1))
    before = clock()
    assert client.paymethods()
    assert clock() - before >= 60  # the retry went out a minute later, and was accepted


def test_a_signed_patch_of_an_order_fires_its_webhook(
    shop: SandboxShop, raw: httpx.Client, clock: FakeClock
) -> None:
    from ccvbird.sandbox.ccvshop import RecordingPoster

    assert isinstance(shop.poster, RecordingPoster)
    shop.add_webhook("orders.updated.ispaid", "https://app.test/paid")
    order_id = shop.create_order(status=4, paid=False)
    response = send(
        raw, "PATCH", f"/api/rest/v1/orders/{order_id}", '{"paid":true}', now_text(clock)
    )
    assert response.status_code == 204
    order = shop.order(order_id)
    assert order is not None
    assert order["paid"] is True
    assert [url for url, _, _ in shop.poster.calls] == ["https://app.test/paid"]
