"""``ccvbird demo`` and the helper of ``ccvbird sandbox --data-dir`` (the command itself serves
until interrupted, so its helper is tested against running sandboxes)."""

from __future__ import annotations

import re
from pathlib import Path

from ccvbird.entrypoints.cli.demo import _connect_data_dir
from tests.cli.conftest import CCV_PUBLIC, CCV_SECRET, MONEYBIRD_TOKEN, Sandboxes, ccvbird, flat


def state_counts(text: str) -> dict[str, int]:
    found = dict(re.findall(r"(waiting|booked|needs attention): (\d+)", text))
    return {state: int(count) for state, count in found.items()}


def test_demo_connects_imports_books_live_orders_and_leaves_a_data_directory(
    data_dir: Path,
) -> None:
    result = ccvbird("demo", "--orders", "20", "--data-dir", data_dir)
    assert result.exit_code == 0, result.output
    out = flat(result.stdout)
    assert "Sandbox shop Koffie & Co (sandbox) with 20 orders" in out
    assert "the profile was drafted from the administration and is complete" in out
    imported = re.search(r"Imported in [\d.]+ s: (\d+) booked", out)
    assert imported and int(imported.group(1)) > 0
    live = re.findall(r"Order (\d+): booked as invoice (\S+)", out)
    assert len(live) == 2  # the paid order, and the one paid afterwards
    planned = re.search(r"(\d+) orders since \S+, \d+ due for invoicing", out)
    again = re.search(r"A second pass looked at all (\d+) orders again and created 0 invoices", out)
    assert planned and again
    assert int(again.group(1)) == int(planned.group(1)) + 2  # the history and the live two
    assert f"Look around: ccvbird status --data-dir {data_dir}" in out

    summary = state_counts(out.split("5. Result")[1])
    assert summary["booked"] == int(imported.group(1)) + 2
    # The data directory holds what the demo did: status and orders read the same state.
    status = ccvbird("status", "--data-dir", data_dir)
    assert status.exit_code == 0
    assert state_counts(status.stdout) == summary
    orders = ccvbird("orders", "--state", "booked", "--limit", "100", "--data-dir", data_dir)
    for number, invoice in live:
        assert any(number in line and invoice in line for line in orders.stdout.splitlines())


def test_a_second_demo_into_the_same_data_directory_is_refused_in_one_line(
    data_dir: Path,
) -> None:
    assert ccvbird("demo", "--orders", "5", "--data-dir", data_dir).exit_code == 0
    before = ccvbird("status", "--data-dir", data_dir).stdout

    again = ccvbird("demo", "--orders", "5", "--data-dir", data_dir)
    assert again.exit_code == 2
    assert "Traceback" not in again.output
    (line,) = again.stderr.splitlines()
    assert line.startswith(f"error: {data_dir} has a connection already")
    assert ccvbird("status", "--data-dir", data_dir).stdout == before


def connect_data_dir(sandboxes: Sandboxes, data_dir: Path, *, secret: str = CCV_SECRET) -> str:
    return _connect_data_dir(
        data_dir,
        ccv_url=sandboxes.ccv_url,
        ccv_public=CCV_PUBLIC,
        ccv_secret=secret,
        moneybird_url=sandboxes.moneybird_url,
        moneybird_token=MONEYBIRD_TOKEN,
    )


def test_sandbox_data_dir_is_connected_once_and_then_works_with_import(
    sandboxes: Sandboxes, data_dir: Path
) -> None:
    first = connect_data_dir(sandboxes, data_dir)
    assert first == (
        f"Connected data directory {data_dir} to both sandboxes (connection 1). "
        f"Try: ccvbird import --since 2020-01-01 --data-dir {data_dir}"
    )
    second = connect_data_dir(sandboxes, data_dir)
    assert (
        second == f"Data directory {data_dir} is connected to this sandbox already (connection 1)."
    )
    status = ccvbird("status", "--data-dir", data_dir).stdout
    assert status.count("(connection ") == 1

    number = sandboxes.add_order()
    imported = ccvbird("import", "--since", "2020-01-01", "--data-dir", data_dir)
    assert "Done: 1 booked" in imported.stdout
    assert sandboxes.invoice_references() == [number]


def test_sandbox_data_dir_that_cannot_connect_says_why_and_stores_nothing(
    sandboxes: Sandboxes, data_dir: Path
) -> None:
    message = connect_data_dir(sandboxes, data_dir, secret="wrong")
    assert message.startswith(f"[red]Could not connect {data_dir} to the sandboxes:[/] CCV Shop")
    assert "No connections yet" in ccvbird("status", "--data-dir", data_dir).stdout
