"""``ccvbird import``, ``sync``, ``status``, ``orders`` and ``retry`` against the sandboxes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.cli.conftest import Sandboxes, ccvbird, flat

SINCE = "2026-01-01"


def budget_used(status: str) -> int:
    found = re.search(r"Moneybird budget: (\d+) of 150 requests used in the last 300 s", status)
    assert found, status
    return int(found.group(1))


def table_rows(output: str, number: str) -> list[str]:
    """The table rows (first lines) whose Order column is ``number``."""
    return [line for line in output.splitlines() if line.startswith(f"│ {number} ")]


def test_import_dry_run_shows_what_would_be_booked_and_books_nothing(
    connected: Sandboxes, data_dir: Path
) -> None:
    first = connected.add_order(total="121.00")
    second = connected.add_order(total="10.90", vat=9)
    unpaid = connected.add_order(paid=False)
    result = ccvbird("import", "--since", SINCE, "--dry-run", "--data-dir", data_dir)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "3 orders since 2026-01-01: 2 due for invoicing, 0 already settled." in out
    assert [c.strip() for c in table_rows(out, first)[0].split("│")[1:-1]] == [
        first, "2026-05-12", "121.00", "1", "yes",
    ]  # fmt: skip
    assert "10.90" in table_rows(out, second)[0]
    assert table_rows(out, unpaid) == []  # not due: not in the table
    assert "Done: 2 would be booked, 1 would not be booked" in out
    assert "Dry run: nothing was booked." in out

    assert connected.moneybird.invoices() == []
    assert connected.moneybird.books().contacts == {}
    status = ccvbird("status", "--data-dir", data_dir).stdout
    assert "waiting: 0, booking: 0, booked: 0," in status
    assert table_rows(ccvbird("orders", "--data-dir", data_dir).stdout, first) == []


def test_import_books_one_paid_invoice_per_eligible_order_and_only_once(
    sandboxes: Sandboxes, data_dir: Path, database_url: str
) -> None:
    """Also with the state database on PostgreSQL (``CCVBIRD_DATABASE_URL``)."""
    env = {"CCVBIRD_DATABASE_URL": database_url}
    connected = sandboxes
    connect = ccvbird("connect", *connected.connect_options(), "--data-dir", data_dir, env=env)
    assert connect.exit_code == 0, connect.output
    paid = [connected.add_order(total="121.00"), connected.add_order(total="10.90", vat=9)]
    connected.add_order(paid=False)
    connected.add_order(status=3)  # completed, but not in a status the profile books
    connected.add_order(created="2025-12-31T22:00:00Z")  # before --since

    result = ccvbird("import", "--since", SINCE, "--data-dir", data_dir, env=env)
    assert result.exit_code == 0, result.output
    assert "4 orders since 2026-01-01: 2 due for invoicing, 0 already settled." in result.stdout
    assert "Done: 2 booked, 2 waiting" in result.stdout
    assert not (data_dir / "ccvbird.sqlite3").exists()  # the state went to database_url

    invoices = connected.moneybird.invoices()
    assert sorted(str(i.reference) for i in invoices) == sorted(paid)
    assert all(i.state == "paid" and len(i.payments) == 1 for i in invoices)
    assert len(connected.moneybird.books().contacts) == 1  # the one customer, once

    again = ccvbird("import", "--since", SINCE, "--data-dir", data_dir, env=env)
    assert again.exit_code == 0, again.output
    assert "4 orders since 2026-01-01: 0 due for invoicing, 2 already settled." in again.stdout
    assert len(connected.moneybird.invoices()) == 2
    status = ccvbird("status", "--data-dir", data_dir, env=env).stdout
    assert "waiting: 2, booking: 0, booked: 2, skipped: 0, needs attention: 0," in status


def test_import_refuses_a_date_it_cannot_read(connected: Sandboxes, data_dir: Path) -> None:
    result = ccvbird("import", "--since", "1 januari", "--data-dir", data_dir)
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: --since: '1 januari' is not a date like 2026-01-31"


def test_status_counts_orders_by_state_and_the_moneybird_budget(
    connected: Sandboxes, data_dir: Path
) -> None:
    before = ccvbird("status", "--data-dir", data_dir)
    assert before.exit_code == 0
    assert "waiting: 0, booking: 0, booked: 0, skipped: 0, needs attention: 0," in before.stdout
    assert "last sync: never; next: at the next start of `ccvbird run`" in before.stdout
    used_by_connect = budget_used(before.stdout)
    assert 0 < used_by_connect == len(connected.moneybird.api_requests())

    for _ in range(3):
        connected.add_order()
    connected.add_order(paid=False)
    connected.add_order(status=8)  # cancelled
    assert ccvbird("import", "--since", SINCE, "--data-dir", data_dir).exit_code == 0

    after = ccvbird("status", "--data-dir", data_dir).stdout
    assert (
        "waiting: 1, booking: 0, booked: 3, skipped: 1, needs attention: 0, changed: 0, "
        "credited: 0, invoice deleted: 0" in after
    )
    assert budget_used(after) == len(connected.moneybird.api_requests()) > used_by_connect


def test_orders_lists_every_order_and_filters_by_state(
    connected: Sandboxes, data_dir: Path
) -> None:
    booked = connected.add_order()
    unpaid = connected.add_order(paid=False)
    assert ccvbird("import", "--since", SINCE, "--data-dir", data_dir).exit_code == 0
    (invoice,) = connected.moneybird.invoices()

    every = ccvbird("orders", "--data-dir", data_dir)
    assert every.exit_code == 0
    (booked_row,) = table_rows(every.stdout, booked)
    assert "booked" in booked_row and str(invoice.invoice_number) in booked_row
    (unpaid_row,) = table_rows(every.stdout, unpaid)
    assert "waiting" in unpaid_row and "not paid" in unpaid_row

    waiting = ccvbird("orders", "--state", "waiting", "--data-dir", data_dir).stdout
    assert table_rows(waiting, booked) == []
    assert len(table_rows(waiting, unpaid)) == 1
    only_booked = ccvbird("orders", "--state", "booked", "--data-dir", data_dir).stdout
    assert len(table_rows(only_booked, booked)) == 1
    assert table_rows(only_booked, unpaid) == []
    found = ccvbird("orders", "--search", str(invoice.invoice_number), "--data-dir", data_dir)
    assert len(table_rows(found.stdout, booked)) == 1
    assert table_rows(found.stdout, unpaid) == []


def test_sync_books_recent_orders_once_and_catches_a_later_payment(
    connected: Sandboxes, data_dir: Path
) -> None:
    recent = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    paid = connected.add_order(created=recent)
    unpaid = connected.add_order(created=recent, paid=False)
    connected.add_order(created="2020-03-01T10:00:00Z")  # older than the 30-day look-back

    first = ccvbird("sync", "--data-dir", data_dir)
    assert first.exit_code == 0, first.output
    assert "Koffie & Co (sandbox): 2 recent orders looked at, 0 due for a retry." in first.stdout
    assert "Done: 1 booked, 1 waiting" in first.stdout
    assert connected.invoice_references() == [paid]
    assert "last sync: never" not in ccvbird("status", "--data-dir", data_dir).stdout

    again = ccvbird("sync", "--data-dir", data_dir)
    assert "Done: nothing to do" in again.stdout
    assert connected.invoice_references() == [paid]

    connected.shop.set_paid(int(_ccv_id(connected, unpaid)), True)
    later = ccvbird("sync", "--data-dir", data_dir)
    assert "Done: 1 booked" in later.stdout
    assert connected.invoice_references() == sorted([paid, unpaid])


def _ccv_id(sandboxes: Sandboxes, number: str) -> str:
    (order,) = [o for o in sandboxes.shop.orders() if o["ordernumber_full"] == number]
    return str(order["id"])


def _profile_without_9_percent(data_dir: Path, tmp_path: Path) -> tuple[Path, Path]:
    """(the connection's profile, the same without the 9% rate), both written to files."""
    full = tmp_path / "full.toml"
    assert ccvbird("profile", "export", "-o", full, "--data-dir", data_dir).exit_code == 0
    line = '"9" = "470000000000010009"  # 9% btw\n'
    text = full.read_text(encoding="utf-8")
    assert line in text
    broken = tmp_path / "without-9.toml"
    broken.write_text(text.replace(line, ""), encoding="utf-8")
    assert ccvbird("profile", "import", broken, "--data-dir", data_dir).exit_code == 0
    return full, broken


def test_retry_an_order_after_fixing_the_profile(
    connected: Sandboxes, data_dir: Path, tmp_path: Path
) -> None:
    full, _ = _profile_without_9_percent(data_dir, tmp_path)
    fine = connected.add_order(vat=21)
    stuck = connected.add_order(vat=9, total="10.90")
    imported = ccvbird("import", "--since", SINCE, "--data-dir", data_dir)
    assert "Done: 1 booked, 1 needs attention" in imported.stdout
    assert connected.invoice_references() == [fine]
    attention = ccvbird("orders", "--state", "needs_attention", "--data-dir", data_dir).stdout
    assert table_rows(attention, fine) == []
    assert "No Moneybird tax rate is set for 9% Dutch VAT" in flat(attention)
    assert "needs attention: 1" in ccvbird("status", "--data-dir", data_dir).stdout

    still = ccvbird("retry", stuck, "--data-dir", data_dir)
    assert still.exit_code == 0, still.output
    assert f"Order {stuck}: needs attention. No Moneybird tax rate is set for 9% Dutch VAT" in flat(
        still.stdout
    )
    assert connected.invoice_references() == [fine]

    assert ccvbird("profile", "import", full, "--data-dir", data_dir).exit_code == 0
    retried = ccvbird("retry", stuck, "--data-dir", data_dir)
    assert retried.exit_code == 0, retried.output
    assert f"Order {stuck}: booked." in retried.stdout
    assert "Done:" not in retried.stdout  # one order: its own line says it, not a tally too
    assert connected.invoice_references() == sorted([fine, stuck])
    assert "needs attention: 0" in ccvbird("status", "--data-dir", data_dir).stdout

    twice = ccvbird("retry", stuck, "--data-dir", data_dir)
    assert twice.exit_code == 0
    assert len(connected.moneybird.invoices()) == 2  # a retry of a booked order books nothing


def test_retry_all_failed_retries_every_order_that_needs_attention(
    connected: Sandboxes, data_dir: Path, tmp_path: Path
) -> None:
    full, _ = _profile_without_9_percent(data_dir, tmp_path)
    stuck = [connected.add_order(vat=9, total="10.90"), connected.add_order(vat=9, total="5.45")]
    connected.add_order(paid=False)
    assert "2 need attention" in ccvbird("import", "--since", SINCE, "--data-dir", data_dir).stdout
    assert connected.moneybird.invoices() == []

    assert ccvbird("profile", "import", full, "--data-dir", data_dir).exit_code == 0
    result = ccvbird("retry", "--all-failed", "--data-dir", data_dir)
    assert result.exit_code == 0, result.output
    assert "Done: 2 booked" in result.stdout
    assert connected.invoice_references() == sorted(stuck)
    status = ccvbird("status", "--data-dir", data_dir).stdout
    assert "waiting: 1, booking: 0, booked: 2, skipped: 0, needs attention: 0," in status

    nothing = ccvbird("retry", "--all-failed", "--data-dir", data_dir)
    assert "Done: nothing to do" in nothing.stdout


def test_retry_says_what_it_needs(connected: Sandboxes, data_dir: Path) -> None:
    neither = ccvbird("retry", "--data-dir", data_dir)
    assert neither.exit_code == 2
    assert neither.stderr.strip() == "error: give an order number, or --all-failed"
    both = ccvbird("retry", "1001", "--all-failed", "--data-dir", data_dir)
    assert both.exit_code == 2
    assert both.stderr.strip() == "error: give an order number, or --all-failed"
    unknown = ccvbird("retry", "9999", "--data-dir", data_dir)
    assert unknown.exit_code == 2
    assert (
        unknown.stderr.strip() == "error: no order '9999' is known to ccvbird for this connection"
    )
