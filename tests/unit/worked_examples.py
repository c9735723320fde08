"""The worked examples of docs/money.md: read the order blocks, render the tables.

docs/money.md holds TOML blocks (`# order` on their first line) followed by the table of lines and
a totals line. tests/unit/test_money_doc.py maps every block and checks that the document shows
exactly what ccvbird books, so the document cannot drift from the code.

A `# credit` block is a booked order (the same keys) with a `[credit]` table: what CCV credited
(`rows` by their 1-based place in the order's rows, with `qty` and `total`; `shipping`,
`payment_costs`, `extra_costs`, `discounts`; the credit's `total`), or `cancel = true` for the
full credit of a cancelled order. Its table is the credit invoice ccvbird books.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from ccvbird.domain.credits import (
    CcvCredit,
    CcvCreditRow,
    CcvCreditStatus,
    CreditResult,
    map_cancellation,
)
from ccvbird.domain.mapping import map_order
from ccvbird.domain.money import format_amount, format_quantity
from ccvbird.domain.order import Order
from ccvbird.domain.profile import MappingProfile
from ccvbird.domain.vat import VatTreatment, format_percentage
from ccvbird.service.preview import Preview, preview_credit, preview_order
from tests.builders import example_profile, make_order, row

MONEY_DOC = Path(__file__).resolve().parents[2] / "docs" / "money.md"
TODAY = date(2026, 11, 26)
#: The day CCV made the credits of the credit examples.
CREDIT_DAY = date(2026, 11, 30)


@dataclass
class Example:
    title: str
    spec: dict[str, Any]
    shown: str  # the table and totals line as written in the document
    kind: str = "order"  # or "credit"


def examples(text: str | None = None) -> list[Example]:
    text = MONEY_DOC.read_text(encoding="utf-8") if text is None else text
    found = []
    # Between a title and its block no other title: a section without a block is no example.
    pattern = re.compile(
        r"^### (?P<title>.+?)\n(?:(?!^### ).)*?```toml\n"
        r"(?P<spec># (?P<kind>order|credit)\n.*?)```\n(?P<rest>.*?)(?=^### |^## |\Z)",
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
                match.group("kind"),
            )
        )
    return found


def _order(spec: dict[str, Any]) -> tuple[Order, MappingProfile]:
    spec = dict(spec)
    spec.pop("credit", None)
    profile = example_profile(**spec.pop("profile", {}))
    rows = [
        row(r["name"], r["qty"], str(r["total"]), r["vat"], kind=r.get("kind", "product"))
        for r in spec.pop("rows")
    ]
    spec["incl"] = spec.pop("prices", "incl") == "incl"
    for key, value in list(spec.items()):
        if isinstance(value, Decimal | int) and not isinstance(value, bool):
            spec[key] = str(value)
    return make_order(rows, **spec), profile


def run(spec: dict[str, Any]) -> Preview:
    order, profile = _order(spec)
    return preview_order(order, profile, today=TODAY)


def run_credit(spec: dict[str, Any]) -> CreditResult:
    """The credit invoice of a `# credit` block: a CCV credit through the preview (the engine's
    mapping), a cancellation through the full credit of the order as booked."""
    order, profile = _order(spec)
    credited = spec["credit"]
    if credited.get("cancel"):
        booked = map_order(order, profile, booking_date=TODAY).totals.incl_vat
        return map_cancellation(
            order, profile, original_reference=order.number, seq=1, remaining=booked,
            booked_total=booked, credit_date=CREDIT_DAY,
        )  # fmt: skip
    rows = []
    for returned in credited.get("rows", []):
        original = order.rows[returned["row"] - 1]
        count, total = Decimal(str(returned["qty"])), Decimal(str(returned["total"]))
        rows.append(
            CcvCreditRow(
                row_id=f"credit-row-{returned['row']}", orderrow_id=original.row_id,
                name=original.name, count=count, price=total / count,
                vat_percentage=original.vat_percentage, total=total,
            )
        )  # fmt: skip
    amounts = {
        key: Decimal(str(credited[key]))
        for key in ("shipping", "payment_costs", "extra_costs", "discounts")
        if key in credited
    }
    credit = CcvCredit(
        invoice_id="5001", number="F5001", order_id=order.order_id,
        created_at=datetime.combine(CREDIT_DAY, time(10), tzinfo=UTC),
        status=CcvCreditStatus.REIMBURSED, rows=tuple(rows),
        total=Decimal(str(credited["total"])), **amounts,  # type: ignore[arg-type]
    )  # fmt: skip
    return preview_credit(order, credit, profile, today=TODAY).result


def render_credit(result: CreditResult) -> str:
    return _table(result.draft.lines, result.problems, result.totals, "credited", result.amount)


def _tax_label(tax: Any) -> str:
    text = f"{format_percentage(tax.percentage)}%"
    if tax.treatment is VatTreatment.OSS:
        return f"{text} OSS {tax.country}"
    if tax.treatment is not VatTreatment.DOMESTIC:
        return f"{text} {tax.treatment.value.replace('_', ' ')}"
    return text


def render(preview: Preview) -> str:
    result = preview.result
    return _table(result.draft.lines, preview.problems, result.totals, "paid", result.paid)


def _table(lines: Any, problems: Any, totals: Any, last_word: str, last_amount: Any) -> str:
    """The table docs/money.md shows under an example: its lines, then why it was refused
    or its totals with what was paid (an invoice) or credited (a credit)."""
    rows = ["| Line | Qty | Price | Amount | VAT |", "|---|---:|---:|---:|---|"]
    for line in lines:
        rows.append(
            f"| {line.description} | {format_quantity(line.quantity)} "
            f"| {format_amount(line.price)} | {format_amount(line.amount)} "
            f"| {_tax_label(line.tax)} |"
        )
    if problems:
        rows.extend(f"Refused: {p.code.value}: {p.message}" for p in problems)
        return "\n".join(rows)
    vat = " · ".join(
        f"VAT {pct}% {format_amount(v)}" for pct, v in totals.vat_by_percentage().items()
    )
    rows.append(
        f"Totals: excl. VAT {format_amount(totals.excl_vat)} · {vat} · "
        f"total {format_amount(totals.incl_vat)} · {last_word} {format_amount(last_amount)}"
    )
    return "\n".join(rows)
