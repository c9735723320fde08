"""How the sandbox shop edits an order when the merchant credits part of it, and what it invoices.

CCV documents one rule: ``POST /orders/:id/invoices`` makes an invoice for **the difference
between the current order and the latest invoice** (reference §5.1). The sandbox models a credit
exactly that way: the merchant edits the order (fewer items, no shipping, everything gone), and
the invoice for the difference is a ``type`` credit invoice when the order went down. So all
debit and credit invoices of an order always net to the order's current state, to the cent.

The arithmetic is the sandbox's own (it never imports ccvbird's domain), with these readings
where CCV is silent:

* **Rows**: crediting ``k`` of a row's ``n`` items leaves ``n - k``; the row's totals shrink in
  proportion, rounded half-up to cents (a "3 for" bundle stays exact: what is left is rounded,
  the credit is the rest). A fully credited row stays on the order with count 0 and totals 0, so
  its ``orderrow`` links keep answering.
* **Discount share**: the order's ``total_discounts`` (coupon and cart discount) and
  ``credit_point_discount`` belong to the goods (product rows, not deposits) in proportion to
  their value. What remains after a credit is ``discount × goods left / goods before``, rounded
  half-up to cents; the credit carries the rest. Per VAT rate the share follows the credited
  goods' value per rate (the shop reports no per-rate split, as for orders).
* **VAT** follows the generator's model of a shop: rounded per row, order-level amounts (shipping,
  costs, discounts) at the goods' VAT mix; the credit's VAT is the order's VAT before minus after.
* **Shipping, payment costs, extra costs** are credited only when asked (shipping) or by a full
  credit (all of them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

ZERO = Decimal(0)
CENT = Decimal("0.01")

#: Money fields of an order that an invoice carries under the same name.
ORDER_MONEY = ("total_shipping", "total_discounts", "paymethod_costs", "extra_costs",
               "credit_point_discount", "extra_payment_option_price", "total_price",
               "total_tax")  # fmt: skip
#: Amounts of a row that an invoice row carries for the invoiced count.
ROW_TOTALS = ("total_price", "total_price_with_attributes", "total_extra_option_price")
#: Per-item amounts of a row, copied onto an invoice row (negated on a credit).
ROW_UNIT_MONEY = ("price", "discount", "user_discount", "original_price", "selling_price",
                  "price_without_discount", "price_without_discount_with_attributes",
                  "price_with_attributes", "product_purchase_price")  # fmt: skip


class CreditRefused(ValueError):
    """The credit asked for does not fit the order (unknown row, more than is left …)."""


def q(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def money(value: Any, name: str) -> Decimal:
    """An amount the shop holds, as Decimal (``None`` is zero); absurd values are refused."""
    if value is None or value == "":
        return ZERO
    if isinstance(value, bool):
        raise CreditRefused(f"{name}: {value!r} is not an amount")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise CreditRefused(f"{name}: {value!r} is not an amount") from None


def _gross(order: Mapping[str, Any]) -> bool:
    return bool(order.get("order_row_taxes_included", True))


def _is_goods(row: Mapping[str, Any]) -> bool:
    return (row.get("product_type") or "product") != "deposit"


def order_level(order: Mapping[str, Any]) -> Decimal:
    """Shipping and costs less discounts, in the order's price mode."""
    return (
        money(order.get("total_shipping"), "total_shipping")
        + money(order.get("paymethod_costs"), "paymethod_costs")
        + money(order.get("extra_costs"), "extra_costs")
        + money(order.get("extra_payment_option_price"), "extra_payment_option_price")
        - money(order.get("total_discounts"), "total_discounts")
        - money(order.get("credit_point_discount"), "credit_point_discount")
    )


def shop_vat(rows: Iterable[Mapping[str, Any]], level: Decimal, gross: bool) -> Decimal:
    """VAT as the sandbox's shop reports it: per row, order-level amounts at the goods' mix."""

    def vat(amount: Decimal, rate: Decimal) -> Decimal:
        return q(amount * rate / (100 + rate)) if gross else q(amount * rate / 100)

    total = ZERO
    weights: dict[Decimal, Decimal] = {}
    for row in rows:
        value = money(row.get("total_price_with_attributes"), "total_price_with_attributes")
        rate = money(row.get("tax"), "tax")
        total += vat(value, rate)
        if _is_goods(row):
            weights[rate] = weights.get(rate, ZERO) + value
    weight_sum = sum(weights.values(), ZERO)
    if weight_sum:
        for rate, weight in weights.items():
            total += vat(level * weight / weight_sum, rate)
    return total


