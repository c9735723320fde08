"""Rate limits and faults: waits follow the epoch Retry-After, creates are never repeated."""

from __future__ import annotations

from datetime import date

import pytest

from ccvbird.adapters.http import SlidingWindowLimiter, Unlimited
from ccvbird.adapters.moneybird import MoneybirdClient
from ccvbird.domain.errors import RequestTimeout, ServiceUnavailable
from ccvbird.sandbox.moneybird import Fault, FaultPlan, MoneybirdSandbox, SandboxConfig
from tests.integration.moneybird.conftest import START, ClientFactory, FakeClock
from tests.integration.moneybird.drafts import customer, webshop_invoice

SMALL_BUDGET = SandboxConfig(rate_limit=3, rate_window=60)
SMALL_BUDGET_HTML = SandboxConfig(rate_limit=3, rate_window=60, html_429=True)


@pytest.mark.parametrize(
    "config", [SMALL_BUDGET, SMALL_BUDGET_HTML], indirect=True, ids=["json", "html"]
)
def test_a_429_waits_until_the_epoch_in_retry_after(
    make_client: ClientFactory, sandbox: MoneybirdSandbox, clock: FakeClock
) -> None:
    client = make_client(budget=Unlimited())

    for _ in range(4):
        client.workflows(refresh=True)

    statuses = [status for _, _, status in sandbox.api_requests()]
    assert statuses == [200, 200, 200, 429, 200]
    # Waited until the window's reset (START + 60), not "1772445660 seconds".
    assert clock.now == pytest.approx(START + 60)
    assert sum(clock.sleeps) == pytest.approx(60)


@pytest.mark.parametrize("config", [SandboxConfig(rate_limit=5, rate_window=10)], indirect=True)
def test_pacing_with_the_same_budget_never_meets_a_429(
    make_client: ClientFactory, sandbox: MoneybirdSandbox, clock: FakeClock
) -> None:
    client = make_client(budget=SlidingWindowLimiter(5, 10, clock=clock))

    for _ in range(12):
        client.workflows(refresh=True)

    assert all(status == 200 for _, _, status in sandbox.api_requests())
    assert clock.now >= START + 20  # 12 requests at 5 per 10 s need two full windows


def test_a_429_before_a_create_is_retried_because_nothing_happened(
    client: MoneybirdClient, sandbox: MoneybirdSandbox, faults: FaultPlan
) -> None:
    contact = client.create_contact(customer())
    faults.add(Fault.RATE_LIMIT, method="POST", path="/sales_invoices")

    invoice = client.create_sales_invoice(webshop_invoice(), contact_id=contact.id)

    assert [i.id for i in sandbox.invoices()] == [invoice.id]


def test_server_errors_on_reads_are_retried(
    client: MoneybirdClient, faults: FaultPlan, clock: FakeClock
) -> None:
    faults.add(Fault.SERVER_ERROR, method="GET", path="/workflows", times=2)
    faults.add(Fault.TIMEOUT, method="GET", path="/workflows")

    assert len(client.workflows()) == 3
    assert len(clock.sleeps) == 3


def test_a_server_error_on_a_create_is_not_repeated(
    client: MoneybirdClient, sandbox: MoneybirdSandbox, faults: FaultPlan
) -> None:
    contact = client.create_contact(customer())
    faults.add(Fault.SERVER_ERROR, method="POST", path="/sales_invoices")

    with pytest.raises(ServiceUnavailable):
        client.create_sales_invoice(webshop_invoice(), contact_id=contact.id)

    posts = [r for r in sandbox.api_requests() if r[0] == "POST" and r[1].endswith("invoices")]
    assert len(posts) == 1
    assert sandbox.invoices() == []


def test_a_lost_response_leaves_the_invoice_to_be_found_by_reference(
    client: MoneybirdClient, sandbox: MoneybirdSandbox, faults: FaultPlan
) -> None:
    contact = client.create_contact(customer())
    faults.add(Fault.LOST_RESPONSE, method="POST", path="/sales_invoices")

    with pytest.raises(RequestTimeout):
        client.create_sales_invoice(webshop_invoice("CCV-77"), contact_id=contact.id)
    adopted = client.find_sales_invoice_by_reference("CCV-77")

    assert len(sandbox.invoices()) == 1
    assert adopted is not None
    assert adopted.id == sandbox.invoices()[0].id


def test_a_lost_payment_response_is_not_paid_twice(
    client: MoneybirdClient, sandbox: MoneybirdSandbox, faults: FaultPlan
) -> None:
    contact = client.create_contact(customer())
    invoice = client.create_sales_invoice(webshop_invoice(), contact_id=contact.id)
    client.send_sales_invoice(invoice.id)
    faults.add(Fault.LOST_RESPONSE, method="POST", path="/payments")

    with pytest.raises(RequestTimeout):
        client.create_payment(
            invoice.id, payment_date=date(2026, 3, 1), price=invoice.total_price_incl_tax
        )
    after = client.get_sales_invoice(invoice.id)

    assert after.state == "paid"
    assert len(after.payments) == 1


def test_random_faults_replay_from_the_seed(clock: FakeClock) -> None:
    def run(seed: int) -> list[tuple[Fault, str, str]]:
        plan = FaultPlan(seed=seed, rates={Fault.SERVER_ERROR: 0.3, Fault.TIMEOUT: 0.2})
        for n in range(40):
            plan.decide("GET", f"/api/v2/1/contacts/{n}")
        return plan.history

    assert run(11) == run(11)
    assert run(11) != run(12)
    assert 5 < len(run(11)) < 35


def test_a_lost_answer_to_send_is_repeated_safely(
    client: MoneybirdClient, faults: FaultPlan
) -> None:
    contact = client.create_contact(customer())
    invoice = client.create_sales_invoice(webshop_invoice(), contact_id=contact.id)
    faults.add(Fault.LOST_RESPONSE, method="PATCH", path="/send_invoice")

    sent = client.send_sales_invoice(invoice.id)

    assert (sent.state, sent.invoice_number) == ("open", "2026-0001")


def test_a_lost_contact_create_is_found_by_email_afterwards(
    client: MoneybirdClient, sandbox: MoneybirdSandbox, faults: FaultPlan
) -> None:
    faults.add(Fault.LOST_RESPONSE, method="POST", path="/contacts")

    with pytest.raises(RequestTimeout):
        client.create_contact(customer("nieuw@voorbeeld.example"))

    assert len(client.find_contacts_by_email("nieuw@voorbeeld.example")) == 1
    assert len(sandbox.books().contacts) == 1
