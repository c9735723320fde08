"""``ccvbird preview``: the invoice an order becomes, or the credit invoice a CCV credit of it
becomes, without booking anything."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from ccvbird import bootstrap
from ccvbird.domain.credits import CreditProblem
from ccvbird.domain.errors import ConfigError, InvalidOrderData
from ccvbird.domain.invoice import ContactDraft, InvoiceDraft, InvoiceLine, Totals
from ccvbird.domain.mapping import Problem
from ccvbird.domain.money import format_amount, format_quantity
from ccvbird.domain.profile import MappingProfile
from ccvbird.domain.vat import VatTreatment, format_percentage
from ccvbird.entrypoints.cli.common import (
    EXIT_REFUSED,
    ConnectionOption,
    DataDir,
    app,
    console,
    fail,
    opened,
    pick_connection,
)
from ccvbird.service.preview import CreditPreview, Preview, preview_credit, preview_order


@app.command()
def preview(
    order_file: Annotated[
        Path | None,
        typer.Argument(
            help='Order file: {"order": <GET /orders/:id body>, '
            '"orderrows": <GET /orders/:id/orderrows body>}; with "invoice": '
            '<GET /invoices/:id body of a credit invoice> and "invoicerows": '
            "<GET /invoices/:id/invoicerows body> it previews that credit of the order. "
            "Leave out to preview the bundled example order.",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ] = None,
    profile: Annotated[
        Path | None,
        typer.Option(
            help="Mapping profile (TOML). Default: the connection's profile with --data-dir, "
            "else the bundled example profile.",
            dir_okay=False,
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help='Print one JSON object: kind ("invoice" or "credit"), payload, lines, '
            "totals, problems.",
        ),
    ] = False,
    after_credit: Annotated[
        bool,
        typer.Option(
            "--after-credit",
            help="With a credit invoice: the file's order is as CCV Shop shows it after the "
            "credit (the shop took the credited rows and costs off before CCV invoiced the "
            "difference); they are added back to find the order as it was booked. Without "
            "it, the order is taken as booked.",
        ),
    ] = False,
    connection: ConnectionOption = None,
    data_dir: DataDir = None,
) -> None:
    """Show the Moneybird invoice a CCV order becomes, or why it must not be booked; given a
    credit invoice of the order, the credit invoice ccvbird would book for it.

    Books nothing and calls no API. With --data-dir (or CCVBIRD_DATA_DIR) and no --profile, the
    profile of the data directory's connection is used. Exit status 0: the order would be
    booked as shown; 2: it must not be booked (the problems are listed) or the input is
    malformed.
    """
    try:
        if profile is None and data_dir is not None:
            mapping_profile = _stored_profile(data_dir, connection)
        else:
            mapping_profile = bootstrap.read_profile(profile)
        order, credit = bootstrap.read_preview_file(order_file)
    except InvalidOrderData as exc:
        what = "credit invoice" if exc.field.startswith("invoice") else "order"
        fail(f"malformed {what}: {exc}")
    except ConfigError as exc:
        fail("\n  ".join([str(exc).split(": ", 1)[0] + ":", *exc.problems]))
    today = bootstrap.SystemClock(mapping_profile.timezone).today()
    result: Preview | CreditPreview
    if credit is None:
        result = preview_order(order, mapping_profile, today=today)
        document = preview_json(result)
    else:
        result = preview_credit(
            order, credit, mapping_profile, today=today, after_credit=after_credit
        )
        document = credit_preview_json(result)
    if as_json:
        sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    elif isinstance(result, CreditPreview):
        print_credit_preview(result)
    else:
        print_preview(result)
    if not result.bookable:
        raise typer.Exit(EXIT_REFUSED)


def _stored_profile(data_dir: Path, connection: int | None) -> MappingProfile:
    """The profile a connection in ``data_dir`` books with (nothing is created there)."""
    if not bootstrap.load_settings(data_dir=data_dir).has_database():
        fail(
            f"there is no ccvbird database in {data_dir}: pass --profile, or leave out "
            "--data-dir (and CCVBIRD_DATA_DIR) for the bundled example profile"
        )
    with opened(data_dir) as ccvbird:
        return ccvbird.store.connection(pick_connection(ccvbird, connection)).profile


def _line_json(line: InvoiceLine) -> dict[str, Any]:
    return {
        "kind": line.kind.value,
        "description": line.description,
        "amount": format_quantity(line.quantity),
        "price": format_amount(line.price),
        "total": format_amount(line.amount),
        "tax_rate_id": line.tax_rate_id,
        "vat_percentage": format_percentage(line.tax.percentage),
        "vat_treatment": line.tax.treatment.value,
        "vat_country": line.tax.country or None,
        "ledger_account_id": line.ledger_account_id,
    }


def _totals_json(totals: Totals) -> dict[str, Any]:
    return {
        "excl_vat": format_amount(totals.excl_vat),
        "vat_by_rate": {pct: format_amount(v) for pct, v in totals.vat_by_percentage().items()},
        "incl_vat": format_amount(totals.incl_vat),
    }


def preview_json(result: Preview) -> dict[str, Any]:
    """The ``--json`` document; amounts are decimal strings, lines follow the payload's order."""
    mapped = result.result
    return {
        "kind": "invoice",
        "payload": bootstrap.invoice_payload(mapped.draft),
        "lines": [_line_json(line) for line in mapped.draft.lines],
        "totals": _totals_json(mapped.totals),
        "paid": format_amount(mapped.paid),
        "difference": format_amount(mapped.difference),
        "problems": [{"code": p.code.value, "message": p.message} for p in result.problems],
    }


