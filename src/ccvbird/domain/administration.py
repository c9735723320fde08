"""What ccvbird reads from a Moneybird administration to help the user set up a profile."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class TaxRateInfo:
    id: str
    name: str
    percentage: Decimal | None
    country: str | None
    usable: bool  # a sales-invoice rate that is not switched off


@dataclass(frozen=True, slots=True)
class NamedInfo:
    """A ledger account, workflow, document style or financial account."""

    id: str
    name: str
    kind: str = ""  # account_type, workflow type, financial account type
    default: bool = False
    usable: bool = True


@dataclass(frozen=True, slots=True)
class AdministrationSettings:
    tax_rates: tuple[TaxRateInfo, ...]
    ledger_accounts: tuple[NamedInfo, ...]
    workflows: tuple[NamedInfo, ...]
    document_styles: tuple[NamedInfo, ...]
    financial_accounts: tuple[NamedInfo, ...]
    #: The currency the administration keeps its books in (ISO 4217).
    currency: str = "EUR"
