"""`ccvbird preview`: readable output, exactly one JSON object, exit status 2 with a reason."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from ccvbird import bootstrap
from ccvbird.adapters.ccvshop.wire import dumps
from ccvbird.entrypoints.cli import app
from tests.builders import example_profile_text, order_document, row

runner = CliRunner(env={"CCVBIRD_DATA_DIR": None})  # the bundled profile unless a test says


def write(tmp_path: Path, document: object, name: str = "order.json") -> Path:
    path = tmp_path / name
    path.write_text(dumps(document), encoding="utf-8")
    return path


def test_preview_of_the_bundled_example_shows_the_invoice() -> None:
    result = runner.invoke(app, ["preview"])
    assert result.exit_code == 0, result.output
    assert "Order WEB-1042" in result.output
    assert "Koffiemolen Classic (Kleur: Zwart)" in result.output
    assert "Verzendkosten (9% btw)" in result.output
    assert "total 145.17" in result.output
    assert "Would be booked as shown." in result.output


def test_json_is_exactly_one_object_with_lines_in_payload_order() -> None:
    result = runner.invoke(app, ["preview", "--json"])
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert set(document) == {
        "kind", "payload", "lines", "totals", "paid", "difference", "problems",
    }  # fmt: skip
    assert document["kind"] == "invoice"
    details = document["payload"]["sales_invoice"]["details_attributes"]
    assert [d["description"] for d in details] == [
        line["description"] for line in document["lines"]
    ]
    first = document["lines"][0]
    assert first == {
        "kind": "product",
        "description": "Koffiebonen Espresso 1 kg",
        "amount": "2",
        "price": "18.95",
        "total": "37.90",
        "tax_rate_id": "470000000000010009",
        "vat_percentage": "9",
        "vat_treatment": "domestic",
        "vat_country": None,
        "ledger_account_id": "470000000000020002",
    }
    assert document["totals"] == {
        "excl_vat": "123.36",
        "vat_by_rate": {"21": "18.74", "9": "3.07"},
        "incl_vat": "145.17",
    }
    assert (document["paid"], document["difference"], document["problems"]) == (
        "145.17",
        "0.00",
        [],
    )
    assert document["payload"]["sales_invoice"]["invoice_date"] == "2026-04-01"


def test_an_order_that_must_not_be_booked_exits_2_and_lists_why(tmp_path: Path) -> None:
    document = order_document([row("Boek", 1, "10.00", 9)], paid="12.00", status=5)
    result = runner.invoke(app, ["preview", str(write(tmp_path, document)), "--json"])
    assert result.exit_code == 2
    problems = json.loads(result.stdout)["problems"]
    assert [p["code"] for p in problems] == ["status_not_triggering", "totals_do_not_reconcile"]
    plain = runner.invoke(app, ["preview", str(write(tmp_path, document))])
    assert plain.exit_code == 2
    assert "Must not be booked" in plain.output and "status 5 (Verzonden)" in plain.output


def test_malformed_input_is_one_line_naming_the_field(tmp_path: Path) -> None:
    document = order_document([row("Boek", 1, "10.00", 9)], paid="10.00")
    del document["orderrows"]["items"][0]["count"]
    result = runner.invoke(app, ["preview", str(write(tmp_path, document)), "--json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip() == "error: malformed order: orderrows.items[0].count: missing"
    assert "Traceback" not in result.output


def test_a_file_that_is_not_json_is_refused_in_words(tmp_path: Path) -> None:
    path = tmp_path / "order.json"
    path.write_text("<html>", encoding="utf-8")
    result = runner.invoke(app, ["preview", str(path)])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: malformed order: file: not valid JSON")


def test_an_invalid_profile_names_its_keys(tmp_path: Path) -> None:
    profile = tmp_path / "profile.toml"
    profile.write_text('[tax_rates.domestic]\n"21" = "x"\n[vat]\nship = 1\n', encoding="utf-8")
    result = runner.invoke(app, ["preview", "--profile", str(profile)])
    assert result.exit_code == 2
    assert 'tax_rates.domestic."21": must be a Moneybird id' in result.stderr
    assert "vat.ship: unknown key" in result.stderr


def test_help_describes_the_preview_command() -> None:
    result = runner.invoke(app, ["preview", "--help"])
    assert result.exit_code == 0
    assert "Show the Moneybird invoice a CCV order becomes" in result.output


def _data_dir_with_profile(tmp_path: Path, profile_text: str) -> Path:
    data_dir = tmp_path / "data"
    ccvbird = bootstrap.build_app(bootstrap.load_settings(data_dir=data_dir))
    try:
        ccvbird.store.create_connection(
            name="Voorbeeldshop", shop_url="https://shop.example", ccv_public="pub",
            ccv_secret="secret", moneybird_url="https://moneybird.test/api/v2",
            administration_id="470000000000000001",
            moneybird_credentials={"type": "token", "token": "t"}, profile_toml=profile_text,
        )  # fmt: skip
    finally:
        ccvbird.close()
    return data_dir


def test_with_a_data_dir_the_connections_own_profile_is_used(tmp_path: Path) -> None:
    english = example_profile_text().replace('language = "nl"', 'language = "en"', 1)
    data_dir = _data_dir_with_profile(tmp_path, english)
    result = runner.invoke(app, ["preview", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert "Shipping (9% VAT)" in result.output
    assert "Verzendkosten" not in result.output
    # --profile still wins over the stored one.
    dutch = tmp_path / "dutch.toml"
    dutch.write_text(example_profile_text(), encoding="utf-8")
    bundled = runner.invoke(app, ["preview", "--data-dir", str(data_dir), "--profile", str(dutch)])
    assert "Verzendkosten (9% btw)" in bundled.output


def test_a_data_dir_without_a_database_is_an_error_and_stays_untouched(tmp_path: Path) -> None:
    empty = tmp_path / "nothing-here"
    result = runner.invoke(app, ["preview", "--data-dir", str(empty)])
    assert result.exit_code == 2
    assert "there is no ccvbird database" in result.output
    assert not empty.exists()


# -- a credit invoice of the order ------------------------------------------------------------


def basket(
    *, books: int = 2, books_total: str = "21.80", discounts: str = "5.00", paid: str = "45.95"
) -> dict[str, Any]:
    """2 × book 10.90 (9%), 1 × shirt 24.20 (21%), shipping 4.95, coupon VIJF €5.00: 45.95."""
    return order_document(
        [row("Boek", books, books_total, 9), row("T-shirt", 1, "24.20", 21)],
        paid=paid, shipping="4.95", discounts=discounts,
        coupon={"code": "VIJF", "discount": Decimal("5"), "type": "price"},
    )  # fmt: skip


def credit_file(
    order: dict[str, Any], rows: list[tuple[int, int, str]], total: str, **amounts: str
) -> dict[str, Any]:
    """``order`` with a CCV credit invoice (``ccvshop-api.md`` §5.1 fields) returning
    (row index, count, row total); amounts written negative, as a credit."""
    order_id = order["order"]["id"]
    root = "https://shop.example/api/rest/v1"
    invoice = {
        "id": 5001, "invoicenumber_full": "F5001", "ordernumber_full": "1001",
        "create_date": "2026-06-01T09:00:00Z", "status": "3", "status_name": "Reimbursed",
        "type": "credit", "taxes_included": True, "currency": "EUR",
        "total_price": Decimal("-" + total),
        "order": {"href": f"{root}/orders/{order_id}"},
        **{key: -Decimal(value) for key, value in amounts.items()},
    }  # fmt: skip
    items = []
    for index, count, row_total in rows:
        original = order["orderrows"]["items"][index]
        items.append(
            {
                "id": 7000 + index, "invoice_id": 5001, "product_name": original["product_name"],
                "count": -count, "price": -Decimal(row_total) / count, "tax": original["tax"],
                "total_price": -Decimal(row_total),
                "orderrow": {"href": f"{root}/orderrows/{original['id']}"},
            }
        )  # fmt: skip
    return {**order, "invoice": invoice, "invoicerows": {"items": items, "next": None}}


def returned_book(order: dict[str, Any] | None = None) -> dict[str, Any]:
    # One book back (10.90) with its coupon share: 5.00 × 10.90 / 46.00 = 1.1848 → 1.18; 9.72.
    return credit_file(order or basket(), [(0, 1, "10.90")], "9.72", total_discounts="1.18")


def test_a_credit_file_shows_the_credit_invoice_that_would_be_booked(tmp_path: Path) -> None:
    result = runner.invoke(app, ["preview", str(write(tmp_path, returned_book()))])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "Credit F5001 of order 1001" in out
    assert "credit invoice 1001-C1 dated 2026-06-01, EUR, prices incl. VAT" in out
    assert "crediting invoice 1001 (45.95)" in out
    assert "│ Boek │ -1 │ 10.90 │ -10.90 │ 9% │" in out
    assert "VAT per rate: 9%: -0.80" in out  # 9.72 × 9/109 = 0.8025
    assert "total -9.72" in out
    assert "Credited by CCV Shop 9.72: equal" in out
    assert "Would be booked as shown." in out


def test_a_credit_preview_has_the_order_previews_json_shape_with_kind_credit(
    tmp_path: Path,
) -> None:
    result = runner.invoke(app, ["preview", str(write(tmp_path, returned_book())), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    order_keys = {"kind", "payload", "lines", "totals", "paid", "difference", "problems"}
    assert set(document) >= order_keys
    assert document["kind"] == "credit"
    assert [(line["kind"], line["amount"], line["price"], line["total"], line["vat_percentage"])
            for line in document["lines"]] == [
        ("product", "-1", "10.90", "-10.90", "9"),
        ("discount", "-1", "-1.18", "1.18", "9"),
    ]  # fmt: skip
    # 9.72 gross at 9%: VAT 0.80, net 8.92; all negative on a credit invoice.
    assert document["totals"] == {
        "excl_vat": "-8.92", "vat_by_rate": {"9": "-0.80"}, "incl_vat": "-9.72",
    }  # fmt: skip
    assert (document["paid"], document["difference"], document["credited"]) == (
        "-9.72", "0.00", "9.72",
    )  # fmt: skip
    assert document["problems"] == []
    invoice = document["payload"]["sales_invoice"]
    assert invoice["reference"] == "1001-C1"
    assert [d["amount"] for d in invoice["details_attributes"]] == ["-1", "-1"]


def test_a_credit_of_more_than_was_bought_exits_2_with_the_reason(tmp_path: Path) -> None:
    document = credit_file(basket(), [(1, 2, "48.40")], "48.40")  # 2 shirts; the order had 1
    result = runner.invoke(app, ["preview", str(write(tmp_path, document)), "--json"])
    assert result.exit_code == 2
    codes = [p["code"] for p in json.loads(result.stdout)["problems"]]
    assert "credit_quantity_exceeds_original" in codes
    plain = runner.invoke(app, ["preview", str(write(tmp_path, document))])
    assert plain.exit_code == 2 and "Must not be booked" in plain.output


def test_after_credit_adds_the_credited_rows_back_to_the_order(tmp_path: Path) -> None:
    # The shop set the books to 0 before CCV credited them: 2 × 10.90 with the coupon share
    # 5.00 × 21.80 / 46.00 = 2.3696 → 2.37, credit 19.43; the order now 45.95 - 19.43 = 26.52.
    edited = basket(books=0, books_total="0.00", discounts="2.63", paid="26.52")
    edited["orderrows"]["items"][0]["price"] = Decimal("10.90")
    document = credit_file(edited, [(0, 2, "21.80")], "19.43", total_discounts="2.37")
    path = write(tmp_path, document)
    as_booked = runner.invoke(app, ["preview", str(path), "--json"])
    assert as_booked.exit_code == 2  # 2 books returned of an order of 0
    codes = [p["code"] for p in json.loads(as_booked.stdout)["problems"]]
    assert "credit_quantity_exceeds_original" in codes
    result = runner.invoke(app, ["preview", str(path), "--json", "--after-credit"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["after_credit"] is True
    assert found["original_total"] == "45.95"
    assert found["totals"]["incl_vat"] == "-19.43"


def test_a_malformed_credit_file_is_one_line(tmp_path: Path) -> None:
    document = returned_book()
    cases = {
        "invoicerows": "error: malformed credit invoice: invoicerows: missing (the file has "
        '"invoice")',
    }
    del document["invoicerows"]
    result = runner.invoke(app, ["preview", str(write(tmp_path, document))])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.strip() == cases["invoicerows"]

    debit = returned_book()
    debit["invoice"]["type"] = "debit"
    result = runner.invoke(app, ["preview", str(write(tmp_path, debit))])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.strip() == (
        "error: malformed credit invoice: invoice.type: 'debit': a preview shows a credit "
        'invoice (type "credit")'
    )

    bad_row = returned_book()
    bad_row["invoicerows"]["items"][0]["count"] = "veel"
    result = runner.invoke(app, ["preview", str(write(tmp_path, bad_row))])
    assert result.exit_code == 2
    message = result.stderr.strip()
    assert message.startswith("error: malformed credit invoice: invoicerows.items[0].count")
    assert "\n" not in message

    other = returned_book()
    other["invoice"]["order"] = {"href": "https://shop.example/api/rest/v1/orders/4"}
    result = runner.invoke(app, ["preview", str(write(tmp_path, other))])
    assert result.exit_code == 2
    assert "invoice.order: the invoice is of order 4" in result.stderr
