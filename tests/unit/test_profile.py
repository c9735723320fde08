"""Profiles: the example is valid, and every mistake names its key."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ccvbird.adapters.profile_toml import load_profile, parse_profile
from ccvbird.domain.errors import ConfigError
from ccvbird.domain.profile import InvoiceDatePolicy, ShippingVatPolicy
from ccvbird.domain.vat import TaxKey, VatTreatment
from tests.builders import example_profile, example_profile_text, make_order, row

D = Decimal


def test_the_bundled_example_profile_is_valid() -> None:
    profile = parse_profile(example_profile_text())
    assert profile.tax_rates[TaxKey(VatTreatment.DOMESTIC, D(21))] == "470000000000010021"
    assert profile.tax_rates[TaxKey(VatTreatment.OSS, D(19), "DE")] == "470000000000010219"
    assert profile.trigger_statuses == frozenset({7})
    assert profile.require_paid is True
    assert profile.rounding_tolerance == D("0.02")
    assert profile.ledger_accounts.for_revenue(D(9)) == "470000000000020002"
    assert profile.ledger_accounts.for_revenue(D(21)) == "470000000000020001"


def test_defaults_for_an_empty_profile() -> None:
    profile = parse_profile("")
    assert profile.trigger_statuses == frozenset({7})
    assert profile.require_paid
    assert profile.shipping_vat is ShippingVatPolicy.PRO_RATA
    assert profile.invoice_date is InvoiceDatePolicy.ORDER_DATE
    assert profile.tax_rates == {}


def test_a_float_tolerance_is_read_exactly() -> None:
    assert parse_profile("[rounding]\ntolerance = 0.03\n").rounding_tolerance == D("0.03")


def test_integer_ids_are_kept_exact_as_strings() -> None:
    profile = parse_profile('[tax_rates.domestic]\n"21" = 470000000000010021\n')
    assert profile.tax_rates[TaxKey(VatTreatment.DOMESTIC, D(21))] == "470000000000010021"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[tax_rates.domestic]\n"21" = "abc"\n', 'tax_rates.domestic."21": must be a Moneybird id'),
        (
            '[tax_rates.domestic]\n"twenty" = "1"\n',
            'tax_rates.domestic."twenty": "twenty" is not a VAT percentage',
        ),
        ('[tax_rates.domestic]\n"121" = "1"\n', "between 0 and 100"),
        ('[tax_rates.reverse_charge]\n"21" = "1"\n', "reverse_charge sales are always 0% VAT"),
        ('[tax_rates.oss.NL]\n"21" = "1"\n', "tax_rates.oss.NL: not an EU country other than NL"),
        ('[tax_rates.oss.US]\n"10" = "1"\n', "tax_rates.oss.US: not an EU country"),
        (
            "[invoicing]\ntrigger_statuses = [7, 8]\n",
            "invoicing.trigger_statuses: Value error, 8 (cancelled)",
        ),
        ("[invoicing]\ntrigger_statuses = []\n", "invoicing.trigger_statuses"),
        ('[invoicing]\ntimezone = "Mars/Olympus"\n', "invoicing.timezone"),
        ('[invoicing]\ninvoice_date = "tomorrow"\n', "invoicing.invoice_date"),
        ('[vat]\nshipping = "highest"\n', "vat.shipping"),
        ("[rounding]\ntolerance = 5\n", "rounding.tolerance"),
        ('[rounding]\ntolerance = "lots"\n', "rounding.tolerance"),
        ('[ledger_acounts]\nrevenue = "1"\n', "ledger_acounts: unknown key"),
        ('[ledger_accounts]\nrevenu = "1"\n', "ledger_accounts.revenu: unknown key"),
        ('language = "de"\n', "language"),
        ("[vat\n", "not valid TOML"),
    ],
)
def test_every_mistake_names_the_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_profile(text, source="shop.toml")
    assert message.replace("Value error, ", "") in str(info.value)
    assert str(info.value).startswith("shop.toml")


def test_all_mistakes_are_reported_at_once() -> None:
    text = '[tax_rates.domestic]\n"21" = "x"\n"9" = "y"\n[vat]\noss = "maybe"\n'
    with pytest.raises(ConfigError) as info:
        parse_profile(text)
    assert len(info.value.problems) == 3


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read profile"):
        load_profile(tmp_path / "nope.toml")


def test_payment_account_by_method_name_id_or_default() -> None:
    profile = example_profile()
    ideal = make_order([row("x", 1, "10.00", 21)], paid="10.00")
    assert ideal.payment_method == "MollieIdeal"
    assert profile.payment_account_for(ideal) == "470000000000050002"
    by_id = parse_profile(
        '[payment_accounts]\ndefault = "1"\n[payment_accounts.methods]\n"12" = "2"\n'
    )
    assert by_id.payment_account_for(ideal) == "2"
    assert parse_profile('[payment_accounts]\ndefault = "1"\n').payment_account_for(ideal) == "1"
