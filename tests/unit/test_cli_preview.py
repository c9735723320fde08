"""`ccvbird preview`: readable output, exactly one JSON object, exit status 2 with a reason."""

from __future__ import annotations

import json
from pathlib import Path

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
    assert set(document) == {"payload", "lines", "totals", "paid", "difference", "problems"}
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
