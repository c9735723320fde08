"""``ccvbird profile show / validate / export / import / suggest``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Sandboxes, ccvbird, flat

TOLERANCE = 'tolerance = "0.02"'


def test_show_without_a_connection_says_how_to_make_one(data_dir: Path) -> None:
    assert ccvbird("init", "--data-dir", data_dir).exit_code == 0
    result = ccvbird("profile", "show", "--data-dir", data_dir)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip() == (
        "error: there is no connection yet; create one with `ccvbird connect` "
        "(or try `ccvbird demo`)"
    )


def test_export_prints_or_writes_what_show_prints(
    connected: Sandboxes, data_dir: Path, tmp_path: Path
) -> None:
    shown = ccvbird("profile", "show", "--data-dir", data_dir)
    assert shown.exit_code == 0
    assert "[tax_rates.domestic]" in shown.stdout
    printed = ccvbird("profile", "export", "--data-dir", data_dir)
    assert printed.exit_code == 0
    assert printed.stdout == shown.stdout
    file = tmp_path / "out.toml"
    written = ccvbird("profile", "export", "--output", file, "--data-dir", data_dir)
    assert written.exit_code == 0
    assert written.stdout.strip() == f"Wrote {file}."
    assert file.read_text(encoding="utf-8") == shown.stdout


def test_export_edit_import_changes_what_show_prints(
    connected: Sandboxes, data_dir: Path, tmp_path: Path
) -> None:
    file = tmp_path / "profile.toml"
    assert ccvbird("profile", "export", "-o", file, "--data-dir", data_dir).exit_code == 0
    text = file.read_text(encoding="utf-8")
    assert TOLERANCE in text
    file.write_text(text.replace(TOLERANCE, 'tolerance = "0.05"'), encoding="utf-8")

    imported = ccvbird("profile", "import", file, "--data-dir", data_dir)
    assert imported.exit_code == 0, imported.output
    assert imported.stdout.strip() == f"Connection 1 now uses {file}."
    shown = ccvbird("profile", "show", "--data-dir", data_dir).stdout
    assert 'tolerance = "0.05"' in shown
    assert TOLERANCE not in shown


def test_an_invalid_import_is_refused_naming_the_key_and_the_profile_is_kept(
    connected: Sandboxes, data_dir: Path, tmp_path: Path
) -> None:
    before = ccvbird("profile", "show", "--data-dir", data_dir).stdout
    file = tmp_path / "broken.toml"
    file.write_text(before.replace(TOLERANCE, 'tolerance = "lots"'), encoding="utf-8")
    refused = ccvbird("profile", "import", file, "--data-dir", data_dir)
    assert refused.exit_code == 2
    assert refused.stderr.startswith(f"error: {file} is invalid:\n  rounding.tolerance")
    assert ccvbird("profile", "show", "--data-dir", data_dir).stdout == before


def test_import_of_a_missing_file_is_a_usage_error(
    connected: Sandboxes, data_dir: Path, tmp_path: Path
) -> None:
    result = ccvbird("profile", "import", tmp_path / "nope.toml", "--data-dir", data_dir)
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_validate_accepts_an_exported_profile(
    connected: Sandboxes, data_dir: Path, tmp_path: Path
) -> None:
    file = tmp_path / "profile.toml"
    assert ccvbird("profile", "export", "-o", file, "--data-dir", data_dir).exit_code == 0
    result = ccvbird("profile", "validate", file)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{file} is valid."


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        (
            '[vat]\nshipping = "sometimes"\nship = 1\n',
            ["vat.shipping: Input should be 'pro_rata' or 'shop_rate'", "vat.ship: unknown key"],
        ),
        ('[tax_rates.domestic]\n"21" = "x"\n', ['tax_rates.domestic."21": must be a Moneybird id']),
        (
            "[vat\n",
            ["is not valid TOML: Expected ']' at the end of a table declaration (at line 1"],
        ),
    ],
    ids=["wrong-values", "not-an-id", "not-toml"],
)
def test_validate_of_a_broken_profile_names_each_key(
    tmp_path: Path, text: str, problems: list[str]
) -> None:
    file = tmp_path / "profile.toml"
    file.write_text(text, encoding="utf-8")
    result = ccvbird("profile", "validate", file)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {file} is invalid:\n")
    for problem in problems:
        assert problem in result.stderr
    assert "Traceback" not in result.output


def test_suggest_drafts_a_valid_profile_from_the_administration(
    connected: Sandboxes, data_dir: Path, tmp_path: Path
) -> None:
    result = ccvbird("profile", "suggest", "--data-dir", data_dir)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # nothing to fill in: the sandbox administration is unambiguous
    assert '"9" = "470000000000010009"  # 9% btw' in result.stdout
    file = tmp_path / "suggested.toml"
    file.write_text(result.stdout, encoding="utf-8")
    assert ccvbird("profile", "validate", file).exit_code == 0


def test_a_second_shop_in_the_administration_is_drafted_a_prefix_it_cannot_drop(
    connected: Sandboxes, data_dir: Path, tmp_path: Path
) -> None:
    connected.shop.add_api_key("second-public", "second-secret")
    options = connected.connect_options(ccv_public="second-public", ccv_secret="second-secret")
    connected_second = ccvbird("connect", *options, "--data-dir", data_dir)
    assert connected_second.exit_code == 0
    assert "invoice references start with B- (invoicing.reference_prefix)" in flat(
        connected_second.stdout
    )
    second = tmp_path / "second.toml"
    exported = ccvbird(
        "profile", "export", "--connection", "2", "-o", second, "--data-dir", data_dir
    )
    assert exported.exit_code == 0
    text = second.read_text(encoding="utf-8")
    assert 'reference_prefix = "B-"' in text
    first = ccvbird("profile", "export", "--connection", "1", "--data-dir", data_dir).stdout
    assert "reference_prefix" not in first  # the first connection keeps its order numbers

    bare = tmp_path / "bare.toml"
    bare.write_text(text.replace('reference_prefix = "B-"\n', ""), encoding="utf-8")
    refused = ccvbird("profile", "import", bare, "--connection", "2", "--data-dir", data_dir)
    assert refused.exit_code == 2
    message = flat(refused.stderr)
    assert message.startswith(f"error: {bare} is invalid: invoicing.reference_prefix: another")
    assert 'for example "B-"' in message
    # Nor may the first connection take the second's prefix.
    taken = ccvbird("profile", "import", second, "--connection", "1", "--data-dir", data_dir)
    assert taken.exit_code == 2 and "invoicing.reference_prefix" in taken.stderr
    shown = ccvbird("profile", "show", "--connection", "2", "--data-dir", data_dir).stdout
    assert 'reference_prefix = "B-"' in shown
