"""Where the tests find ``../shared`` (the reference material beside the checkout), and what
happens when it is missing: the tests that need it skip on a developer's machine, saying why,
and fail in CI (``CI`` set), where a missing copy would otherwise turn every check against
Moneybird's OpenAPI spec and CCV's captured payloads into a silent skip."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
CCV_FIXTURES = SHARED / "fixtures" / "ccvshop"
MONEYBIRD_SPEC = SHARED / "reference" / "moneybird-openapi.json"
MONEYBIRD_EXAMPLES = SHARED / "fixtures" / "moneybird" / "openapi-examples"


def require(path: Path) -> Path:
    """``path`` when it exists; otherwise fail in CI and skip elsewhere (never pass quietly)."""
    if path.exists():
        return path
    why = f"{path.resolve()} is missing (../shared must sit beside the checkout)"
    if os.environ.get("CI"):
        pytest.fail(f"CI needs the reference material: {why}")
    pytest.skip(why)
