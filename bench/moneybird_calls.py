"""How many Moneybird requests one webshop order costs: the per-order sequence, 500 orders.

Per order: find or create the contact (a local e-mail index kept current with the
synchronization endpoints, refreshed every 100 orders; a repeat customer costs nothing), create
the invoice, send it (Manual), register the payment. 30% of the orders come from customers who
ordered before. Runs against the in-process sandbox on a simulated clock, so Moneybird's pacing
(150 requests / 5 min) is honoured without waiting; the simulated duration is printed too.

Last line: ``moneybird: <N> requests/order``.
"""

from __future__ import annotations

import random
import time
from datetime import date
from decimal import Decimal

from ccvbird.adapters.moneybird import ContactIndex, connect
from ccvbird.domain.invoice import ContactDraft, InvoiceDraft, InvoiceLine, LineKind
from ccvbird.domain.vat import TaxKey, VatTreatment
from ccvbird.sandbox.moneybird import IN_PROCESS_BASE_URL, MoneybirdSandbox, SandboxTransport
from ccvbird.sandbox.moneybird import constants as mb

ORDERS = 500
REPEAT_SHARE = 0.30
REFRESH_EVERY = 100


class SimulatedClock:
    def __init__(self) -> None:
        self.now = 1_772_445_600.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def order_invoice(n: int) -> InvoiceDraft:
    lines = (
        InvoiceLine(
            LineKind.PRODUCT, "Koffiebonen", Decimal(2), Decimal("12.95"),
            TaxKey(VatTreatment.DOMESTIC, Decimal(9)), mb.TAX_RATE_9, mb.LEDGER_REVENUE_LOW,
        ),
        InvoiceLine(
            LineKind.SHIPPING, "Verzendkosten", Decimal(1), Decimal("4.95"),
            TaxKey(VatTreatment.DOMESTIC, Decimal(21)), mb.TAX_RATE_21, mb.LEDGER_SHIPPING,
        ),
    )  # fmt: skip
    return InvoiceDraft(
        f"CCV-{100000 + n}", date(2026, 3, 1), "EUR", True, lines, mb.WORKFLOW_WEBSHOP_PAID
    )


def main() -> None:
    rng = random.Random(2026)
    clock = SimulatedClock()
    sandbox = MoneybirdSandbox(clock=clock, deliverer=lambda url, body, headers: (200, ""))
    client = connect(
        administration_id=mb.ADMINISTRATION_ID,
        token=mb.DEMO_TOKEN,
        base_url=IN_PROCESS_BASE_URL,
        transport=SandboxTransport(sandbox),
        clock=clock,
        sleep=clock.sleep,
    )
    index = ContactIndex()
    customers: list[str] = []
    started = time.perf_counter()
    for n in range(ORDERS):
        if n % REFRESH_EVERY == 0:
            index.refresh(client)
        if customers and rng.random() < REPEAT_SHARE:
            email = rng.choice(customers)
        else:
            email = f"klant{len(customers)}@voorbeeld.example"
            customers.append(email)
        found = index.find(email)
        if found and not found[0].archived:
            contact = found[0]
        else:
            draft = ContactDraft(email=email, firstname="Klant", lastname=str(n), country="NL")
            contact = client.create_contact(draft)
            index.remember(contact)
        invoice = client.create_sales_invoice(order_invoice(n), contact_id=contact.id)
        client.send_sales_invoice(invoice.id)
        client.create_payment(
            invoice.id, payment_date=date(2026, 3, 1), price=invoice.total_price_incl_tax
        )
    elapsed = time.perf_counter() - started
    calls = sandbox.api_requests()
    by_kind: dict[str, int] = {}
    for method, path, _ in calls:
        kind = f"{method} {path.split('/', 4)[-1].split('/')[0]}"
        by_kind[kind] = by_kind.get(kind, 0) + 1
    paid = sum(1 for i in sandbox.invoices() if i.state == "paid")
    assert paid == ORDERS, f"only {paid} of {ORDERS} invoices are paid"
    assert not any(status == 429 for _, _, status in calls), "pacing let a 429 through"
    print(f"orders: {ORDERS}, distinct customers: {len(customers)}, invoices paid: {paid}")
    print("requests by kind: " + ", ".join(f"{k}={v}" for k, v in sorted(by_kind.items())))
    print(f"simulated time at 150 requests/5 min: {(clock.now - 1_772_445_600.0) / 60:.1f} min")
    print(f"in-process run time: {elapsed:.1f} s")
    print(f"moneybird: {len(calls) / ORDERS:.2f} requests/order")


if __name__ == "__main__":
    main()
