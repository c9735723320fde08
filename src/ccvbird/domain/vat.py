"""VAT treatments and how an order's lines get theirs.

Moneybird has no invoice-level "reverse charge" or "OSS" switch: every line carries a tax rate,
and the administration has separate rates for each regime. So every line gets a :class:`TaxKey`
(treatment, percentage, country for OSS) and the profile maps each key to one Moneybird tax rate.
An unmapped key is never replaced by a default: booking 19% German VAT under Dutch 21%, or a
reverse-charge sale under domestic 0%, puts the wrong figure in a VAT return.

The rule for a line is "book what was charged":

* a line that charged VAT is domestic (Dutch) VAT, or OSS when the profile says the shop uses
  the OSS scheme and the goods went to a consumer in another EU country;
* a line at 0% takes the order's zero-rate regime: reverse charge for an intra-community order
  (EU business with a VAT number), platform sale, export outside the EU, otherwise domestic 0%.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from ccvbird.domain.money import ZERO

HOME_COUNTRY = "NL"

#: EU member states by ISO 3166-1 alpha-2 code (Greece is GR here; its VAT numbers start EL).
EU_COUNTRIES = frozenset(
    {
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
        "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    }
)  # fmt: skip


class VatTreatment(StrEnum):
    DOMESTIC = "domestic"
    REVERSE_CHARGE = "reverse_charge"
    EXPORT = "export"
    OSS = "oss"
    PLATFORM = "platform"


TREATMENT_LABELS = {
    VatTreatment.DOMESTIC: "domestic (Dutch VAT)",
    VatTreatment.REVERSE_CHARGE: "reverse charge (intra-community)",
    VatTreatment.EXPORT: "export outside the EU",
    VatTreatment.OSS: "OSS (VAT of the customer's EU country)",
    VatTreatment.PLATFORM: "platform sale",
}


def canonical_percentage(value: Decimal) -> Decimal:
    """21.00 → 21, 5.50 → 5.5: one spelling per percentage, for keys and labels."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def format_percentage(value: Decimal) -> str:
    return f"{canonical_percentage(value):f}"


@dataclass(frozen=True, slots=True, order=True)
class TaxKey:
    """What the profile maps to a Moneybird tax rate id. ``country`` is only set for OSS."""

    treatment: VatTreatment
    percentage: Decimal
    country: str = ""
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "percentage", canonical_percentage(self.percentage))
        object.__setattr__(self, "country", self.country.upper())
        # Keys are looked up for every invoice line; hash once, not per lookup.
        object.__setattr__(self, "_hash", hash((self.treatment, self.percentage, self.country)))

    def __hash__(self) -> int:
        return self._hash

    def describe(self) -> str:
        """``21% domestic (Dutch VAT)``, ``19% OSS (VAT of the customer's EU country) DE``."""
        text = f"{format_percentage(self.percentage)}% {TREATMENT_LABELS[self.treatment]}"
        return f"{text} {self.country}" if self.country else text

    def profile_key(self) -> str:
        """Where this key lives in a profile file: ``tax_rates.oss.DE."19"``."""
        pct = format_percentage(self.percentage)
        if self.country:
            return f'tax_rates.{self.treatment.value}.{self.country}."{pct}"'
        return f'tax_rates.{self.treatment.value}."{pct}"'


@dataclass(frozen=True, slots=True)
class VatContext:
    """The order-level facts that decide each line's treatment."""

    zero_rate_treatment: VatTreatment
    oss_country: str  # set when charged VAT is the customer's country's VAT (OSS)

    def key_for(self, percentage: Decimal) -> TaxKey:
        if percentage == ZERO:
            return TaxKey(self.zero_rate_treatment, ZERO)
        if self.oss_country:
            return TaxKey(VatTreatment.OSS, percentage, self.oss_country)
        return TaxKey(VatTreatment.DOMESTIC, percentage)


def vat_context(
    *,
    destination_country: str,
    intra_community: bool,
    platform_sale: bool,
    is_business_with_vat_number: bool,
    oss_enabled: bool,
) -> VatContext:
    """Decide the order's zero-rate regime and whether charged VAT is OSS VAT."""
    country = destination_country.upper()
    if platform_sale:
        zero = VatTreatment.PLATFORM
    elif intra_community:
        zero = VatTreatment.REVERSE_CHARGE
    elif country and country not in EU_COUNTRIES:
        zero = VatTreatment.EXPORT
    else:
        zero = VatTreatment.DOMESTIC
    oss_country = ""
    if (
        oss_enabled
        and country in EU_COUNTRIES
        and country != HOME_COUNTRY
        and not is_business_with_vat_number
        and not platform_sale
    ):
        oss_country = country
    return VatContext(zero_rate_treatment=zero, oss_country=oss_country)
