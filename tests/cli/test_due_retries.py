"""An interrupted booking of an old order is finished by ``ccvbird sync`` and shown by
``ccvbird status``: the sandboxes served over HTTP, a fault injected in the Moneybird sandbox,
the outcome read back through the Moneybird sandbox's own API."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from ccvbird.sandbox.moneybird import Fault
from ccvbird.sandbox.moneybird.constants import ADMINISTRATION_ID
from tests.cli.conftest import MONEYBIRD_TOKEN, Sandboxes, ccvbird, flat

SINCE = "2026-01-01"


def sales_invoices(sandboxes: Sandboxes, filter_: str) -> list[dict[str, Any]]:
    """``GET /sales_invoices?filter=…`` on the Moneybird sandbox, as any API client sees it."""
    response = httpx.get(
        f"{sandboxes.moneybird_url}/{ADMINISTRATION_ID}/sales_invoices.json",
        params={"filter": filter_},
        headers={"Authorization": f"Bearer {MONEYBIRD_TOKEN}"},
    )
    response.raise_for_status()
    found: list[dict[str, Any]] = response.json()
    return found


def lose_the_answer_to_the_invoice(sandboxes: Sandboxes) -> None:
    """Moneybird makes the (draft) invoice, but its answer never arrives."""
    sandboxes.moneybird.faults.add(Fault.LOST_RESPONSE, method="POST", path="/sales_invoices")


def test_status_shows_the_bookings_waiting_for_a_retry_and_when_the_next_is_due(
    connected: Sandboxes, data_dir: Path
) -> None:
    connected.add_order()  # placed in May: far outside the 30 days polling looks at
    lose_the_answer_to_the_invoice(connected)
    before = datetime.now(UTC).replace(microsecond=0)
    result = ccvbird("import", "--since", SINCE, "--data-dir", data_dir)
    assert "1 will be retried" in result.stdout, result.output
    assert len(sales_invoices(connected, "state:draft")) == 1

    status = flat(ccvbird("status", "--data-dir", data_dir).stdout)

    found = re.search(r"bookings waiting for a retry: 1; next due: (\S+)", status)
    assert found, status
    due = datetime.fromisoformat(found.group(1))
    assert before + timedelta(seconds=29) <= due <= datetime.now(UTC) + timedelta(seconds=31)


def test_sync_finishes_an_old_orders_interrupted_booking_without_a_second_invoice(
    connected: Sandboxes, data_dir: Path
) -> None:
    now = {"CCVBIRD_RETRY_SECONDS": "0"}  # retry at once: no test waits for a backoff
    number = connected.add_order()
    lose_the_answer_to_the_invoice(connected)
    imported = ccvbird("import", "--since", SINCE, "--data-dir", data_dir, env=now)
    assert "1 will be retried" in imported.stdout, imported.output
    (draft,) = sales_invoices(connected, "state:draft")
    assert draft["reference"] == number

    synced = ccvbird("sync", "--data-dir", data_dir, env=now)

    assert "0 recent orders looked at, 1 due for a retry." in synced.stdout, synced.output
    assert "Done: 1 booked" in synced.stdout
    (invoice,) = sales_invoices(connected, f"reference:{number}")
    assert (invoice["id"], invoice["state"], len(invoice["payments"])) == (draft["id"], "paid", 1)
    assert sales_invoices(connected, "state:draft") == []
    status = flat(ccvbird("status", "--data-dir", data_dir).stdout)
    assert "bookings waiting for a retry: none" in status
    assert "booking: 0, booked: 1," in status


def test_an_order_in_hand_when_the_token_is_refused_is_booked_after_resume_without_a_retry(
    connected: Sandboxes, data_dir: Path
) -> None:
    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    number = connected.add_order(created=yesterday)
    grant = connected.moneybird.grants.pop(MONEYBIRD_TOKEN)  # Moneybird refuses the token

    paused = ccvbird("sync", "--data-dir", data_dir)
    assert "The connection is paused" in flat(paused.stdout), paused.output
    status = flat(ccvbird("status", "--data-dir", data_dir).stdout)
    assert "bookings waiting for a retry: 1; next due: once the connection resumes" in status
    listed = flat(ccvbird("orders", "--data-dir", data_dir).stdout)
    assert "Waiting: the connection is paused" in listed, listed

    connected.moneybird.grants[MONEYBIRD_TOKEN] = grant  # the token is valid again
    resumed = ccvbird("resume", "--data-dir", data_dir)
    assert "resumed; 1 waiting order(s) are booked by the next sync" in flat(resumed.stdout)
    synced = ccvbird("sync", "--data-dir", data_dir)

    assert "Done: 1 booked" in synced.stdout, synced.output
    (invoice,) = sales_invoices(connected, f"reference:{number}")
    assert (invoice["state"], len(invoice["payments"])) == ("paid", 1)
    assert sales_invoices(connected, "state:draft") == []