def credit_preview_json(result: CreditPreview) -> dict[str, Any]:
    """The ``--json`` document of a credit: the shape of :func:`preview_json`, with ``kind``
    "credit". Its lines and totals are negative, as the credit invoice has them; ``paid`` is
    what CCV credited, negative like them (``credited``: the same, positive), so ``difference``
    is zero when the credit is exact."""
    credit = result.result
    refunded = -credit.amount
    return {
        "kind": "credit",
        "payload": bootstrap.invoice_payload(credit.draft),
        "lines": [_line_json(line) for line in credit.draft.lines],
        "totals": _totals_json(credit.totals),
        "paid": format_amount(refunded),
        "difference": format_amount(refunded - credit.totals.incl_vat),
        "problems": [{"code": p.code.value, "message": p.message} for p in result.problems],
        "credited": format_amount(credit.amount),
        "ccv_credit_invoice": result.credit.number,
        "original_reference": result.original.draft.reference,
        "original_total": format_amount(result.original.totals.incl_vat),
        "after_credit": result.added_back,
    }


def _print_lines(draft: InvoiceDraft, totals: Totals) -> None:
    """The table of lines, the VAT per rate and the totals."""
    table = Table(header_style="bold")
    table.add_column("Description")
    for column in ("Qty", "Price", "Amount"):
        table.add_column(column, justify="right")
    table.add_column("VAT")
    unmapped = False
    for line in draft.lines:
        vat = f"{format_percentage(line.tax.percentage)}%"
        if line.tax.treatment is not VatTreatment.DOMESTIC:
            vat += f" {line.tax.treatment.value.replace('_', ' ')} {line.tax.country}".rstrip()
        if line.tax_rate_id is None:
            vat += " [red](not mapped)[/]"
            unmapped = True
        table.add_row(
            escape(line.description),
            format_quantity(line.quantity),
            format_amount(line.price),
            format_amount(line.amount),
            vat,
        )
    console.print(table)
    if not unmapped:
        console.print(
            "Every line has a Moneybird tax rate and ledger account (--json shows the ids)."
        )

    vat = ", ".join(f"{pct}%: {format_amount(v)}" for pct, v in totals.vat_by_percentage().items())
    console.print(f"VAT per rate: {vat or 'none'}")
    console.print(
        f"Total excl. VAT {format_amount(totals.excl_vat)} · VAT {format_amount(totals.vat)} · "
        f"[bold]total {format_amount(totals.incl_vat)}[/]"
    )


def _print_customer(contact: ContactDraft) -> None:
    who = contact.company_name or " ".join(p for p in (contact.firstname, contact.lastname) if p)
    vat_number = f", VAT number {contact.tax_number}" if contact.tax_number else ""
    console.print(
        escape(f"Customer: {who or '(no name)'} ({contact.country or '?'}){vat_number}"),
        highlight=False,
    )


def _print_verdict(bookable: bool, problems: Sequence[Problem | CreditProblem]) -> None:
    if bookable:
        console.print("[green]Would be booked as shown.[/]")
        return
    console.print("[bold red]Must not be booked:[/]")
    for problem in problems:
        console.print(f"  • {problem.message}", highlight=False)


def print_preview(result: Preview) -> None:
    order, mapped = result.order, result.result
    draft, totals = mapped.draft, mapped.totals
    mode = "prices incl. VAT" if draft.prices_include_vat else "prices excl. VAT"
    console.print(
        f"[bold]Order {escape(order.number or '(no number)')}[/] (CCV id {order.order_id}) → "
        f"invoice dated {draft.invoice_date.isoformat()}, {draft.currency}, {mode}"
    )
    _print_customer(mapped.contact)
    _print_lines(draft, totals)
    difference = mapped.difference
    verdict = (
        "[green]equal[/]" if not difference else f"[red]differs by {format_amount(difference)}[/]"
    )
    console.print(f"Paid by the customer {format_amount(mapped.paid)}: {verdict}")
    _print_verdict(result.bookable, result.problems)


def print_credit_preview(result: CreditPreview) -> None:
    order, credit = result.order, result.result
    draft, totals = credit.draft, credit.totals
    mode = "prices incl. VAT" if draft.prices_include_vat else "prices excl. VAT"
    console.print(
        f"[bold]Credit {escape(result.credit.number)}[/] of order "
        f"{escape(order.number or '(no number)')} (CCV id {order.order_id}) → credit invoice "
        f"{escape(draft.reference)} dated {draft.invoice_date.isoformat()}, {draft.currency}, "
        f"{mode}, crediting invoice {escape(result.original.draft.reference)} "
        f"({format_amount(result.original.totals.incl_vat)})",
        highlight=False,
    )
    _print_customer(result.original.contact)
    if result.added_back:
        console.print(
            "--after-credit: the credited rows and costs are added back to the order to find "
            "the order as booked."
        )
    _print_lines(draft, totals)
    difference = -credit.amount - totals.incl_vat
    verdict = (
        "[green]equal[/]" if not difference else f"[red]differs by {format_amount(difference)}[/]"
    )
    console.print(f"Credited by CCV Shop {format_amount(credit.amount)}: {verdict}")
    console.print(
        "The reference says which credit of the order it is: -C1 when it is the order's first."
    )
    _print_verdict(result.bookable, result.problems)
