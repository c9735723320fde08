"""Does a profile fit the Moneybird administration it books into?

A profile can be valid TOML with Moneybird ids and still be wrong for the administration:
``tax_rates.domestic."9"`` pointing at the 21% rate books every low-rate line with the wrong VAT,
and Moneybird accepts it without a word. So before a profile is used — when it is connected,
imported, validated against a connection, saved on the profile page, and by the engine right
before it books — every id it maps is compared with what the administration has:

* a tax rate must exist, be a *sales* rate, be active, have the key's percentage (a rate
  without a percentage, "Geen btw", counts as 0%), and for OSS be the rate of the key's country
  (a rate for another country is never right for a domestic, reverse-charge or export key);
* the rounding tax rate must be a usable 0% sales rate (a rounding line carries no VAT);
* a ledger account must exist, be active and accept sales invoices;
* a financial account must exist and be active (Moneybird lists only the active ones);
* a workflow must be an active invoice workflow, a document style must exist.

Pure: the caller reads the administration (``AdministrationSettings``) and decides what a
mismatch means (refuse the profile, or pause the connection).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from ccvbird.domain.administration import AdministrationSettings, NamedInfo, TaxRateInfo
from ccvbird.domain.profile import MappingProfile
from ccvbird.domain.reasons import Reason
from ccvbird.domain.vat import HOME_COUNTRY, TaxKey, VatTreatment, format_percentage

ROUNDING_KEY = "rounding.tax_rate_id"


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One mapped id that does not fit the administration; ``message`` names the key.
    ``reason``: the same as a code and its facts (``domain/reasons.py``), where it has one,
    so a pause can name it in the reader's language."""

    key: str
    message: str
    reason: Reason | None = None


def tax_rate_mismatches(profile: MappingProfile, rates: Iterable[TaxRateInfo]) -> list[Mismatch]:
    """Every tax rate the profile maps (and its rounding rate) that the administration's
    ``rates`` contradict. What the engine re-checks before it books."""
    by_id = {rate.id: rate for rate in rates}
    found: list[Mismatch] = []
    for key in sorted(profile.tax_rates):
        problem = _tax_rate_problem(key, profile.tax_rates[key], by_id)
        if problem is not None:
            found.append(Mismatch(key.profile_key(), problem.text, problem))
    if profile.rounding_tax_rate_id is not None:
        zero = TaxKey(VatTreatment.DOMESTIC, Decimal(0))
        problem = _tax_rate_problem(
            zero, profile.rounding_tax_rate_id, by_id, key_name=ROUNDING_KEY
        )
        if problem is not None:
            found.append(Mismatch(ROUNDING_KEY, problem.text, problem))
    return found


def profile_mismatches(profile: MappingProfile, settings: AdministrationSettings) -> list[Mismatch]:
    """Everything in the profile that does not fit the administration (empty: it fits)."""
    found = tax_rate_mismatches(profile, settings.tax_rates)
    ledgers = {a.id: a for a in settings.ledger_accounts}
    accounts = profile.ledger_accounts
    named: dict[str, str | None] = {
        "ledger_accounts.revenue": accounts.revenue,
        "ledger_accounts.shipping": accounts.shipping,
        "ledger_accounts.payment_costs": accounts.payment_costs,
        "ledger_accounts.extra_costs": accounts.extra_costs,
        "ledger_accounts.discounts": accounts.discounts,
        "ledger_accounts.rounding": accounts.rounding,
    }
    for pct, by_rate in sorted(accounts.revenue_by_rate.items()):
        named[f'ledger_accounts.revenue_by_rate."{format_percentage(pct)}"'] = by_rate
    for key, ledger_id in named.items():
        if ledger_id is not None:
            found.extend(_ledger_problem(key, ledger_id, ledgers))
    financial = {a.id: a for a in settings.financial_accounts}
    payments: dict[str, str | None] = {"payment_accounts.default": profile.default_payment_account}
    for method, method_account in sorted(profile.payment_accounts.items()):
        payments[f'payment_accounts.methods."{method}"'] = method_account
    for key, account_id in payments.items():
        if account_id is not None:
            found.extend(_financial_problem(key, account_id, financial))
    if profile.workflow_id is not None and settings.workflows:
        found.extend(_workflow_problem(profile.workflow_id, settings.workflows))
    style = profile.document_style_id
    styles = {s.id for s in settings.document_styles}
    if style is not None and styles and style not in styles:
        found.append(
            Mismatch(
                "invoicing.document_style_id",
                f"invoicing.document_style_id: Moneybird has no document style {style}",
            )
        )
    return found


