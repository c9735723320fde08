"""Tests that need ``../shared`` fail in CI when it is missing, and skip (saying why) elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.shared import CCV_FIXTURES, MONEYBIRD_SPEC, require


def test_a_missing_reference_fails_in_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI needs the reference material"):
        require(tmp_path / "missing.json")


def test_a_missing_reference_skips_with_the_reason_elsewhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"missing\.json is missing"):
        require(tmp_path / "missing.json")


def test_the_reference_material_is_where_the_tests_look() -> None:
    # In CI (and in a normal checkout) the material is beside the repository.
    assert require(MONEYBIRD_SPEC).is_file()
    assert require(CCV_FIXTURES).is_dir()
