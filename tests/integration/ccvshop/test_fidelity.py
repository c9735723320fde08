"""The sandbox serves what real shops serve: the captured payloads parse, and the sandbox's
resources have the real field names and types (``../shared/fixtures/ccvshop``)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from ccvbird.adapters.ccvshop import parse_order, parse_webhook
from ccvbird.adapters.ccvshop.client import CcvShopClient
from ccvbird.adapters.ccvshop.wire import loads
from ccvbird.sandbox.ccvshop import SandboxShop
from tests.shared import CCV_FIXTURES, require

FIXTURES = CCV_FIXTURES


@pytest.fixture(autouse=True)
def _fixtures_present() -> None:
    require(FIXTURES)


def fixture(name: str) -> Any:
    return loads((FIXTURES / name).read_bytes())


def inventory(resource: str) -> dict[str, str]:
    resources = json.loads((FIXTURES / "field-inventory.json").read_text())["resources"]
    for name, entry in resources.items():
        if name == resource or name.startswith(resource + " "):
            fields: dict[str, str] = entry["fields"]
            return fields
    raise KeyError(resource)


def kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, Decimal):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def allowed(declared: str) -> set[str]:
    """The JSON kinds a PHP-model type admits (``float`` admits whole numbers, as in the
    captured order: ``"total_price": 590``)."""
    kinds = set()
    for part in declared.split("|"):
        if part.endswith("[]"):
            kinds.add("array")
        elif part == "float":
            kinds |= {"float", "int"}
        elif part in {"int", "bool", "string", "null"}:
            kinds.add(part)
        else:
            kinds.add("object")
    return kinds


def conforms(
    document: dict[str, Any], resource: str, *, also: dict[str, Any] | None = None
) -> list[str]:
    """Fields of ``document`` that the inventory does not know or whose type it does not allow.

    ``also``: a real payload whose observed kinds count as allowed too (reality beats the docs:
    the captured order sends ``user.id`` as a string).
    """
    fields = inventory(resource)
    problems = []
    for name, value in document.items():
        if name not in fields:
            problems.append(f"{resource}.{name}: not a CCV field")
            continue
        ok = allowed(fields[name])
        if also is not None and name in also:
            ok.add(kind(also[name]))
        if kind(value) not in ok:
            problems.append(f"{resource}.{name}: {kind(value)} is not {fields[name]}")
    return problems


# -- the captured payloads ----------------------------------------------------------------------


def test_the_captured_order_and_row_parse() -> None:
    order = parse_order(fixture("order.json"), {"items": [fixture("orderrow.json")]})
    assert order.order_id == "339323562"
    assert order.total_paid == Decimal(590)
    assert order.customer.account_id == "24464274"
    assert order.customer.delivery is None
    assert order.rows[0].total == Decimal(585)


@pytest.mark.parametrize(
    "event", ["orders.updated.ispaid", "orders.updated.status", "orders.updated.trackandtrace"]
)
def test_the_captured_webhook_bodies_parse(event: str) -> None:
    raw = (FIXTURES / f"webhook.{event}.json").read_bytes()
    trigger = parse_webhook(raw)
    body = json.loads(raw)
    assert trigger.event == event
    assert trigger.order_id == str(body["id"])
    assert trigger.shop == "https://demoshop.ccvshop.nl"
    assert parse_webhook(raw, event=event) == trigger


def test_the_captured_payloads_match_the_inventory() -> None:
    order = fixture("order.json")
    problems = conforms(order, "order", also={"user": {}})
    problems += conforms(order["user"], "order.user", also=order["user"])
    problems += conforms(fixture("orderrow.json"), "orderrow")
    assert problems == []


# -- the sandbox's resources ---------------------------------------------------------------------


@pytest.fixture
def populated(shop: SandboxShop) -> SandboxShop:
    shop.generate(150)
    return shop


def test_sandbox_orders_have_the_real_keys_and_types(populated: SandboxShop) -> None:
    real = fixture("order.json")
    for order in populated.orders():
        assert set(order) == set(real), order["id"]
        assert conforms(order, "order", also=real) == []
        assert conforms(order["user"], "order.user", also=real["user"]) == []
        assert conforms(order["discountcoupon"], "order.discountcoupon") == []
        customer = order["customer"]
        assert set(customer) == set(real["customer"])
        assert conforms(customer["billingaddress"], "Personalinfo.billingaddress") == []
        assert conforms(customer["deliveryaddress"], "Personalinfo.deliveryaddress") == []


def test_sandbox_rows_have_the_real_keys_and_types(populated: SandboxShop) -> None:
    real = fixture("orderrow.json")
    for order in populated.orders():
        for row in populated.order_rows(order["id"]) or []:
            assert set(row) == set(real)
            assert conforms(row, "orderrow", also=real) == []
            for attribute in row["attributes"]:
                assert conforms(attribute, "orderrow.attributes[]") == []


def test_sandbox_shop_resources_use_the_real_fields(populated: SandboxShop) -> None:
    from ccvbird.sandbox.ccvshop import documents

    assert conforms(populated.webshop(), "webshop") == []
    assert conforms(populated.merchant(), "merchant") == []
    settings = populated.settings()
    assert conforms(settings, "settings") == []
    for status in settings["order_status"]:
        assert conforms(status, "settings.order_status[]") == []
    for method in documents.paymethods():
        assert conforms(method, "paymethod") == []
    for invoice in populated.invoices():
        assert conforms(invoice, "invoice") == []
        for row in populated.invoice_rows(invoice["id"]) or []:
            assert conforms(row, "invoicerow") == []
    hook = populated.add_webhook("orders.created", "https://app.test/x")
    assert conforms(hook, "webhook") == []


def test_sandbox_collections_have_the_real_wrapper(
    populated: SandboxShop, client: CcvShopClient
) -> None:
    page = client._get(client._url("orders", [("start", "0"), ("size", "10")]))
    assert conforms(page, "collection wrapper") == []
    assert set(page) == set(inventory("collection wrapper"))
    assert page["next"].startswith(f"{populated.base_url}/api/rest/v1/orders/?start=10&size=10")


def test_sandbox_webhook_bodies_look_like_the_captured_ones(populated: SandboxShop) -> None:
    from ccvbird.sandbox.ccvshop import documents

    order = next(o for o in populated.orders() if o["is_completed"])
    for event in ("orders.updated.ispaid", "orders.updated.status"):
        real = fixture(f"webhook.{event}.json")
        body = documents.webhook_body(
            populated.root, order, event, "2026-01-01T10:00:00Z", previous_status=1
        )
        assert list(body) == list(real)

        def kinds(document: dict[str, Any]) -> dict[str, str]:
            numeric = {"int": "number", "float": "number"}
            return {k: numeric.get(kind(v), kind(v)) for k, v in document.items() if v is not None}

        assert kinds(body).items() <= {**kinds(real), "ordernumber_prefix": "string"}.items()
