"""``ccvbird init`` and ``ccvbird connect``: the data directory, both credentials checked, one
clear line when something is refused, nothing stored then."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccvbird.sandbox.moneybird.constants import ADMINISTRATION_ID
from ccvbird.sandbox.moneybird.records import FinancialAccount
from tests.cli.conftest import Sandboxes, ccvbird, flat

SECOND_BANK = "470000000000059999"


def test_init_creates_the_data_directory_and_keeps_its_key_when_run_again(
    data_dir: Path,
) -> None:
    first = ccvbird("init", "--data-dir", data_dir)
    assert first.exit_code == 0, first.output
    assert f"Data directory: {data_dir}" in first.stdout
    assert f"Encryption key: {data_dir / 'secret.key'}" in first.stdout
    key = (data_dir / "secret.key").read_bytes()
    assert (data_dir / "ccvbird.sqlite3").is_file()

    again = ccvbird("init", "--data-dir", data_dir)
    assert again.exit_code == 0, again.output
    assert (data_dir / "secret.key").read_bytes() == key  # a new key would lose the credentials
    status = ccvbird("status", "--data-dir", data_dir)
    assert status.exit_code == 0
    assert "No connections yet" in status.stdout


def test_connect_checks_both_credentials_and_uses_the_drafted_profile(
    sandboxes: Sandboxes, data_dir: Path
) -> None:
    result = ccvbird("connect", *sandboxes.connect_options(), "--data-dir", data_dir)
    assert result.exit_code == 0, result.output
    assert (
        "Connected Koffie & Co (sandbox) to Moneybird administration Voorbeeld B.V. (connection 1)."
        in result.stdout
    )
    assert "The profile is complete." in result.stdout
    assert result.stderr == ""

    status = ccvbird("status", "--data-dir", data_dir)
    assert f"Koffie & Co (sandbox) (connection 1, administration {ADMINISTRATION_ID})" in (
        status.stdout
    )
    assert "paused" not in status.stdout
    profile = ccvbird("profile", "show", "--data-dir", data_dir)
    assert profile.exit_code == 0
    # Drafted from the administration: its tax rates, named after the shop (no --name given).
    assert '"21" = "470000000000010021"' in profile.stdout
    assert 'name = "Koffie & Co (sandbox) (suggested)"' in profile.stdout


def test_connect_takes_a_name_and_a_profile_file(
    sandboxes: Sandboxes, data_dir: Path, tmp_path: Path
) -> None:
    profile = tmp_path / "mine.toml"
    profile.write_text(
        (Path(__file__).parents[2] / "src/ccvbird/examples/profile.toml")
        .read_text(encoding="utf-8")
        .replace("[rounding]\n", "[rounding]\n# chosen by hand\n"),
        encoding="utf-8",
    )
    result = ccvbird(
        "connect", *sandboxes.connect_options(), "--name", "Mijn winkel",
        "--profile", profile, "--data-dir", data_dir,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Connected Koffie & Co (sandbox)" in result.stdout
    status = ccvbird("status", "--data-dir", data_dir)
    assert "Mijn winkel (connection 1," in status.stdout
    shown = ccvbird("profile", "show", "--data-dir", data_dir)
    assert "# chosen by hand" in shown.stdout


def test_names_that_look_like_markup_are_printed_as_they_are(
    sandboxes: Sandboxes, data_dir: Path
) -> None:
    name = "Koffie [/b] [bold]& Co"  # a shop may call itself anything
    result = ccvbird(
        "connect", *sandboxes.connect_options(), "--name", name, "--data-dir", data_dir
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    status = ccvbird("status", "--data-dir", data_dir)
    assert status.exit_code == 0, status.output
    assert f"{name} (connection 1," in status.stdout
    synced = ccvbird("sync", "--data-dir", data_dir)
    assert f"{name}: " in synced.stdout


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ccv_secret": "not-the-secret"}, "error: CCV Shop refused the API credentials"),
        ({"ccv_public": "unknown-key"}, "error: CCV Shop refused the API credentials"),
        ({"moneybird_token": "not-the-token"}, "error: Moneybird refused the credentials"),
        (
            {"moneybird_administration": "123456789012345678"},
            "error: this Moneybird token has no administration 123456789012345678; "
            f"it can reach: {ADMINISTRATION_ID} (Voorbeeld B.V.)",
        ),
    ],
    ids=["ccv-secret", "ccv-public", "moneybird-token", "administration"],
)
def test_refused_credentials_are_one_error_line_exit_2_and_nothing_stored(
    sandboxes: Sandboxes, data_dir: Path, changes: dict[str, str], message: str
) -> None:
    result = ccvbird("connect", *sandboxes.connect_options(**changes), "--data-dir", data_dir)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(message), lines[0]
    assert "Traceback" not in result.output
    assert "No connections yet" in ccvbird("status", "--data-dir", data_dir).stdout


def test_connecting_twice_is_refused_and_keeps_the_first_connection(
    connected: Sandboxes, data_dir: Path
) -> None:
    again = ccvbird("connect", *connected.connect_options(), "--data-dir", data_dir)
    assert again.exit_code == 2
    assert again.stderr.strip() == "error: a connection for CCV key 'sandbox-public' exists already"
    status = ccvbird("status", "--data-dir", data_dir).stdout
    assert status.count("(connection ") == 1
    assert "(connection 1," in status


def test_a_second_shop_key_makes_a_second_connection_and_commands_ask_which(
    connected: Sandboxes, data_dir: Path
) -> None:
    connected.shop.add_api_key("second-public", "second-secret")
    options = connected.connect_options(ccv_public="second-public", ccv_secret="second-secret")
    second = ccvbird("connect", *options, "--name", "Tweede", "--data-dir", data_dir)
    assert second.exit_code == 0, second.output
    assert "(connection 2)" in flat(second.stdout)

    ambiguous = ccvbird("orders", "--data-dir", data_dir)
    assert ambiguous.exit_code == 2
    assert ambiguous.stderr.strip() == (
        "error: there are several connections (1 (Koffie & Co (sandbox)), 2 (Tweede)); "
        "choose one with --connection"
    )
    assert ccvbird("orders", "--connection", "2", "--data-dir", data_dir).exit_code == 0
    unknown = ccvbird("orders", "--connection", "7", "--data-dir", data_dir)
    assert unknown.exit_code == 2
    assert unknown.stderr.strip() == "error: there is no connection 7"


def test_connect_without_a_terminal_names_the_missing_option(
    sandboxes: Sandboxes, data_dir: Path
) -> None:
    options = sandboxes.connect_options()
    at = options.index("--ccv-secret")
    result = ccvbird("connect", *options[:at], *options[at + 2 :], "--data-dir", data_dir)
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: CCV secret is required (--ccv-secret)"


def test_a_start_date_that_is_not_a_date_is_refused(sandboxes: Sandboxes, data_dir: Path) -> None:
    result = ccvbird(
        "connect", *sandboxes.connect_options(), "--start-date", "31-01-2026",
        "--data-dir", data_dir,
    )  # fmt: skip
    assert result.exit_code == 2
    assert (
        result.stderr.strip() == "error: --start-date: '31-01-2026' is not a date like 2026-01-31"
    )
    assert not data_dir.exists()  # refused before anything was created


def test_an_ambiguous_administration_waits_until_the_profile_says_which(
    sandboxes: Sandboxes, data_dir: Path, tmp_path: Path
) -> None:
    """Two bank accounts: connect drafts the profile, says what to fill in and waits; the
    edited profile, imported, resumes the connection and its payments go to the chosen account."""
    sandboxes.moneybird.books().setup.financial_accounts.append(
        FinancialAccount(SECOND_BANK, "BankAccount", "Spaarrekening", "NL02RABO0123456789")
    )
    number = sandboxes.add_order()
    result = ccvbird("connect", *sandboxes.connect_options(), "--data-dir", data_dir)
    assert result.exit_code == 0, result.output
    said = flat(result.stdout)
    assert "Waiting for you: The profile needs a decision before orders are booked" in said
    assert "payment_accounts.default: several candidates" in said
    assert SECOND_BANK in said
    assert "paused: The profile needs a decision" in flat(
        ccvbird("status", "--data-dir", data_dir).stdout
    )

    waiting = ccvbird("import", "--since", "2026-01-01", "--data-dir", data_dir)
    assert waiting.exit_code == 0, waiting.output
    assert "The connection is paused" in waiting.stdout
    assert sandboxes.moneybird.invoices() == []

    suggested = ccvbird("profile", "suggest", "--data-dir", data_dir)
    assert suggested.exit_code == 0
    assert "To fill in: payment_accounts.default" in flat(suggested.stderr)

    exported = tmp_path / "profile.toml"
    assert ccvbird("profile", "export", "-o", exported, "--data-dir", data_dir).exit_code == 0
    text = exported.read_text(encoding="utf-8")
    assert "[payment_accounts]" not in text
    exported.write_text(f'{text}\n[payment_accounts]\ndefault = "{SECOND_BANK}"\n', "utf-8")
    imported = ccvbird("profile", "import", exported, "--data-dir", data_dir)
    assert imported.exit_code == 0, imported.output
    assert f"Connection 1 now uses {exported}." in imported.stdout
    assert "paused" not in ccvbird("status", "--data-dir", data_dir).stdout

    booked = ccvbird("import", "--since", "2026-01-01", "--data-dir", data_dir)
    assert "Done: 1 booked" in booked.stdout
    (invoice,) = sandboxes.moneybird.invoices()
    assert invoice.reference == number
    assert [p.financial_account_id for p in invoice.payments] == [SECOND_BANK]
