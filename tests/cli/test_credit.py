"""``ccvbird credit``, ``orders --state credited`` and the credit counts of ``status``, against
both sandboxes over HTTP (the Moneybird sandbox's ``duplicate_creditinvoice`` and
``register_payment_creditinvoice``; the CCV sandbox's order statuses and ``/invoices``)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.routing import APIRoute

from ccvbird.domain.order import STATUS_CANCELLED
from ccvbird.sandbox.moneybird import api as moneybird_api
from tests.builders import order_document, row
from tests.cli.conftest import Sandboxes, ccvbird, flat

SINCE = "2026-01-01"


def _moneybird_sandbox_edits_invoices() -> bool:
    """Whether the Moneybird sandbox takes ``PATCH sales_invoices/{id}`` (how ccvbird writes its
    reference and lines onto a duplicated credit): the sandbox work of issue 11 (branch
    fix-csand) adds it."""
    return any(
        isinstance(route, APIRoute)
        and "PATCH" in (route.methods or set())
        and route.path.endswith("/sales_invoices/{invoice_id}")
        for route in moneybird_api.router.routes
    )


#: Booking a credit needs the sandbox of issue 11; the refusals below need nothing new.
needs_credit_sandbox = pytest.mark.skipif(
    not _moneybird_sandbox_edits_invoices(),
    reason="the Moneybird sandbox cannot edit a sales invoice yet (PATCH sales_invoices/{id}, "
    "fix-csand)",
)


def order_id(sandboxes: Sandboxes, number: str) -> int:
    (found,) = [o for o in sandboxes.shop.orders() if str(o["ordernumber_full"]) == number]
    return int(found["id"])


def booked(connected: Sandboxes, data_dir: Path, **facts: str) -> str:
    """A paid order of 121.00 (21%), booked by an import; its number."""
    number = connected.add_order(**facts)  # type: ignore[arg-type]
    result = ccvbird("import", "--since", SINCE, "--data-dir", data_dir)
    assert result.exit_code == 0, result.output
    return number


def refused(data_dir: Path, order: str) -> str:
    result = ccvbird("credit", order, "--data-dir", data_dir)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    message = result.stderr.strip()
    assert message.startswith("error: ") and "\n" not in message, message
    return message


@needs_credit_sandbox
def test_a_cancelled_booked_order_is_credited_in_full_once(
    connected: Sandboxes, data_dir: Path
) -> None:
    number = booked(connected, data_dir)
    (original,) = connected.moneybird.invoices()
    connected.shop.set_status(order_id(connected, number), STATUS_CANCELLED)

    result = ccvbird("credit", number, "--data-dir", data_dir)
    assert result.exit_code == 0, result.output
    credits = [i for i in connected.moneybird.invoices() if i.original_sales_invoice_id]
    (credit,) = credits
    assert credit.reference == f"{number}-C1"
    assert credit.original_sales_invoice_id == original.id
    assert credit.state != "draft"
    assert flat(result.stdout) == (
        f"Order {number}: credit {number}-C1 booked: 121.00 credited, Moneybird credit invoice "
        f"{credit.id}, the refund is registered as paid back."
    )
    # Its lines reverse the invoice's (-1 × 121.00 at its tax rate), and the refund is paid out.
    assert [(d.amount, d.price, d.tax_rate_id) for d in credit.details if d.price] == [
        (-d.amount, d.price, d.tax_rate_id) for d in original.details if d.price
    ]
    assert [p.price for p in credit.payments] == [Decimal("-121.00")]
    assert credit.state == "paid"

    assert refused(data_dir, number) == (
        f"error: order {number} is credited already: {number}-C1 (121.00)"
    )
    assert len([i for i in connected.moneybird.invoices() if i.original_sales_invoice_id]) == 1

    status = ccvbird("status", "--data-dir", data_dir).stdout
    assert "credits: booked 1, waiting 0, needs attention 0" in status
    listed = ccvbird("orders", "--state", "credited", "--data-dir", data_dir)
    assert listed.exit_code == 0, listed.output
    (line,) = [row for row in listed.stdout.splitlines() if row.startswith(f"│ {number} ")]
    cells = [cell.strip() for cell in line.split("│")[1:-1]]
    assert cells[4:7] == ["121.00", "121.00", f"{number}-C1"]
    every = ccvbird("orders", "--data-dir", data_dir).stdout
    assert "booked, credited" in next(r for r in every.splitlines() if r.startswith(f"│ {number} "))


def test_credit_refuses_what_must_not_be_credited_in_one_line(
    connected: Sandboxes, data_dir: Path
) -> None:
    number = booked(connected, data_dir)
    unpaid = connected.add_order(paid=False)
    assert ccvbird("import", "--since", SINCE, "--data-dir", data_dir).exit_code == 0

    assert refused(data_dir, "999999") == (
        "error: no order '999999' is known to ccvbird for this connection"
    )
    assert refused(data_dir, unpaid) == (
        f"error: order {unpaid} is not booked (it is waiting), so there is no invoice to credit"
    )
    assert refused(data_dir, number).startswith(
        f"error: order {number} is not cancelled in CCV Shop"
    )
    assert [i for i in connected.moneybird.invoices() if i.original_sales_invoice_id] == []
    status = ccvbird("status", "--data-dir", data_dir).stdout
    assert "credits: booked 0, waiting 0, needs attention 0" in status
    nothing = ccvbird("orders", "--state", "credited", "--data-dir", data_dir).stdout
    assert number not in nothing and unpaid not in nothing


@needs_credit_sandbox
def test_a_partly_credited_order_is_not_credited_in_full_on_top(
    connected: Sandboxes, data_dir: Path
) -> None:
    """CCV credited one of two rows (booked by ccvbird as ``-C1``), then the order was cancelled:
    a full credit on top would credit more than was paid, so ``credit`` refuses and says why."""
    number = str(next(connected._numbers))
    document = order_document(
        [row("Koffiemolen", 1, "121.00", 21), row("Koffiebonen", 1, "10.90", 9)],
        paid="131.90", number=number,
    )  # fmt: skip
    order = connected.shop.add_order(document)
    assert ccvbird("import", "--since", SINCE, "--data-dir", data_dir).exit_code == 0
    beans = next(r for r in connected.shop.order_rows(order) or [] if r["tax"] == 9)
    connected.shop.credit_rows(order, {int(beans["id"]): 1})
    retried = ccvbird("retry", number, "--data-dir", data_dir)  # reads the order and its credit
    assert retried.exit_code == 0, retried.output
    status = ccvbird("status", "--data-dir", data_dir).stdout
    assert "credits: booked 1, waiting 0, needs attention 0" in status

    connected.shop.set_status(order, STATUS_CANCELLED)
    assert refused(data_dir, number) == (
        f"error: order {number} is partly credited already ({number}-C1 (10.90)); a full credit "
        "would credit more than remains — make a credit invoice for the rest in CCV Shop, or "
        "credit it in Moneybird"
    )
    credits = [i for i in connected.moneybird.invoices() if i.original_sales_invoice_id]
    assert [c.reference for c in credits] == [f"{number}-C1"]
