"""``ccvbird orders`` and ``sync`` for a shop that sells on account (``require_paid = false``),
against both sandboxes over real HTTP: the open invoices are listed as "booked, awaiting
payment", can be filtered, and are paid once by the poll that sees CCV's paid flag change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from tests.cli.conftest import Sandboxes, ccvbird
from tests.cli.test_operate import _ccv_id, table_rows


def on_account(data_dir: Path, tmp_path: Path) -> None:
    exported = tmp_path / "profile.toml"
    assert ccvbird("profile", "export", "-o", exported, "--data-dir", data_dir).exit_code == 0
    text = exported.read_text(encoding="utf-8")
    assert "require_paid = true" in text
    exported.write_text(text.replace("require_paid = true", "require_paid = false"), "utf-8")
    assert ccvbird("profile", "import", exported, "--data-dir", data_dir).exit_code == 0


def test_open_invoices_are_listed_filtered_and_paid_once_by_a_poll(
    connected: Sandboxes, data_dir: Path, tmp_path: Path
) -> None:
    on_account(data_dir, tmp_path)
    recent = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    paid = connected.add_order(created=recent)
    on_credit = [connected.add_order(created=recent, paid=False) for _ in range(2)]

    first = ccvbird("sync", "--data-dir", data_dir)
    assert first.exit_code == 0, first.output
    assert "1 booked" in first.stdout and "2 booked (awaiting payment)" in first.stdout
    for invoice in connected.moneybird.invoices():
        rendered = connected.moneybird.renderer().sales_invoice(invoice)
        unpaid = str(invoice.reference) in on_credit
        assert rendered["state"] == ("open" if unpaid else "paid")
        assert len(rendered["payments"]) == (0 if unpaid else 1)

    every = ccvbird("orders", "--data-dir", data_dir).stdout
    for number in on_credit:
        (row,) = table_rows(every, number)
        assert "booked, awaiting payment" in row
    waiting = ccvbird("orders", "--state", "awaiting_payment", "--data-dir", data_dir).stdout
    assert table_rows(waiting, paid) == []
    assert all(len(table_rows(waiting, n)) == 1 for n in on_credit)
    assert "awaiting payment: 2" in ccvbird("status", "--data-dir", data_dir).stdout

    assert "Done: nothing to do" in ccvbird("sync", "--data-dir", data_dir).stdout
    plan = ccvbird("import", "--since", "2026-01-01", "--dry-run", "--data-dir", data_dir)
    assert "3 orders since 2026-01-01: 0 due for invoicing, 3 already settled." in plan.stdout

    connected.shop.set_paid(int(_ccv_id(connected, on_credit[0])), True)  # no webhook set up
    later = ccvbird("sync", "--data-dir", data_dir)
    assert "Done: 1 payment registered" in later.stdout, later.stdout
    again = ccvbird("sync", "--data-dir", data_dir)
    assert "Done: nothing to do" in again.stdout
    invoices = {str(i.reference): i for i in connected.moneybird.invoices()}
    rendered = connected.moneybird.renderer().sales_invoice(invoices[on_credit[0]])
    assert rendered["state"] == "paid" and len(rendered["payments"]) == 1
    assert Decimal(rendered["payments"][0]["price"]) == Decimal("121.00")
    still = connected.moneybird.renderer().sales_invoice(invoices[on_credit[1]])
    assert still["state"] == "open" and still["payments"] == []
    assert "awaiting payment: 1" in ccvbird("status", "--data-dir", data_dir).stdout
