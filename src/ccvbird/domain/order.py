"""A CCV Shop order as the rest of ccvbird sees it.

The CCV wire format has quirks (ids as strings, ``null`` and ``""`` for the same thing, an empty
delivery address that means "same as billing"); the CCV adapter irons them out and hands over
these immutable objects. Amounts are in the order's own price mode: gross (incl. VAT) when
``prices_include_vat`` is true, net otherwise; the names say which they are when it matters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from ccvbird.domain.money import ZERO

#: CCV order status codes that the engine and the profile refer to by name.
STATUS_COMPLETED = 7  # "afgerond"
STATUS_CANCELLED = 8  # "geannuleerd"

#: CCV's documented order statuses (merchants may rename them; the numbers are what count).
STATUS_NAMES: dict[int, str] = {
    1: "Nieuw",
    2: "In behandeling",
    3: "Wacht op fabrikant",
    4: "Wacht op betaling",
    5: "Verzonden",
    6: "Afgeleverd",
    7: "Afgerond",
    8: "Geannuleerd",
    9: "Wacht op leverancier",
    10: "Wordt ingepakt",
    11: "Klaar om af te halen",
    12: "Wordt geassembleerd",
    13: "Backorder",
    14: "Gereserveerd",
}


class RowKind(StrEnum):
    """What an order row stands for. Deposits are not a supply of goods and carry no VAT."""

    PRODUCT = "product"
    DEPOSIT = "deposit"


@dataclass(frozen=True, slots=True)
class RowOption:
    """An option the customer chose for a product (``Maat: L``), with its surcharge per unit."""

    name: str
    value: str
    surcharge: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class OrderRow:
    """One product row. ``total`` is what the row costs after discounts and option surcharges."""

    row_id: str
    name: str
    quantity: Decimal
    total: Decimal
    vat_percentage: Decimal
    kind: RowKind = RowKind.PRODUCT
    options: tuple[RowOption, ...] = ()
    sku: str = ""


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address; empty strings where the shop had nothing."""

    company: str = ""
    first_name: str = ""
    last_name: str = ""
    full_name: str = ""
    address_line_1: str = ""
    address_line_2: str = ""
    zipcode: str = ""
    city: str = ""
    country_code: str = ""
    phone: str = ""


@dataclass(frozen=True, slots=True)
class Customer:
    """The buyer. ``email`` is normalised (trimmed, lower case) or empty for a guest without one."""

    email: str
    billing: Address
    delivery: Address | None = None
    is_business: bool = False
    vat_number: str = ""
    coc_number: str = ""
    account_id: str = ""  # CCV user id; empty for a guest checkout

    @property
    def destination_country(self) -> str:
        """Where the goods go (place of supply for distance sales): delivery, else billing."""
        if self.delivery is not None and self.delivery.country_code:
            return self.delivery.country_code
        return self.billing.country_code


@dataclass(frozen=True, slots=True)
class Coupon:
    """A discount code used on the order. ``kind`` is CCV's ``type`` as sent."""

    code: str
    value: Decimal = ZERO
    kind: str = ""

    @property
    def is_percentage(self) -> bool:
        return self.kind.strip().lower() in {"percentage", "percent", "%", "procent"}

    @property
    def is_fixed_amount(self) -> bool:
        return self.kind.strip().lower() in {"price", "amount", "fixed", "bedrag", "value"}


@dataclass(frozen=True, slots=True)
class ReportedTotals:
    """Totals as CCV reports them; shown when things do not add up, never trusted for booking."""

    orderrows: Decimal = ZERO
    tax: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class Order:
    """A CCV Shop order, with every amount the invoice must carry."""

    order_id: str
    number: str
    created_at: datetime
    status: int | None
    is_completed: bool
    paid: bool
    currency: str
    prices_include_vat: bool
    customer: Customer
    rows: tuple[OrderRow, ...]
    total_paid: Decimal
    shipping: Decimal = ZERO
    shipping_vat_percentage: Decimal = ZERO
    payment_costs: Decimal = ZERO
    payment_method: str = ""
    payment_method_id: str = ""
    payment_method_label: str = ""
    payment_option: str = ""
    payment_option_price: Decimal = ZERO
    extra_costs: Decimal = ZERO
    extra_costs_description: str = ""
    discounts_total: Decimal = ZERO
    coupon: Coupon | None = None
    credit_point_discount: Decimal = ZERO
    intra_community: bool = False
    platform_sale: bool = False
    transaction_id: str = ""
    language: str = ""
    reported: ReportedTotals = field(default_factory=ReportedTotals)


@dataclass(frozen=True, slots=True)
class OrderSummary:
    """An order as a list page shows it, without its rows: enough for polling to see whether
    anything changed since ccvbird last looked."""

    order_id: str
    number: str
    created_at: datetime
    status: int | None
    paid: bool
    is_completed: bool
