"""Mapping profiles as TOML files: read, validate, and turn into a domain profile.

A profile is written by people, so every mistake must come back as the key that is wrong and
what is wrong with it (``tax_rates.domestic."21": must be a Moneybird id (digits)``), all of
them at once rather than one per attempt. TOML floats are read as Decimal, so
``tolerance = 0.02`` is exactly two cents. ``docs/profile.md`` describes every key.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from ccvbird.domain.credit_policy import (
    CancellationPolicy,
    CreditedBeforeBooking,
    CreditPolicy,
    SettleMethod,
)
from ccvbird.domain.errors import ConfigError
from ccvbird.domain.labels import LANGUAGES
from ccvbird.domain.money import ZERO, MoneyTypeError, to_decimal
from ccvbird.domain.order import STATUS_CANCELLED
from ccvbird.domain.profile import (
    ExistingInvoicePolicy,
    GuestPolicy,
    InvoiceDatePolicy,
    InvoiceKind,
    LedgerAccounts,
    MappingProfile,
    ShippingVatPolicy,
)
from ccvbird.domain.references import prefix_problem
from ccvbird.domain.vat import EU_COUNTRIES, HOME_COUNTRY, TaxKey, VatTreatment


def _moneybird_id(value: object) -> str:
    """Moneybird ids are digit strings; TOML integers are accepted and kept exact."""
    if isinstance(value, bool):
        raise ValueError("must be a Moneybird id (digits), not true/false")
    text = str(value).strip() if isinstance(value, int | str) else None
    if not text or not text.isdigit():
        raise ValueError(f"must be a Moneybird id (digits), got {value!r}")
    return text


def _decimal(value: object) -> Decimal:
    try:
        return to_decimal(value, field="value")
    except MoneyTypeError as exc:
        raise ValueError(str(exc).removeprefix("value: ")) from None


MoneybirdId = Annotated[str, BeforeValidator(_moneybird_id)]
OptionalId = Annotated[
    str | None, BeforeValidator(lambda v: None if v in (None, "") else _moneybird_id(v))
]
Exact = Annotated[Decimal, BeforeValidator(_decimal)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InvoicingSection(_Section):
    kind: InvoiceKind = InvoiceKind.SALES_INVOICE
    existing_invoices: ExistingInvoicePolicy = ExistingInvoicePolicy.ADOPT_PAID
    trigger_statuses: list[int] = Field(default_factory=lambda: [7], min_length=1)
    require_paid: bool = True
    invoice_date: InvoiceDatePolicy = InvoiceDatePolicy.ORDER_DATE
    timezone: str = "Europe/Amsterdam"
    workflow_id: OptionalId = None
    document_style_id: OptionalId = None
    currency: str = "EUR"
    foreign_currency: bool = False

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        code = value.strip().upper()
        if len(code) != 3 or not code.isascii() or not code.isalpha():
            raise ValueError(f"{value!r} is not an ISO 4217 currency code such as EUR")
        return code

    reference_prefix: str = ""

    @field_validator("reference_prefix")
    @classmethod
    def _reference_prefix(cls, value: str) -> str:
        problem = prefix_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("trigger_statuses")
    @classmethod
    def _statuses(cls, value: list[int]) -> list[int]:
        for status in value:
            if status < 1:
                raise ValueError(f"{status} is not a CCV order status (they start at 1)")
            if status == STATUS_CANCELLED:
                raise ValueError("8 (cancelled) can never trigger an invoice")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not a time zone name such as Europe/Amsterdam"
            ) from None
        return value


class VatSection(_Section):
    shipping: ShippingVatPolicy = ShippingVatPolicy.PRO_RATA
    oss: bool = False
    coupon_in_total_discounts: bool = True


class ContactsSection(_Section):
    guests_without_email: GuestPolicy = GuestPolicy.COLLECTIVE
    guest_contact_id: OptionalId = None


class RoundingSection(_Section):
    tolerance: Exact = Decimal("0.02")
    tax_rate_id: OptionalId = None

    @field_validator("tolerance")
    @classmethod
    def _tolerance(cls, value: Decimal) -> Decimal:
        if value < 0 or value > 1:
            raise ValueError("must be between 0 and 1.00 (an amount in the invoice currency)")
        return value


class LedgerSection(_Section):
    revenue: OptionalId = None
    revenue_by_rate: dict[str, MoneybirdId] = Field(default_factory=dict)
    shipping: OptionalId = None
    payment_costs: OptionalId = None
    extra_costs: OptionalId = None
    discounts: OptionalId = None
    rounding: OptionalId = None


class PaymentSection(_Section):
    default: OptionalId = None
    methods: dict[str, MoneybirdId] = Field(default_factory=dict)


RateTable = dict[str, MoneybirdId]


class TaxRatesSection(_Section):
    domestic: RateTable = Field(default_factory=dict)
    reverse_charge: RateTable = Field(default_factory=dict)
    export: RateTable = Field(default_factory=dict)
    platform: RateTable = Field(default_factory=dict)
    oss: dict[str, RateTable] = Field(default_factory=dict)


class CreditsSection(_Section):
    #: Payment method (technical name or id) → ``refund`` or ``set_off``.
    settle: dict[str, SettleMethod] = Field(default_factory=dict)
    #: For methods not in ``settle``; unset: refund when the original was paid, else set off.
    settle_default: SettleMethod | None = None
    #: Payment method → the financial account refunds of its orders go back through.
    refund_accounts: dict[str, MoneybirdId] = Field(default_factory=dict)
    cancellations: CancellationPolicy = CancellationPolicy.ASK
    credited_before_booking: CreditedBeforeBooking = CreditedBeforeBooking.NEITHER


class ProfileFile(_Section):
    name: str = "default"
    language: str = "nl"
    invoicing: InvoicingSection = InvoicingSection()
    vat: VatSection = VatSection()
    contacts: ContactsSection = ContactsSection()
    rounding: RoundingSection = RoundingSection()
    tax_rates: TaxRatesSection = TaxRatesSection()
    ledger_accounts: LedgerSection = LedgerSection()
    payment_accounts: PaymentSection = PaymentSection()
    credits: CreditsSection = CreditsSection()

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"must be one of {', '.join(sorted(LANGUAGES))}")
        return value


def _percentage(text: str, where: str, problems: list[str]) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        problems.append(f'{where}: "{text}" is not a VAT percentage such as "21" or "5.5"')
        return None
    if not value.is_finite() or value < ZERO or value > 100:
        problems.append(f'{where}: "{text}" is not a VAT percentage between 0 and 100')
        return None
    return value


def _tax_rates(section: TaxRatesSection, problems: list[str]) -> dict[TaxKey, str]:
    rates: dict[TaxKey, str] = {}
    plain = {
        VatTreatment.DOMESTIC: section.domestic,
        VatTreatment.REVERSE_CHARGE: section.reverse_charge,
        VatTreatment.EXPORT: section.export,
        VatTreatment.PLATFORM: section.platform,
    }
    for treatment, table in plain.items():
        for text, rate_id in table.items():
            where = f'tax_rates.{treatment.value}."{text}"'
            pct = _percentage(text, where, problems)
            if pct is None:
                continue
            if treatment is not VatTreatment.DOMESTIC and pct != 0:
                problems.append(f"{where}: {treatment.value} sales are always 0% VAT")
                continue
            rates[TaxKey(treatment, pct)] = rate_id
    for country, table in section.oss.items():
        code = country.upper()
        if code not in EU_COUNTRIES or code == HOME_COUNTRY:
            problems.append(f"tax_rates.oss.{country}: not an EU country other than NL")
            continue
        for text, rate_id in table.items():
            pct = _percentage(text, f'tax_rates.oss.{country}."{text}"', problems)
            if pct is not None:
                rates[TaxKey(VatTreatment.OSS, pct, code)] = rate_id
    return rates


def _ledgers(section: LedgerSection, problems: list[str]) -> LedgerAccounts:
    by_rate: dict[Decimal, str] = {}
    for text, ledger_id in section.revenue_by_rate.items():
        pct = _percentage(text, f'ledger_accounts.revenue_by_rate."{text}"', problems)
        if pct is not None:
            by_rate[pct] = ledger_id
    return LedgerAccounts(
        revenue=section.revenue,
        revenue_by_rate=by_rate,
        shipping=section.shipping,
        payment_costs=section.payment_costs,
        extra_costs=section.extra_costs,
        discounts=section.discounts,
        rounding=section.rounding,
    )


def _describe(error: Any) -> str:
    path = ""
    for part in error["loc"]:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            bare = part.replace("_", "").isalnum() and not part[0].isdigit()
            key = part if bare else f'"{part}"'
            path += f".{key}" if path else key
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key (see docs/profile.md for the keys a profile has)"
    return f"{path}: {message}" if path else message


def profile_from_mapping(document: dict[str, Any], *, source: str = "profile") -> MappingProfile:
    """Validate a parsed profile document; raise :class:`ConfigError` listing every problem."""
    try:
        parsed = ProfileFile.model_validate(document)
    except ValidationError as exc:
        found = [_describe(error) for error in exc.errors(include_url=False)]
        raise ConfigError(f"{source} is invalid: " + "; ".join(found), problems=found) from None
    problems: list[str] = []
    tax_rates = _tax_rates(parsed.tax_rates, problems)
    ledgers = _ledgers(parsed.ledger_accounts, problems)
    if problems:
        raise ConfigError(f"{source} is invalid: " + "; ".join(problems), problems=problems)
    invoicing = parsed.invoicing
    return MappingProfile(
        name=parsed.name,
        tax_rates=tax_rates,
        ledger_accounts=ledgers,
        workflow_id=invoicing.workflow_id,
        document_style_id=invoicing.document_style_id,
        payment_accounts=dict(parsed.payment_accounts.methods),
        default_payment_account=parsed.payment_accounts.default,
        trigger_statuses=frozenset(invoicing.trigger_statuses),
        require_paid=invoicing.require_paid,
        rounding_tolerance=parsed.rounding.tolerance,
        rounding_tax_rate_id=parsed.rounding.tax_rate_id,
        shipping_vat=parsed.vat.shipping,
        invoice_date=invoicing.invoice_date,
        invoice_kind=invoicing.kind,
        existing_invoices=invoicing.existing_invoices,
        oss=parsed.vat.oss,
        coupon_in_total_discounts=parsed.vat.coupon_in_total_discounts,
        guests_without_email=parsed.contacts.guests_without_email,
        guest_contact_id=parsed.contacts.guest_contact_id,
        language=parsed.language,
        timezone=invoicing.timezone,
        currency=invoicing.currency,
        foreign_currency=invoicing.foreign_currency,
        reference_prefix=invoicing.reference_prefix,
        credits=CreditPolicy(
            settle=dict(parsed.credits.settle),
            settle_default=parsed.credits.settle_default,
            refund_accounts=dict(parsed.credits.refund_accounts),
            cancellations=parsed.credits.cancellations,
            credited_before_booking=parsed.credits.credited_before_booking,
        ),
    )


def parse_profile(text: str, *, source: str = "profile") -> MappingProfile:
    try:
        document = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source} is not valid TOML: {exc}") from None
    return profile_from_mapping(document, source=source)


def load_profile(path: Path) -> MappingProfile:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read profile {path}: {exc.strerror or exc}") from None
    return parse_profile(text, source=str(path))
