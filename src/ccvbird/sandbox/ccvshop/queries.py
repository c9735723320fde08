"""Filters, sorting and paging of the sandbox's lists, as documented for CCV (reference §2).

Where CCV's documentation is silent the sandbox takes the reading a careful client must cope
with anyway, and says so:

* ``is_completed`` defaults to true; ``false`` lists only unfinished checkouts.
* ``min_create_date``/``max_create_date`` take a date (``2026-01-31``) or a date-time (ISO-8601,
  a space instead of the ``T`` allowed); both bounds are inclusive, a bare date as ``max`` means
  the whole day, and a time without a zone is UTC.
* ``size`` defaults to 25 and is capped at the shop's maximum (100 unless configured): a client
  asking for more gets fewer items per page, and a ``next`` link.
* Parameters the sandbox does not know are ignored, like a PHP backend would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

Params = list[tuple[str, str]]

ORDER_SORTS = ("id", "ordernumber", "create_date", "deliver_date")
INVOICE_SORTS = ("id", "invoicenumber", "invoicenumber_full", "ordernumber", "ordernumber_full",
                 "create_date", "status", "total_price")  # fmt: skip


class BadParameter(ValueError):
    """A query parameter the API cannot use; the message names it."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"Parameter {name}: {problem}")
        self.name = name


def _last(params: Params, name: str) -> str | None:
    found = None
    for key, value in params:
        if key == name:
            found = value
    return found


def _int(params: Params, name: str) -> int | None:
    value = _last(params, name)
    if value is None or value == "":
        return None
    if not value.strip().lstrip("-").isdigit():
        raise BadParameter(name, f"{value!r} is not an integer")
    return int(value)


def _bool(params: Params, name: str) -> bool | None:
    value = _last(params, name)
    if value is None or value == "":
        return None
    lowered = value.strip().lower()
    if lowered in {"true", "1"}:
        return True
    if lowered in {"false", "0"}:
        return False
    raise BadParameter(name, f"{value!r} is not true or false")


