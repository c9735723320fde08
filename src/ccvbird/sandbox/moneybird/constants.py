"""The ids and credentials of the Moneybird sandbox, in one place so tests and demos can use them.

The administration "Voorbeeld B.V." carries exactly the ids of the bundled example profile
(``ccvbird/examples/profile.toml``), so the example profile books into the sandbox unchanged.
Everything here is a demo value, never a secret.
"""

from __future__ import annotations

from typing import Final

DEFAULT_PORT: Final = 8702
DEMO_TOKEN: Final = "sandbox-token"  # noqa: S105 - the documented demo token

# -- the administration -----------------------------------------------------------------------
ADMINISTRATION_ID: Final = "470000000000000001"
ADMINISTRATION_NAME: Final = "Voorbeeld B.V."

# -- tax rates (sales_invoice, active) --------------------------------------------------------
TAX_RATE_21: Final = "470000000000010021"  # 21% btw
TAX_RATE_9: Final = "470000000000010009"  # 9% btw
TAX_RATE_0: Final = "470000000000010000"  # 0% btw
TAX_RATE_REVERSE_CHARGE: Final = "470000000000010101"  # Btw verlegd
TAX_RATE_EXPORT: Final = "470000000000010102"  # Export buiten de EU
TAX_RATE_NO_VAT: Final = "470000000000010103"  # Geen btw (percentage null)
TAX_RATE_INTRA_COMMUNITY: Final = "470000000000010104"  # Intracommunautaire levering
TAX_RATE_OSS_BE_21: Final = "470000000000010221"
TAX_RATE_OSS_BE_6: Final = "470000000000010206"
TAX_RATE_OSS_DE_19: Final = "470000000000010219"
TAX_RATE_OSS_DE_7: Final = "470000000000010207"
TAX_RATE_OSS_FR_20: Final = "470000000000010220"
TAX_RATE_OSS_FR_5_5: Final = "470000000000010255"
# rates a sales invoice must not use: a purchase rate and an inactive sales rate
TAX_RATE_PURCHASE_21: Final = "470000000000011021"
TAX_RATE_INACTIVE_6: Final = "470000000000010006"  # the old 6% rate, no longer active

# -- ledger accounts --------------------------------------------------------------------------
LEDGER_REVENUE: Final = "470000000000020001"  # Omzet
LEDGER_REVENUE_LOW: Final = "470000000000020002"  # Omzet laag tarief
LEDGER_SHIPPING: Final = "470000000000020003"  # Omzet verzendkosten
LEDGER_PAYMENT_COSTS: Final = "470000000000020004"  # Omzet betaalkosten
LEDGER_DISCOUNTS: Final = "470000000000020005"  # Kortingen
LEDGER_ROUNDING: Final = "470000000000020006"  # Afrondingsverschillen
LEDGER_GENERAL_COSTS: Final = "470000000000020101"  # Algemene kosten (expenses)
LEDGER_DEBTORS: Final = "470000000000020102"  # Debiteuren (current assets)
LEDGER_VAT_PAYABLE: Final = "470000000000020103"  # Af te dragen btw (current liabilities)
LEDGER_UNCLASSIFIED_PAYMENTS: Final = "470000000000020104"  # Te rubriceren ontvangen betalingen
LEDGER_SETTLEMENTS: Final = "470000000000020105"  # Verrekeningen

# -- workflows, document style, identity ------------------------------------------------------
WORKFLOW_WEBSHOP_PAID: Final = "470000000000030001"  # Webshopfacturen (al betaald), incl. btw
WORKFLOW_STANDARD: Final = "470000000000030002"  # Standaard (default InvoiceWorkflow)
WORKFLOW_ESTIMATES: Final = "470000000000030003"  # EstimateWorkflow
DOCUMENT_STYLE_STANDARD: Final = "470000000000040001"  # Standaard (default)
IDENTITY_DEFAULT: Final = "470000000000040101"

# -- financial accounts -----------------------------------------------------------------------
FINANCIAL_ACCOUNT_BANK: Final = "470000000000050001"  # Betaalrekening (BankAccount)
FINANCIAL_ACCOUNT_MOLLIE: Final = "470000000000050002"  # Mollie (PSP)
FINANCIAL_ACCOUNT_CASH: Final = "470000000000050003"  # Kas (cash)

# -- custom fields ----------------------------------------------------------------------------
CUSTOM_FIELD_ORDER_NUMBER: Final = "470000000000060001"  # "CCV ordernummer" on sales invoices

# -- people and OAuth -------------------------------------------------------------------------
USER_ID: Final = "470000000000070001"
USER_EMAIL: Final = "demo@voorbeeld.example"
USER_PASSWORD: Final = "sandbox"  # noqa: S105 - a documented demo password
OAUTH_CLIENT_ID: Final = "sandbox-client"
OAUTH_CLIENT_SECRET: Final = "sandbox-client-secret"  # noqa: S105 - documented demo value
OUT_OF_BAND_REDIRECT: Final = "urn:ietf:wg:oauth:2.0:oob"

#: Scopes a sandbox token can hold; the demo token holds all of them.
ALL_SCOPES: Final = ("sales_invoices", "documents", "estimates", "bank", "time_entries", "settings")
