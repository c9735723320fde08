"""Webhook bodies as triggers, and the App Store's signed calls (§1.4), as pure functions.

The expected hashes are computed here with ``hmac`` directly, independent of the adapter."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ccvbird.adapters.ccvshop import (
    InvalidAppStoreCall,
    InvalidWebhookBody,
    SignatureMismatch,
    parse_webhook,
    verify_handshake,
    verify_install,
    verify_uninstall,
)


def mac(secret: str, text: bytes) -> str:
    return hmac.new(secret.encode(), text, hashlib.sha512).hexdigest()


STATUS_BODY = json.dumps(
    {
        "triggered_at": "2022-11-09T16:17:30Z",
        "href": "https://demoshop.ccvshop.nl/api/rest/v1/orders/339493812",
        "id": 339493812,
        "order_number": 3,
        "ordernumber_prefix": None,
        "ordernumber_full": "3",
        "total_price": 1175.5,
        "previous_status": 1,
        "status": 5,
        "customer_email": "j.jansen@example.nl",
        "customer_mobile": "",
    }
).encode()


def test_a_status_webhook_is_a_trigger() -> None:
    trigger = parse_webhook(STATUS_BODY)
    assert trigger.shop == "https://demoshop.ccvshop.nl"
    assert trigger.order_id == "339493812"
    assert trigger.event == "orders.updated.status"
    assert (trigger.previous_status, trigger.status) == (1, 5)
    assert trigger.order_number == "3"
    assert trigger.total_price == Decimal("1175.5")
    assert trigger.triggered_at == datetime(2022, 11, 9, 16, 17, 30, tzinfo=UTC)


def test_the_address_event_wins_and_a_created_body_is_recognised() -> None:
    created = b'{"id": 7, "href": "https://shop.test/api/rest/v1/orders/7"}'
    assert parse_webhook(created).event == "orders.created"
    assert parse_webhook(STATUS_BODY, event="orders.updated.ispaid").event == (
        "orders.updated.ispaid"
    )


def test_the_order_id_may_come_from_the_href() -> None:
    body = b'{"href": "https://shop.test/api/rest/v1/orders/42/", "paid": true}'
    trigger = parse_webhook(body)
    assert (trigger.order_id, trigger.event, trigger.paid) == ("42", "orders.updated.ispaid", True)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", "body"),
        (b"[1, 2]", "body"),
        (b'{"id": 7}', "href"),
        (b'{"id": 7, "href": "/api/rest/v1/orders/7"}', "href"),
        (b'{"href": "https://shop.test/api/rest/v1/orders/x"}', "id"),
        (b'{"id": "seven", "href": "https://shop.test/o/7"}', "id"),
        (b'{"id": 7, "href": "https://s.test/o/7", "triggered_at": "yesterday"}', "triggered_at"),
    ],
)
def test_a_body_that_names_no_order_says_which_field(body: bytes, field: str) -> None:
    with pytest.raises(InvalidWebhookBody) as caught:
        parse_webhook(body)
    assert caught.value.field == field


def test_an_unknown_event_is_refused() -> None:
    with pytest.raises(InvalidWebhookBody, match="event"):
        parse_webhook(STATUS_BODY, event="orders.exploded")


APP_SECRET = "app-secret"
HANDSHAKE_URI = "https://ccvbird.test/ccv/handshake"
INSTALL_URI = "https://ccvbird.test/ccv/install"
UNINSTALL_URI = "https://ccvbird.test/ccv/uninstall"


def handshake_body(**fields: str) -> bytes:
    body = {"api_public": "e_27^ttmc", "api_secret": "s3", "api_root": "https://shop.test/",
            "return_url": "https://shop.test/admin/apps", **fields}  # fmt: skip
    return json.dumps(body).encode()


def test_a_signed_handshake_brings_credentials() -> None:
    raw = handshake_body()
    signed = mac(APP_SECRET, HANDSHAKE_URI.encode() + b"|" + raw)
    handshake = verify_handshake(APP_SECRET, HANDSHAKE_URI, raw, signed.upper(), language="nl")
    assert handshake.api_public == "e_27^ttmc"
    assert handshake.api_secret == "s3"
    assert handshake.api_root == "https://shop.test"
    assert handshake.language == "nl"
    assert "s3" not in repr(handshake)


@pytest.mark.parametrize(
    "forge",
    [
        lambda raw, h: (raw + b" ", h),  # body changed
        lambda raw, h: (raw, h[:-1] + ("0" if h[-1] != "0" else "1")),  # hash changed
        lambda raw, h: (raw, None),  # no hash
    ],
    ids=["body", "hash", "missing"],
)
def test_a_forged_handshake_is_refused(forge: object) -> None:
    raw = handshake_body()
    signed = mac(APP_SECRET, HANDSHAKE_URI.encode() + b"|" + raw)
    body, offered = forge(raw, signed)  # type: ignore[operator]
    with pytest.raises(SignatureMismatch):
        verify_handshake(APP_SECRET, HANDSHAKE_URI, body, offered)


def test_a_handshake_signed_for_another_uri_is_refused() -> None:
    raw = handshake_body()
    signed = mac(APP_SECRET, b"https://evil.test/handshake|" + raw)
    with pytest.raises(SignatureMismatch):
        verify_handshake(APP_SECRET, HANDSHAKE_URI, raw, signed)


def test_a_signed_handshake_without_credentials_names_the_field() -> None:
    raw = handshake_body(api_secret="")
    signed = mac(APP_SECRET, HANDSHAKE_URI.encode() + b"|" + raw)
    with pytest.raises(InvalidAppStoreCall) as caught:
        verify_handshake(APP_SECRET, HANDSHAKE_URI, raw, signed)
    assert caught.value.field == "api_secret"


def test_the_install_page_is_signed_over_uri_and_decoded_public_key() -> None:
    signed = mac(APP_SECRET, f"{INSTALL_URI}|e_27^ttmc".encode())
    query = {"api_public": "e_27^ttmc", "language": "en", "x-hash": signed}
    visit = verify_install(APP_SECRET, INSTALL_URI + "?ignored=1", query)
    assert (visit.api_public, visit.language) == ("e_27^ttmc", "en")
    with pytest.raises(SignatureMismatch):
        verify_install(APP_SECRET, INSTALL_URI, {**query, "api_public": "e_27%5Ettmc"})
    with pytest.raises(InvalidAppStoreCall, match="api_public"):
        verify_install(APP_SECRET, INSTALL_URI, {"x-hash": signed})


def test_an_uninstall_names_the_shop_that_left() -> None:
    raw = b'{"api_public": "e_27^ttmc"}'
    signed = mac(APP_SECRET, UNINSTALL_URI.encode() + b"|" + raw)
    assert verify_uninstall(APP_SECRET, UNINSTALL_URI, raw, signed).api_public == "e_27^ttmc"
    with pytest.raises(SignatureMismatch):
        verify_uninstall("other-secret", UNINSTALL_URI, raw, signed)
