"""``ccvbird preview``: the invoice an order becomes, without booking anything."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from ccvbird import bootstrap
from ccvbird.domain.errors import ConfigError, InvalidOrderData
from ccvbird.domain.invoice import InvoiceLine
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
from ccvbird.service.preview import Preview, preview_order


@app.command()
def preview(
    order_file: Annotated[
        Path | None,
        typer.Argument(
            help='Order file: {"order": <GET /orders/:id body>, '
            '"orderrows": <GET /orders/:id/orderrows body>}. '
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
        typer.Option("--json", help="Print one JSON object: payload, lines, totals, problems."),
    ] = False,
    connection: ConnectionOption = None,
    data_dir: DataDir = None,
) -> None:
    """Show the Moneybird invoice a CCV order becomes, or why it must not be booked.

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
        order = bootstrap.read_order(order_file)
    except InvalidOrderData as exc:
        fail(f"malformed order: {exc}")
    except ConfigError as exc:
        fail("\n  ".join([str(exc).split(": ", 1)[0] + ":", *exc.problems]))
    result = preview_order(
        order, mapping_profile, today=bootstrap.SystemClock(mapping_profile.timezone).today()
    )
    if as_json:
        sys.stdout.write(json.dumps(preview_json(result), ensure_ascii=False, indent=2) + "\n")
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


def preview_json(result: Preview) -> dict[str, Any]:
    """The ``--json`` document; amounts are decimal strings, lines follow the payload's order."""
    mapped = result.result
    totals = mapped.totals
    return {
        "payload": bootstrap.invoice_payload(mapped.draft),
        "lines": [_line_json(line) for line in mapped.draft.lines],
        "totals": {
            "excl_vat": format_amount(totals.excl_vat),
            "vat_by_rate": {pct: format_amount(v) for pct, v in totals.vat_by_percentage().items()},
            "incl_vat": format_amount(totals.incl_vat),
        },
        "paid": format_amount(mapped.paid),
        "difference": format_amount(mapped.difference),
        "problems": [{"code": p.code.value, "message": p.message} for p in result.problems],
    }


def print_preview(result: Preview) -> None:
    order, mapped = result.order, result.result
    draft, totals = mapped.draft, mapped.totals
    mode = "prices incl. VAT" if draft.prices_include_vat else "prices excl. VAT"
    contact = mapped.contact
    who = contact.company_name or " ".join(p for p in (contact.firstname, contact.lastname) if p)
    vat_number = f", VAT number {contact.tax_number}" if contact.tax_number else ""
    console.print(
        f"[bold]Order {escape(order.number or '(no number)')}[/] (CCV id {order.order_id}) → "
        f"invoice dated {draft.invoice_date.isoformat()}, {draft.currency}, {mode}"
    )
    console.print(
        escape(f"Customer: {who or '(no name)'} ({contact.country or '?'}){vat_number}"),
        highlight=False,
    )

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
    difference = mapped.difference
    verdict = (
        "[green]equal[/]" if not difference else f"[red]differs by {format_amount(difference)}[/]"
    )
    console.print(f"Paid by the customer {format_amount(mapped.paid)}: {verdict}")
    if result.bookable:
        console.print("[green]Would be booked as shown.[/]")
        return
    console.print("[bold red]Must not be booked:[/]")
    for problem in result.problems:
        console.print(f"  • {problem.message}", highlight=False)
