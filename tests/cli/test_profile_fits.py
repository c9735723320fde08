"""A profile that contradicts the Moneybird administration is refused at every door of the CLI:
``connect --profile``, ``profile import`` and ``profile validate --connection``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ccvbird.sandbox.moneybird import constants as mb
from ccvbird.sandbox.moneybird.state import MoneybirdSandbox
from tests.builders import example_profile_text
from tests.cli.conftest import Sandboxes, ccvbird, flat

NINE = f'"9" = "{mb.TAX_RATE_9}"'


def _swap(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text
        return text.replace(old, new, 1)

    return edit


def _nothing(sandbox: MoneybirdSandbox) -> None:
    return None


def _ledger_off(sandbox: MoneybirdSandbox) -> None:
    account = sandbox.books().setup.ledger_account(mb.LEDGER_SHIPPING)
    assert account is not None
    account.active = False


def _bank_off(sandbox: MoneybirdSandbox) -> None:
    account = sandbox.books().setup.financial_account(mb.FINANCIAL_ACCOUNT_MOLLIE)
    assert account is not None
    account.active = False


#: (edit of the example profile, change in Moneybird, what the refusal must say)
MISFITS = {
    "9-on-the-21-rate": (
        _swap(NINE, f'"9" = "{mb.TAX_RATE_21}"'),
        _nothing,
        [
            f'tax_rates.domestic."9" is 9% VAT, but it is mapped to Moneybird tax rate '
            f'{mb.TAX_RATE_21} "21% btw" of 21%'
        ],
    ),
    "purchase-rate": (
        _swap(f'"21" = "{mb.TAX_RATE_21}"', f'"21" = "{mb.TAX_RATE_PURCHASE_21}"'),
        _nothing,
        ['tax_rates.domestic."21"', "purchase invoice rate", "needs a sales invoice rate"],
    ),
    "inactive-rate": (
        _swap(f'"6" = "{mb.TAX_RATE_OSS_BE_6}"', f'"6" = "{mb.TAX_RATE_INACTIVE_6}"'),
        _nothing,
        ['tax_rates.oss.BE."6"', "is not active"],
    ),
    "oss-rate-of-another-country": (
        _swap(
            f'"21" = "{mb.TAX_RATE_OSS_BE_21}"',
            f'"21" = "{mb.TAX_RATE_21}"',
        ),
        _nothing,
        ['tax_rates.oss.BE."21" is VAT of BE', "a Dutch rate (no country)"],
    ),
    "domestic-key-on-an-oss-rate": (
        _swap(f'"21" = "{mb.TAX_RATE_21}"', f'"21" = "{mb.TAX_RATE_OSS_BE_21}"'),
        _nothing,
        ['tax_rates.domestic."21"', "is a rate for BE (OSS)"],
    ),
    "ledger-account-that-does-not-exist": (
        _swap(f'revenue = "{mb.LEDGER_REVENUE}"', 'revenue = "470000000000029999"'),
        _nothing,
        ["ledger_accounts.revenue: Moneybird has no ledger account 470000000000029999"],
    ),
    "inactive-ledger-account": (
        lambda text: text,
        _ledger_off,
        [f"ledger_accounts.shipping: ledger account {mb.LEDGER_SHIPPING}", "is not active"],
    ),
    "financial-account-that-does-not-exist": (
        _swap(f'default = "{mb.FINANCIAL_ACCOUNT_BANK}"', 'default = "470000000000059999"'),
        _nothing,
        ["payment_accounts.default: Moneybird has no active financial account 470000000000059999"],
    ),
    "inactive-financial-account": (
        lambda text: text,
        _bank_off,
        [
            'payment_accounts.methods."MollieIdeal": Moneybird has no active financial account '
            f"{mb.FINANCIAL_ACCOUNT_MOLLIE}"
        ],
    ),
}


def _misfit(tmp_path: Path, sandboxes: Sandboxes, case: str) -> tuple[Path, list[str]]:
    edit, change, says = MISFITS[case]
    change(sandboxes.moneybird)
    file = tmp_path / "misfit.toml"
    file.write_text(edit(example_profile_text()), encoding="utf-8")
    return file, says


@pytest.mark.parametrize("case", sorted(MISFITS))
def test_validate_against_the_connection_refuses_a_profile_that_does_not_fit(
    connected: Sandboxes, data_dir: Path, tmp_path: Path, case: str
) -> None:
    file, says = _misfit(tmp_path, connected, case)
    assert ccvbird("profile", "validate", file).exit_code == 0  # a valid file on its own

    result = ccvbird("profile", "validate", file, "--connection", "1", "--data-dir", data_dir)

    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {file} does not fit connection 1:\n")
    for words in says:
        assert words in flat(result.stderr)


def test_validate_against_the_connection_accepts_a_profile_that_fits(
    connected: Sandboxes, data_dir: Path, tmp_path: Path
) -> None:
    file = tmp_path / "fits.toml"
    file.write_text(example_profile_text(), encoding="utf-8")
    result = ccvbird("profile", "validate", file, "-c", "1", "--data-dir", data_dir)
    assert result.exit_code == 0, result.output
    assert "fits the Moneybird administration of connection 1" in flat(result.stdout)


@pytest.mark.parametrize("case", ["9-on-the-21-rate", "inactive-financial-account"])
def test_import_refuses_a_profile_that_does_not_fit_and_keeps_the_old_one(
    connected: Sandboxes, data_dir: Path, tmp_path: Path, case: str
) -> None:
    before = ccvbird("profile", "show", "--data-dir", data_dir).stdout
    file, says = _misfit(tmp_path, connected, case)

    result = ccvbird("profile", "import", file, "--data-dir", data_dir)

    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {file} does not fit the Moneybird administration:")
    for words in says:
        assert words in flat(result.stderr)
    assert ccvbird("profile", "show", "--data-dir", data_dir).stdout == before


@pytest.mark.parametrize("case", ["9-on-the-21-rate", "oss-rate-of-another-country"])
def test_connect_refuses_a_profile_that_does_not_fit_and_stores_nothing(
    sandboxes: Sandboxes, data_dir: Path, tmp_path: Path, case: str
) -> None:
    file, says = _misfit(tmp_path, sandboxes, case)

    result = ccvbird(
        "connect", *sandboxes.connect_options(), "--profile", file, "--data-dir", data_dir
    )

    assert result.exit_code == 2, result.output
    assert "--profile does not match the Moneybird administration" in flat(result.stderr)
    for words in says:
        assert words in flat(result.stderr)
    assert "No connections yet" in ccvbird("status", "--data-dir", data_dir).stdout
