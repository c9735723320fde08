"""Many administrations in one Moneybird sandbox, each with a personal token of its own.

A provider's ccvbird books for many shops, each into its own administration with its own token
(and its own request budget: Moneybird counts per token). :func:`with_tenants` adds ``count``
administrations to a sandbox's settings — copies of "Voorbeeld B.V." (the same tax rate,
ledger and workflow ids, so one profile fits them all) under ids of their own — and
:func:`issue_tenant_tokens` gives each its token, which reaches that administration only.
"""

from __future__ import annotations

import dataclasses

from ccvbird.sandbox.moneybird.seed import voorbeeld_bv
from ccvbird.sandbox.moneybird.state import MoneybirdSandbox, SandboxConfig


def tenant_administration_id(number: int) -> str:
    """The id of tenant ``number`` (1, 2, …): 18 digits like Moneybird's, apart from the default."""
    return f"48{number:016d}"


def tenant_token(number: int) -> str:
    """Tenant ``number``'s personal API token (a demo value)."""
    return f"sandbox-tenant-{number}"


def with_tenants(config: SandboxConfig, count: int) -> SandboxConfig:
    """``config`` with ``count`` tenant administrations beside its own."""
    tenants = [
        dataclasses.replace(voorbeeld_bv(), id=tenant_administration_id(n), name=f"Tenant {n} B.V.")
        for n in range(1, count + 1)
    ]
    return dataclasses.replace(config, administrations=[*config.administrations, *tenants])


def issue_tenant_tokens(sandbox: MoneybirdSandbox, count: int) -> None:
    """Give tenants 1..``count`` their tokens, each for its own administration only."""
    for n in range(1, count + 1):
        sandbox.issue_token(
            token=tenant_token(n), administration_ids=frozenset({tenant_administration_id(n)})
        )