def describe(mismatches: Iterable[Mismatch]) -> str:
    """The mismatches as one paragraph (for a pause reason or a single-line refusal)."""
    return " ".join(m.message if m.message.endswith(".") else m.message + "." for m in mismatches)


# -- the rules ------------------------------------------------------------------------------------


def _pct(value: Decimal | None) -> str:
    return f"{format_percentage(value or Decimal(0))}%"


def _tax_rate_problem(
    key: TaxKey, rate_id: str, rates: dict[str, TaxRateInfo], *, key_name: str = ""
) -> Reason | None:
    facts = {"field": key_name or key.profile_key(), "rate_id": rate_id}
    rate = rates.get(rate_id)
    if rate is None:
        return Reason("mismatch.rate_missing", facts)
    facts["rate_name"] = rate.name
    if rate.tax_rate_type and rate.tax_rate_type != "sales_invoice":
        return Reason("mismatch.rate_kind", {**facts, "kind": rate.tax_rate_type.replace("_", " ")})
    if rate.active is False:
        return Reason("mismatch.rate_inactive", facts)
    if (rate.percentage or Decimal(0)) != key.percentage:
        return Reason(
            "mismatch.rate_percentage",
            {**facts, "wanted": _pct(key.percentage), "mapped": _pct(rate.percentage)},
        )
    country = (rate.country or "").upper()
    if key.treatment is VatTreatment.OSS:
        if country != key.country:
            return Reason(
                "mismatch.rate_country" if country else "mismatch.rate_not_foreign",
                {**facts, "country": key.country, "rate_country": country,
                 "wanted": _pct(key.percentage)},
            )  # fmt: skip
    elif country and country != HOME_COUNTRY:
        return Reason("mismatch.rate_foreign", {**facts, "rate_country": country})
    return None


def _ledger_problem(key: str, ledger_id: str, ledgers: dict[str, NamedInfo]) -> list[Mismatch]:
    account = ledgers.get(ledger_id)
    if account is None:
        return [Mismatch(key, f"{key}: Moneybird has no ledger account {ledger_id}")]
    if not account.active:
        return [Mismatch(key, f'{key}: ledger account {ledger_id} "{account.name}" is not active')]
    if not account.usable:
        return [
            Mismatch(
                key,
                f'{key}: ledger account {ledger_id} "{account.name}" cannot be used on a sales '
                "invoice (choose a revenue account)",
            )
        ]
    return []


def _financial_problem(key: str, account_id: str, accounts: dict[str, NamedInfo]) -> list[Mismatch]:
    account = accounts.get(account_id)
    if account is None or not account.active or not account.usable:
        return [
            Mismatch(
                key,
                f"{key}: Moneybird has no active financial account {account_id} "
                "(deleted or switched off)",
            )
        ]
    return []


def _workflow_problem(workflow_id: str, workflows: Iterable[NamedInfo]) -> list[Mismatch]:
    key = "invoicing.workflow_id"
    workflow = next((w for w in workflows if w.id == workflow_id), None)
    if workflow is None:
        return [Mismatch(key, f"{key}: Moneybird has no workflow {workflow_id}")]
    if not workflow.usable or workflow.kind not in ("", "InvoiceWorkflow"):
        return [
            Mismatch(
                key,
                f'{key}: workflow {workflow_id} "{workflow.name}" is not an active invoice '
                "workflow",
            )
        ]
    return []
