"""Each refusal becomes its own error: 401, 401 for a scope, 402, 403, 404."""

from __future__ import annotations

import pytest

from ccvbird.adapters.moneybird import MoneybirdClient
from ccvbird.domain.errors import (
    AuthenticationFailed,
    NotFound,
    PermissionDenied,
    PlanLimitReached,
)
from ccvbird.sandbox.moneybird import MoneybirdSandbox, SandboxConfig
from ccvbird.sandbox.moneybird.constants import ADMINISTRATION_ID
from ccvbird.sandbox.moneybird.seed import AdministrationSetup, voorbeeld_bv
from tests.integration.moneybird.conftest import ClientFactory
from tests.integration.moneybird.drafts import customer, webshop_invoice

OTHER_ADMINISTRATION = "470000000000000002"


@pytest.fixture
def config() -> SandboxConfig:
    other = voorbeeld_bv()
    other = AdministrationSetup(**{**other.__dict__, "id": OTHER_ADMINISTRATION, "name": "Ander"})
    return SandboxConfig(invoice_limit=1, administrations=[voorbeeld_bv(), other])


def test_plan_limit_is_its_own_error(client: MoneybirdClient) -> None:
    contact = client.create_contact(customer())
    client.create_sales_invoice(webshop_invoice("ONE"), contact_id=contact.id)

    with pytest.raises(PlanLimitReached, match="limited"):
        client.create_sales_invoice(webshop_invoice("TWO"), contact_id=contact.id)


def test_unknown_token_fails_authentication(make_client: ClientFactory) -> None:
    client = make_client(token="not-a-token")

    with pytest.raises(AuthenticationFailed):
        client.administrations()


def test_missing_scope_is_a_permission_problem(
    make_client: ClientFactory, sandbox: MoneybirdSandbox
) -> None:
    client = make_client(token=sandbox.issue_token(("sales_invoices",)))

    assert client.tax_rates()  # sales_invoices may read tax rates
    with pytest.raises(PermissionDenied, match="No access to settings"):
        client.financial_accounts()


def test_administration_outside_the_token_is_forbidden(
    make_client: ClientFactory, sandbox: MoneybirdSandbox
) -> None:
    narrow = sandbox.issue_token(administration_ids=frozenset({ADMINISTRATION_ID}))
    client = make_client(token=narrow)

    assert [a.id for a in client.administrations()] == [ADMINISTRATION_ID]
    with pytest.raises(PermissionDenied):
        client.for_administration(OTHER_ADMINISTRATION).workflows()
    with pytest.raises(NotFound):
        client.for_administration("470000000000000009").workflows()
