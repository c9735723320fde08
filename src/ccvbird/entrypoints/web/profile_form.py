"""The profile page's form, to and from the profile's TOML text.

The form covers the choices a shop owner makes; keys it does not show (OSS rate tables, payment
methods, time zone …) are kept from the stored profile as they are. The TOML built from the form
is checked by the same parser as a profile file, so the form can never store a profile the
engine would refuse; each problem is reported at the field it belongs to, saying what to fix.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from ccvbird.domain.administration import AdministrationSettings
from ccvbird.domain.errors import ConfigError
from ccvbird.domain.profile_check import profile_mismatches
from ccvbird.domain.references import prefix_problem
from ccvbird.entrypoints.web.i18n import _
from ccvbird.wiring import check_profile

#: (form field, TOML path, what kind of Moneybird record it picks)
PICKS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("tax_21", ("tax_rates", "domestic", "21"), "tax_rate"),
    ("tax_9", ("tax_rates", "domestic", "9"), "tax_rate"),
    ("tax_0", ("tax_rates", "domestic", "0"), "tax_rate"),
    ("tax_reverse_charge", ("tax_rates", "reverse_charge", "0"), "tax_rate"),
    ("tax_export", ("tax_rates", "export", "0"), "tax_rate"),
    ("tax_platform", ("tax_rates", "platform", "0"), "tax_rate"),
    ("rounding_tax_rate", ("rounding", "tax_rate_id"), "tax_rate"),
    ("workflow", ("invoicing", "workflow_id"), "workflow"),
    ("document_style", ("invoicing", "document_style_id"), "document_style"),
    ("ledger_revenue", ("ledger_accounts", "revenue"), "ledger_account"),
    ("ledger_revenue_9", ("ledger_accounts", "revenue_by_rate", "9"), "ledger_account"),
    ("ledger_shipping", ("ledger_accounts", "shipping"), "ledger_account"),
    ("ledger_payment_costs", ("ledger_accounts", "payment_costs"), "ledger_account"),
    ("ledger_extra_costs", ("ledger_accounts", "extra_costs"), "ledger_account"),
    ("ledger_discounts", ("ledger_accounts", "discounts"), "ledger_account"),
    ("ledger_rounding", ("ledger_accounts", "rounding"), "ledger_account"),
    ("payment_default", ("payment_accounts", "default"), "financial_account"),
)
REQUIRED = {"tax_21", "tax_9", "tax_0"}


def _profile_key(path: tuple[str, ...]) -> str:
    """``("tax_rates", "domestic", "9")`` → ``tax_rates.domestic."9"`` (as mismatches name it)."""
    head, last = path[:-1], path[-1]
    leaf = f'"{last}"' if not last.isidentifier() else last
    return ".".join((*head, leaf))


#: The form field of a profile key, to show a mismatch where it can be fixed.
FIELD_OF_KEY = {_profile_key(path): name for name, path, _kind in PICKS}
CHOICES = {
    "kind": ("sales_invoice", "external_sales_invoice"),
    "invoice_date": ("order_date", "booking_date"),
    "existing_invoices": ("adopt_paid", "complete"),
    "shipping_vat": ("pro_rata", "shop_rate"),
    "language": ("nl", "en"),
}


@dataclass
class Options:
    """What each dropdown offers: (id, label) pairs from the administration."""

    tax_rate: list[tuple[str, str]] = field(default_factory=list)
    ledger_account: list[tuple[str, str]] = field(default_factory=list)
    workflow: list[tuple[str, str]] = field(default_factory=list)
    document_style: list[tuple[str, str]] = field(default_factory=list)
    financial_account: list[tuple[str, str]] = field(default_factory=list)

    def ids(self, kind: str) -> set[str]:
        return {i for i, _label in getattr(self, kind)}


def options_from(settings: AdministrationSettings) -> Options:
    def pct(p: Decimal | None) -> str:
        return "" if p is None else f" ({p.normalize():f}%)"

    return Options(
        tax_rate=[(r.id, f"{r.name}{pct(r.percentage)}") for r in settings.tax_rates if r.usable],
        ledger_account=[(a.id, a.name) for a in settings.ledger_accounts if a.usable],
        workflow=[
            (w.id, w.name)
            for w in settings.workflows
            if w.usable and w.kind in ("", "InvoiceWorkflow")
        ],
        document_style=[(s.id, s.name) for s in settings.document_styles],
        financial_account=[(a.id, a.name) for a in settings.financial_accounts if a.usable],
    )


def _get(document: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = document
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _set(document: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = document
    for part in path[:-1]:
        node = node.setdefault(part, {})
    if value in (None, ""):
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value


def load(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text, parse_float=Decimal) if text.strip() else {}
    except tomllib.TOMLDecodeError:
        return {}


def values_from(text: str, start_date: date | None) -> dict[str, Any]:
    """The form's values for the stored profile (defaults where it says nothing)."""
    document = load(text)
    invoicing = document.get("invoicing", {})
    values: dict[str, Any] = {
        "name": document.get("name", ""),
        "language": document.get("language", "nl"),
        "kind": invoicing.get("kind", "sales_invoice"),
        "trigger_statuses": [str(s) for s in invoicing.get("trigger_statuses", [7])],
        "require_paid": bool(invoicing.get("require_paid", True)),
        "invoice_date": invoicing.get("invoice_date", "order_date"),
        "existing_invoices": invoicing.get("existing_invoices", "adopt_paid"),
        "reference_prefix": str(invoicing.get("reference_prefix", "")),
        "shipping_vat": document.get("vat", {}).get("shipping", "pro_rata"),
        "oss": bool(document.get("vat", {}).get("oss", False)),
        "tolerance": str(document.get("rounding", {}).get("tolerance", "0.02")),
        "start_date": start_date.isoformat() if start_date else "",
    }
    for name, path, _kind in PICKS:
        found = _get(document, path)
        values[name] = str(found) if found is not None else ""
    return values


