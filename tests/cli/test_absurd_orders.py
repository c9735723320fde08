"""Absurd orders among normal ones: each is parked with its own reason, every other one is booked.

The orders are put into the CCV sandbox as a broken shop would have them (a name of raw Latin-1
bytes reaches the client as invalid UTF-8 in the HTTP body), then ``ccvbird import`` and
``ccvbird sync`` run against both sandboxes over real HTTP, with the state database on SQLite and
on PostgreSQL. What Moneybird got is read from the Moneybird sandbox's own records.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from ccvbird import bootstrap
from ccvbird.adapters.ccvshop.client import CcvCredentials, CcvShopClient
from ccvbird.adapters.ccvshop.wire import dumps, loads_isolating
from ccvbird.domain.sync import SyncState
from tests.builders import order_document, row
from tests.cli.conftest import Sandboxes, ccvbird, flat

SINCE = "2026-01-01"
LONG_NUMBER = "9" * 154
LATIN1_NAME = b"M\xfcller".decode("utf-8", "surrogateescape")  # "Müller" in Latin-1 bytes
LONG_EMAIL = "a" * 60 + "@" + ("b" * 50 + ".") * 4 + "c" * 47 + ".nl"  # 315 characters
LONG_ID = 10**44  # 45 digits: no CCV order id, and too long for the state database
#: Order numbers by CCV id, of the orders whose number ccvbird cannot read.
_NUMBERS: dict[str, str] = {}


def _add(sandboxes: Sandboxes, number: str, rows: list[dict[str, Any]], **facts: Any) -> str:
    created = facts.pop("created", "2026-05-12T10:00:00Z")
    sandboxes.shop.add_order(order_document(rows, number=number, created=created, **facts))
    return number


def _absurd(sandboxes: Sandboxes, created: str) -> list[tuple[str, str]]:
    """Every absurd order of the report: (the reason code it must be parked with, its number)."""

    def usd(order: dict[str, Any]) -> None:
        order["currency"] = "USD"

    def bad_email(order: dict[str, Any]) -> None:
        order["customer"]["email"] = LONG_EMAIL

    one = [row("Koffiemolen", 1, "121.00", 21)]
    returned = [row("Koffiemolen", -2, "-20.00", 21)]
    costs = {"shipping": "-20.00", "payment_costs": "-1.74", "extra_costs": "-0.89"}
    tiny = [row("Zaadje", 1, "0.001", 21) for _ in range(3)]
    return [
        ("reference_too_long", _add(sandboxes, LONG_NUMBER, one, paid="121.00", created=created)),
        ("invalid_data", _add_latin1_over_http(sandboxes, "2001", created)),
        ("negative_total", _add(sandboxes, "2002", returned, paid="-20.00", created=created)),
        (
            "negative_total",
            _add(
                sandboxes,
                "2003",
                [row("Filter", 1, "10.00", 21)],
                paid="-12.63",
                created=created,
                **costs,
            ),
        ),
        ("foreign_currency", _add_changed(sandboxes, "2004", one, usd, created)),
        ("invalid_email", _add_changed(sandboxes, "2005", one, bad_email, created)),
        ("amount_below_a_cent", _add(sandboxes, "2006", tiny, paid="0.003", created=created)),
    ]


def _add_changed(
    sandboxes: Sandboxes, number: str, rows: list[dict[str, Any]], change: Any, created: str
) -> str:
    document = order_document(rows, number=number, paid="121.00", created=created)
    change(document["order"])
    _NUMBERS[str(sandboxes.shop.add_order(document))] = number
    return number


def _add_latin1_over_http(sandboxes: Sandboxes, number: str, created: str) -> str:
    """Through the merchant endpoint, as raw bytes: the name is Latin-1, not UTF-8."""
    document = order_document([row("Koffiemolen", 1, "121.00", 21)], paid="121.00",
                              number=number, created=created)  # fmt: skip
    document["order"]["customer"]["billingaddress"]["last_name"] = "LATIN1"
    body = dumps(document).encode().replace(b'"LATIN1"', b'"M\xfcller"')
    answer = httpx.post(f"{sandboxes.ccv_url}/_sandbox/orders/document", content=body)
    assert answer.status_code == 201, answer.text
    assert b"M\xfcller" in answer.content  # served back as the same bytes
    added = loads_isolating(answer.content)
    assert added["customer"]["billingaddress"]["last_name"] == LATIN1_NAME
    _NUMBERS[str(added["id"])] = number
    return number


def _add_long_id(sandboxes: Sandboxes, created: str) -> None:
    document = order_document([row("Koffiemolen", 1, "121.00", 21)], paid="121.00",
                              number="2007", created=created)  # fmt: skip
    document["order"]["id"] = LONG_ID
    sandboxes.shop.add_order(document)


def _number_of(order_id: str) -> str:
    return _NUMBERS[order_id]


def _records(data_dir: Path, env: dict[str, str]) -> dict[str, tuple[SyncState, str, str]]:
    settings = bootstrap.load_settings(data_dir=data_dir, database_url=env["CCVBIRD_DATABASE_URL"])
    app = bootstrap.build_app(settings)
    try:
        (connection,) = app.store.connections()
        return {
            # An unreadable order is known by its CCV id only (its number could not be read).
            (r.order_number or _number_of(r.order_id)): (r.state, r.reason_code, r.reason)
            for r in app.store.records(connection.id)
        }
    finally:
        app.close()


def test_import_parks_each_absurd_order_with_its_reason_and_books_every_normal_one(
    sandboxes: Sandboxes, data_dir: Path, database_url: str
) -> None:
    env = {"CCVBIRD_DATABASE_URL": database_url}
    connect = ccvbird("connect", *sandboxes.connect_options(), "--data-dir", data_dir, env=env)
    assert connect.exit_code == 0, connect.output
    normal = [sandboxes.add_order(total="121.00")]
    absurd = _absurd(sandboxes, "2026-05-12T10:00:00Z")
    normal.append(sandboxes.add_order(total="10.90", vat=9))
    _add_long_id(sandboxes, "2026-05-12T10:00:00Z")  # last: the sandbox numbers on from its id

    # The raw bytes really are on the wire: the shop's list page is not UTF-8.
    served = _served_bytes(sandboxes)
    assert b"M\xfcller" in served

    result = ccvbird("import", "--since", SINCE, "--data-dir", data_dir, env=env)
    assert result.exit_code == 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    out = flat(result.stdout)
    assert "2 booked" in out and "7 need attention" in out and "1 cannot be read" in out, out
    assert "Not booked: An order in CCV Shop cannot be read" in out

    invoices = sandboxes.moneybird.invoices()
    assert sorted(str(i.reference) for i in invoices) == sorted(normal)
    assert all(i.state == "paid" for i in invoices)
    assert len(sandboxes.moneybird.books().contacts) == 1  # the normal customer; no bad e-mail

    records = _records(data_dir, env)
    stored_long = [n for n in records if n.startswith("9999")]
    assert len(stored_long) == 1 and len(stored_long[0]) == 100  # shortened for showing only
    for code, number in absurd:
        shown = stored_long[0] if number == LONG_NUMBER else number
        state, reason_code, reason = records[shown]
        assert (state, reason_code) == (SyncState.NEEDS_ATTENTION, code), (number, reason)
        assert reason
    assert "last_name" in records["2001"][2] and "UTF-8" in records["2001"][2]
    for number in normal:
        assert records[number][0] is SyncState.BOOKED

    again = ccvbird("import", "--since", SINCE, "--data-dir", data_dir, env=env)
    assert again.exit_code == 0, again.output
    assert len(sandboxes.moneybird.invoices()) == 2


def test_sync_survives_absurd_orders_and_status_says_why_a_poll_failed(
    sandboxes: Sandboxes, data_dir: Path, database_url: str
) -> None:
    env = {"CCVBIRD_DATABASE_URL": database_url}
    connect = ccvbird("connect", *sandboxes.connect_options(), "--data-dir", data_dir, env=env)
    assert connect.exit_code == 0, connect.output
    recent = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    normal = [sandboxes.add_order(created=recent), sandboxes.add_order(created=recent, vat=9,
                                                                        total="10.90")]  # fmt: skip
    absurd = _absurd(sandboxes, recent)
    _add_long_id(sandboxes, recent)

    result = ccvbird("sync", "--data-dir", data_dir, env=env)
    assert result.exit_code == 0, result.output
    out = flat(result.stdout)
    assert "2 booked" in out and "7 need attention" in out, out
    assert sorted(str(i.reference) for i in sandboxes.moneybird.invoices()) == sorted(normal)
    records = _records(data_dir, env)
    parked = sorted(c for s, c, _ in records.values() if s is SyncState.NEEDS_ATTENTION)
    assert parked == sorted(code for code, _ in absurd)
    status = flat(ccvbird("status", "--data-dir", data_dir, env=env).stdout)
    assert "last sync: never" not in status and "last sync failed" not in status

    # A reason of the whole connection (the shop refuses the key): the poll fails, says why.
    sandboxes.shop.revoke_api_key("sandbox-public")
    failed = ccvbird("sync", "--data-dir", data_dir, env=env)
    assert failed.exit_code == 0, failed.output
    assert "Could not read the shop's orders" in flat(failed.stdout)
    status = flat(ccvbird("status", "--data-dir", data_dir, env=env).stdout)
    assert "last sync failed" in status and "Could not read the shop's orders" in status


def _served_bytes(sandboxes: Sandboxes) -> bytes:
    """The list page exactly as the sandbox API serves it (signed like ccvbird signs)."""
    credentials = CcvCredentials(sandboxes.ccv_url, "sandbox-public", "sandbox-secret")
    with CcvShopClient(credentials) as client:
        response = client._send("GET", client._url("orders", [("size", "100")]), idempotent=True)
    return response.content