def _goods(rows: Iterable[Mapping[str, Any]]) -> Decimal:
    return sum(
        (
            money(r.get("total_price_with_attributes"), "total_price_with_attributes")
            for r in rows
            if _is_goods(r)
        ),
        ZERO,
    )


def _shrink(row: dict[str, Any], keep: Decimal) -> None:
    """Leave ``keep`` items on ``row``; its totals shrink in proportion (rounded to cents)."""
    count = money(row.get("count"), "count")
    for name in ROW_TOTALS:
        value = money(row.get(name), name)
        row[name] = q(value * keep / count) if count else ZERO
    row["count"] = keep


def credit_rows(
    order: dict[str, Any],
    rows: list[dict[str, Any]],
    counts: Mapping[int, Decimal],
    *,
    shipping: bool = False,
) -> None:
    """Edit ``order`` as a merchant does for a partial return: ``counts`` items fewer per row id
    (with the rows' discount share), and no shipping when ``shipping``."""
    by_id = {int(row["id"]): row for row in rows if str(row.get("id", "")).isdigit()}
    for row_id, count in counts.items():
        row = by_id.get(int(row_id))
        if row is None:
            raise CreditRefused(f"rows: the order has no row {row_id}")
        have = money(row.get("count"), "count")
        if count <= 0 or count > have:
            raise CreditRefused(
                f"rows: row {row_id} has {have} item(s) left; cannot credit {count}"
            )
    if not counts and not shipping:
        raise CreditRefused("rows: nothing to credit")
    gross = _gross(order)
    level_before = order_level(order)
    vat_before = shop_vat(rows, level_before, gross)
    rows_before = sum(
        (money(r.get("total_price_with_attributes"), "row total") for r in rows), ZERO
    )
    goods_before = _goods(rows)
    for row_id, count in counts.items():
        row = by_id[int(row_id)]
        _shrink(row, money(row.get("count"), "count") - count)
    goods_after = _goods(rows)
    if goods_before and counts:
        for name in ("total_discounts", "credit_point_discount"):
            order[name] = q(money(order.get(name), name) * goods_after / goods_before)
    if shipping:
        order["total_shipping"] = ZERO
    rows_after = sum((money(r.get("total_price_with_attributes"), "row total") for r in rows), ZERO)
    level_after = order_level(order)
    vat_after = shop_vat(rows, level_after, gross)
    vat_change = vat_after - vat_before
    change = rows_after - rows_before + level_after - level_before
    order["total_orderrow_price"] = money(
        order.get("total_orderrow_price"), "total_orderrow_price"
    ) + (rows_after - rows_before)
    order["total_tax"] = money(order.get("total_tax"), "total_tax") + vat_change
    order["total_price"] = (
        money(order.get("total_price"), "total_price") + change + (ZERO if gross else vat_change)
    )


def credit_all(order: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """Edit ``order`` down to nothing (a full refund): every amount zero, every row count 0."""
    for row in rows:
        _shrink(row, ZERO)
    for name in ORDER_MONEY:
        order[name] = ZERO
    for name in ("total_orderrow_price", "extra_price"):
        if name in order:
            order[name] = ZERO


@dataclass
class Invoiced:
    """What one invoice covers, signed (a credit's amounts are negative): the ledger the shop
    keeps to invoice the next difference."""

    amounts: dict[str, Decimal] = field(default_factory=dict)
    #: row id -> {"count": signed count, "total_price": …, …}
    rows: dict[int, dict[str, Decimal]] = field(default_factory=dict)


@dataclass(frozen=True)
class Difference:
    """The next invoice of an order: ``amounts`` and per-row changes, signed."""

    amounts: dict[str, Decimal]
    rows: dict[int, dict[str, Decimal]]

    @property
    def total(self) -> Decimal:
        return self.amounts["total_price"]

    @property
    def is_empty(self) -> bool:
        return not any(self.amounts.values()) and not self.rows


def difference(
    order: Mapping[str, Any], rows: list[dict[str, Any]], invoiced: Iterable[Invoiced]
) -> Difference:
    """The current order less everything invoiced so far."""
    done = list(invoiced)
    amounts = {
        name: money(order.get(name), name) - sum((i.amounts.get(name, ZERO) for i in done), ZERO)
        for name in ORDER_MONEY
    }
    changes: dict[int, dict[str, Decimal]] = {}
    for row in rows:
        if not str(row.get("id", "")).isdigit():
            continue
        row_id = int(row["id"])
        change = {}
        for name in ("count", *ROW_TOTALS):
            billed = sum((i.rows.get(row_id, {}).get(name, ZERO) for i in done), ZERO)
            change[name] = money(row.get(name), name) - billed
        if any(change.values()):
            changes[row_id] = change
    return Difference(amounts, changes)
