"""Compact CCV orders for tests: a few keys in, a full wire-format order document out.

The documents have the real CCV keys (they start from the bundled example order), so every test
that uses them goes through the same wire parsing as a real order does.
"""

from __future__ import annotations

import copy
import itertools
import json
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from ccvbird.adapters.ccvshop.wire import parse_order
from ccvbird.adapters.profile_toml import parse_profile
from ccvbird.domain.order import Order
from ccvbird.domain.profile import MappingProfile


@cache
def _example() -> dict[str, Any]:
    data = resources.files("ccvbird.examples").joinpath("order-mixed-basket.json").read_bytes()
    document: dict[str, Any] = json.loads(data, parse_float=Decimal)
    return document


@cache
def example_profile_text() -> str:
    return resources.files("ccvbird.examples").joinpath("profile.toml").read_text(encoding="utf-8")


def example_profile(**overrides: Any) -> MappingProfile:
    """The bundled example profile with keys changed per section: ``vat={"oss": True}``."""
    text = example_profile_text()
    extra = []
    for section, values in overrides.items():
        for key, value in values.items():
            rendered = json.dumps(value) if not isinstance(value, bool) else str(value).lower()
            extra.append((section, f"{key} = {rendered}"))
    if extra:
        lines = text.splitlines()
        for section, assignment in extra:
            key = assignment.split(" = ")[0]
            lines = _set_key(lines, section, key, assignment)
        text = "\n".join(lines) + "\n"
    return parse_profile(text, source="test profile")


def _set_key(lines: list[str], section: str, key: str, assignment: str) -> list[str]:
    header = f"[{section}]"
    start = lines.index(header)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[")), len(lines))
    kept = [line for line in lines[start + 1 : end] if line.split("=")[0].strip() != key]
    return [*lines[: start + 1], assignment, *kept, *lines[end:]]


_row_ids = itertools.count(900_000_001)


def row(
    name: str,
    qty: str | int,
    total: str,
    vat: str | int,
    *,
    kind: str = "product",
    options: list[tuple[str, str, str]] | None = None,
) -> dict[str, Any]:
    """One order row (wire format) with the given row total, in the order's price mode."""
    quantity = Decimal(str(qty))
    row_total = Decimal(total)
    attributes = [
        {"option_name": o, "value_name": v, "price": Decimal(p)} for o, v, p in (options or [])
    ]
    return {
        "id": next(_row_ids),
        "product_type": kind,
        "product_name": name,
        "count": quantity,
        "price": row_total / quantity if quantity else row_total,
        "discount": Decimal(0),
        "tax": Decimal(str(vat)),
        "total_price": row_total,
        "total_price_with_attributes": row_total,
        "attributes": attributes,
    }


def order_document(
    rows: list[dict[str, Any]],
    *,
    paid: str,
    incl: bool = True,
    shipping: str = "0",
    shipping_vat: str = "21",
    payment_costs: str = "0",
    extra_costs: str = "0",
    extra_costs_description: str = "",
    discounts: str = "0",
    coupon: dict[str, Any] | None = None,
    credit_points: str = "0",
    reported_vat: str = "0",
    country: str = "NL",
    company: str = "",
    vat_number: str = "",
    intra_community: bool = False,
    platform: bool = False,
    created: str = "2026-05-12T10:00:00Z",
    status: int = 7,
    is_paid: bool = True,
    number: str = "1001",
) -> dict[str, Any]:
    """A full CCV order document (``{"order": ..., "orderrows": ...}``) with these facts."""
    order = copy.deepcopy(_example()["order"])
    order.update(
        {
            "ordernumber_full": number,
            "ordernumber": int(number) if number.isdigit() else (1 if number else None),
            "ordernumber_prefix": None,
            "create_date": created,
            "status": status,
            "paid": is_paid,
            "order_row_taxes_included": incl,
            "shipping_taxes_included": incl,
            "total_shipping": Decimal(shipping),
            "shipping_tax_percentage": Decimal(shipping_vat),
            "paymethod_costs": Decimal(payment_costs),
            "extra_costs": Decimal(extra_costs),
            "extra_costs_description": extra_costs_description,
            "total_discounts": Decimal(discounts),
            "credit_point_discount": Decimal(credit_points),
            "is_intra_community_order": intra_community,
            "is_platform_sale": platform,
            "total_price": Decimal(paid),
            "total_tax": Decimal(reported_vat),
            "total_orderrow_price": sum((r["total_price"] for r in rows), Decimal(0)),
            "discountcoupon": coupon
            or {"code": "", "discount": 0, "type": "", "enddate": None, "onetimeuse": False},
        }
    )
    billing = order["customer"]["billingaddress"]
    billing["country_code"] = country
    billing["company"] = company
    order["customer"]["btw"] = vat_number
    order["customer"]["customertype"] = "b2b" if company else "b2c"
    return {"order": order, "orderrows": {"items": rows, "next": None}}


def make_order(rows: list[dict[str, Any]], **facts: Any) -> Order:
    document = order_document(rows, **facts)
    return parse_order(document["order"], document["orderrows"])
