"""CCV Shop wire models: tolerant of what real shops send, strict about money.

What real shops send differs from CCV's documentation in small ways (see
``../shared/reference/ccvshop-api.md`` §8): ids arrive as strings or ints, optional text as
``null`` or ``""``, the delivery address as a block of empty strings when it equals the billing
address, ``discountcoupon`` empty or missing. These models accept all of that and translate the
order into :class:`ccvbird.domain.order.Order`.

Money is never a float: JSON is parsed with ``parse_float=Decimal`` (:func:`loads`), and the
money type below refuses a float outright so a caller that forgot cannot slip one in.
"""

from __future__ import annotations

import json
from dataclasses import fields, is_dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

import simplejson
from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainValidator, ValidationError

from ccvbird.domain.bounds import MONEY_LIMIT, has_undecodable_text
from ccvbird.domain.errors import InvalidOrderData
from ccvbird.domain.money import ZERO, MoneyTypeError, to_decimal
from ccvbird.domain.order import (
    Address,
    Coupon,
    Customer,
    Order,
    OrderRow,
    ReportedTotals,
    RowKind,
    RowOption,
)


def loads(data: bytes | str) -> Any:
    """Parse CCV JSON with every non-integer number as an exact Decimal."""
    return json.loads(data, parse_float=Decimal)


def loads_isolating(data: bytes) -> Any:
    """Parse an API answer even when some of its text is not UTF-8.

    A list page holds many orders; one customer name of raw Latin-1 bytes must not make the
    whole page unreadable. Bytes that are not UTF-8 are kept as lone surrogates
    (``surrogateescape``), so the page parses and :func:`parse_order` parks just the order
    they are in, naming the field.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", "surrogateescape")
    return json.loads(text, parse_float=Decimal)


def undecodable_field(value: Any, path: str) -> str | None:
    """The dotted path of the first text in ``value`` (a domain order, or any part of one) that
    holds bytes that were not UTF-8. Only what ccvbird uses is looked at: garbled bytes in a
    field ccvbird ignores stop nothing.

    Every order read is checked, so the common case (nothing garbled) is a quick walk without
    paths; the path is worked out only for an order that has such text."""
    if not _holds_undecodable(value):
        return None
    return _undecodable_path(value, path)


#: Field names per dataclass type, and the types that hold no text: looked up, not worked out,
#: for every value of every order read.
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
_NO_TEXT: frozenset[type] = frozenset({int, bool, float, Decimal, date, datetime, type(None)})


def _holds_undecodable(value: Any) -> bool:
    kind = type(value)
    if kind is str:
        return not value.isascii() and has_undecodable_text(value)
    if kind in _NO_TEXT:
        return False
    if kind is tuple:
        return any(_holds_undecodable(item) for item in value)
    names = _FIELD_NAMES.get(kind)
    if names is None:
        if not is_dataclass(value) or isinstance(value, type):
            return isinstance(value, str) and has_undecodable_text(value)  # a str enum
        names = _FIELD_NAMES[kind] = tuple(f.name for f in fields(value))
    return any(_holds_undecodable(getattr(value, name)) for name in names)


def _undecodable_path(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        return path if has_undecodable_text(value) else None
    if isinstance(value, tuple):
        for index, item in enumerate(value):
            found = _undecodable_path(item, f"{path}[{index}]")
            if found is not None:
                return found
    elif is_dataclass(value) and not isinstance(value, type):
        for item in fields(value):
            found = _undecodable_path(getattr(value, item.name), f"{path}.{item.name}")
            if found is not None:
                return found
    return None


def dumps(document: Any, *, indent: int | None = None) -> str:
    """Write JSON with Decimals as exact JSON numbers (``12.30``), the way CCV sends amounts."""
    return simplejson.dumps(document, use_decimal=True, indent=indent, ensure_ascii=False)


def _money(value: object) -> Decimal:
    # Fast paths first: this runs for every amount of every order.
    if type(value) is Decimal and value.is_finite():
        amount = value
    elif type(value) is int:
        amount = Decimal(value)
    else:
        try:
            amount = to_decimal(value, field="value")
        except MoneyTypeError as exc:
            raise ValueError(str(exc).removeprefix("value: ")) from None
    if not -MONEY_LIMIT < amount < MONEY_LIMIT:
        raise ValueError(f"{value} is out of range")
    return amount


def _money_or_zero(value: object) -> Decimal:
    return ZERO if value is None or value == "" else _money(value)


def _text(value: object) -> str:
    """``null`` and ``""`` mean the same; ids and numbers sent as text become text."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"expected text, got {type(value).__name__}")


def _flag(value: object) -> object:
    return False if value is None or value == "" else value


