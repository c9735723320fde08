"""The profile page's TOML: what the form writes reads back as the same profile."""

from __future__ import annotations

from importlib import resources

from ccvbird.adapters.profile_toml import parse_profile
from ccvbird.domain.administration import AdministrationSettings, NamedInfo, TaxRateInfo
from ccvbird.entrypoints.web import profile_form

EXAMPLE = resources.files("ccvbird.examples").joinpath("profile.toml").read_text()


def test_the_writer_round_trips_the_example_profile() -> None:
    written = profile_form.dumps(profile_form.load(EXAMPLE))
    assert parse_profile(written) == parse_profile(EXAMPLE)


def test_the_form_as_shown_saves_the_same_profile() -> None:
    values = profile_form.values_from(EXAMPLE, None)
    ids = {v for k, v in values.items() if isinstance(v, str) and v.isdigit() and len(v) > 10}
    rates = tuple(TaxRateInfo(i, i, None, None, True) for i in ids)
    named = tuple(NamedInfo(i, i) for i in ids)
    options = profile_form.options_from(AdministrationSettings(rates, named, named, named, named))
    form = {k: ("on" if v is True else v) for k, v in values.items() if v is not False}
    checked = profile_form.check(form, EXAMPLE, options)
    assert checked.problems == {}
    assert parse_profile(checked.toml) == parse_profile(EXAMPLE)
