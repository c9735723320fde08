"""Wire models of the CCV resources besides orders: invoices, payment methods, the shop itself,
webhooks and apps.

Field names and types follow ``../shared/fixtures/ccvshop/field-inventory.json`` (apps: CCV's
SDK ``Resources/App.php``). Like the order models they are tolerant — ids as text whatever CCV
sends, ``null`` and ``""`` alike, unknown fields ignored — and money is Decimal.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BeforeValidator, Field

from ccvbird.adapters.ccvshop.wire import Flag, MoneyOrZero, Text, Timestamp, _Wire
from ccvbird.domain.money import ZERO


def _none_or_text(value: object) -> object:
    return None if value is None or value == "" else str(value)


def _list(value: object) -> object:
    return value or []


OptionalText = Annotated[str | None, BeforeValidator(_none_or_text)]


def _link_id(value: object) -> object:
    """A link to another resource, as its id: ``{"href": ".../orders/123"}`` (how CCV sends
    child links), the link's URL as a bare string, ``{"id": 123}``, or the bare id; empty when
    there is none."""
    if isinstance(value, dict):
        if value.get("id") not in (None, ""):
            return str(value["id"])
        href = str(value.get("href") or "").rstrip("/")
        return href.rsplit("/", 1)[-1] if href else ""
    if isinstance(value, str) and "/" in value:
        return value.rstrip("/").rsplit("/", 1)[-1]
    return "" if value is None else value


LinkId = Annotated[str, BeforeValidator(_link_id)]


class Link(_Wire):
    href: Text = ""


class InvoiceRowAttribute(_Wire):
    option_name: Text = ""
    value_name: Text = ""
    price: MoneyOrZero = ZERO


class InvoiceRow(_Wire):
    """One line of a CCV invoice (mirrors an order row)."""

    id: Text
    invoice_id: Text = ""
    product_type: Text = "product"
    product_name: Text = ""
    product_number: Text = ""
    sub_sku_number: Text = ""
    count: MoneyOrZero = ZERO
    price: MoneyOrZero = ZERO
    discount: MoneyOrZero = ZERO
    tax: MoneyOrZero = ZERO
    total_price: MoneyOrZero = ZERO
    total_price_with_attributes: MoneyOrZero = ZERO
    attributes: Annotated[list[InvoiceRowAttribute], BeforeValidator(_list)] = Field(
        default_factory=list
    )
    #: The order row this line invoices (or credits).
    orderrow: LinkId = ""


class Invoice(_Wire):
    """A CCV invoice: ``type`` debit or credit; ``status`` as CCV sends it (1/2/3 or a word)."""

    id: Text
    invoicenumber: Text = ""
    invoicenumber_full: Text = ""
    ordernumber: Text = ""
    ordernumber_full: Text = ""
    create_date: Timestamp
    status: Text = ""
    status_name: Text = ""
    type: Text = ""
    taxes_included: Flag = True
    invoice_row_taxes_included: Flag = True
    is_intra_community_order: Flag = False
    shipping_tax_percentage: MoneyOrZero = ZERO
    total_shipping: MoneyOrZero = ZERO
    total_discounts: MoneyOrZero = ZERO
    total_price_inc_tax: MoneyOrZero = ZERO
    total_price_exc_tax: MoneyOrZero = ZERO
    total_price: MoneyOrZero = ZERO
    total_tax: MoneyOrZero = ZERO
    currency: Text = "EUR"
    paymethod_costs: MoneyOrZero = ZERO
    extra_payment_option_price: MoneyOrZero = ZERO
    credit_point_discount: MoneyOrZero = ZERO
    extra_costs: MoneyOrZero = ZERO
    extra_costs_description: Text = ""
    external_reference: OptionalText = None
    #: The order's id (from the ``order`` link).
    order: LinkId = ""

    @property
    def is_credit(self) -> bool:
        return self.type.strip().lower() == "credit"


class Paymethod(_Wire):
    id: Text
    psp: Text = ""
    method: Text = ""
    combined_name: Text = ""
    label: Text = ""
    extra_costs: Flag = False
    extra_costs_fixed: MoneyOrZero = ZERO
    extra_costs_percentage: MoneyOrZero = ZERO


class Webshop(_Wire):
    id: Text
    name: Text = ""
    is_multishop_system: Flag = False
    api_root: Text = ""


class Merchant(_Wire):
    company: Text = ""
    first_name: Text = ""
    last_name: Text = ""
    full_name: Text = ""
    email: Text = ""
    address_line: Text = ""
    street: Text = ""
    housenumber: Text = ""
    zipcode: Text = ""
    city: Text = ""
    country: Text = ""
    country_code: Text = ""
    telephone: Text = ""
    tax_number: Text = ""
    coc_number: Text = ""


class StatusName(_Wire):
    """One of the shop's own names for a numeric status (merchants rename them)."""

    id: int
    status: Text = ""
    status_name: Text = ""
    text_color: Text = ""
    background_color: Text = ""


class WebshopSettings(_Wire):
    currency: Text = "EUR"
    prices_include_vat: Flag = True
    default_vat_rat: Annotated[
        Decimal | None, BeforeValidator(lambda v: None if v in (None, "") else v)
    ] = None
    order_status: Annotated[list[StatusName], BeforeValidator(_list)] = Field(default_factory=list)
    invoice_status: Annotated[list[StatusName], BeforeValidator(_list)] = Field(
        default_factory=list
    )

    def order_status_names(self) -> dict[int, str]:
        """Numeric order status → the shop's name for it."""
        return {item.id: item.status_name or item.status for item in self.order_status}


class Webhook(_Wire):
    id: Text
    event: Text = ""
    address: Text = ""
    key: Text = ""
    is_active: Flag = False
    createdate: Text = ""


class App(_Wire):
    """The App Store app bound to the credentials (``GET /apps``)."""

    id: Text
    name: Text = ""
    is_installed: Flag = False


class Return(_Wire):
    """A CCV return (RMA) as far as ccvbird needs it: the order it belongs to."""

    id: Text
    order: LinkId = ""
    status: Text = ""
