"""Many administrations in one Moneybird sandbox, each reached by its own token only."""

from __future__ import annotations

from ccvbird.sandbox.moneybird import MoneybirdSandbox, SandboxConfig, sandbox_http_client
from ccvbird.sandbox.moneybird.tenants import (
    issue_tenant_tokens,
    tenant_administration_id,
    tenant_token,
    with_tenants,
)


def test_each_tenant_token_reaches_its_own_administration_only() -> None:
    sandbox = MoneybirdSandbox(with_tenants(SandboxConfig(), 3))
    issue_tenant_tokens(sandbox, 3)
    with sandbox_http_client(sandbox) as http:
        seen = http.get(
            "/administrations", headers={"Authorization": f"Bearer {tenant_token(2)}"}
        ).json()
        assert [a["id"] for a in seen] == [tenant_administration_id(2)]
        other = http.get(
            f"/{tenant_administration_id(3)}/tax_rates",
            headers={"Authorization": f"Bearer {tenant_token(2)}"},
        )
        assert other.status_code in (403, 404)
        own = http.get(
            f"/{tenant_administration_id(2)}/tax_rates",
            headers={"Authorization": f"Bearer {tenant_token(2)}"},
        )
        assert own.status_code == 200 and own.json()
    assert len(set(sandbox.administration_ids)) == 4  # the default one and three tenants
