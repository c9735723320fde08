"""The sandbox shop's state and what a merchant can do with it.

:class:`SandboxShop` holds one CCV webshop — orders with their rows, invoices, webhooks, apps and
API keys — and the merchant's actions that tests, demos and people use: create or generate
orders, load them from files, set a status or the paid flag (which fires the webhooks), credit an
order, and install an app through the simulated App Store. The HTTP face is :mod:`.api`; the
signature check, limits and faults in front of it are :mod:`.guard`.

Webhooks are delivered synchronously after the change that caused them, outside the shop's
lock, through the injected :data:`~.outbound.Poster` — so a receiver may call the API back while
it handles a delivery, and a test sees the delivery as soon as the action returns.
"""

from __future__ import annotations

import copy
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from ccvbird.adapters.ccvshop.wire import dumps
from ccvbird.sandbox.ccvshop import documents
from ccvbird.sandbox.ccvshop.credits import (
    ZERO,
    CreditRefused,
    Invoiced,
    credit_all,
    credit_rows,
    difference,
    money,
    q,
)
from ccvbird.sandbox.ccvshop.faults import FaultPlan
from ccvbird.sandbox.ccvshop.generator import ShopGenerator, ShopSettings
from ccvbird.sandbox.ccvshop.limits import Limits, RateLimiter
from ccvbird.sandbox.ccvshop.loader import read_order_documents
from ccvbird.sandbox.ccvshop.outbound import Delivery, HttpPoster, Poster
from ccvbird.sandbox.ccvshop.signing import hmac_sha512

DEFAULT_PORT = 8701
DEFAULT_BASE_URL = f"http://127.0.0.1:{DEFAULT_PORT}"
#: Fixed, documented demo credentials of the sandbox (overridable).
DEFAULT_PUBLIC_KEY = "sandbox-public"
DEFAULT_SECRET = "sandbox-secret"  # noqa: S105 - a published demo credential, not a secret

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class SandboxError(Exception):
    """A merchant action that cannot be done (unknown order, refused handshake …)."""


class UnknownRecord(SandboxError):
    pass


class NothingToInvoice(SandboxError):
    """``POST /orders/:id/invoices`` on an order that equals its invoices."""


class HandshakeRefused(SandboxError):
    """The app did not answer the handshake with 200, so the installation stops (as in CCV)."""


@dataclass
class ApiKey:
    public: str
    secret: str
    app_id: int | None = None
    active: bool = True


@dataclass
class SandboxApp:
    """An app in the simulated App Store, with what its developer configured."""

    app_id: int
    name: str
    app_secret: str
    handshake_uri: str
    install_uri: str
    uninstall_uri: str
    created: str
    installed: bool = False
    installations: int = 0
    api_public: str | None = None


@dataclass
class _Changes:
    """Events collected under the lock, delivered after it is released: order events by order
    id (their body is made at the end, from the final order), others with their body ready."""

    events: list[tuple[str, int, int | None]] = field(default_factory=list)
    bodies: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def add(self, event: str, order_id: int, previous_status: int | None = None) -> None:
        self.events.append((event, order_id, previous_status))

    def add_body(self, event: str, body: dict[str, Any]) -> None:
        self.bodies.append((event, body))


