"""Peak memory of a history import, and how it grows with the number of orders.

Imports N generated orders through the real engine and state database (SQLite) in a fresh
process each, with a streaming shop (orders are generated and parsed one at a time, as the CCV
client pages through them) and a Moneybird stand-in that keeps nothing: what is measured is
ccvbird's own memory. Prints the peak resident memory per N and, as its last line, for the
largest N:

    memory: <N> MB peak

Run: .venv/bin/python bench/memory.py [--orders 10000 30000 100000]
"""

from __future__ import annotations

import argparse
import itertools
import resource
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from ccvbird.adapters.ccvshop.wire import parse_order
from ccvbird.adapters.db.database import open_database
from ccvbird.adapters.db.store import SqlStore
from ccvbird.adapters.secrets import SecretBox
from ccvbird.bootstrap import SystemClock
from ccvbird.domain.administration import TaxRateInfo
from ccvbird.domain.invoice import ContactDraft, InvoiceDraft, compute_totals
from ccvbird.domain.order import Order, OrderSummary
from ccvbird.domain.sync import RemoteContact, RemoteInvoice, RemoteTaxTotal
from ccvbird.ports import PaymentDraft
from ccvbird.sandbox.ccvshop.generator import ShopGenerator
from ccvbird.sandbox.moneybird.seed import voorbeeld_bv
from ccvbird.service.passes import import_history
from ccvbird.service.sync import SyncEngine


class StreamingShop:
    """Generates the shop's orders while they are read, like paging through the CCV API."""

    def __init__(self, count: int) -> None:
        self.count = count

    def iter_orders(
        self,
        *,
        created_from: datetime,
        created_until: datetime | None = None,
        on_invalid: Any = None,
    ) -> Iterator[Order]:
        for document in ShopGenerator(seed=1).orders(self.count):
            yield parse_order(document["order"], document["orderrows"])

    def list_orders(
        self, *, created_from: datetime, created_until: datetime | None = None
    ) -> Iterator[OrderSummary]:
        for o in self.iter_orders(created_from=created_from):
            yield OrderSummary(o.order_id, o.number, o.created_at, o.status, o.paid, o.is_completed)

    def credited_orders(
        self, *, created_from: datetime, created_until: datetime | None = None
    ) -> list[str]:
        return []  # the generated shop credits nothing

    def get_order(self, order_id: str) -> Order:
        raise NotImplementedError


class ForgetfulBooks:
    """Answers like Moneybird and keeps nothing."""

    def __init__(self) -> None:
        self._ids = itertools.count(480_000_000_000_000_001)

    def contact_versions(self) -> Mapping[str, int]:
        return {}

    def contacts(self, ids: Iterable[str]) -> list[RemoteContact]:
        return []

    def find_contacts_by_email(self, email: str) -> list[RemoteContact]:
        return []

    def create_contact(self, contact: ContactDraft) -> RemoteContact:
        return RemoteContact(str(next(self._ids)), (contact.email,))

    def create_invoice(
        self, draft: InvoiceDraft, *, contact_id: str, external: bool
    ) -> RemoteInvoice:
        totals = compute_totals(draft.lines, prices_include_vat=draft.prices_include_vat)
        total = totals.incl_vat
        tax = tuple(RemoteTaxTotal(r.tax_rate_id or "", r.net, r.vat) for r in totals.rates)
        return RemoteInvoice(
            str(next(self._ids)), draft.reference, "draft", total, total, tax_totals=tax
        )

    def tax_rates(self) -> tuple[TaxRateInfo, ...]:
        return tuple(
            TaxRateInfo(r.id, r.name, r.percentage, r.country, r.usable_on_sales_invoices,
                        tax_rate_type=r.tax_rate_type, active=r.active)
            for r in voorbeeld_bv().tax_rates
        )  # fmt: skip

    def delete_draft(self, invoice_id: str) -> bool:
        return True

    def find_invoice(self, reference: str, **_: Any) -> RemoteInvoice | None:
        return None

    def invoices_with_references(self, references: Any, **_: Any) -> dict[str, RemoteInvoice]:
        return {}

    def get_invoice(self, invoice_id: str, *, external: bool) -> RemoteInvoice:
        raise NotImplementedError

    def send_invoice(self, invoice_id: str) -> RemoteInvoice:
        return RemoteInvoice(invoice_id, "", "open", Decimal(1), Decimal(1), "2026-0001")

    def register_payment(
        self, invoice: RemoteInvoice, payment: PaymentDraft, *, external: bool
    ) -> str:
        return str(next(self._ids))


def child(count: int) -> None:
    data = Path(tempfile.mkdtemp(prefix="ccvbird-memory-"))
    store = SqlStore(
        open_database(f"sqlite:///{data / 'state.sqlite3'}"), SecretBox(Fernet.generate_key())
    )
    connection = store.create_connection(
        name="memory", shop_url="https://shop.test", ccv_public="p", ccv_secret="s",
        moneybird_url="https://moneybird.test", administration_id="1", moneybird_credentials={},
        profile_toml=resources.files("ccvbird.examples").joinpath("profile.toml").read_text(),
    )  # fmt: skip
    shop = StreamingShop(count)
    engine = SyncEngine(store=store, shop=shop, books=ForgetfulBooks(), clock=SystemClock())  # type: ignore[arg-type]
    report = import_history(
        connection, since=date(2000, 1, 1), engine=engine, store=store, shop=shop
    )  # type: ignore[arg-type]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{count} {sum(report.outcomes.values())} {peak_mb:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, nargs="+", default=[10_000, 30_000, 100_000])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    peak = 0.0
    for count in args.orders:
        started = datetime.now(UTC)
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(count)],
            capture_output=True,
            text=True,
            check=True,
        )
        _, processed, peak_text = out.stdout.split()
        peak = float(peak_text)
        seconds = (datetime.now(UTC) - started).total_seconds()
        print(f"{count:>7} orders: {processed} processed in {seconds:.0f} s, peak {peak:.1f} MB")
    print(f"memory: {peak:.0f} MB peak")


if __name__ == "__main__":
    main()
