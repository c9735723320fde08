"""Moneybird-Signature checks as pure functions (the sandbox signs, the client verifies)."""

from __future__ import annotations

import pytest

from ccvbird.adapters.moneybird.webhooks import WebhookRejected, verify_signature
from ccvbird.sandbox.moneybird.webhooks import signature_header

BODY = b'{"action":"contact_created"}'
NOW = 1_772_445_600


def test_a_valid_signature_passes_and_any_v1_may_match() -> None:
    header = signature_header(["new-secret", "old-secret"], BODY, NOW)

    verify_signature(BODY, header, "old-secret", now=NOW)
    verify_signature(BODY, header, ("unrelated", "new-secret"), now=NOW + 299)


@pytest.mark.parametrize(
    ("header", "secret", "now", "reason"),
    [
        (signature_header(["s"], BODY, NOW), "other", NOW, "does not match"),
        (signature_header(["s"], BODY + b" ", NOW), "s", NOW, "does not match"),
        (signature_header(["s"], BODY, NOW), "s", NOW + 301, "5 minutes"),
        (signature_header(["s"], BODY, NOW), "s", NOW - 301, "5 minutes"),
        ("t=abc,v1=00", "s", NOW, "malformed"),
        (f"t={NOW},v0=00", "s", NOW, "malformed"),
        (None, "s", NOW, "no Moneybird-Signature"),
        (signature_header(["s"], BODY, NOW), "", NOW, "no webhook secret"),
    ],
)
def test_forged_or_stale_signatures_are_rejected(
    header: str | None, secret: str, now: int, reason: str
) -> None:
    with pytest.raises(WebhookRejected, match=reason):
        verify_signature(BODY, header, secret, now=now)


def test_unknown_schemes_are_ignored() -> None:
    header = signature_header(["s"], BODY, NOW) + ",v2=deadbeef"

    verify_signature(BODY, header, "s", now=NOW)
