"""CCV wire parsing: real payloads, known quirks, and malformed input named by field."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from ccvbird.adapters.ccvshop.wire import decode_order_file, dumps, loads, parse_order
from ccvbird.domain.errors import InvalidOrderData
from ccvbird.domain.order import RowKind
from tests.shared import CCV_FIXTURES, require

FIXTURES = CCV_FIXTURES


@pytest.fixture
def needs_fixtures_present() -> None:
    require(FIXTURES)


needs_fixtures = pytest.mark.usefixtures("needs_fixtures_present")


def fixture(name: str) -> Any:
    return loads((FIXTURES / name).read_bytes())


@needs_fixtures
def test_the_real_order_and_row_parse_with_their_quirks() -> None:
    order = parse_order(fixture("order.json"), [fixture("orderrow.json")])
    assert order.order_id == "339323562"
    assert order.number == "1"
    assert order.customer.account_id == "24464274"  # user.id arrives as a JSON string
    assert order.customer.delivery is None  # all-empty delivery address means "same as billing"
    assert order.coupon is None  # discountcoupon with an empty code
    assert order.created_at == datetime(2022, 11, 7, 21, 51, tzinfo=UTC)
    assert order.total_paid == Decimal("590") and order.shipping == Decimal("5")
    assert order.reported.tax == Decimal("102.4")
    (row,) = order.rows
    assert (row.name, row.quantity, row.total, row.vat_percentage) == (
        "OnePlus Blauw", Decimal(1), Decimal(585), Decimal(21),
    )  # fmt: skip


@needs_fixtures
def test_json_numbers_become_exact_decimals() -> None:
    body = loads(b'{"total_price": 616.67, "count": 1}')
    assert body == {"total_price": Decimal("616.67"), "count": 1}
    assert isinstance(fixture("order.json")["total_tax"], Decimal)


def test_bundled_example_decodes() -> None:
    from importlib import resources

    data = resources.files("ccvbird.examples").joinpath("order-mixed-basket.json").read_bytes()
    order = decode_order_file(data)
    assert order.number == "WEB-1042"
    assert [r.name for r in order.rows][1] == "Koffiemolen Classic"
    assert order.rows[1].options[0].name == "Kleur"
    assert order.rows[1].total == Decimal("80.00")  # total_price_with_attributes: option included


def example() -> dict[str, Any]:
    from importlib import resources

    data = resources.files("ccvbird.examples").joinpath("order-mixed-basket.json").read_bytes()
    document: dict[str, Any] = loads(data)
    return document


@pytest.mark.parametrize("coupon", [None, {}, {"code": None}, {"code": "", "discount": 0}])
def test_missing_or_empty_coupon_means_no_coupon(coupon: object) -> None:
    document = example()
    if coupon is None:
        del document["order"]["discountcoupon"]
    else:
        document["order"]["discountcoupon"] = coupon
    order = parse_order(document["order"], document["orderrows"])
    assert order.coupon is None


def test_null_and_empty_strings_and_string_ids_are_tolerated() -> None:
    document = example()
    document["order"]["id"] = "412345678"
    document["order"]["customer"]["billingaddress"]["company"] = None
    document["order"]["customer"]["email"] = "  Sanne.DeVries@Example.NL "
    document["order"]["user"] = None
    document["order"]["extra_price"] = None  # deprecated; ignored
    document["order"]["customer"]["deliveryaddress"]["country_code"] = "be"
    document["order"]["customer"]["deliveryaddress"]["city"] = "Gent"
    order = parse_order(document["order"], document["orderrows"]["items"])  # bare list of rows
    assert order.order_id == "412345678"
    assert order.customer.billing.company == ""
    assert order.customer.email == "sanne.devries@example.nl"
    assert order.customer.account_id == ""
    assert order.customer.destination_country == "BE"


@pytest.mark.parametrize(
    "stamp", ["2026-03-31T22:30:00Z", "2026-03-31T22:30:00+00:00", "2026-03-31T22:30:00+0000",
              "2026-03-31T22:30:00.000Z", "2026-03-31T22:30:00", "2026-04-01T00:30:00+02:00"],
)  # fmt: skip
def test_every_iso_date_spelling_of_ccv_clients_is_read(stamp: str) -> None:
    document = example()
    document["order"]["create_date"] = stamp
    order = parse_order(document["order"], document["orderrows"])
    assert order.created_at == datetime(2026, 3, 31, 22, 30, tzinfo=UTC)


def test_deposit_rows_are_recognised_by_product_type() -> None:
    document = example()
    document["orderrows"]["items"][0]["product_type"] = "deposit"
    order = parse_order(document["order"], document["orderrows"])
    assert order.rows[0].kind is RowKind.DEPOSIT
    assert order.rows[1].kind is RowKind.PRODUCT


def mutate(path: list[str | int], value: object) -> dict[str, Any]:
    document = example()
    target: Any = document
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return document


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (["order", "total_price"], KeyError, "order.total_price"),
        (["order", "total_price"], "twelve", "order.total_price"),
        (["order", "total_price"], 590.0, "order.total_price"),  # a float slipped in
        (["order", "create_date"], "yesterday", "order.create_date"),
        (["order", "id"], KeyError, "order.id"),
        (["orderrows", "items", 2, "count"], KeyError, "orderrows.items[2].count"),
        (["orderrows", "items", 1, "tax"], None, "orderrows.items[1].tax"),
        (["orderrows", "items", 0, "total_price"], "1e999", "orderrows.items[0].total_price"),
        (["orderrows", "items"], "none", "orderrows.items"),
        (["order", "customer", "billingaddress"], 5, "order.customer.billingaddress"),
    ],
)
def test_malformed_input_names_the_field(path: list[str | int], value: object, field: str) -> None:
    document = mutate(path, value)
    with pytest.raises(InvalidOrderData) as info:
        parse_order(document["order"], document["orderrows"])
    assert info.value.field == field


@pytest.mark.parametrize(
    ("data", "field"),
    [(b"not json", "file"), (b"[]", "file"), (b'{"order": {}}', "orderrows"),
     (b'{"orderrows": {"items": []}}', "order"), (b'{"order": 5, "orderrows": []}', "order")],
)  # fmt: skip
def test_the_preview_file_format_is_checked(data: bytes, field: str) -> None:
    with pytest.raises(InvalidOrderData) as info:
        decode_order_file(data)
    assert info.value.field == field


def test_dumps_writes_decimals_as_exact_json_numbers() -> None:
    text = dumps({"a": Decimal("12.30"), "b": [Decimal("-0.05"), 1, None]})
    assert text == '{"a": 12.30, "b": [-0.05, 1, null]}'
    assert loads(text) == {"a": Decimal("12.30"), "b": [Decimal("-0.05"), 1, None]}
    assert json.loads(text)["a"] == 12.3  # any JSON reader can read it


def test_a_round_trip_through_json_keeps_the_order_identical() -> None:
    document = example()
    again = loads(dumps(copy.deepcopy(document)))
    first = parse_order(document["order"], document["orderrows"])
    second = parse_order(again["order"], again["orderrows"])
    assert first == second
