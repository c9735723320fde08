"""The pure check of a profile against an administration's tax rates and accounts."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from ccvbird.domain.administration import AdministrationSettings, NamedInfo, TaxRateInfo
from ccvbird.domain.profile_check import profile_mismatches, tax_rate_mismatches
from ccvbird.domain.vat import TaxKey, VatTreatment
from ccvbird.sandbox.moneybird import constants as mb
from tests.builders import example_profile
from tests.fakes import sandbox_tax_rates


def test_the_example_profile_fits_the_sandbox_rates_a_null_percentage_counting_as_zero() -> None:
    rates = sandbox_tax_rates()
    assert rates[mb.TAX_RATE_NO_VAT].percentage is None  # platform "0" = "Geen btw"
    assert tax_rate_mismatches(example_profile(), rates.values()) == []


def test_a_rounding_rate_must_be_zero_percent() -> None:
    profile = example_profile(rounding={"tax_rate_id": mb.TAX_RATE_21})
    (mismatch,) = tax_rate_mismatches(profile, sandbox_tax_rates().values())
    assert mismatch.key == "rounding.tax_rate_id"
    assert "is 0% VAT, but it is mapped to" in mismatch.message and "of 21%" in mismatch.message


def test_a_deleted_rate_and_a_revenue_account_that_is_not_for_sales_are_named() -> None:
    rates = [r for r in sandbox_tax_rates().values() if r.id != mb.TAX_RATE_EXPORT]
    settings = AdministrationSettings(
        tax_rates=tuple(rates),
        ledger_accounts=(
            NamedInfo(mb.LEDGER_REVENUE, "Omzet", "revenue"),
            NamedInfo(mb.LEDGER_SHIPPING, "Debiteuren", "current_assets", usable=False),
        ),
        workflows=(),
        document_styles=(),
        financial_accounts=(),
    )
    profile = example_profile(
        ledger_accounts={"payment_costs": mb.LEDGER_REVENUE, "discounts": mb.LEDGER_REVENUE,
                         "rounding": mb.LEDGER_REVENUE},
        payment_accounts={"default": mb.FINANCIAL_ACCOUNT_BANK},
    )  # fmt: skip
    messages = [m.message for m in profile_mismatches(profile, settings)]
    assert any(
        m.startswith(f'tax_rates.export."0": Moneybird has no tax rate {mb.TAX_RATE_EXPORT}')
        for m in messages
    )
    assert any(
        "ledger_accounts.shipping" in m and "cannot be used on a sales" in m for m in messages
    )
    assert any(m.startswith("payment_accounts.default: Moneybird has no active") for m in messages)


def test_an_oss_key_needs_the_rate_of_its_own_country() -> None:
    rates = [
        TaxRateInfo("1", "19% MwSt", Decimal(19), "AT", True),
        *sandbox_tax_rates().values(),
    ]
    profile = example_profile()
    wrong = dict(profile.tax_rates)
    wrong[TaxKey(VatTreatment.OSS, Decimal(19), "DE")] = "1"
    (mismatch,) = tax_rate_mismatches(replace(profile, tax_rates=wrong), rates)
    assert mismatch.key == 'tax_rates.oss.DE."19"'
    assert "is VAT of DE, but" in mismatch.message and "is for AT" in mismatch.message
