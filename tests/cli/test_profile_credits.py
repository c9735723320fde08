"""The profile's ``[credits]`` section through ``ccvbird profile export / import``."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Sandboxes, ccvbird

CREDITS = """
[credits]
cancellations = "credit"
credited_before_booking = "both"
settle_default = "set_off"

[credits.settle]
MollieIdeal = "refund"

[credits.refund_accounts]
MollieIdeal = "470000000000050002"
"""


def test_credits_survive_an_export_and_an_import(
    connected: Sandboxes, data_dir: Path, tmp_path: Path
) -> None:
    file = tmp_path / "profile.toml"
    assert ccvbird("profile", "export", "-o", file, "--data-dir", data_dir).exit_code == 0
    text = file.read_text(encoding="utf-8")
    assert "[credits" not in text
    file.write_text(text + CREDITS, encoding="utf-8")
    imported = ccvbird("profile", "import", file, "--data-dir", data_dir)
    assert imported.exit_code == 0, imported.output
    again = tmp_path / "again.toml"
    assert ccvbird("profile", "export", "-o", again, "--data-dir", data_dir).exit_code == 0
    assert again.read_text(encoding="utf-8") == text + CREDITS
    shown = ccvbird("profile", "show", "--data-dir", data_dir)
    assert 'cancellations = "credit"' in shown.stdout


def test_a_wrong_credits_key_is_refused_by_name(
    connected: Sandboxes, data_dir: Path, tmp_path: Path
) -> None:
    file = tmp_path / "profile.toml"
    assert ccvbird("profile", "export", "-o", file, "--data-dir", data_dir).exit_code == 0
    text = file.read_text(encoding="utf-8")
    wrong = CREDITS.replace('cancellations = "credit"', 'cancellations = "always"')
    file.write_text(text + wrong.replace("[credits.settle]", '[credits.settle]\nIdeal = "cash"'))
    refused = ccvbird("profile", "import", file, "--data-dir", data_dir)
    assert refused.exit_code == 2
    assert "credits.cancellations: Input should be 'ask' or 'credit'" in refused.stderr
    assert "credits.settle.Ideal: Input should be 'refund' or 'set_off'" in refused.stderr