def _datetime(value: object) -> datetime:
    """ISO-8601 as CCV clients see it (``Z``, ``+00:00``, ``+0000``); naive means UTC."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        text = value.strip().replace(" ", "T", 1)
        if len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit():
            text = f"{text[:-2]}:{text[-2:]}"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO-8601 date-time") from None
    else:
        raise ValueError("a date-time is required")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


Money = Annotated[Decimal, PlainValidator(_money)]
MoneyOrZero = Annotated[Decimal, PlainValidator(_money_or_zero)]
Text = Annotated[str, PlainValidator(_text)]
Flag = Annotated[bool, BeforeValidator(_flag)]
Timestamp = Annotated[datetime, PlainValidator(_datetime)]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class WireRowAttribute(_Wire):
    option_name: Text = ""
    value_name: Text = ""
    price: MoneyOrZero = ZERO


class WireOrderRow(_Wire):
    id: Text = ""
    product_type: Text = "product"
    product_name: Text = ""
    product_number: Text = ""
    sub_sku_number: Text = ""
    count: Money
    price: MoneyOrZero = ZERO
    discount: MoneyOrZero = ZERO
    total_price: Money
    total_price_with_attributes: Annotated[
        Decimal | None, PlainValidator(lambda v: None if v is None else _money(v))
    ] = None
    tax: Money
    attributes: Annotated[list[WireRowAttribute], BeforeValidator(lambda v: v or [])] = []

    @property
    def is_deposit(self) -> bool:
        kind = self.product_type.lower()
        return any(word in kind for word in ("deposit", "statiegeld", "borg"))


class WireRowCollection(_Wire):
    items: list[WireOrderRow]
    next: Text = ""


class WireAddress(_Wire):
    # Plain optional strings (validated natively, the hot path of order parsing); ``None`` and
    # ``""`` are both "empty" and become ``""`` in to_domain().
    company: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    full_name: str | None = None
    address_line_1: str | None = None
    address_line_2: str | None = None
    street: str | None = None
    housenumber: Text = ""
    housenumber_suffix: str | None = None
    zipcode: str | None = None
    city: str | None = None
    country_code: str | None = None
    telephone: str | None = None
    mobile: str | None = None

    def is_empty(self) -> bool:
        return not any(
            (self.full_name, self.first_name, self.last_name, self.company, self.address_line_1,
             self.street, self.zipcode, self.city, self.country_code)
        )  # fmt: skip

    def to_domain(self) -> Address:
        line_1 = self.address_line_1 or ""
        if not line_1 and self.street:
            number = f"{self.housenumber}{self.housenumber_suffix or ''}".strip()
            line_1 = f"{self.street} {number}".strip()
        return Address(
            company=(self.company or "").strip(),
            first_name=(self.first_name or "").strip(),
            last_name=(self.last_name or "").strip(),
            full_name=(self.full_name or "").strip(),
            address_line_1=line_1.strip(),
            address_line_2=(self.address_line_2 or "").strip(),
            zipcode=(self.zipcode or "").strip(),
            city=(self.city or "").strip(),
            country_code=(self.country_code or "").strip().upper(),
            phone=(self.telephone or self.mobile or "").strip(),
        )


class WireCustomer(_Wire):
    billingaddress: Annotated[WireAddress, BeforeValidator(lambda v: v or {})] = WireAddress()
    deliveryaddress: Annotated[WireAddress, BeforeValidator(lambda v: v or {})] = WireAddress()
    email: Text = ""
    email_invoice: Text = ""
    customertype: Text = ""
    btw: Text = ""
    kvk: Text = ""


class WireCoupon(_Wire):
    code: Text = ""
    discount: MoneyOrZero = ZERO
    type: Text = ""


class WireUser(_Wire):
    id: Text = ""


class WireOrder(_Wire):
    id: Text
    ordernumber: Text = ""
    ordernumber_full: Text = ""
    create_date: Timestamp
    status: int | None = None
    is_completed: bool | None = None
    paid: Flag = False
    currency: Text = "EUR"
    orderedinlng: Text = ""
    order_row_taxes_included: Flag = True
    shipping_tax_percentage: MoneyOrZero = ZERO
    is_intra_community_order: Flag = False
    is_platform_sale: Flag = False
    total_orderrow_price: MoneyOrZero = ZERO
    total_shipping: MoneyOrZero = ZERO
    total_discounts: MoneyOrZero = ZERO
    total_price: Money
    total_tax: MoneyOrZero = ZERO
    paymethod_id: Text = ""
    paymethod: Text = ""
    paymethod_label: Text = ""
    paymethod_costs: MoneyOrZero = ZERO
    extra_payment_option: Text = ""
    extra_payment_option_price: MoneyOrZero = ZERO
    credit_point_discount: MoneyOrZero = ZERO
    extra_costs: MoneyOrZero = ZERO
    extra_costs_description: Text = ""
    transaction_id: Text = ""
    user: Annotated[WireUser, BeforeValidator(lambda v: v or {})] = WireUser()
    discountcoupon: Annotated[WireCoupon, BeforeValidator(lambda v: v or {})] = WireCoupon()
    customer: Annotated[WireCustomer, BeforeValidator(lambda v: v or {})] = WireCustomer()

    @property
    def number(self) -> str:
        return self.ordernumber_full or self.ordernumber

    def to_domain(self, rows: list[WireOrderRow]) -> Order:
        """The domain order, with CCV's quirks resolved (documented field by field)."""
        customer = self.customer
        delivery = (
            None if customer.deliveryaddress.is_empty() else customer.deliveryaddress.to_domain()
        )
        coupon_wire = self.discountcoupon
        coupon = (
            Coupon(code=coupon_wire.code.strip(), value=coupon_wire.discount, kind=coupon_wire.type)
            if coupon_wire.code.strip()
            else None
        )
        completed = self.is_completed if self.is_completed is not None else self.status is not None
        return Order(
            order_id=self.id,
            number=self.number,
            created_at=self.create_date,
            status=self.status,
            is_completed=bool(completed),
            paid=self.paid,
            currency=(self.currency or "EUR").upper(),
            prices_include_vat=self.order_row_taxes_included,
            customer=Customer(
                email=(customer.email or customer.email_invoice).strip().lower(),
                billing=customer.billingaddress.to_domain(),
                delivery=delivery,
                is_business=customer.customertype.lower() == "b2b",
                vat_number=customer.btw.replace(" ", "").replace(".", "").upper(),
                coc_number=customer.kvk.strip(),
                account_id=self.user.id,
            ),
            rows=tuple(_row_to_domain(row) for row in rows),
            total_paid=self.total_price,
            shipping=self.total_shipping,
            shipping_vat_percentage=self.shipping_tax_percentage,
            payment_costs=self.paymethod_costs,
            payment_method=self.paymethod,
            payment_method_id=self.paymethod_id,
            payment_method_label=self.paymethod_label,
            payment_option=self.extra_payment_option,
            payment_option_price=self.extra_payment_option_price,
            extra_costs=self.extra_costs,
            extra_costs_description=self.extra_costs_description.strip(),
            discounts_total=self.total_discounts,
            coupon=coupon,
            credit_point_discount=self.credit_point_discount,
            intra_community=self.is_intra_community_order,
            platform_sale=self.is_platform_sale,
            transaction_id=self.transaction_id,
            language=self.orderedinlng,
            reported=ReportedTotals(orderrows=self.total_orderrow_price, tax=self.total_tax),
        )