class SandboxShop:
    """One fake CCV webshop. Thread-safe; every clock and outbound call is injectable."""

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_BASE_URL,
        public_key: str = DEFAULT_PUBLIC_KEY,
        secret: str = DEFAULT_SECRET,
        seed: int = 0,
        clock: Clock = time.time,
        sleep: Sleep = time.sleep,
        limits: Limits | None = None,
        faults: FaultPlan | None = None,
        poster: Poster | None = None,
        max_clock_skew: float = 300.0,
        default_page_size: int = 25,
        max_page_size: int = 100,
        name: str = "Koffie & Co (sandbox)",
        status_names: Mapping[int, str] | None = None,
        oss: bool = False,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        parts = urlsplit(self.base_url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError(f"base_url: {base_url!r} is not an http(s) URL")
        self.root = f"{self.base_url}/api/rest/v1"
        self.clock = clock
        self.sleep = sleep
        self.max_clock_skew = max_clock_skew
        self.default_page_size = default_page_size
        self.max_page_size = max_page_size
        self.name = name
        self.status_names = dict(status_names or {})
        self.limiter = RateLimiter(limits or Limits(), clock)
        self.faults = faults or FaultPlan()
        self.poster: Poster = poster or HttpPoster()
        #: Set by the in-process transport: a timed-out answer is then marked, not held.
        self.in_process = False
        self.webshop_id = 100001
        self.generator = ShopGenerator(seed, ShopSettings(host=self.base_url, oss=oss))
        self._lock = threading.RLock()
        self._keys: dict[str, ApiKey] = {public_key: ApiKey(public_key, secret)}
        self._orders: dict[int, dict[str, Any]] = {}
        self._rows: dict[int, list[dict[str, Any]]] = {}
        self._row_index: dict[int, dict[str, Any]] = {}
        self._invoices: dict[int, dict[str, Any]] = {}
        self._invoice_rows: dict[int, list[dict[str, Any]]] = {}
        self._invoice_row_index: dict[int, dict[str, Any]] = {}
        #: What each invoice covers, signed, per order (the next invoice is the difference).
        self._invoiced: dict[int, list[tuple[int, Invoiced]]] = {}
        self._returns: dict[int, dict[str, Any]] = {}
        self._return_rows: dict[int, list[dict[str, Any]]] = {}
        self._return_counts: dict[int, dict[int, Decimal]] = {}
        self._webhooks: dict[int, dict[str, Any]] = {}
        self._apps: dict[int, SandboxApp] = {}
        self._next_ids = {"invoice": 700_000_001, "invoicerow": 900_000_001, "webhook": 3001,
                          "app": 501, "invoicenumber": 2026001, "return": 610_000_001,
                          "returnrow": 620_000_001, "returnnumber": 1}  # fmt: skip
        self.deliveries: list[Delivery] = []

    # -- time and ids ---------------------------------------------------------------------------

    def now_text(self) -> str:
        return datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _next_id(self, kind: str) -> int:
        value = self._next_ids[kind]
        self._next_ids[kind] = value + 1
        return value

    # -- credentials (used by the guard) --------------------------------------------------------

    def secret_for(self, public: str) -> str | None:
        with self._lock:
            key = self._keys.get(public)
            return key.secret if key is not None and key.active else None

    def app_of(self, public: str) -> int | None:
        with self._lock:
            key = self._keys.get(public)
            return key.app_id if key is not None else None

    def add_api_key(self, public: str, secret: str) -> None:
        """Another manual key pair (as a merchant creates one in the backend)."""
        with self._lock:
            self._keys[public] = ApiKey(public, secret)

    def revoke_api_key(self, public: str) -> None:
        with self._lock:
            if public not in self._keys:
                raise UnknownRecord(f"no API key {public!r}")
            self._keys[public].active = False

    # -- reading (used by the API) --------------------------------------------------------------

    def orders(self) -> list[dict[str, Any]]:
        with self._lock:
            return [self._orders[i] for i in sorted(self._orders)]

    def order(self, order_id: int) -> dict[str, Any] | None:
        with self._lock:
            return self._orders.get(order_id)

    def order_rows(self, order_id: int) -> list[dict[str, Any]] | None:
        with self._lock:
            return self._rows.get(order_id)

    def order_row(self, row_id: int) -> dict[str, Any] | None:
        with self._lock:
            return self._row_index.get(row_id)

    def invoices(self) -> list[dict[str, Any]]:
        with self._lock:
            return [self._invoices[i] for i in sorted(self._invoices)]

    def invoice(self, invoice_id: int) -> dict[str, Any] | None:
        with self._lock:
            return self._invoices.get(invoice_id)

    def invoice_rows(self, invoice_id: int) -> list[dict[str, Any]] | None:
        with self._lock:
            return self._invoice_rows.get(invoice_id)

    def invoice_row(self, row_id: int) -> dict[str, Any] | None:
        with self._lock:
            return self._invoice_row_index.get(row_id)

    def returns(self) -> list[dict[str, Any]]:
        with self._lock:
            return [self._returns[i] for i in sorted(self._returns)]

    def return_(self, return_id: int) -> dict[str, Any] | None:
        with self._lock:
            return self._returns.get(return_id)

    def return_rows(self, return_id: int) -> list[dict[str, Any]] | None:
        with self._lock:
            return self._return_rows.get(return_id)

    def webshop(self) -> dict[str, Any]:
        return documents.webshop(self.root, self.webshop_id, self.name, self.base_url)

    def merchant(self) -> dict[str, Any]:
        return documents.merchant(self.root, self.webshop_id, self.name.split(" (")[0])

    def settings(self) -> dict[str, Any]:
        return documents.settings(self.root, self.webshop_id, self.status_names)

    def webhooks(self) -> list[dict[str, Any]]:
        with self._lock:
            return [self._webhooks[i] for i in sorted(self._webhooks)]

    def webhook(self, webhook_id: int) -> dict[str, Any] | None:
        with self._lock:
            return self._webhooks.get(webhook_id)

    def apps_for(self, public: str) -> list[dict[str, Any]]:
        """``GET /apps``: the app these credentials were issued for (none for a manual key)."""
        with self._lock:
            app_id = self.app_of(public)
            app = self._apps.get(app_id) if app_id is not None else None
            return [] if app is None else [self._app_document(app)]

    def _app_document(self, app: SandboxApp) -> dict[str, Any]:
        return documents.app(
            self.root, app.app_id, app.name, installed=app.installed, created=app.created,
            installations=app.installations,
        )  # fmt: skip

    # -- orders: the merchant's actions ---------------------------------------------------------

    @contextmanager
    def _changing(self) -> Iterator[_Changes]:
        changes = _Changes()
        with self._lock:
            yield changes
            outgoing = self._outgoing(changes)
        for hook_id, event, address, body, headers in outgoing:
            self._post(hook_id, event, address, body, headers)

    def _store(self, document: dict[str, Any], changes: _Changes) -> int:
        order = document["order"]
        rows_body = document["orderrows"]
        rows = rows_body["items"] if isinstance(rows_body, dict) else list(rows_body)
        order_id = int(order["id"])
        self._orders[order_id] = order
        self._rows[order_id] = rows
        for row in rows:
            if row.get("id") is not None:
                self._row_index[int(row["id"])] = row
        if order.get("is_completed"):
            changes.add("orders.created", order_id)
            self._invoice_if_due(order_id)
        return order_id

    def create_order(
        self,
        *,
        scenario: str | None = None,
        status: int | None = 7,
        paid: bool = True,
        completed: bool | None = None,
    ) -> int:
        """A new generated order (by default completed and paid); fires ``orders.created``.

        ``scenario`` picks the kind of customer: ``consumer``, ``b2b``, ``intra_community``,
        ``abroad``, ``export`` or ``platform``; ``status=None`` makes an unfinished checkout.
        """
        done = status is not None if completed is None else completed
        with self._changing() as changes:
            document = self.generator.order(scenario, lifecycle=(status, paid, done))
            return self._store(self._unique(document), changes)

    def generate(self, count: int, *, over: timedelta | None = None) -> list[int]:
        """``count`` realistic orders in the generator's mix (mostly paid and completed).

        ``over``: dated over that span up to the shop's "now" (a history, e.g. a year);
        otherwise they follow the generator's own timeline."""
        if count < 0:
            raise ValueError("count: must not be negative")
        if over is not None and count:
            end = datetime.fromtimestamp(self.clock(), UTC)
            self.generator.spread(count, start=end - over, end=end)
        with self._changing() as changes:
            return [self._store(self._unique(d), changes) for d in self.generator.orders(count)]

    def add_order(self, document: Mapping[str, Any]) -> int:
        """Add an order in the ``ccvbird preview`` format (``{"order", "orderrows"}``).

        Links are rewritten to this shop; an id already taken gets a new one. Anything goes,
        absurd orders included (a 154-character order number, a negative total): text with
        lone surrogates (``"M\udce9ller"``, i.e. ``b"M\xe9ller".decode("utf-8",
        "surrogateescape")``) is served as those raw bytes, invalid UTF-8 in the HTTP body.
        """
        with self._changing() as changes:
            return self._store(self._unique(self._adopt(document)), changes)

    def load_orders(self, path: Path) -> list[int]:
        """Add every order in ``path`` (a ``.json`` file, or a directory of them)."""
        return [self.add_order(document) for document in read_order_documents(path)]

    def _adopt(self, original: Mapping[str, Any]) -> dict[str, Any]:
        document: dict[str, Any] = copy.deepcopy(dict(original))
        order = document["order"]
        href = order.get("href") if isinstance(order, dict) else None
        if isinstance(href, str) and "/api/rest/v1" in href:
            foreign = href.split("/api/rest/v1", 1)[0]
            document = _replace_prefix(document, foreign, self.base_url)
        rows_body = document.get("orderrows")
        if isinstance(rows_body, list):
            document["orderrows"] = {"items": rows_body}
        return document

    def _unique(self, document: dict[str, Any]) -> dict[str, Any]:
        """Give the order (and rows) fresh ids where they collide with what the shop has."""
        order = document["order"]
        raw_id = order.get("id")
        order_id = int(raw_id) if raw_id is not None and str(raw_id).isdigit() else None
        if order_id is None or order_id in self._orders:
            new_id = max([*self._orders, self.generator._order_id]) + 1
            self.generator._order_id = new_id + 1
            if order_id is not None:
                document = _replace_prefix(
                    document, f"{self.root}/orders/{order_id}", f"{self.root}/orders/{new_id}"
                )
                order = document["order"]
            order["id"] = new_id
            order_id = new_id
        rows = document["orderrows"]["items"]
        for row in rows:
            row["order_id"] = order_id
            row_id = row.get("id")
            if row_id is None or not str(row_id).isdigit() or int(row_id) in self._row_index:
                row["id"] = self.generator._row_id
                self.generator._row_id += 1
                row["href"] = f"{self.root}/orderrows/{row['id']}/"
        if order.get("is_completed") and order.get("ordernumber") is None:
            self._number(order)
        return document

    def _number(self, order: dict[str, Any]) -> None:
        number = self.generator.next_order_number()
        order["ordernumber"] = number
        order["ordernumber_full"] = self.generator.full_order_number(number)

    def _get_order(self, order_id: int) -> dict[str, Any]:
        order = self._orders.get(int(order_id))
        if order is None:
            raise UnknownRecord(f"the shop has no order {order_id}")
        return order

    def set_status(self, order_id: int, status: int) -> None:
        """Change an order's status (fires ``orders.updated.status``).

        An unfinished checkout that gets a status becomes a completed order: it gets its order
        number and fires ``orders.created`` first.
        """
        if status not in documents.STATUS_MEANINGS:
            raise ValueError(f"status: {status} is not a CCV order status (1-14)")
        with self._changing() as changes:
            order = self._get_order(order_id)
            previous = order.get("status")
            order["status"] = status
            if not order.get("is_completed"):
                order["is_completed"] = True
                self._number(order)
                changes.add("orders.created", int(order_id))
            if previous != status:
                changes.add("orders.updated.status", int(order_id), previous)
            self._invoice_if_due(int(order_id))

    def set_paid(self, order_id: int, paid: bool = True) -> None:
        """Mark an order paid or unpaid (fires ``orders.updated.ispaid`` when it changes)."""
        with self._changing() as changes:
            order = self._get_order(order_id)
            if bool(order.get("paid")) == paid:
                return
            order["paid"] = paid
            if paid and not order.get("transaction_id"):
                order["transaction_id"] = f"tr_sbx{order['id']}"
            changes.add("orders.updated.ispaid", int(order_id))
            self._invoice_if_due(int(order_id))

    def patch_order(self, order_id: int, changes: Mapping[str, Any]) -> None:
        """``PATCH /orders/:id`` for the fields the sandbox models (``status``, ``paid``)."""
        self._get_order(order_id)
        if "status" in changes:
            self.set_status(order_id, int(changes["status"]))
        if "paid" in changes:
            self.set_paid(order_id, bool(changes["paid"]))

    # -- invoices -------------------------------------------------------------------------------

    def _invoice_if_due(self, order_id: int) -> None:
        """A completed, paid order gets its debit invoice (once: later changes are the
        merchant's corrections, invoiced by :meth:`invoice_difference`)."""
        order = self._orders[order_id]
        if not (order.get("is_completed") and order.get("paid")) or self._invoiced.get(order_id):
            return
        self._add_invoice(order_id, status=None, changes=None)

    def _add_invoice(
        self, order_id: int, *, status: str | None, changes: _Changes | None
    ) -> int | None:
        """The invoice for the difference between the order and its invoices so far (``None``
        when there is none). ``status`` defaults to paid/unpaid for a debit, unpaid for a
        credit. Fires ``invoices.updated.status`` (from no status to the first) when
        ``changes`` collects events."""
        order = self._orders[order_id]
        rows = self._rows.get(order_id, [])
        ledger = self._invoiced.setdefault(order_id, [])
        diff = difference(order, rows, (entry for _, entry in ledger))
        if diff.is_empty:
            return None
        credit = diff.total < 0
        if status is None:
            status = "2" if credit or not order.get("paid") else "1"
        invoice_id = self._next_id("invoice")
        document = documents.invoice(
            self.root, invoice_id, self._next_id("invoicenumber"), order, amounts=diff.amounts,
            status=status, created=self.now_text(),
        )  # fmt: skip
        by_id = {int(r["id"]): r for r in rows if str(r.get("id", "")).isdigit()}
        invoice_rows = []
        for row_id, change in diff.rows.items():
            document_row = documents.invoice_row(
                self.root, invoice_id, self._next_id("invoicerow"), by_id[row_id], change
            )
            invoice_rows.append(document_row)
            self._invoice_row_index[document_row["id"]] = document_row
        self._invoices[invoice_id] = document
        self._invoice_rows[invoice_id] = invoice_rows
        ledger.append((invoice_id, Invoiced(dict(diff.amounts), dict(diff.rows))))
        if changes is not None:
            changes.add_body(
                "invoices.updated.status",
                documents.invoice_webhook_body(
                    self.root, document, order_id, self.now_text(), previous_status=None
                ),
            )
        return invoice_id

    def invoice_difference(
        self, order_id: int, *, status: str | None = None, external_reference: str | None = None
    ) -> int:
        """``POST /orders/:id/invoices``: invoice what changed since the latest invoice (a
        credit invoice when the order went down). Raises :class:`NothingToInvoice` when the
        order equals its invoices."""
        with self._changing() as changes:
            self._get_order(order_id)
            invoice_id = self._add_invoice(int(order_id), status=status, changes=changes)
            if invoice_id is None:
                raise NothingToInvoice(f"order {order_id} equals its invoices; nothing to invoice")
            if external_reference is not None:
                self._invoices[invoice_id]["external_reference"] = external_reference
            return invoice_id

    def _credit(
        self, order_id: int, edit: Callable[[dict[str, Any], list[dict[str, Any]]], None],
        *, refunded: bool,
    ) -> int:  # fmt: skip
        """Edit the order (``edit``), then invoice the difference: the credit invoice."""
        with self._changing() as changes:
            order = self._get_order(order_id)
            if not self._invoiced.get(int(order_id)):
                raise SandboxError(f"order {order_id} has no invoice to credit (not paid yet?)")
            rows = self._rows.get(int(order_id), [])
            trial_order, trial_rows = copy.deepcopy(order), copy.deepcopy(rows)
            try:
                edit(trial_order, trial_rows)
            except CreditRefused as exc:
                raise SandboxError(str(exc)) from None
            order.clear()
            order.update(trial_order)
            rows[:] = trial_rows
            for row in rows:
                self._row_index[int(row["id"])] = row
            invoice_id = self._add_invoice(
                int(order_id), status="3" if refunded else "2", changes=changes
            )
            if invoice_id is None or self._invoices[invoice_id]["type"] != "credit":
                raise SandboxError(f"order {order_id}: the change credits nothing")
            # Order listeners learn of the correction too (the sandbox's choice: CCV documents
            # no invoice-created event); the status itself may be unchanged.
            changes.add("orders.updated.status", int(order_id), order.get("status"))
            return invoice_id

    def credit_order(self, order_id: int, *, refunded: bool = True) -> int:
        """A full credit (the merchant refunds the whole order): every row, shipping and cost
        goes to zero and the credit invoice covers everything invoiced so far."""
        return self._credit(order_id, credit_all, refunded=refunded)

    def credit_rows(
        self,
        order_id: int,
        counts: Mapping[int, Decimal | int],
        *,
        shipping: bool = False,
        refunded: bool = True,
    ) -> int:
        """A partial credit: ``counts`` items of these order rows (with their discount share),
        and the shipping when ``shipping``."""
        wanted = {int(k): Decimal(str(v)) for k, v in counts.items()}
        return self._credit(
            order_id, lambda o, r: credit_rows(o, r, wanted, shipping=shipping), refunded=refunded
        )

    def credit_shipping(self, order_id: int, *, refunded: bool = True) -> int:
        """A credit of the shipping costs only."""
        order = self.order(order_id)
        if order is not None and not order.get("total_shipping"):
            raise SandboxError(f"order {order_id} has no shipping costs to credit")
        return self.credit_rows(order_id, {}, shipping=True, refunded=refunded)

    def cancel_order(self, order_id: int) -> None:
        """The merchant cancels the order: status 8, no credit invoice (as in CCV, where a
        cancellation alone changes no amount)."""
        self.set_status(order_id, 8)

    def patch_invoice(self, invoice_id: int, changes: Mapping[str, Any]) -> None:
        """``PATCH /invoices/:id``: ``status`` (1/2/3 or the words) fires
        ``invoices.updated.status`` when it changes; ``external_reference``."""
        with self._changing() as events:
            invoice = self._invoices.get(invoice_id)
            if invoice is None:
                raise UnknownRecord(f"the shop has no invoice {invoice_id}")
            status = None
            if "status" in changes:
                status = str(changes["status"])
                words = {word: code for code, word in documents.INVOICE_STATUS.items()}
                status = words.get(status, status)
                if status not in documents.INVOICE_STATUS:
                    raise ValueError("status: expected 1, 2, 3 or paid, unpaid, reimbursed")
            if "external_reference" in changes:
                reference = changes["external_reference"]
                invoice["external_reference"] = None if reference is None else str(reference)
            if status is not None and status != invoice["status"]:
                previous = invoice["status"]
                invoice["status"] = status
                invoice["status_name"] = documents.INVOICE_STATUS_NAMES[status]
                order_id = int(invoice["order"].rstrip("/").rsplit("/", 1)[-1])
                events.add_body(
                    "invoices.updated.status",
                    documents.invoice_webhook_body(
                        self.root, invoice, order_id, self.now_text(), previous_status=previous
                    ),
                )

    # -- returns --------------------------------------------------------------------------------

    def create_return(
        self, order_id: int, counts: Mapping[int, Decimal | int], *, reason: str = "Retour"
    ) -> int:
        """The customer returns items (an RMA, status 1 New); fires ``returns.created``."""
        with self._changing() as changes:
            order = self._get_order(order_id)
            rows = {int(r["id"]): r for r in self._rows.get(int(order_id), [])}
            wanted = {int(k): Decimal(str(v)) for k, v in counts.items()}
            if not wanted:
                raise SandboxError("rows: a return needs at least one row")
            return_id = self._next_id("return")
            documents_rows, price, tax = [], ZERO, ZERO
            gross = bool(order.get("order_row_taxes_included", True))
            for row_id, count in wanted.items():
                row = rows.get(row_id)
                have = money(row.get("count"), "count") if row else ZERO
                if row is None or count <= 0 or count > have:
                    raise SandboxError(f"rows: row {row_id} cannot return {count} item(s)")
                total = money(row.get("total_price_with_attributes"), "total")
                value = q(total * count / have)
                rate = money(row.get("tax"), "tax")
                price += value
                tax += q(value * rate / (100 + rate)) if gross else q(value * rate / 100)
                documents_rows.append(
                    documents.return_row(
                        self.root, return_id, self._next_id("returnrow"), row, count, value
                    )
                )
            document = documents.return_document(
                self.root, return_id, self._next_id("returnnumber"), order, status="1",
                created=self.now_text(), reason=reason, totals=(price, tax),
            )  # fmt: skip
            self._returns[return_id] = document
            self._return_rows[return_id] = documents_rows
            self._return_counts[return_id] = wanted
            self._return_event("returns.created", document, changes)
            return return_id

    def _return_event(self, event: str, document: dict[str, Any], changes: _Changes) -> None:
        order_id = int(document["order"].rstrip("/").rsplit("/", 1)[-1])
        changes.add_body(
            event, documents.return_webhook_body(self.root, document, order_id, self.now_text())
        )

    def _get_return(self, return_id: int) -> dict[str, Any]:
        document = self._returns.get(int(return_id))
        if document is None:
            raise UnknownRecord(f"the shop has no return {return_id}")
        return document

    def set_return_status(self, return_id: int, status: int | str) -> None:
        """Move a return along (1-8); fires ``returns.updated`` when it changes."""
        code = str(status)
        if code not in documents.RETURN_STATUS:
            raise ValueError(f"status: {status} is not a CCV return status (1-8)")
        with self._changing() as changes:
            document = self._get_return(return_id)
            if document["status"] != code:
                document["status"] = code
                document["status_name"] = documents.RETURN_STATUS[code][1]
                self._return_event("returns.updated", document, changes)

    def delete_return(self, return_id: int) -> None:
        """Fires ``returns.deleted`` (with the return as it was)."""
        with self._changing() as changes:
            document = self._get_return(return_id)
            del self._returns[int(return_id)]
            self._return_rows.pop(int(return_id), None)
            self._return_counts.pop(int(return_id), None)
            self._return_event("returns.deleted", document, changes)

    def credit_return(
        self, return_id: int, *, shipping: bool = False, refunded: bool = True
    ) -> int:
        """Credit what a return holds (a partial credit of its rows), then mark it 8 Credited."""
        with self._lock:
            document = self._get_return(return_id)
            if document["status"] in {"6", "8"}:
                raise SandboxError(f"return {return_id} is {document['status_name']}")
            order_id = int(document["order"].rstrip("/").rsplit("/", 1)[-1])
            counts = dict(self._return_counts[int(return_id)])
        # Outside the lock: each step delivers its webhooks, and a receiver may call back.
        invoice_id = self.credit_rows(order_id, counts, shipping=shipping, refunded=refunded)
        self.set_return_status(return_id, 8)
        return invoice_id

    # -- webhooks -------------------------------------------------------------------------------

    def add_webhook(self, event: str, address: str, *, is_active: bool = True) -> dict[str, Any]:
        with self._lock:
            hook_id = self._next_id("webhook")
            document = documents.webhook(
                self.root, self.webshop_id, hook_id, event=event, address=address,
                key=secrets.token_hex(16), is_active=is_active, created=self.now_text(),
            )  # fmt: skip
            self._webhooks[hook_id] = document
            return document

    def update_webhook(
        self, hook_id: int, *, address: str | None = None, is_active: bool | None = None
    ) -> None:
        with self._lock:
            hook = self._webhooks.get(hook_id)
            if hook is None:
                raise UnknownRecord(f"the shop has no webhook {hook_id}")
            if address is not None:
                hook["address"] = address
            if is_active is not None:
                hook["is_active"] = is_active

    def delete_webhook(self, hook_id: int) -> None:
        with self._lock:
            if self._webhooks.pop(hook_id, None) is None:
                raise UnknownRecord(f"the shop has no webhook {hook_id}")

    def _outgoing(self, changes: _Changes) -> list[tuple[int, str, str, bytes, dict[str, str]]]:
        bodies = [
            (event, documents.webhook_body(
                self.root, self._orders[order_id], event, self.now_text(),
                previous_status=previous,
            ))
            for event, order_id, previous in changes.events
        ]  # fmt: skip
        outgoing = []
        for event, body in [*bodies, *changes.bodies]:
            raw = dumps(body).encode()
            for hook in self._webhooks.values():
                if hook["event"] != event or not hook["is_active"]:
                    continue
                address = hook["address"]
                headers = {
                    "Content-Type": "application/json",
                    # CCV's delivery signature is undocumented; this is the sandbox's choice.
                    "x-hash": hmac_sha512(hook["key"], address.encode() + b"|" + raw),
                }
                outgoing.append((hook["id"], event, address, raw, headers))
        return outgoing

    def _post(
        self, hook_id: int, event: str, address: str, body: bytes, headers: dict[str, str]
    ) -> None:
        try:
            status: int | None = self.poster(address, body, headers)
            error = ""
        except Exception as exc:  # any failure of the receiver is a failed delivery
            status, error = None, f"{type(exc).__name__}: {exc}"
        with self._lock:
            self.deliveries.append(Delivery(hook_id, event, address, body, status, error))

    # -- the App Store --------------------------------------------------------------------------

    def register_app(
        self,
        name: str,
        *,
        app_secret: str,
        handshake_uri: str,
        install_uri: str,
        uninstall_uri: str = "",
    ) -> int:
        """An app as its developer configures it in CCV's Developer App Center."""
        for label, uri in (("handshake_uri", handshake_uri), ("install_uri", install_uri)):
            if urlsplit(uri).scheme not in {"http", "https"}:
                raise ValueError(f"{label}: {uri!r} is not an http(s) URL")
        if not app_secret:
            raise ValueError("app_secret: required")
        with self._lock:
            app_id = self._next_id("app")
            self._apps[app_id] = SandboxApp(
                app_id, name, app_secret, handshake_uri, install_uri, uninstall_uri,
                created=self.now_text(),
            )  # fmt: skip
            return app_id

    def app(self, app_id: int) -> SandboxApp:
        with self._lock:
            app = self._apps.get(app_id)
            if app is None:
                raise UnknownRecord(f"the App Store has no app {app_id}")
            return app

    def install_app(self, app_id: int, *, language: str = "nl") -> str:
        """The merchant clicks *Install*: handshake with fresh credentials, then the install URL.

        POSTs ``{api_public, api_secret, api_root, return_url, language}`` to the app's handshake
        URI, signed with the app secret; a non-200 answer stops the installation
        (:class:`HandshakeRefused`). Returns the URL the merchant's browser is sent to.
        """
        app = self.app(app_id)
        public = f"sbx{app_id}^{secrets.token_hex(8)}"
        secret = secrets.token_hex(32)
        body = {
            "api_public": public,
            "api_secret": secret,
            "api_root": self.base_url,
            "return_url": f"{self.base_url}/_sandbox/apps/{app_id}/installed",
            "language": language,
        }
        raw = dumps(body).encode()
        signed = hmac_sha512(app.app_secret, app.handshake_uri.encode() + b"|" + raw)
        try:
            status = self.poster(
                app.handshake_uri, raw, {"Content-Type": "application/json", "x-hash": signed}
            )
        except Exception as exc:
            raise HandshakeRefused(
                f"the handshake POST to {app.handshake_uri} failed: {exc}"
            ) from exc
        if status != 200:
            raise HandshakeRefused(f"the app answered the handshake with {status}, not 200")
        with self._lock:
            self._keys[public] = ApiKey(public, secret, app_id)
            app.api_public = public
            app.installations += 1
        return self.install_url(app_id, public, language=language)

    def install_url(self, app_id: int, public: str, *, language: str = "nl") -> str:
        app = self.app(app_id)
        parts = urlsplit(app.install_uri)
        signed = hmac_sha512(app.app_secret, f"{_without_query(app.install_uri)}|{public}".encode())
        query = urlencode([("api_public", public), ("language", language), ("x-hash", signed)])
        joined = f"{parts.query}&{query}" if parts.query else query
        return urlunsplit((parts.scheme, parts.netloc, parts.path, joined, ""))

    def set_app_installed(self, public: str, app_id: int, installed: bool) -> bool:
        """``PATCH /apps/:id`` by the app itself; ``False`` when these keys are not that app's."""
        with self._lock:
            if self.app_of(public) != app_id or app_id not in self._apps:
                return False
            self._apps[app_id].installed = installed
            return True

    def uninstall_app(self, app_id: int) -> int:
        """The merchant removes the app: signed uninstall POST, then the keys stop working."""
        app = self.app(app_id)
        if app.api_public is None:
            raise SandboxError(f"app {app_id} is not installed")
        raw = dumps({"api_public": app.api_public}).encode()
        signed = hmac_sha512(app.app_secret, app.uninstall_uri.encode() + b"|" + raw)
        status = 0
        if app.uninstall_uri:
            status = self.poster(
                app.uninstall_uri, raw, {"Content-Type": "application/json", "x-hash": signed}
            )
        with self._lock:
            self._keys[app.api_public].active = False
            app.installed = False
            app.api_public = None
        return status


def _without_query(uri: str) -> str:
    parts = urlsplit(uri)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _replace_prefix(value: Any, old: str, new: str) -> Any:
    """Every link in ``value`` to ``old`` (or below it) points to ``new`` instead."""
    if isinstance(value, str):
        if value == old or value.startswith((old + "/", old + "?")):
            return new + value[len(old) :]
        return value
    if isinstance(value, dict):
        return {key: _replace_prefix(item, old, new) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace_prefix(item, old, new) for item in value]
    return value