@dataclass
class Checked:
    toml: str
    start_date: date | None
    problems: dict[str, str]
    values: dict[str, Any]

    @property
    def ok(self) -> bool:
        return not self.problems


def check(
    form: dict[str, Any],
    stored: str,
    options: Options,
    settings: AdministrationSettings | None = None,
) -> Checked:
    """Build the profile from ``form`` over the ``stored`` one and check it (against the
    administration's ``settings`` too, when given: a 9% key on a 21% rate is refused)."""
    problems: dict[str, str] = {}
    statuses = form.get("trigger_statuses", [])
    statuses = [statuses] if isinstance(statuses, str) else list(statuses)
    values: dict[str, Any] = {
        key: str(form.get(key, "")).strip()
        for key in ("name", "language", "kind", "invoice_date", "shipping_vat", "tolerance",
                    "start_date", *(name for name, _p, _k in PICKS))
    }  # fmt: skip
    values["trigger_statuses"] = statuses
    document = load(stored)
    # Not on every form (an older page, a script): then the stored choice stays.
    values["existing_invoices"] = str(
        form.get("existing_invoices")
        or document.get("invoicing", {}).get("existing_invoices", "adopt_paid")
    ).strip()
    values["reference_prefix"] = str(
        form["reference_prefix"]
        if "reference_prefix" in form
        else document.get("invoicing", {}).get("reference_prefix", "")
    ).strip()
    if prefix_problem(values["reference_prefix"]) is not None:
        problems["reference_prefix"] = _(
            "Use at most 12 letters and digits, optionally followed by - . _ or /, such as B-."
        )
    values["require_paid"] = form.get("require_paid") == "on"
    values["oss"] = form.get("oss") == "on"

    document["name"] = values["name"] or document.get("name", "profile")
    for key, allowed in CHOICES.items():
        if values[key] not in allowed:
            problems[key] = _("Choose one of the options listed.")
    try:
        status_numbers = sorted({int(s) for s in statuses})
    except ValueError:
        status_numbers = []
    if not status_numbers:
        problems["trigger_statuses"] = _("Tick at least one status that makes an order invoiced.")
    try:
        tolerance = Decimal(values["tolerance"].replace(",", "."))
        if not tolerance.is_finite() or not Decimal(0) <= tolerance <= Decimal(1):
            raise InvalidOperation
    except InvalidOperation:
        problems["tolerance"] = _("Enter an amount from 0 to 1, such as 0.02.")
        tolerance = Decimal("0.02")
    start = None
    if values["start_date"]:
        try:
            start = date.fromisoformat(values["start_date"])
        except ValueError:
            problems["start_date"] = _("Enter a date like 2026-01-31, or leave it empty.")

    document["language"] = values["language"]
    invoicing = document.setdefault("invoicing", {})
    invoicing.update(
        kind=values["kind"],
        trigger_statuses=status_numbers or [7],
        require_paid=values["require_paid"],
        invoice_date=values["invoice_date"],
        existing_invoices=values["existing_invoices"],
    )
    if values["reference_prefix"] and "reference_prefix" not in problems:
        invoicing["reference_prefix"] = values["reference_prefix"]
    else:
        invoicing.pop("reference_prefix", None)
    vat = document.setdefault("vat", {})
    vat.update(shipping=values["shipping_vat"], oss=values["oss"])
    document.setdefault("rounding", {})["tolerance"] = f"{tolerance:f}"

    for name, path, kind in PICKS:
        chosen = values[name]
        if not chosen and name in REQUIRED:
            problems[name] = _("Choose the Moneybird tax rate for this VAT rate.")
        elif chosen and chosen not in options.ids(kind):
            problems[name] = _("Choose one of the options listed.")
        _set(document, path, chosen)

    text = dumps(document)
    if not problems:
        try:
            profile = check_profile(text, source="profile")
        except ConfigError as exc:
            for problem in exc.problems or [str(exc)]:
                problems.setdefault("profile", "")
                problems["profile"] = (problems["profile"] + " " + problem).strip()
        else:
            if settings is not None:
                for mismatch in profile_mismatches(profile, settings):
                    name = FIELD_OF_KEY.get(mismatch.key, "profile")
                    text = _("Does not match Moneybird: %(problem)s", problem=mismatch.message)
                    problems[name] = (problems.get(name, "") + " " + text).strip()
    return Checked(text, start, problems, values)


