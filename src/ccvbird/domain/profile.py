"""A mapping profile: every choice that turns a CCV order into a Moneybird invoice.

The profile is data, validated where it is read (the profile adapter) and immutable here.
Everything the bookkeeper might want differently is a field with a sensible default; the ids are
Moneybird ids (strings of digits, larger than 2^53).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from ccvbird.domain.credit_policy import CreditPolicy
from ccvbird.domain.order import STATUS_COMPLETED, Order
from ccvbird.domain.vat import TaxKey


class ShippingVatPolicy(StrEnum):
    #: Split shipping (like every order-level amount) over the goods' VAT rates, pro rata the
    #: net goods per rate: the Dutch rule for a mixed basket.
    PRO_RATA = "pro_rata"
    #: Book shipping at the shop's own ``shipping_tax_percentage``.
    SHOP_RATE = "shop_rate"


class InvoiceDatePolicy(StrEnum):
    #: The date the customer ordered, in the shop's time zone.
    ORDER_DATE = "order_date"
    #: The date ccvbird books the invoice.
    BOOKING_DATE = "booking_date"


class GuestPolicy(StrEnum):
    #: Guests who left no e-mail address share one collective contact.
    COLLECTIVE = "collective"
    #: Each such order gets its own contact (named after the billing address).
    PER_ORDER = "per_order"


class ExistingInvoicePolicy(StrEnum):
    """What happens to an invoice that is in Moneybird already for an order ccvbird has not booked
    (made by another connector, by hand, or by ccvbird with a state database that is gone).
    Either way ccvbird never makes a second one."""

    #: A paid one becomes the order's booking; an unpaid one or a draft is left alone and the
    #: order waits for a person (nobody else's invoice is finalised or paid behind their back).
    ADOPT_PAID = "adopt_paid"
    #: Take it over and finish it: a draft is finalised (Manual), the unpaid amount is paid.
    COMPLETE = "complete"


class InvoiceKind(StrEnum):
    #: A Moneybird sales invoice: Moneybird numbers it and is the invoicer.
    SALES_INVOICE = "sales_invoice"
    #: A Moneybird external sales invoice: CCV Shop stays the invoicer, Moneybird books it.
    EXTERNAL_SALES_INVOICE = "external_sales_invoice"


def _frozen(mapping: Mapping[str, str] | None = None) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True, slots=True)
class LedgerAccounts:
    """Moneybird ledger account ids per kind of line; ``None`` means Moneybird's default."""

    revenue: str | None = None
    revenue_by_rate: Mapping[Decimal, str] = field(default_factory=lambda: MappingProxyType({}))
    shipping: str | None = None
    payment_costs: str | None = None
    extra_costs: str | None = None
    discounts: str | None = None
    rounding: str | None = None

    def for_revenue(self, percentage: Decimal) -> str | None:
        return self.revenue_by_rate.get(percentage, self.revenue)


@dataclass(frozen=True, slots=True)
class MappingProfile:
    """How one connection books its orders."""

    name: str = "default"
    tax_rates: Mapping[TaxKey, str] = field(default_factory=lambda: MappingProxyType({}))
    ledger_accounts: LedgerAccounts = field(default_factory=LedgerAccounts)
    workflow_id: str | None = None
    document_style_id: str | None = None
    payment_accounts: Mapping[str, str] = field(default_factory=_frozen)
    default_payment_account: str | None = None
    trigger_statuses: frozenset[int] = frozenset({STATUS_COMPLETED})
    require_paid: bool = True
    rounding_tolerance: Decimal = Decimal("0.02")
    rounding_tax_rate_id: str | None = None
    shipping_vat: ShippingVatPolicy = ShippingVatPolicy.PRO_RATA
    invoice_date: InvoiceDatePolicy = InvoiceDatePolicy.ORDER_DATE
    invoice_kind: InvoiceKind = InvoiceKind.SALES_INVOICE
    existing_invoices: ExistingInvoicePolicy = ExistingInvoicePolicy.ADOPT_PAID
    oss: bool = False
    coupon_in_total_discounts: bool = True
    guests_without_email: GuestPolicy = GuestPolicy.COLLECTIVE
    #: An existing Moneybird contact for the collective guest contact (else one is created).
    guest_contact_id: str | None = None
    language: str = "nl"
    timezone: str = "Europe/Amsterdam"
    #: The currency the Moneybird administration keeps its books in (ISO 4217).
    currency: str = "EUR"
    #: Book orders in another currency as invoices in that currency (Moneybird converts them);
    #: off by default: such an order waits for a person.
    foreign_currency: bool = False
    #: Put before the CCV order number in the invoice reference (``B-`` makes ``B-1001``): how
    #: two shops booking into one administration keep their references apart
    #: (``domain/references.py``). Empty: the bare order number, as before.
    reference_prefix: str = ""
    #: How credits are booked (``[credits]``).
    credits: CreditPolicy = field(default_factory=CreditPolicy)

    def tax_rate_id(self, key: TaxKey) -> str | None:
        return self.tax_rates.get(key)

    def payment_account_for(self, order: Order) -> str | None:
        """The financial account for the order's payment method: by method name, id, default."""
        for method_key in (order.payment_method, order.payment_method_id):
            if method_key and method_key in self.payment_accounts:
                return self.payment_accounts[method_key]
        return self.default_payment_account
