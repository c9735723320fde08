"""The sandbox administration "Voorbeeld B.V.": a realistic Dutch setup with fixed ids.

Tax rates include everything a webshop meets (21/9/0%, reverse charge, export, intra-community,
"Geen btw" with a null percentage, OSS rates with ``country`` set) plus a purchase rate and an
inactive rate, so code that forgets to filter on ``tax_rate_type`` and ``active`` is caught.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from ccvbird.sandbox.moneybird import constants as c
from ccvbird.sandbox.moneybird.records import (
    CustomField,
    DocumentStyle,
    FinancialAccount,
    Identity,
    LedgerAccount,
    TaxRate,
    Workflow,
)


@dataclass
class AdministrationSetup:
    """Everything about one administration that the API only reads."""

    id: str
    name: str
    currency: str = "EUR"
    country: str = "NL"
    time_zone: str = "Europe/Amsterdam"
    language: str = "nl"
    period_start_date: str = "2026-01-01"
    tax_rates: list[TaxRate] = field(default_factory=list)
    ledger_accounts: list[LedgerAccount] = field(default_factory=list)
    workflows: list[Workflow] = field(default_factory=list)
    document_styles: list[DocumentStyle] = field(default_factory=list)
    identities: list[Identity] = field(default_factory=list)
    financial_accounts: list[FinancialAccount] = field(default_factory=list)
    custom_fields: list[CustomField] = field(default_factory=list)

    def tax_rate(self, rate_id: str) -> TaxRate | None:
        return next((r for r in self.tax_rates if r.id == rate_id), None)

    def ledger_account(self, account_id: str) -> LedgerAccount | None:
        return next((a for a in self.ledger_accounts if a.id == account_id), None)

    def workflow(self, workflow_id: str) -> Workflow | None:
        return next((w for w in self.workflows if w.id == workflow_id), None)

    def default_workflow(self, kind: str = "InvoiceWorkflow") -> Workflow:
        return next(w for w in self.workflows if w.type == kind and w.default)

    def document_style(self, style_id: str) -> DocumentStyle | None:
        return next((s for s in self.document_styles if s.id == style_id), None)

    def default_document_style(self) -> DocumentStyle:
        return next(s for s in self.document_styles if s.default)

    def financial_account(self, account_id: str) -> FinancialAccount | None:
        return next((a for a in self.financial_accounts if a.id == account_id), None)


def _rate(
    rate_id: str,
    name: str,
    percentage: str | None,
    *,
    country: str | None = None,
    kind: str = "sales_invoice",
    active: bool | None = True,
    show_tax: bool | None = True,
) -> TaxRate:
    pct = None if percentage is None else Decimal(percentage)
    return TaxRate(rate_id, name, pct, kind, show_tax, active, country)


_REVENUE_TYPES = ("sales_invoice", "general_journal_document")


def voorbeeld_bv() -> AdministrationSetup:
    """The default sandbox administration, ids as in the bundled example profile."""
    return AdministrationSetup(
        id=c.ADMINISTRATION_ID,
        name=c.ADMINISTRATION_NAME,
        tax_rates=[
            _rate(c.TAX_RATE_21, "21% btw", "21"),
            _rate(c.TAX_RATE_9, "9% btw", "9"),
            _rate(c.TAX_RATE_0, "0% btw", "0"),
            _rate(c.TAX_RATE_REVERSE_CHARGE, "Btw verlegd", "0", show_tax=False),
            _rate(c.TAX_RATE_EXPORT, "Export buiten de EU", "0", show_tax=False),
            _rate(c.TAX_RATE_NO_VAT, "Geen btw", None, show_tax=None, active=None),
            _rate(c.TAX_RATE_INTRA_COMMUNITY, "Intracommunautaire levering", "0", show_tax=False),
            _rate(c.TAX_RATE_OSS_BE_21, "21% btw België", "21", country="BE"),
            _rate(c.TAX_RATE_OSS_BE_6, "6% btw België", "6", country="BE"),
            _rate(c.TAX_RATE_OSS_DE_19, "19% MwSt Duitsland", "19", country="DE"),
            _rate(c.TAX_RATE_OSS_DE_7, "7% MwSt Duitsland", "7", country="DE"),
            _rate(c.TAX_RATE_OSS_FR_20, "20% TVA Frankrijk", "20", country="FR"),
            _rate(c.TAX_RATE_OSS_FR_5_5, "5,5% TVA Frankrijk", "5.5", country="FR"),
            _rate(c.TAX_RATE_PURCHASE_21, "21% btw inkoop", "21", kind="purchase_invoice"),
            _rate(c.TAX_RATE_INACTIVE_6, "6% btw (oud)", "6", active=False),
        ],
        ledger_accounts=[
            LedgerAccount(
                c.LEDGER_REVENUE, "Omzet", "revenue", "8000", "WOmzNopOmz", "Omzet", _REVENUE_TYPES
            ),
            LedgerAccount(
                c.LEDGER_REVENUE_LOW,
                "Omzet laag tarief",
                "revenue",
                "8001",
                "WOmzNopOlg",
                "Omzet laag tarief",
                _REVENUE_TYPES,
            ),
            LedgerAccount(
                c.LEDGER_SHIPPING,
                "Omzet verzendkosten",
                "revenue",
                "8010",
                "WOmzNopOvz",
                "Omzet verzendkosten",
                _REVENUE_TYPES,
            ),
            LedgerAccount(
                c.LEDGER_PAYMENT_COSTS,
                "Omzet betaalkosten",
                "revenue",
                "8011",
                "WOmzNopObk",
                "Omzet betaalkosten",
                _REVENUE_TYPES,
            ),
            LedgerAccount(
                c.LEDGER_DISCOUNTS,
                "Kortingen",
                "revenue",
                "8090",
                "WOmzKrt",
                "Kortingen",
                _REVENUE_TYPES,
            ),
            LedgerAccount(
                c.LEDGER_ROUNDING,
                "Afrondingsverschillen",
                "revenue",
                "8099",
                "WOmzAfr",
                "Afrondingsverschillen",
                _REVENUE_TYPES,
            ),
            LedgerAccount(
                c.LEDGER_GENERAL_COSTS,
                "Algemene kosten",
                "expenses",
                "4680",
                "WBedAlkOal",
                "Algemene kosten",
                ("purchase_invoice", "financial_mutation", "general_journal_document"),
            ),
            LedgerAccount(
                c.LEDGER_DEBTORS,
                "Debiteuren",
                "current_assets",
                "1300",
                "BVorDebHad",
                "Handelsdebiteuren",
                ("general_journal_document",),
            ),
            LedgerAccount(
                c.LEDGER_VAT_PAYABLE,
                "Af te dragen btw",
                "current_liabilities",
                "1600",
                "BSchBepBtwAfo",
                "Afgedragen omzetbelasting",
                ("financial_mutation", "general_journal_document"),
            ),
            LedgerAccount(
                c.LEDGER_UNCLASSIFIED_PAYMENTS,
                "Te rubriceren ontvangen betalingen",
                "temporary",
                "2300",
                "BSchKol",
                "Kruisposten",
                ("financial_mutation", "payment"),
            ),
            LedgerAccount(
                c.LEDGER_SETTLEMENTS,
                "Verrekeningen",
                "temporary",
                "2310",
                "BSchVrr",
                "Verrekeningen",
                ("financial_mutation", "payment"),
            ),
        ],
        workflows=[
            Workflow(
                c.WORKFLOW_WEBSHOP_PAID,
                "InvoiceWorkflow",
                "Webshopfacturen (al betaald)",
                False,
                True,
            ),
            Workflow(c.WORKFLOW_STANDARD, "InvoiceWorkflow", "Standaard", True, False),
            Workflow(c.WORKFLOW_ESTIMATES, "EstimateWorkflow", "Standaard", True, False),
        ],
        document_styles=[
            DocumentStyle(c.DOCUMENT_STYLE_STANDARD, "Standaard", True, c.IDENTITY_DEFAULT),
        ],
        identities=[
            Identity(
                c.IDENTITY_DEFAULT,
                c.ADMINISTRATION_NAME,
                "Voorbeeldstraat 1",
                "1234AB",
                "Amsterdam",
                "NL",
                "facturen@voorbeeld.example",
                "020-1234567",
                "NL91ABNA0417164300",
                "12345678",
                "NL001234567B01",
            )
        ],
        financial_accounts=[
            FinancialAccount(
                c.FINANCIAL_ACCOUNT_BANK, "BankAccount", "Betaalrekening", "NL91ABNA0417164300"
            ),
            FinancialAccount(
                c.FINANCIAL_ACCOUNT_MOLLIE,
                "PaymentServiceProviderAccount",
                "Mollie",
                "mollie",
                provider="mollie",
            ),
            FinancialAccount(c.FINANCIAL_ACCOUNT_CASH, "CashAccount", "Kas", "kas"),
        ],
        custom_fields=[
            CustomField(c.CUSTOM_FIELD_ORDER_NUMBER, "CCV ordernummer", "sales_invoice"),
        ],
    )
