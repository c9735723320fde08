"""The CCV Shop REST client: signed, paced, paged, and translated into ccvbird's terms.

One :class:`CcvShopClient` talks to one shop with one key pair. Every call is signed over the
bytes it sends (:mod:`.signing`), counted against CCV's per-minute budgets and retried where that
is safe (:mod:`.transport`), and checked against the response signature when the shop sends one.
Lists follow ``next`` links to the end with a loop guard (:mod:`.paging`).

Orders come back as domain :class:`~ccvbird.domain.order.Order` objects complete with their rows:
one listing page per ``page_size`` orders plus one rows call per order (CCV cannot embed rows),
so a full fetch costs ``1 + 1/page_size`` GETs per order.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
from pydantic import BaseModel, ValidationError

from ccvbird.adapters.ccvshop.paging import PageTrail
from ccvbird.adapters.ccvshop.resources import (
    App,
    Invoice,
    InvoiceRow,
    Merchant,
    Paymethod,
    Return,
    Webhook,
    Webshop,
    WebshopSettings,
)
from ccvbird.adapters.ccvshop.signing import SignatureMismatch, response_signature_matches
from ccvbird.adapters.ccvshop.transport import API_PREFIX, CcvBudget, CcvTransport
from ccvbird.adapters.ccvshop.wire import dumps, loads_isolating, parse_order
from ccvbird.adapters.http.pacing import WallClock
from ccvbird.adapters.http.tls import shared_tls
from ccvbird.adapters.http.transport import DEFAULT_TIMEOUT, RetryPolicy, Sleep
from ccvbird.domain.bounds import is_order_id, storable
from ccvbird.domain.errors import ApiError, InvalidOrderData, NotFound
from ccvbird.domain.order import Order

#: Orders per listing page. CCV documents no maximum; 100 is well inside the 250 a maintained
#: third-party client allows, and a shop that serves fewer per page still works (we follow next).
DEFAULT_PAGE_SIZE = 100

ORDER_SORT_FIELDS = ("id", "ordernumber", "create_date", "deliver_date")
INVOICE_SORT_FIELDS = ("id", "invoicenumber", "invoicenumber_full", "ordernumber",
                       "ordernumber_full", "create_date", "status", "total_price")  # fmt: skip
INVOICE_STATUSES = ("paid", "unpaid", "reimbursed")

#: What CCV's SDK sends as Accept for webshop resources.
ACCEPT = "application/vnd.verto.webshop+json"

Query = list[tuple[str, str]]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class CcvCredentials:
    """Where the shop is and the key pair to sign with. ``secret`` never appears in a repr."""

    api_root: str
    public_key: str
    secret: str = field(repr=False)

    @property
    def origin(self) -> str:
        """``https://shop.example`` — the API root without ``/api/rest/v1`` or a trailing slash."""
        root = self.api_root.strip().rstrip("/")
        suffix = API_PREFIX.rstrip("/")
        return root[: -len(suffix)] if root.endswith(suffix) else root


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _when(value: date | datetime) -> str:
    """Dates as ``YYYY-MM-DD``; moments as UTC ``YYYY-MM-DDTHH:MM:SSZ`` (CCV documents neither)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("create-date filters need an aware datetime (or a date)")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


def _sort(value: str, allowed: Sequence[str]) -> str:
    if value.removesuffix("_desc") not in allowed:
        names = ", ".join(allowed)
        raise ValueError(f"orderby: {value!r} is not one of {names} (optionally with _desc)")
    return value


@dataclass(frozen=True, slots=True)
class OrderFilter:
    """The documented filters of ``GET /orders`` (reference §2).

    CCV hides unfinished checkouts unless ``is_completed`` is false. ``orderby`` defaults to
    ``id`` so that orders placed while a listing runs land after the pages already read instead
    of shifting them.
    """

    status: int | None = None
    is_paid: bool | None = None
    is_completed: bool | None = None
    min_create_date: date | datetime | None = None
    max_create_date: date | datetime | None = None
    ordernumber: int | None = None
    paymethod_id: int | None = None
    orderby: str = "id"

    def query(self) -> Query:
        pairs: Query = []
        if self.ordernumber is not None:
            pairs.append(("ordernumber", str(self.ordernumber)))
        if self.status is not None:
            pairs.append(("status", str(self.status)))
        if self.is_paid is not None:
            pairs.append(("is_paid", _bool(self.is_paid)))
        if self.is_completed is not None:
            pairs.append(("is_completed", _bool(self.is_completed)))
        if self.min_create_date is not None:
            pairs.append(("min_create_date", _when(self.min_create_date)))
        if self.max_create_date is not None:
            pairs.append(("max_create_date", _when(self.max_create_date)))
        if self.paymethod_id is not None:
            pairs.append(("paymethod_id", str(self.paymethod_id)))
        pairs.append(("orderby", _sort(self.orderby, ORDER_SORT_FIELDS)))
        return pairs


@dataclass(frozen=True, slots=True)
class InvoiceFilter:
    """The documented filters of ``GET /invoices``."""

    ordernumber: int | None = None
    ordernumber_full: str | None = None
    invoicenumber: int | None = None
    status: str | None = None
    min_create_date: date | datetime | None = None
    max_create_date: date | datetime | None = None
    orderby: str = "id"

    def query(self) -> Query:
        pairs: Query = []
        if self.ordernumber is not None:
            pairs.append(("ordernumber", str(self.ordernumber)))
        if self.ordernumber_full is not None:
            pairs.append(("ordernumber_full", self.ordernumber_full))
        if self.invoicenumber is not None:
            pairs.append(("invoicenumber", str(self.invoicenumber)))
        if self.status is not None:
            if self.status not in INVOICE_STATUSES:
                raise ValueError(f"status: {self.status!r} is not one of paid, unpaid, reimbursed")
            pairs.append(("status", self.status))
        if self.min_create_date is not None:
            pairs.append(("min_create_date", _when(self.min_create_date)))
        if self.max_create_date is not None:
            pairs.append(("max_create_date", _when(self.max_create_date)))
        pairs.append(("orderby", _sort(self.orderby, INVOICE_SORT_FIELDS)))
        return pairs


def _shown(value: object) -> str:
    """A value from the shop as a message can quote it: short, printable."""
    return repr(storable(str(value), 30))


#: Called with the order id and the problem when an order in a listing cannot be read.
InvalidOrderHandler = Callable[[str, InvalidOrderData], None]


class CcvShopClient:
    """Everything ccvbird asks of one CCV shop."""

    def __init__(
        self,
        credentials: CcvCredentials,
        *,
        http: httpx.Client | None = None,
        budget: CcvBudget | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        clock: WallClock = time.time,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        page_size: int = DEFAULT_PAGE_SIZE,
        verify_responses: bool = True,
    ) -> None:
        if not credentials.public_key or not credentials.secret:
            raise ValueError("CCV Shop needs both the API public key and the API secret")
        if not 1 <= page_size <= 250:
            raise ValueError("page_size: must be between 1 and 250")
        self.credentials = credentials
        self._owns_http = http is None
        self._http = (
            http if http is not None else httpx.Client(timeout=timeout, verify=shared_tls())
        )
        self.transport = CcvTransport(
            self._http,
            public=credentials.public_key,
            secret=credentials.secret,
            budget=budget or CcvBudget(clock=clock),
            retry=retry,
            sleep=sleep,
            clock=clock,
        )
        self._origin = httpx.URL(credentials.origin)
        if self._origin.scheme not in {"http", "https"} or not self._origin.host:
            raise ValueError(f"api_root: {credentials.api_root!r} is not an http(s) URL")
        self._timeout = timeout
        self.page_size = page_size
        self.verify_responses = verify_responses

    # -- lifecycle ------------------------------------------------------------------------------

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> CcvShopClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def requests_sent(self) -> dict[str, int]:
        """Requests sent so far (retries included), per ``"<METHOD> <resource>"``."""
        return dict(self.transport.sent)

    def gets_sent(self) -> int:
        return sum(n for key, n in self.transport.sent.items() if key.startswith("GET "))

    # -- plumbing -------------------------------------------------------------------------------

    def _url(self, path: str, query: Query | None = None) -> httpx.URL:
        target = f"{self.credentials.origin}{API_PREFIX}{path.lstrip('/')}"
        if query:
            target += "?" + urlencode(query)
        return httpx.URL(target)

    def _send(
        self, method: str, url: httpx.URL, *, body: Any = None, idempotent: bool
    ) -> httpx.Response:
        headers = {"Accept": ACCEPT}
        content: bytes | None = None
        if body is not None:
            # Serialised once: these bytes are hashed and these bytes are sent.
            content = dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = self._http.build_request(
            method, url, content=content, headers=headers, timeout=self._timeout
        )
        response = self.transport.send(request, idempotent=idempotent)
        if self.verify_responses and not response_signature_matches(
            response, public=self.credentials.public_key, secret=self.credentials.secret
        ):
            raise SignatureMismatch(
                f"CCV Shop's answer to {method} {url.path} does not carry a valid signature "
                "(x-hash); it may have been altered on the way",
                status=response.status_code,
                code="InvalidHashOnResult",
            )
        return response

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        if not response.content.strip():
            return None
        try:
            return loads_isolating(response.content)
        except ValueError:
            raise ApiError(
                f"CCV Shop answered {response.request.method} {response.request.url.path} "
                "with something that is not JSON",
                status=response.status_code,
            ) from None

    def _get(self, url: httpx.URL) -> Any:
        body = self._json(self._send("GET", url, idempotent=True))
        if not isinstance(body, dict):
            raise ApiError(f"CCV Shop answered GET {url.path} without a JSON object")
        return body

    def _items(self, path: str, query: Query | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a collection, page after page, until ``next`` is absent."""
        url = self._url(path, [("start", "0"), ("size", str(self.page_size)), *(query or [])])
        # A shop served under a path (a sandbox of many shops) keeps its links under it.
        trail = PageTrail(self._origin, self._origin.path.rstrip("/") + API_PREFIX)
        while True:
            trail.visit(url)
            page = self._get(url)
            items = page.get("items")
            if items is None:
                items = []
            if not isinstance(items, list):
                raise ApiError(f"CCV Shop's {url.path} page has no list of items")
            for item in items:
                if isinstance(item, dict):
                    yield item
            next_url = trail.next_url(page.get("next"), items_on_page=len(items))
            if next_url is None:
                return
            url = next_url

    @staticmethod
    def _model(model: type[M], body: Any, what: str) -> M:
        try:
            return model.model_validate(body)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(part) for part in first["loc"]) or what
            raise ApiError(f"CCV Shop sent a {what} with a bad {where}: {first['msg']}") from None

    # -- orders ---------------------------------------------------------------------------------

    def order_bodies(self, filters: OrderFilter | None = None) -> Iterator[dict[str, Any]]:
        """Raw order bodies (no rows) of a listing, each order once even if pages shift."""
        seen: set[str] = set()
        for body in self._items("orders", (filters or OrderFilter()).query()):
            order_id = str(body.get("id", ""))
            if order_id in seen:
                continue
            seen.add(order_id)
            yield body

    def order_body(self, order_id: str | int) -> dict[str, Any]:
        """The raw body of ``GET /orders/:id``."""
        body: dict[str, Any] = self._get(self._url(f"orders/{int(order_id)}"))
        return body

    def order_rows_body(self, order_id: str | int) -> dict[str, Any]:
        """All rows of an order as one collection body ``{"items": [...]}`` (every page read)."""
        rows = list(self._items(f"orders/{int(order_id)}/orderrows"))
        return {"items": rows}

    def order_document(self, order_id: str | int) -> dict[str, Any]:
        """``{"order": ..., "orderrows": ...}`` — the ``ccvbird preview`` input format."""
        return {"order": self.order_body(order_id), "orderrows": self.order_rows_body(order_id)}

    def order(self, order_id: str | int) -> Order:
        """One order with its rows, as the domain sees it."""
        return parse_order(self.order_body(order_id), self.order_rows_body(order_id))

    def orders(
        self, filters: OrderFilter | None = None, *, on_invalid: InvalidOrderHandler | None = None
    ) -> Iterator[Order]:
        """Every order matching ``filters``, each with its rows, each exactly once.

        An order whose data cannot be read raises :class:`InvalidOrderData` (with the order id in
        a note), or — when ``on_invalid`` is given — is handed to it and skipped, so one bad order
        does not stop a backfill.
        """
        for body in self.order_bodies(filters):
            order_id = str(body.get("id", ""))
            try:
                if not is_order_id(order_id):
                    raise InvalidOrderData(
                        "order.id", f"{_shown(body.get('id'))} is not an order id"
                    )
                order = parse_order(body, self.order_rows_body(order_id))
            except InvalidOrderData as problem:
                if on_invalid is None:
                    problem.add_note(f"CCV order id {order_id}")
                    raise
                on_invalid(order_id, problem)
                continue
            yield order

    # -- invoices -------------------------------------------------------------------------------

    def invoices(self, filters: InvoiceFilter | None = None) -> Iterator[Invoice]:
        for body in self._items("invoices", (filters or InvoiceFilter()).query()):
            yield self._model(Invoice, body, "invoice")

    def invoice(self, invoice_id: str | int) -> Invoice:
        return self._model(Invoice, self._get(self._url(f"invoices/{int(invoice_id)}")), "invoice")

    def return_(self, return_id: str | int) -> Return:
        """``GET /returns/:id`` (a return, RMA)."""
        return self._model(Return, self._get(self._url(f"returns/{int(return_id)}")), "return")

    def invoice_rows(self, invoice_id: str | int) -> list[InvoiceRow]:
        return [
            self._model(InvoiceRow, body, "invoice row")
            for body in self._items(f"invoices/{int(invoice_id)}/invoicerows")
        ]

    def set_invoice_external_reference(self, invoice_id: str | int, reference: str) -> None:
        """Write our reference (e.g. the Moneybird invoice number) onto a CCV invoice."""
        self._send(
            "PATCH",
            self._url(f"invoices/{int(invoice_id)}"),
            body={"external_reference": reference},
            idempotent=True,
        )

    # -- the shop -------------------------------------------------------------------------------

    def paymethods(self) -> list[Paymethod]:
        return [self._model(Paymethod, body, "paymethod") for body in self._items("paymethods")]

    def webshops(self) -> list[Webshop]:
        return [self._model(Webshop, body, "webshop") for body in self._items("webshops")]

    def _webshop_id(self, webshop_id: str | int | None) -> int:
        if webshop_id is not None:
            return int(webshop_id)
        shops = self.webshops()
        if not shops:
            raise ApiError("CCV Shop lists no webshop for these credentials")
        return int(shops[0].id)

    def merchant(self, webshop_id: str | int | None = None) -> Merchant:
        path = f"webshops/{self._webshop_id(webshop_id)}/merchant"
        return self._model(Merchant, self._get(self._url(path)), "merchant")

    def settings(self, webshop_id: str | int | None = None) -> WebshopSettings:
        path = f"webshops/{self._webshop_id(webshop_id)}/settings"
        return self._model(WebshopSettings, self._get(self._url(path)), "settings")

    def order_status_names(self, webshop_id: str | int | None = None) -> dict[int, str]:
        """The shop's own names of its order statuses (the first webshop's, by default)."""
        return self.settings(webshop_id).order_status_names()

    # -- webhooks -------------------------------------------------------------------------------

    def webhooks(self) -> list[Webhook]:
        return [self._model(Webhook, body, "webhook") for body in self._items("webhooks")]

    def create_webhook(self, event: str, address: str, *, is_active: bool = True) -> Webhook:
        """Register ``address`` for ``event``. Not retried on an unknown outcome: list first."""
        response = self._send(
            "POST",
            self._url("webhooks"),
            body={"event": event, "address": address, "is_active": is_active},
            idempotent=False,
        )
        body = self._json(response)
        if isinstance(body, dict) and body.get("id") is not None:
            return self._model(Webhook, body, "webhook")
        # CCV sometimes answers a POST with an empty body: find what we just made.
        for hook in self.webhooks():
            if hook.event == event and hook.address == address:
                return hook
        raise ApiError(f"CCV Shop accepted the {event} webhook but does not list it")

    def update_webhook(
        self, webhook_id: str | int, *, address: str | None = None, is_active: bool | None = None
    ) -> None:
        body: dict[str, Any] = {}
        if address is not None:
            body["address"] = address
        if is_active is not None:
            body["is_active"] = is_active
        if not body:
            raise ValueError("update_webhook: give an address, is_active or both")
        self._send("PATCH", self._url(f"webhooks/{int(webhook_id)}"), body=body, idempotent=True)

    def delete_webhook(self, webhook_id: str | int) -> None:
        """Delete a webhook; one that is already gone counts as deleted."""
        try:
            self._send("DELETE", self._url(f"webhooks/{int(webhook_id)}"), idempotent=True)
        except NotFound:
            return

    # -- apps -----------------------------------------------------------------------------------

    def apps(self) -> list[App]:
        return [self._model(App, body, "app") for body in self._items("apps")]

    def our_app(self) -> App:
        """The App Store app these credentials belong to (``GET /apps`` lists exactly that one)."""
        apps = self.apps()
        if not apps:
            raise ApiError(
                "CCV Shop lists no app for these credentials: they were not issued by an App "
                "Store installation"
            )
        return apps[0]

    def set_app_installed(self, app_id: str | int, installed: bool = True) -> None:
        """Tell CCV the installation is finished (mandatory after the install page, §1.4)."""
        try:
            self._send(
                "PATCH",
                self._url(f"apps/{int(app_id)}"),
                body={"is_installed": installed},
                idempotent=True,
            )
        except ApiError as error:
            if error.code != "500.50":  # "same value": it already is
                raise