def stored_problems(
    stored: str, start_date: date | None, options: Options, settings: AdministrationSettings
) -> dict[str, str]:
    """What the profile page would mark if the stored profile were saved as it is (empty: it
    is complete and fits the administration, so setup can finish without the page)."""
    values = values_from(stored, start_date)
    form: dict[str, Any] = {k: v for k, v in values.items() if not isinstance(v, bool)}
    form.update({k: "on" for k, v in values.items() if v is True})
    return check(form, stored, options, settings).problems


# -- a small TOML writer for the profile's shape --------------------------------------------


def _key(key: str) -> str:
    bare = key.replace("_", "").replace("-", "").isalnum() and key.isascii() and key[0].isalpha()
    return key if bare else _string(key)


def _string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return _string(f"{value:f}")
    return _string(str(value))


def dumps(document: dict[str, Any]) -> str:
    """TOML for a document of scalars, lists and nested tables (top-level scalars first)."""
    lines = ["# Written by ccvbird's profile page; every key is described in docs/profile.md."]

    def table(prefix: tuple[str, ...], node: dict[str, Any]) -> None:
        scalars = {k: v for k, v in node.items() if not isinstance(v, dict)}
        tables = {k: v for k, v in node.items() if isinstance(v, dict)}
        if prefix and scalars:
            lines.append("")
            lines.append("[" + ".".join(_key(p) for p in prefix) + "]")
        lines.extend(f"{_key(k)} = {_value(v)}" for k, v in scalars.items())
        for key, child in tables.items():
            table((*prefix, key), child)

    table((), document)
    return "\n".join(lines) + "\n"
