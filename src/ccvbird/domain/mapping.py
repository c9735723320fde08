"""CCV order in, Moneybird invoice draft out: the heart of ccvbird, with no I/O.

The rules, in the order they are applied (``docs/money.md`` has worked tables for each):

1. One line per product row, with a unit price such that quantity × price is exactly the row
   total; when no cent price does that (10.00 for 3 pieces), the line is quantity 1 at the row
   total with the quantity in the description. Deposit rows are 0% lines.
2. Shipping, payment costs, extra costs and discounts become their own lines. With one VAT rate
   among the goods they take that rate; with several they are split over the rates pro rata the
   net goods per rate (the Dutch rule), largest remainder for the last cent. In gross terms that
   is the same as splitting pro rata the gross goods per rate, which is what is done here.
3. Every line gets a VAT treatment and the profile's Moneybird tax rate for it; a rate the
   profile does not map refuses the order, naming the rate.
4. The total is computed as Moneybird will (VAT rounded per rate) and compared with what the
   customer paid: equal is fine, a difference within the tolerance becomes a visible rounding
   line, a larger one refuses the order listing both amounts and the parts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from ccvbird.domain.booked import shop_date
from ccvbird.domain.bounds import REFERENCE_LIMIT, email_reason, in_money_range
from ccvbird.domain.invoice import (
    ContactDraft,
    InvoiceDraft,
    InvoiceLine,
    LineKind,
    Totals,
    compute_totals,
)
from ccvbird.domain.labels import LABELS, label
from ccvbird.domain.money import (
    ZERO,
    allocate,
    format_amount,
    format_quantity,
    is_exact,
    quantize,
)
from ccvbird.domain.order import Order, OrderRow, RowKind
from ccvbird.domain.profile import InvoiceDatePolicy, MappingProfile, ShippingVatPolicy
from ccvbird.domain.reasons import Reason
from ccvbird.domain.vat import (
    EU_COUNTRIES,
    HOME_COUNTRY,
    TaxKey,
    VatTreatment,
    format_percentage,
    vat_context,
)

ONE = Decimal(1)


class ProblemCode(StrEnum):
    UNMAPPED_VAT_RATE = "unmapped_vat_rate"
    TOTALS_DO_NOT_RECONCILE = "totals_do_not_reconcile"
    NO_ROUNDING_TAX_RATE = "no_rounding_tax_rate"
    MISSING_VAT_NUMBER = "missing_vat_number"
    NO_ROWS = "no_rows"
    UNKNOWN_COUPON_TYPE = "unknown_coupon_type"
    # bounds (see bounds.py): data no real order has, refused before it reaches Moneybird
    NEGATIVE_TOTAL = "negative_total"
    REFERENCE_TOO_LONG = "reference_too_long"
    AMOUNT_OUT_OF_RANGE = "amount_out_of_range"
    AMOUNT_BELOW_A_CENT = "amount_below_a_cent"
    INVALID_EMAIL = "invalid_email"
    FOREIGN_CURRENCY = "foreign_currency"
    # eligibility (see decisions.py)
    NOT_COMPLETED = "not_completed"
    CANCELLED = "cancelled"
    STATUS_NOT_TRIGGERING = "status_not_triggering"
    NOT_PAID = "not_paid"


@dataclass(frozen=True, slots=True)
class Problem:
    """A reason an order must not be booked: a code and its facts (``domain/reasons.py``
    words it in the reader's language)."""

    code: ProblemCode
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def reason(self) -> Reason:
        return Reason(self.code.value, self.params)

    @property
    def message(self) -> str:
        """In English (logs, the CLI's JSON, the API)."""
        return self.reason.text


@dataclass(frozen=True, slots=True)
class MappingResult:
    """The invoice an order becomes, its totals, and what (if anything) stops the booking."""

    draft: InvoiceDraft
    contact: ContactDraft
    totals: Totals
    paid: Decimal
    problems: tuple[Problem, ...]
    financial_account_id: str | None

    @property
    def difference(self) -> Decimal:
        """What the customer paid minus the invoice total; zero when the booking is exact."""
        return self.paid - self.totals.incl_vat

    @property
    def ok(self) -> bool:
        return not self.problems


def invoice_reference(order: Order, profile: MappingProfile) -> str:
    """The invoice's reference: the connection's ``reference_prefix`` and the CCV order number
    (``B-1001``), which is also how ccvbird finds an invoice again (after a lost answer, or one
    booked before ccvbird's state knew of it). The prefix keeps two shops booking into one
    administration apart: each finds only its own invoices."""
    return f"{profile.reference_prefix}{order.number}"


def map_order(
    order: Order, profile: MappingProfile, *, booking_date: date | None = None
) -> MappingResult:
    """Turn ``order`` into the Moneybird invoice it becomes, or say why it must not be booked."""
    return _Mapper(order, profile).run(booking_date)


def invoice_date_for(order: Order, profile: MappingProfile, booking_date: date | None) -> date:
    """The order date in the shop's time zone (23:30 UTC on 31 March is 1 April in Amsterdam)."""
    if profile.invoice_date is InvoiceDatePolicy.BOOKING_DATE and booking_date is not None:
        return booking_date
    return shop_date(order.created_at, profile.timezone)


def describe_row(row: OrderRow) -> str:
    """``T-shirt (Maat: L, Kleur: rood)``: the product with the options the customer chose."""
    chosen = [
        f"{o.name}: {o.value}" if o.name else o.value for o in row.options if o.value or o.name
    ]
    return f"{row.name} ({', '.join(chosen)})" if chosen else row.name


def unit_price(quantity: Decimal, total: Decimal, description: str) -> tuple[Decimal, Decimal, str]:
    """Quantity and a cent unit price whose product is exactly ``total``.

    Falls back to quantity 1 at the total, with the quantity moved into the description, when no
    cent price is exact (3 pieces for 10.00).
    """
    if quantity > 0:
        price = total / quantity
        if is_exact(price) and price * quantity == total:
            return quantity, quantize(price), description
    return ONE, total, f"{format_quantity(quantity)} × {description}"


class _Mapper:
    """One mapping run; small methods over shared, read-only inputs."""

    def __init__(self, order: Order, profile: MappingProfile) -> None:
        self.order = order
        self.profile = profile
        self.language = profile.language
        customer = order.customer
        self.vat = vat_context(
            destination_country=customer.destination_country,
            intra_community=order.intra_community,
            platform_sale=order.platform_sale,
            is_business_with_vat_number=bool(customer.vat_number),
            oss_enabled=profile.oss,
        )
        self.problems: list[Problem] = []
        self._keys: dict[Decimal, TaxKey] = {}

    # -- the run ----------------------------------------------------------------------------------

    def run(self, booking_date: date | None) -> MappingResult:
        order, profile = self.order, self.profile
        self._check_order_level_facts()
        lines = [self._product_line(row) for row in order.rows]
        goods = self._goods_per_rate(order.rows)
        for kind, description, amount, ledger in self._order_level_amounts(goods):
            lines.extend(self._split(kind, description, amount, ledger, goods))
        self._check_mapped(lines)

        totals = compute_totals(lines, prices_include_vat=order.prices_include_vat)
        difference = order.total_paid - totals.incl_vat
        if difference and abs(difference) <= profile.rounding_tolerance:
            rounding = self._rounding_line(difference)
            if rounding is not None:
                lines.append(rounding)
                totals = compute_totals(lines, prices_include_vat=order.prices_include_vat)
        elif difference:
            self.problems.append(self._not_reconciled(lines, totals))

        draft = InvoiceDraft(
            reference=invoice_reference(order, profile),
            invoice_date=invoice_date_for(order, profile, booking_date),
            currency=order.currency,
            prices_include_vat=order.prices_include_vat,
            lines=tuple(lines),
            workflow_id=profile.workflow_id,
            document_style_id=profile.document_style_id,
        )
        # Bounds first: the reason code of a parked order is its first problem's.
        bounded = self._check_bounds(draft, totals)
        return MappingResult(
            draft=draft,
            contact=contact_for(order),
            totals=totals,
            paid=order.total_paid,
            problems=(*bounded, *self.problems),
            financial_account_id=profile.payment_account_for(order),
        )

    # -- checks -----------------------------------------------------------------------------------

    def _check_order_level_facts(self) -> None:
        order = self.order
        if not order.rows:
            self.problems.append(Problem(ProblemCode.NO_ROWS))
        if order.intra_community and not order.customer.vat_number:
            self.problems.append(Problem(ProblemCode.MISSING_VAT_NUMBER))

    def _check_bounds(self, draft: InvoiceDraft, totals: Totals) -> list[Problem]:
        """What no invoice may be, whatever the profile: each a problem an owner can act on.

        Checked on the final draft (its reference as it will be sent), so every rule that builds
        the reference is covered."""
        order, found = self.order, []
        if totals.incl_vat < 0 or order.total_paid < 0:
            found.append(
                Problem(
                    ProblemCode.NEGATIVE_TOTAL,
                    {
                        "currency": order.currency,
                        "paid_amount": format_amount(order.total_paid),
                        "total_amount": format_amount(totals.incl_vat),
                    },
                )
            )
        if len(draft.reference) > REFERENCE_LIMIT:
            found.append(
                Problem(
                    ProblemCode.REFERENCE_TOO_LONG,
                    {"length": str(len(draft.reference)), "limit": str(REFERENCE_LIMIT)},
                )
            )
        found.extend(self._amount_problems(draft, totals))
        email = order.customer.email
        why = email_reason(email) if email else None
        if why is not None:
            params = {**why.params, "why_part": why.code}
            found.append(Problem(ProblemCode.INVALID_EMAIL, params))
        profile = self.profile
        if order.currency != profile.currency and not profile.foreign_currency:
            found.append(
                Problem(
                    ProblemCode.FOREIGN_CURRENCY,
                    {
                        "order_currency": order.currency,
                        "books_currency": profile.currency,
                        "field": "invoicing.foreign_currency",
                    },
                )
            )
        return found

    def _amount_problems(self, draft: InvoiceDraft, totals: Totals) -> list[Problem]:
        order = self.order
        amounts = [order.total_paid, totals.incl_vat, totals.excl_vat]
        amounts += [line.price for line in draft.lines]
        amounts += [line.amount for line in draft.lines]
        if not all(in_money_range(amount) for amount in amounts):
            return [
                Problem(
                    ProblemCode.AMOUNT_OUT_OF_RANGE,
                    {"currency": order.currency, "paid_amount": format_amount(order.total_paid)},
                )
            ]
        # An amount that is not zero but rounds to 0.00 would vanish from the invoice: the
        # customer paid for something that would not be on it. A wholly free order (every
        # amount 0.00) is a real order and is booked as an invoice of 0.00.
        tiny = [row for row in order.rows if row.total and not quantize(row.total)]
        if tiny or (order.total_paid and not quantize(order.total_paid)):
            names = ", ".join(f"{describe_row(r)!r} ({r.total})" for r in tiny[:3])
            rows = names or str(order.total_paid)
            return [Problem(ProblemCode.AMOUNT_BELOW_A_CENT, {"rows": rows})]
        return []

    def _check_mapped(self, lines: list[InvoiceLine]) -> None:
        unmapped = sorted({line.tax for line in lines if line.tax_rate_id is None})
        country = self.order.customer.destination_country
        for key in unmapped:
            params = {
                "vat_part": f"vat.{key.treatment.value}",
                "percentage": f"{format_percentage(key.percentage)}%",
                "vat_country": key.country or "",
                "field": key.profile_key(),
            }
            if (
                key.treatment is VatTreatment.DOMESTIC
                and country in EU_COUNTRIES
                and country != HOME_COUNTRY
                and not self.profile.oss
            ):
                params.update(
                    hint_part="unmapped_vat_rate.oss_hint",
                    country=country,
                    oss_field="vat.oss",
                    oss_rates_field=f"tax_rates.oss.{country}",
                )
            self.problems.append(Problem(ProblemCode.UNMAPPED_VAT_RATE, params))

    # -- product rows -----------------------------------------------------------------------------

    def _tax_key(self, percentage: Decimal) -> TaxKey:
        key = self._keys.get(percentage)
        if key is None:
            key = self._keys[percentage] = self.vat.key_for(percentage)
        return key

    def _row_tax(self, row: OrderRow) -> TaxKey:
        return self._tax_key(ZERO if row.kind is RowKind.DEPOSIT else row.vat_percentage)

    def _product_line(self, row: OrderRow) -> InvoiceLine:
        tax = self._row_tax(row)
        quantity, price, description = unit_price(
            row.quantity, quantize(row.total), describe_row(row)
        )
        return self._line(LineKind.PRODUCT, description, quantity, price, tax, None)

    def _goods_per_rate(self, rows: tuple[OrderRow, ...]) -> dict[TaxKey, Decimal]:
        """Goods value per VAT key (deposits excluded): the weights for order-level amounts."""
        goods: dict[TaxKey, Decimal] = {}
        for row in rows:
            if row.kind is RowKind.PRODUCT:
                key = self._row_tax(row)
                goods[key] = goods.get(key, ZERO) + row.total
        return goods

    # -- order-level amounts ----------------------------------------------------------------------

    def _order_level_amounts(
        self, goods: dict[TaxKey, Decimal]
    ) -> list[tuple[LineKind, str, Decimal, str | None]]:
        """(kind, description, amount, ledger override) for every non-zero order-level amount."""
        order, ledgers = self.order, self.profile.ledger_accounts
        words = LABELS[self.language]
        coupon_part, cart_part = self._discount_parts(
            sum((v for v in goods.values() if v > 0), ZERO)
        )
        candidates: tuple[tuple[LineKind, Decimal, str | None, Callable[[], str]], ...] = (
            (LineKind.SHIPPING, order.shipping, ledgers.shipping, lambda: words["shipping"]),
            (
                LineKind.PAYMENT_COSTS,
                order.payment_costs,
                ledgers.payment_costs,
                lambda: f"{words['payment_costs']} {order.payment_method_label}".strip(),
            ),
            (
                LineKind.PAYMENT_COSTS,
                order.payment_option_price,
                ledgers.payment_costs,
                lambda: order.payment_option or words["payment_costs"],
            ),
            (
                LineKind.EXTRA_COSTS,
                order.extra_costs,
                ledgers.extra_costs,
                lambda: order.extra_costs_description or words["extra_costs"],
            ),
            (LineKind.DISCOUNT, -coupon_part, ledgers.discounts, self._coupon_label),
            (LineKind.DISCOUNT, -cart_part, ledgers.discounts, lambda: words["cart_discount"]),
            (
                LineKind.DISCOUNT,
                -abs(order.credit_point_discount),
                ledgers.discounts,
                lambda: words["credit_points"],
            ),
        )
        return [
            (kind, describe(), quantize(amount), ledger)
            for kind, amount, ledger, describe in candidates
            if amount
        ]

    def _coupon_label(self) -> str:
        coupon = self.order.coupon
        assert coupon is not None  # only asked for when a coupon share exists
        text = label(self.language, "coupon", code=coupon.code)
        if coupon.is_percentage:
            text += f": {format_percentage(coupon.value)}%"
        return text

    def _discount_parts(self, goods_total: Decimal) -> tuple[Decimal, Decimal]:
        """Split the order's discounts into (coupon, cart discount), both positive.

        CCV documents ``total_discounts`` as including the coupon discount; by default the
        coupon's share is taken out of it (the rest is a cart discount). With
        ``coupon_in_total_discounts = false`` the coupon comes on top of ``total_discounts``.
        """
        order = self.order
        total = abs(order.discounts_total)
        coupon = order.coupon
        if coupon is None:
            return ZERO, total
        computed: Decimal | None = None
        if coupon.is_percentage:
            computed = quantize(goods_total * coupon.value / 100)
        elif coupon.is_fixed_amount:
            computed = quantize(abs(coupon.value))
        if self.profile.coupon_in_total_discounts:
            if computed is None or computed <= 0 or computed >= total:
                return total, ZERO
            return computed, total - computed
        if computed is None:
            if coupon.value:
                self.problems.append(
                    Problem(
                        ProblemCode.UNKNOWN_COUPON_TYPE,
                        {
                            "coupon": repr(coupon.code),
                            "kind": repr(coupon.kind),
                            "field": "coupon_in_total_discounts",
                        },
                    )
                )
            return ZERO, total
        return computed, total

    def _split(
        self,
        kind: LineKind,
        description: str,
        amount: Decimal,
        ledger: str | None,
        goods: dict[TaxKey, Decimal],
    ) -> list[InvoiceLine]:
        """One line per VAT rate among the goods, pro rata, summing exactly to ``amount``."""
        weights = {key: value for key, value in goods.items() if value > 0}
        shop_rate = (
            kind is LineKind.SHIPPING and self.profile.shipping_vat is ShippingVatPolicy.SHOP_RATE
        )
        if shop_rate or not weights:
            # No goods value to spread over (or the profile asks for it): the shop's shipping rate.
            key = self._tax_key(self.order.shipping_vat_percentage)
            return [self._line(kind, description, ONE, amount, key, ledger)]
        if len(weights) == 1:
            (key,) = weights
            return [self._line(kind, description, ONE, amount, key, ledger)]
        keys = sorted(weights, key=lambda k: (-k.percentage, k.treatment, k.country))
        parts = allocate(amount, [weights[k] for k in keys])
        return [
            self._line(kind, f"{description} ({self._rate_label(key)})", ONE, part, key, ledger)
            for key, part in zip(keys, parts, strict=True)
            if part
        ]

    def _rate_label(self, key: TaxKey) -> str:
        pct = format_percentage(key.percentage)
        if key.country:
            return label(self.language, "rate_country", percentage=pct, country=key.country)
        text = label(self.language, "rate", percentage=pct)
        extra = {
            VatTreatment.REVERSE_CHARGE: "reverse_charge",
            VatTreatment.EXPORT: "export",
            VatTreatment.PLATFORM: "platform",
        }.get(key.treatment)
        return f"{text}, {label(self.language, extra)}" if extra else text

    # -- rounding and reconciliation --------------------------------------------------------------

    def _rounding_line(self, difference: Decimal) -> InvoiceLine | None:
        line = rounding_line(self.profile, difference)
        if line is None:
            self.problems.append(
                Problem(
                    ProblemCode.NO_ROUNDING_TAX_RATE,
                    {
                        "difference_amount": format_amount(difference),
                        "field": "rounding.tax_rate_id",
                        "zero_field": 'tax_rates.domestic."0"',
                    },
                )
            )
        return line

    def _not_reconciled(self, lines: list[InvoiceLine], totals: Totals) -> Problem:
        """The amounts, for the reader; how the parts add up is in the preview and the log."""
        order = self.order
        return Problem(
            ProblemCode.TOTALS_DO_NOT_RECONCILE,
            {
                "currency": order.currency,
                "total_amount": format_amount(totals.incl_vat),
                "paid_amount": format_amount(order.total_paid),
                "difference_amount": format_amount(order.total_paid - totals.incl_vat),
                "tolerance_amount": format_amount(self.profile.rounding_tolerance),
                "field": "rounding.tolerance",
            },
        )

    # -- helpers ----------------------------------------------------------------------------------

    def _line(
        self,
        kind: LineKind,
        description: str,
        quantity: Decimal,
        price: Decimal,
        tax: TaxKey,
        ledger: str | None,
    ) -> InvoiceLine:
        ledgers = self.profile.ledger_accounts
        return InvoiceLine(
            kind=kind,
            description=description,
            quantity=quantity,
            price=price,
            tax=tax,
            tax_rate_id=self.profile.tax_rate_id(tax),
            ledger_account_id=ledger or ledgers.for_revenue(tax.percentage),
        )


def rounding_line(profile: MappingProfile, difference: Decimal) -> InvoiceLine | None:
    """The visible *Afrondingsverschil* line that closes ``difference`` (within the profile's
    tolerance) at the rounding tax rate; ``None`` when the profile has no rate for it. An
    invoice and a credit that reverses it round the same way."""
    domestic_zero = TaxKey(VatTreatment.DOMESTIC, ZERO)
    rate_id = profile.rounding_tax_rate_id or profile.tax_rate_id(domestic_zero)
    if rate_id is None:
        return None
    ledgers = profile.ledger_accounts
    return InvoiceLine(
        kind=LineKind.ROUNDING,
        description=label(profile.language, "rounding"),
        quantity=ONE,
        price=difference,
        tax=domestic_zero,
        tax_rate_id=rate_id,
        ledger_account_id=ledgers.rounding or ledgers.revenue,
    )


def contact_for(order: Order) -> ContactDraft:
    """The Moneybird contact for the order's customer (billing address, VAT and KvK numbers)."""
    customer = order.customer
    billing = customer.billing
    firstname, lastname = billing.first_name, billing.last_name
    if not (billing.company or firstname or lastname):
        # Moneybird needs a name or a company; a guest may have left neither.
        lastname = billing.full_name or customer.email or f"Webshopklant {order.number}".strip()
    return ContactDraft(
        email=customer.email,
        company_name=billing.company,
        firstname=firstname,
        lastname=lastname,
        address1=billing.address_line_1,
        address2=billing.address_line_2,
        zipcode=billing.zipcode,
        city=billing.city,
        country=billing.country_code or customer.destination_country,
        phone=billing.phone,
        tax_number=customer.vat_number,
        chamber_of_commerce=customer.coc_number,
    )


__all__ = [
    "MappingResult",
    "Problem",
    "ProblemCode",
    "describe_row",
    "invoice_date_for",
    "map_order",
    "unit_price",
]
