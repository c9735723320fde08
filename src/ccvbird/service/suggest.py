"""Draft a mapping profile from what the Moneybird administration already has.

A new user should not have to copy eighteen-digit ids: tax rates are recognised by percentage,
country and name ("Btw verlegd", "Export buiten de EU"), ledger accounts by name ("Omzet",
"Verzendkosten", "Kortingen"), the default workflow, document style and bank account are taken.
When every key the mapping needs is found exactly once the suggestion is *unambiguous* and can
be used at once; otherwise it says, key by key, what to fill in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from ccvbird.domain.administration import AdministrationSettings
from ccvbird.domain.vat import EU_COUNTRIES, HOME_COUNTRY, format_percentage


@dataclass
class Suggestion:
    toml: str
    missing: list[str] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)

    @property
    def unambiguous(self) -> bool:
        return not self.missing and not self.ambiguous


REVERSE_CHARGE_WORDS = ("intracommunautair", "icp", "verlegd", "reverse", "eu-lever")
EXPORT_WORDS = ("export", "buiten de eu", "buiten eu", "outside the eu", "non-eu")
PLATFORM_WORDS = ("platform", "marktplaats", "marketplace")
LEDGER_WORDS = {
    "shipping": ("verzend", "shipping", "bezorg"),
    "payment_costs": ("betaalkost", "transactiekost", "payment"),
    "discounts": ("korting", "discount"),
    "rounding": ("afronding", "rounding"),
}


def _has(name: str, words: Iterable[str]) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in words)


def _one(candidates: list[str], key: str, suggestion: Suggestion, *, required: bool) -> str | None:
    unique = sorted(set(candidates))
    if len(unique) == 1:
        return unique[0]
    if len(unique) > 1:
        suggestion.ambiguous.append(f"{key}: several candidates ({', '.join(unique)}); choose one")
    elif required:
        suggestion.missing.append(f"{key}: no matching Moneybird record found; fill it in")
    return None


def suggest_profile(settings: AdministrationSettings, *, name: str = "suggested") -> Suggestion:
    suggestion = Suggestion(toml="")
    rates = [r for r in settings.tax_rates if r.usable]
    domestic = [r for r in rates if not r.country or r.country == HOME_COUNTRY]

    def domestic_rate(pct: int) -> list[str]:
        found = []
        for rate in domestic:
            if rate.percentage is None or rate.percentage != pct:
                continue
            if pct == 0 and _has(rate.name, REVERSE_CHARGE_WORDS + EXPORT_WORDS + PLATFORM_WORDS):
                continue
            found.append(rate.id)
        return found

    tables: dict[str, dict[str, str]] = {}
    for pct in (21, 9, 0):
        chosen = _one(domestic_rate(pct), f'tax_rates.domestic."{pct}"', suggestion, required=True)
        if chosen:
            tables.setdefault("tax_rates.domestic", {})[str(pct)] = chosen
    zero_rated = [r for r in domestic if r.percentage in (None, Decimal(0))]
    special = {
        "tax_rates.reverse_charge": [
            r.id for r in zero_rated if _has(r.name, REVERSE_CHARGE_WORDS)
        ],
        "tax_rates.export": [r.id for r in zero_rated if _has(r.name, EXPORT_WORDS)],
        "tax_rates.platform": [r.id for r in zero_rated if _has(r.name, PLATFORM_WORDS)],
    }
    intra = [
        i
        for i in special["tax_rates.reverse_charge"]
        if _name(settings, i).lower().startswith("intra")
    ]
    if (
        len(intra) == 1
    ):  # goods to EU businesses: prefer "Intracommunautaire levering" to "btw verlegd"
        special["tax_rates.reverse_charge"] = intra
    for table, ids in special.items():
        chosen = _one(ids, f'{table}."0"', suggestion, required=table != "tax_rates.platform")
        if chosen:
            tables.setdefault(table, {})["0"] = chosen
    for rate in rates:
        country = (rate.country or "").upper()
        if (
            country
            and country != HOME_COUNTRY
            and country in EU_COUNTRIES
            and rate.percentage is not None
        ):
            tables.setdefault(f"tax_rates.oss.{country}", {})[
                format_percentage(rate.percentage)
            ] = rate.id

    revenue_accounts = [a for a in settings.ledger_accounts if a.usable and a.kind == "revenue"]
    ledgers: dict[str, str] = {}
    plain_revenue = [
        a.id for a in revenue_accounts
        if a.name.strip().lower() == "omzet" or a.name.strip().lower() == "revenue"
    ]  # fmt: skip
    revenue = _one(plain_revenue, "ledger_accounts.revenue", suggestion, required=False)
    if revenue:
        ledgers["revenue"] = revenue
    for key, words in LEDGER_WORDS.items():
        chosen = _one(
            [a.id for a in revenue_accounts if _has(a.name, words)],
            f"ledger_accounts.{key}",
            suggestion,
            required=False,
        )
        if chosen:
            ledgers[key] = chosen
    low = _one(
        [a.id for a in revenue_accounts if _has(a.name, ("laag", "9%", "low rate"))],
        'ledger_accounts.revenue_by_rate."9"',
        suggestion,
        required=False,
    )

    workflows = [w for w in settings.workflows if w.usable and w.kind in ("", "InvoiceWorkflow")]
    workflow = _one(
        [w.id for w in workflows if w.default], "invoicing.workflow_id", suggestion, required=False
    )
    style = _one(
        [s.id for s in settings.document_styles if s.default],
        "invoicing.document_style_id",
        suggestion,
        required=False,
    )
    banks = [a.id for a in settings.financial_accounts if a.usable and a.kind == "BankAccount"]
    bank = _one(banks, "payment_accounts.default", suggestion, required=False)

    lines = [
        "# Suggested by ccvbird from the Moneybird administration. Check it, then use it.",
        f"name = {_quote(name)}",
        'language = "nl"',
        "",
        "[invoicing]",
        'kind = "sales_invoice"',
        "# An invoice Moneybird has already for an order is never made twice: a paid one is",
        '# taken over; an unpaid one waits for you ("complete": ccvbird finishes it).',
        'existing_invoices = "adopt_paid"',
        "trigger_statuses = [7]",
        "require_paid = true",
        "# The administration's currency; an order in another one waits for you unless",
        "# foreign_currency = true.",
        f"currency = {_quote(settings.currency)}",
        "foreign_currency = false",
    ]
    if workflow:
        lines.append(
            f"workflow_id = {_quote(workflow)}  # {_quote_comment(_name(settings, workflow))}"
        )
    if style:
        lines.append(
            f"document_style_id = {_quote(style)}  # {_quote_comment(_name(settings, style))}"
        )
    lines += [
        "",
        "[vat]",
        'shipping = "pro_rata"',
        "# true when the shop charges EU consumers their own country's VAT (OSS), using the OSS",
        "# rates below. That Moneybird has OSS rates does not say whether the shop uses them.",
        "oss = false",
    ]
    lines += ["", "[rounding]", 'tolerance = "0.02"']
    for table, entries in tables.items():
        lines += ["", f"[{table}]"]
        lines += [
            f'"{pct}" = {_quote(rid)}  # {_quote_comment(_name(settings, rid))}'
            for pct, rid in entries.items()
        ]
    if ledgers:
        lines += ["", "[ledger_accounts]"]
        lines += [
            f"{key} = {_quote(lid)}  # {_quote_comment(_name(settings, lid))}"
            for key, lid in ledgers.items()
        ]
    if low:
        lines += [
            "",
            "[ledger_accounts.revenue_by_rate]",
            f'"9" = {_quote(low)}  # {_quote_comment(_name(settings, low))}',
        ]
    if bank:
        lines += [
            "",
            "[payment_accounts]",
            f"default = {_quote(bank)}  # {_quote_comment(_name(settings, bank))}",
        ]
    suggestion.toml = "\n".join(lines) + "\n"
    return suggestion


def _name(settings: AdministrationSettings, record_id: str) -> str:
    for group in (
        settings.tax_rates,
        settings.ledger_accounts,
        settings.workflows,
        settings.document_styles,
        settings.financial_accounts,
    ):
        for item in group:
            if item.id == record_id:
                return item.name
    return ""


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _quote_comment(text: str) -> str:
    return text.replace("\n", " ")