def _moment(params: Params, name: str, *, end_of_day: bool) -> datetime | None:
    value = _last(params, name)
    if value is None or value == "":
        return None
    text = value.strip().replace(" ", "T", 1)
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            if end_of_day:
                return datetime.combine(day, time.max, UTC)
            return datetime.combine(day, time.min, UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadParameter(name, f"{value!r} is not a date or ISO-8601 date-time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse_created(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


@dataclass(frozen=True, slots=True)
class Page:
    start: int
    size: int
    #: The other parameters, in the order they came, for the links to keep.
    rest: Params


def page_of(params: Params, *, default_size: int, max_size: int) -> Page:
    start = _int(params, "start") or 0
    size = _int(params, "size")
    if start < 0:
        raise BadParameter("start", "must not be negative")
    if size is None:
        size = default_size
    if size < 1:
        raise BadParameter("size", "must be at least 1")
    rest = [(k, v) for k, v in params if k not in {"start", "size"}]
    return Page(start=start, size=min(size, max_size), rest=rest)


def _sorted(items: list[dict[str, Any]], orderby: str | None, allowed: tuple[str, ...],
            key_of: Callable[[dict[str, Any], str], Any]) -> list[dict[str, Any]]:  # fmt: skip
    field = orderby or "id"
    descending = field.endswith("_desc")
    field = field.removesuffix("_desc")
    if field not in allowed:
        raise BadParameter("orderby", f"{orderby!r} is not one of {', '.join(allowed)}")
    present = [item for item in items if item.get(field) is not None]
    missing = [item for item in items if item.get(field) is None]
    present.sort(key=lambda item: (key_of(item, field), item["id"]), reverse=descending)
    return present + missing


def _sort_key(item: dict[str, Any], field: str) -> Any:
    value = item[field]
    if field in {"create_date", "deliver_date"}:
        return parse_created(value)
    if field in {"invoicenumber_full", "ordernumber_full", "returnnumber_full", "status"}:
        return str(value)
    return value


def filter_orders(orders: list[dict[str, Any]], params: Params) -> list[dict[str, Any]]:
    number = _int(params, "ordernumber")
    status = _int(params, "status")
    paid = _bool(params, "is_paid")
    completed = _bool(params, "is_completed")
    completed = True if completed is None else completed
    earliest = _moment(params, "min_create_date", end_of_day=False)
    latest = _moment(params, "max_create_date", end_of_day=True)
    paymethod = _int(params, "paymethod_id")
    transaction = _last(params, "transaction_id")
    deliver = _last(params, "deliver_date")

    def wanted(order: dict[str, Any]) -> bool:
        created = parse_created(order["create_date"])
        return not (
            bool(order.get("is_completed")) != completed
            or (number is not None and order.get("ordernumber") != number)
            or (status is not None and order.get("status") != status)
            or (paid is not None and bool(order.get("paid")) != paid)
            or (earliest is not None and created < earliest)
            or (latest is not None and created > latest)
            or (paymethod is not None and order.get("paymethod_id") != paymethod)
            or (transaction and order.get("transaction_id") != transaction)
            or (deliver and not str(order.get("deliver_date") or "").startswith(deliver))
        )

    chosen = [order for order in orders if wanted(order)]
    return _sorted(chosen, _last(params, "orderby"), ORDER_SORTS, _sort_key)


def filter_invoices(
    invoices: list[dict[str, Any]], params: Params, status_codes: dict[str, str]
) -> list[dict[str, Any]]:
    number = _int(params, "invoicenumber")
    number_full = _last(params, "invoicenumber_full")
    order_number = _int(params, "ordernumber")
    order_number_full = _last(params, "ordernumber_full")
    status_word = _last(params, "status")
    status = None
    if status_word:
        if status_word not in status_codes:
            raise BadParameter("status", f"{status_word!r} is not paid, unpaid or reimbursed")
        status = status_codes[status_word]
    earliest = _moment(params, "min_create_date", end_of_day=False)
    latest = _moment(params, "max_create_date", end_of_day=True)
    kind = _last(params, "type")
    if kind and kind not in {"debit", "credit"}:
        raise BadParameter("type", f"{kind!r} is not debit or credit")

    def wanted(invoice: dict[str, Any]) -> bool:
        created = parse_created(invoice["create_date"])
        return not (
            (kind and invoice.get("type") != kind)
            or (number is not None and invoice.get("invoicenumber") != number)
            or (number_full and invoice.get("invoicenumber_full") != number_full)
            or (order_number is not None and invoice.get("ordernumber") != order_number)
            or (order_number_full and invoice.get("ordernumber_full") != order_number_full)
            or (status is not None and invoice.get("status") != status)
            or (earliest is not None and created < earliest)
            or (latest is not None and created > latest)
        )

    chosen = [invoice for invoice in invoices if wanted(invoice)]
    return _sorted(chosen, _last(params, "orderby"), INVOICE_SORTS, _sort_key)


RETURN_SORTS = ("id", "returnnumber", "returnnumber_full", "ordernumber", "ordernumber_full",
                "create_date", "status")  # fmt: skip


def filter_returns(returns: list[dict[str, Any]], params: Params) -> list[dict[str, Any]]:
    """``GET /returns``: ``returnnumber(_full)``, ``ordernumber(_full)``, ``status`` (1-8),
    ``min_create_date``/``max_create_date`` — the filters of invoices, for returns."""
    number = _int(params, "returnnumber")
    number_full = _last(params, "returnnumber_full")
    order_number = _int(params, "ordernumber")
    order_number_full = _last(params, "ordernumber_full")
    status = _int(params, "status")
    earliest = _moment(params, "min_create_date", end_of_day=False)
    latest = _moment(params, "max_create_date", end_of_day=True)

    def wanted(item: dict[str, Any]) -> bool:
        created = parse_created(item["create_date"])
        return not (
            (number is not None and item.get("returnnumber") != number)
            or (number_full and item.get("returnnumber_full") != number_full)
            or (order_number is not None and item.get("ordernumber") != order_number)
            or (order_number_full and item.get("ordernumber_full") != order_number_full)
            or (status is not None and item.get("status") != str(status))
            or (earliest is not None and created < earliest)
            or (latest is not None and created > latest)
        )

    chosen = [item for item in returns if wanted(item)]
    return _sorted(chosen, _last(params, "orderby"), RETURN_SORTS, _sort_key)
