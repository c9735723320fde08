"""The worked examples of docs/money.md: read the order blocks, render the tables.

docs/money.md holds TOML blocks (`# order` on their first line) followed by the table of lines and
a totals line. tests/unit/test_money_doc.py maps every block and checks that the document shows
exactly what ccvbird books, so the document cannot drift from the code.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from ccvbird.domain.mapping import MappingResult
from ccvbird.domain.money import format_amount, format_quantity
from ccvbird.domain.vat import VatTreatment, format_percentage
from ccvbird.service.preview import Preview, preview_order
from tests.builders import example_profile, make_order, row

MONEY_DOC = Path(__file__).resolve().parents[2] / "docs" / "money.md"
TODAY = date(2026, 11, 26)


@dataclass
class Example:
    title: str
    spec: dict[str, Any]
    shown: str  # the table and totals line as written in the document


def examples(text: str | None = None) -> list[Example]:
    text = MONEY_DOC.read_text(encoding="utf-8") if text is None else text
    found = []
    pattern = re.compile(
        r"^### (?P<title>.+?)\n.*?```toml\n(?P<spec># order\n.*?)```\n(?P<rest>.*?)(?=^### |\Z)",
        re.S | re.M,
    )
    for match in pattern.finditer(text):
        rest = match.group("rest")
        shown = [
            line for line in rest.splitlines() if line.startswith(("|", "Totals:", "Refused:"))
        ]
        found.append(
            Example(
                match.group("title"),
                tomllib.loads(match.group("spec"), parse_float=Decimal),
                "\n".join(shown),
            )
        )
    return found


def run(spec: dict[str, Any]) -> Preview:
    spec = dict(spec)
    profile = example_profile(**spec.pop("profile", {}))
    rows = [
        row(r["name"], r["qty"], str(r["total"]), r["vat"], kind=r.get("kind", "product"))
        for r in spec.pop("rows")
    ]
    spec["incl"] = spec.pop("prices", "incl") == "incl"
    for key, value in list(spec.items()):
        if isinstance(value, Decimal | int) and not isinstance(value, bool):
            spec[key] = str(value)
    order = make_order(rows, **spec)
    return preview_order(order, profile, today=TODAY)


def vat_label(result: MappingResult, index: int) -> str:
    tax = result.draft.lines[index].tax
    text = f"{format_percentage(tax.percentage)}%"
    if tax.treatment is VatTreatment.OSS:
        return f"{text} OSS {tax.country}"
    if tax.treatment is not VatTreatment.DOMESTIC:
        return f"{text} {tax.treatment.value.replace('_', ' ')}"
    return text


def render(preview: Preview) -> str:
    result = preview.result
    lines = ["| Line | Qty | Price | Amount | VAT |", "|---|---:|---:|---:|---|"]
    for index, line in enumerate(result.draft.lines):
        lines.append(
            f"| {line.description} | {format_quantity(line.quantity)} "
            f"| {format_amount(line.price)} | {format_amount(line.amount)} "
            f"| {vat_label(result, index)} |"
        )
    if preview.problems:
        lines.extend(f"Refused: {p.code.value}: {p.message}" for p in preview.problems)
        return "\n".join(lines)
    totals = result.totals
    vat = " · ".join(
        f"VAT {pct}% {format_amount(v)}" for pct, v in totals.vat_by_percentage().items()
    )
    lines.append(
        f"Totals: excl. VAT {format_amount(totals.excl_vat)} · {vat} · "
        f"total {format_amount(totals.incl_vat)} · paid {format_amount(result.paid)}"
    )
    return "\n".join(lines)