def _row_to_domain(row: WireOrderRow) -> OrderRow:
    # CCV documents total_price_with_attributes as the row total including option surcharges;
    # when a shop leaves it out, total_price is the row total.
    total = (
        row.total_price_with_attributes
        if row.total_price_with_attributes is not None
        else row.total_price
    )
    return OrderRow(
        row_id=row.id,
        name=row.product_name.strip(),
        quantity=row.count,
        total=total,
        vat_percentage=row.tax,
        kind=RowKind.DEPOSIT if row.is_deposit else RowKind.PRODUCT,
        options=tuple(
            RowOption(name=a.option_name.strip(), value=a.value_name.strip(), surcharge=a.price)
            for a in row.attributes
        ),
        sku=row.sub_sku_number or row.product_number,
    )


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def invalid_data(exc: ValidationError, prefix: str = "") -> InvalidOrderData:
    """The first validation error as an :class:`InvalidOrderData` naming the field."""
    first = exc.errors(include_url=False)[0]
    loc = tuple(first["loc"])
    path = _field_path(((prefix,) if prefix else ()) + loc)
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "missing":
        message = "missing"
    return InvalidOrderData(path or prefix or "order", message)


def parse_order(order_body: Any, rows_body: Any) -> Order:
    """A domain order from the bodies of ``GET /orders/:id`` and ``GET /orders/:id/orderrows``.

    ``rows_body`` is the collection (``{"items": [...]}``) or, tolerated, a bare list of rows.
    Raises :class:`InvalidOrderData` naming the first malformed field.
    """
    if not isinstance(order_body, dict):
        raise InvalidOrderData("order", "expected a JSON object")
    try:
        order = WireOrder.model_validate(order_body)
    except ValidationError as exc:
        raise invalid_data(exc, "order") from None
    if isinstance(rows_body, list):
        rows_body = {"items": rows_body}
    if not isinstance(rows_body, dict):
        raise InvalidOrderData("orderrows", "expected a JSON object with items")
    try:
        rows = WireRowCollection.model_validate(rows_body)
    except ValidationError as exc:
        raise invalid_data(exc, "orderrows") from None
    parsed = order.to_domain(rows.items)
    where = undecodable_field(parsed, "order")
    if where is not None:
        raise InvalidOrderData(
            where, "contains bytes that are not UTF-8 text (the shop stored it garbled)"
        )
    return parsed


def decode_order_file(data: bytes) -> Order:
    """Decode the ``ccvbird preview`` input: ``{"order": ..., "orderrows": ...}``."""
    try:
        document = loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidOrderData("file", f"not valid JSON ({exc})") from None
    if not isinstance(document, dict):
        raise InvalidOrderData("file", 'expected an object with "order" and "orderrows"')
    for key in ("order", "orderrows"):
        if key not in document:
            raise InvalidOrderData(key, "missing")
    return parse_order(document["order"], document["orderrows"])
