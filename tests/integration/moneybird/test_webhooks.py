"""Webhooks: registered, pushed signed by the sandbox, verified and deduplicated by the client."""

from __future__ import annotations

import json
from datetime import date

import pytest

from ccvbird.adapters.moneybird import (
    MemorySeenKeys,
    MoneybirdClient,
    WebhookCredentials,
    WebhookReceiver,
    WebhookRejected,
)
from ccvbird.sandbox.moneybird import MoneybirdSandbox, sandbox_http_client
from ccvbird.sandbox.moneybird.constants import ADMINISTRATION_ID, DEMO_TOKEN
from tests.integration.moneybird.conftest import FakeClock, Inbox
from tests.integration.moneybird.drafts import customer, webshop_invoice

URL = "https://ccvbird.example/hooks/moneybird"


@pytest.fixture
def receiver(client: MoneybirdClient) -> WebhookReceiver:
    hook = client.register_webhook(URL, ["contact_created", "sales_invoice_state_changed_to_paid"])
    assert hook.secret
    assert hook.token
    return WebhookReceiver(WebhookCredentials(hook.token, (hook.secret,)), MemorySeenKeys())


def test_registration_returns_the_secret_only_once(client: MoneybirdClient) -> None:
    hook = client.register_webhook(URL, ["sales_invoice"])

    listed = client.webhooks()

    assert len(hook.secret) == 64
    assert [(h.id, h.secret, h.token) for h in listed] == [(hook.id, "", hook.token)]
    assert client.delete_webhook(hook.id) is True
    assert client.webhooks() == []


def test_the_sandbox_refuses_the_removed_events_key(sandbox: MoneybirdSandbox) -> None:
    # Sent raw: the spec (and so the test harness) would stop ccvbird's client sending this.
    raw = sandbox_http_client(sandbox, headers={"Authorization": f"Bearer {DEMO_TOKEN}"})

    answer = raw.post(f"/{ADMINISTRATION_ID}/webhooks.json", json={"url": URL, "events": ["x"]})

    assert answer.status_code == 400
    assert answer.json()["symbolic"] == {"events": "removed"}


def test_a_genuine_push_is_accepted_once(
    client: MoneybirdClient, receiver: WebhookReceiver, inbox: Inbox, clock: FakeClock
) -> None:
    contact = client.create_contact(customer())

    ((url, body, headers),) = inbox.pushes
    event = receiver.accept(headers, body, now=clock())
    repeat = receiver.accept(headers, body, now=clock())

    assert url == URL
    assert event is not None
    assert event.action == "contact_created"
    assert event.entity_id == contact.id
    assert event.entity["id"] == contact.id
    assert repeat is None


def test_paid_invoices_are_announced(
    client: MoneybirdClient, receiver: WebhookReceiver, inbox: Inbox, clock: FakeClock
) -> None:
    contact = client.create_contact(customer())
    invoice = client.create_sales_invoice(webshop_invoice(), contact_id=contact.id)
    client.send_sales_invoice(invoice.id)
    client.create_payment(invoice.id, payment_date=date(2026, 3, 1), price=invoice.total_unpaid)

    events = [receiver.accept(h, b, now=clock()) for _, b, h in inbox.pushes]

    actions = [(e.action, e.state) for e in events if e is not None]
    assert actions == [("contact_created", None), ("sales_invoice_state_changed_to_paid", "paid")]


def test_forged_pushes_are_rejected(
    client: MoneybirdClient, receiver: WebhookReceiver, inbox: Inbox, clock: FakeClock
) -> None:
    client.create_contact(customer())
    ((_, body, headers),) = inbox.pushes
    tampered = body.replace(b"Jansen", b"Janssen")
    other_token = WebhookReceiver(
        WebhookCredentials("someone-else", receiver.credentials.secrets), MemorySeenKeys()
    )
    other_secret = WebhookReceiver(
        WebhookCredentials(receiver.credentials.token, ("0" * 64,)), MemorySeenKeys()
    )

    with pytest.raises(WebhookRejected, match="signature"):
        receiver.accept(headers, tampered, now=clock())
    with pytest.raises(WebhookRejected, match="webhook_token"):
        other_token.accept(headers, body, now=clock())
    with pytest.raises(WebhookRejected, match="signature"):
        other_secret.accept(headers, body, now=clock())
    with pytest.raises(WebhookRejected, match="5 minutes"):
        receiver.accept(headers, body, now=clock() + 301)
    with pytest.raises(WebhookRejected, match="no Moneybird-Signature"):
        receiver.accept({"Idempotency-Key": "k"}, body, now=clock())
    assert receiver.accept(headers, body, now=clock()) is not None  # the genuine one still works


def test_a_failed_push_is_retried_with_the_same_key(
    client: MoneybirdClient,
    receiver: WebhookReceiver,
    inbox: Inbox,
    clock: FakeClock,
    sandbox: MoneybirdSandbox,
) -> None:
    inbox.status = 500
    client.create_contact(customer())
    assert sandbox.deliver_webhooks() == 0  # the retry is not due yet

    inbox.status = 200
    clock.advance(60)
    assert sandbox.deliver_webhooks() == 1

    first, second = inbox.pushes
    assert first[2]["Idempotency-Key"] == second[2]["Idempotency-Key"]
    assert receiver.accept(first[2], first[1], now=clock() - 60) is not None
    assert receiver.accept(second[2], second[1], now=clock()) is None
    assert sandbox.outbox.pending == []


def test_during_secret_rotation_both_secrets_verify(
    client: MoneybirdClient, inbox: Inbox, clock: FakeClock, sandbox: MoneybirdSandbox
) -> None:
    hook = client.register_webhook(URL, [])
    new_secret = sandbox.rotate_webhook_secret(hook.id)
    client.create_contact(customer())

    ((_, body, headers),) = inbox.pushes

    assert headers["Moneybird-Signature"].count("v1=") == 2
    for secret in (hook.secret, new_secret):
        receiver = WebhookReceiver(WebhookCredentials(hook.token, (secret,)), MemorySeenKeys())
        assert receiver.accept(headers, body, now=clock()) is not None
    assert json.loads(body)["webhook_id"] == hook.id
