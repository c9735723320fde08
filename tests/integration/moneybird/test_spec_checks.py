"""The spec referee itself must be able to fail, or a green run proves nothing."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.moneybird.openapi import MoneybirdSpec, SpecViolation, check_strings

BASE = "http://moneybird.sandbox/api/v2/470000000000000001"


def test_an_unknown_field_in_a_request_body_is_caught(spec: MoneybirdSpec) -> None:
    request = httpx.Request(
        "POST", f"{BASE}/contacts.json", json={"contact": {"company_name": "X", "email": "a@b"}}
    )

    with pytest.raises(SpecViolation, match="email"):
        spec.check_request(request)


def test_an_unknown_path_or_query_parameter_is_caught(spec: MoneybirdSpec) -> None:
    with pytest.raises(SpecViolation, match="no such operation"):
        spec.check_request(httpx.Request("GET", f"{BASE}/contacts/by_email/x.json"))
    with pytest.raises(SpecViolation, match="email"):
        spec.check_request(httpx.Request("GET", f"{BASE}/contacts.json?email=a@b"))


def test_a_response_that_breaks_the_schema_is_caught(spec: MoneybirdSpec) -> None:
    request = httpx.Request("GET", f"{BASE}/tax_rates.json")
    op = spec.check_request(request)
    assert op is not None
    bad = httpx.Response(200, json=[{"id": "1", "name": "21%", "surprise": True}])

    with pytest.raises(SpecViolation, match="surprise"):
        spec.check_response(bad, op)


def test_numeric_ids_and_amounts_are_caught() -> None:
    with pytest.raises(SpecViolation, match="contact_id"):
        check_strings({"contact_id": 496081523137578258}, "here")
    with pytest.raises(SpecViolation, match="total_paid"):
        check_strings({"total_paid": 0}, "here")
    check_strings({"draft_id": 2, "id": "1", "price": None}, "here")
