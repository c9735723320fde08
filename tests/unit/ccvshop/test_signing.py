"""The request signer against the reference's test vector (§1.1), and signing what is sent."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest

from ccvbird.adapters.ccvshop.signing import (
    response_signature_matches,
    sign_request,
    signature,
    string_to_sign,
    x_date,
)

VECTOR = (
    "75938196b6908b88754420047a1041fd9395bb4803bf6d8f4610c367f1d3fe526c96fd60e71b816d"
    "fd428d6d7fbc6c2acbd815226e180720c8d3bad13e96f2a6"
)


def test_the_reference_test_vector() -> None:
    uri = "/api/rest/v1/orders?start=0&size=25"
    assert string_to_sign("demo", "GET", uri, b"", "2025-01-31T12:00:00Z") == (
        b"demo|GET|/api/rest/v1/orders?start=0&size=25||2025-01-31T12:00:00Z"
    )
    assert signature("demo", "demo", "GET", uri, "", "2025-01-31T12:00:00Z") == VECTOR


def test_the_method_is_upper_case_and_the_body_exact_bytes() -> None:
    body = b'{"is_installed": true}'
    expected = hmac.new(
        b"s3cret", b"pub|PATCH|/api/rest/v1/apps/5|" + body + b"|2026-01-01T00:00:00Z",
        hashlib.sha512,
    ).hexdigest()  # fmt: skip
    assert (
        signature("s3cret", "pub", "patch", "/api/rest/v1/apps/5", body, "2026-01-01T00:00:00Z")
        == expected
    )


def test_x_date_is_utc_to_the_second_with_z() -> None:
    amsterdam = timezone(timedelta(hours=1))
    assert x_date(datetime(2026, 1, 31, 13, 0, 0, 999, tzinfo=amsterdam)) == "2026-01-31T12:00:00Z"
    with pytest.raises(ValueError, match="aware"):
        x_date(datetime(2026, 1, 31))  # noqa: DTZ001


def test_a_request_is_signed_over_the_path_and_query_as_sent() -> None:
    request = httpx.Request(
        "GET", "https://shop.test/api/rest/v1/orders/?start=25&size=25&x=a%5Eb&y=c d"
    )
    sign_request(request, public="pub", secret="sec", date="2026-01-01T00:00:00Z")
    sent_uri = request.url.raw_path.decode()
    assert sent_uri == "/api/rest/v1/orders/?start=25&size=25&x=a%5Eb&y=c%20d"
    assert request.headers["x-hash"] == signature(
        "sec", "pub", "GET", sent_uri, "", "2026-01-01T00:00:00Z"
    )
    assert request.headers["x-public"] == "pub"
    assert request.headers["x-date"] == "2026-01-01T00:00:00Z"


def test_a_response_signature_is_checked_when_present() -> None:
    request = httpx.Request("GET", "https://shop.test/api/rest/v1/webshops")
    body = b'{"items": []}'
    good = signature("sec", "pub", "GET", "/api/rest/v1/webshops", body, "2026-01-01T00:00:01Z")
    headers = {"x-date": "2026-01-01T00:00:01Z", "x-hash": good}
    ok = httpx.Response(200, headers=headers, content=body, request=request)
    assert response_signature_matches(ok, public="pub", secret="sec")
    altered = httpx.Response(200, headers=headers, content=b'{"items":[]}', request=request)
    assert not response_signature_matches(altered, public="pub", secret="sec")
    unsigned = httpx.Response(204, request=request)
    assert response_signature_matches(unsigned, public="pub", secret="sec")


def test_x_date_uses_utc() -> None:
    assert x_date(datetime(2026, 6, 1, 0, 0, tzinfo=UTC)) == "2026-06-01T00:00:00Z"
