"""The sandbox shop over HTTP: CCV's REST API under ``/api/rest/v1`` and a merchant's backend
under ``/_sandbox``.

The API serves what ccvbird's client uses, with the real field names, CCV's paging (``start``,
``size``, absolute ``next`` links that keep the filters) and CCV's error bodies. Everything in
front of it — signatures, limits, faults, response signing — is :class:`~.guard.ApiGuard`.

``/_sandbox`` is for demos and people (no signature needed): create, generate, pay and advance
orders, add one as a document (absurd ones too, raw bytes kept: ``POST
/_sandbox/orders/document``), credit them, see webhook deliveries, and install an app through the
simulated App Store (``GET /_sandbox/apps/{id}/install`` sends the browser on, as CCV does).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from ccvbird.adapters.ccvshop.wire import dumps, loads, loads_isolating
from ccvbird.sandbox.ccvshop import documents
from ccvbird.sandbox.ccvshop.guard import ApiGuard
from ccvbird.sandbox.ccvshop.outbound import Delivery
from ccvbird.sandbox.ccvshop.queries import (
    BadParameter,
    Params,
    filter_invoices,
    filter_orders,
    filter_returns,
    page_of,
)
from ccvbird.sandbox.ccvshop.shop import (
    HandshakeRefused,
    NothingToInvoice,
    SandboxError,
    SandboxShop,
    UnknownRecord,
)

V1 = "/api/rest/v1"
BAD_REQUEST = "400.10"


def _json(document: Any, status: int = 200) -> Response:
    # ``surrogateescape``: text the shop holds as raw bytes (``"M\udce9ller"``, an order added
    # with a Latin-1 name) goes out as those bytes, invalid UTF-8, as a garbled real shop sends.
    body = dumps(document).encode("utf-8", "surrogateescape")
    return Response(body, status_code=status, media_type="application/json")


def _error(status: int, code: str, message: str) -> Response:
    return _json(documents.error_body(status, code, message), status)


def _params(request: Request) -> Params:
    return list(request.query_params.multi_items())


def _not_found(what: str) -> Response:
    return _error(404, "404.10", f"{what} not found")


async def _object_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = loads(raw) if raw.strip() else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadParameter("body", "is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadParameter("body", "must be a JSON object")
    return body


def _counts(body: dict[str, Any]) -> dict[int, Decimal]:
    """``"rows": [{"id": <order row id>, "count": <items>}, …]`` of a merchant action."""
    rows = body.get("rows")
    if not isinstance(rows, list) or not rows:
        raise BadParameter("rows", 'must be a list of {"id": order row id, "count": items}')
    counts: dict[int, Decimal] = {}
    for row in rows:
        row_id = row.get("id") if isinstance(row, dict) else None
        count = row.get("count", 1) if isinstance(row, dict) else None
        if not isinstance(row_id, int) or isinstance(row_id, bool):
            raise BadParameter("rows", "each row needs the order row's id")
        if not isinstance(count, int | Decimal) or isinstance(count, bool) or count <= 0:
            raise BadParameter("rows", f"row {row_id}: count must be a positive number")
        counts[row_id] = counts.get(row_id, Decimal(0)) + Decimal(str(count))
    return counts


def _flag(body: dict[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise BadParameter(name, "must be true or false")
    return value


def _address(value: Any) -> str:
    if not isinstance(value, str) or urlsplit(value).scheme not in {"http", "https"}:
        raise BadParameter("address", f"{value!r} is not an http(s) URL")
    return value


def _delivery(delivery: Delivery) -> dict[str, Any]:
    return {
        "webhook_id": delivery.webhook_id,
        "event": delivery.event,
        "address": delivery.address,
        "status": delivery.status,
        "error": delivery.error,
        "body": delivery.body.decode(),
    }


def create_app(shop: SandboxShop) -> FastAPI:
    """The sandbox shop as an ASGI app (guarded like a real shop)."""
    app = FastAPI(
        title="ccvbird CCV Shop sandbox",
        redirect_slashes=False,
        docs_url="/_sandbox/docs",
        openapi_url="/_sandbox/openapi.json",
        redoc_url=None,
    )

    def page(request: Request, path: str, items: list[Any]) -> Response:
        at = page_of(
            _params(request), default_size=shop.default_page_size, max_size=shop.max_page_size
        )
        document = documents.collection(
            shop.root, path, items, start=at.start, size=at.size, query=at.rest
        )
        return _json(document)

    # -- errors in CCV's words --------------------------------------------------------------

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return _error(404, "404.20", f"Invalid resource name: {request.url.path}")
        if exc.status_code == 405:
            return _error(405, "405.10", f"Method {request.method} not allowed here")
        return _error(exc.status_code, f"{exc.status_code}", str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        return _error(400, BAD_REQUEST, f"Invalid {where}: {first.get('msg', 'invalid')}")

    @app.exception_handler(BadParameter)
    async def bad_parameter(request: Request, exc: BadParameter) -> Response:
        return _error(400, BAD_REQUEST, str(exc))

    @app.exception_handler(UnknownRecord)
    async def unknown(request: Request, exc: UnknownRecord) -> Response:
        return _error(404, "404.10", str(exc))

    @app.exception_handler(SandboxError)
    async def refused(request: Request, exc: SandboxError) -> Response:
        # A merchant action that does not fit the shop's state (only /_sandbox raises these).
        return _error(409, "409.10", str(exc))

    # -- API: orders ------------------------------------------------------------------------

    @app.get(V1)
    def root() -> Response:
        names = ("orders", "orderrows", "invoices", "invoicerows", "returns", "paymethods",
                 "webshops", "webhooks", "apps")  # fmt: skip
        items = [{"name": name, "href": f"{shop.root}/{name}"} for name in names]
        return _json({"href": shop.root, "items": items})

    @app.get(f"{V1}/orders")
    def list_orders(request: Request) -> Response:
        return page(request, "orders", filter_orders(shop.orders(), _params(request)))

    @app.get(f"{V1}/orders/{{order_id}}")
    def get_order(order_id: int) -> Response:
        order = shop.order(order_id)
        return _not_found(f"Order {order_id}") if order is None else _json(order)

    @app.patch(f"{V1}/orders/{{order_id}}")
    async def patch_order(order_id: int, request: Request) -> Response:
        body = await _object_body(request)
        if "status" in body and (not isinstance(body["status"], int) or body["status"] < 1):
            raise BadParameter("status", "must be an order status number")
        if "paid" in body:
            _flag(body, "paid")
        await run_in_threadpool(shop.patch_order, order_id, body)
        return Response(status_code=204)

    @app.get(f"{V1}/orders/{{order_id}}/orderrows")
    def list_order_rows(order_id: int, request: Request) -> Response:
        rows = shop.order_rows(order_id)
        if rows is None:
            return _not_found(f"Order {order_id}")
        return page(request, f"orders/{order_id}/orderrows", rows)

    @app.get(f"{V1}/orderrows/{{row_id}}")
    def get_order_row(row_id: int) -> Response:
        row = shop.order_row(row_id)
        return _not_found(f"Orderrow {row_id}") if row is None else _json(row)

    # -- API: invoices ----------------------------------------------------------------------

    @app.get(f"{V1}/invoices")
    def list_invoices(request: Request) -> Response:
        words = {word: code for code, word in documents.INVOICE_STATUS.items()}
        return page(request, "invoices", filter_invoices(shop.invoices(), _params(request), words))

    @app.get(f"{V1}/invoices/{{invoice_id}}")
    def get_invoice(invoice_id: int) -> Response:
        invoice = shop.invoice(invoice_id)
        return _not_found(f"Invoice {invoice_id}") if invoice is None else _json(invoice)

    @app.patch(f"{V1}/invoices/{{invoice_id}}")
    async def patch_invoice(invoice_id: int, request: Request) -> Response:
        body = await _object_body(request)
        try:
            await run_in_threadpool(shop.patch_invoice, invoice_id, body)
        except ValueError as exc:
            raise BadParameter("status", str(exc)) from None
        return Response(status_code=204)

    @app.get(f"{V1}/invoices/{{invoice_id}}/invoicerows")
    def list_invoice_rows(invoice_id: int, request: Request) -> Response:
        rows = shop.invoice_rows(invoice_id)
        if rows is None:
            return _not_found(f"Invoice {invoice_id}")
        return page(request, f"invoices/{invoice_id}/invoicerows", rows)

    @app.get(f"{V1}/invoicerows/{{row_id}}")
    def get_invoice_row(row_id: int) -> Response:
        row = shop.invoice_row(row_id)
        return _not_found(f"Invoicerow {row_id}") if row is None else _json(row)

    @app.post(f"{V1}/orders/{{order_id}}/invoices")
    async def create_invoice(order_id: int, request: Request) -> Response:
        """An invoice for the difference between the order and its latest invoices."""
        body = await _object_body(request)
        extra = set(body) - {"status", "payment_link_sent", "external_reference"}
        if extra:
            raise BadParameter(sorted(extra)[0], "is not a field of an invoice input")
        status = None
        if body.get("status") is not None:
            words = {word: code for code, word in documents.INVOICE_STATUS.items()}
            status = words.get(str(body["status"]), str(body["status"]))
            if status not in documents.INVOICE_STATUS:
                raise BadParameter("status", "expected 1, 2, 3 or paid, unpaid, reimbursed")
        reference = body.get("external_reference")
        try:
            invoice_id = await run_in_threadpool(
                lambda: shop.invoice_difference(
                    order_id, status=status,
                    external_reference=None if reference is None else str(reference),
                )
            )  # fmt: skip
        except NothingToInvoice as exc:
            return _error(400, BAD_REQUEST, str(exc))
        return _json(shop.invoice(invoice_id), 201)

    # -- API: returns -----------------------------------------------------------------------

    @app.get(f"{V1}/returns")
    def list_returns(request: Request) -> Response:
        return page(request, "returns", filter_returns(shop.returns(), _params(request)))

    @app.get(f"{V1}/returns/{{return_id}}")
    def get_return(return_id: int) -> Response:
        document = shop.return_(return_id)
        return _not_found(f"Return {return_id}") if document is None else _json(document)

    @app.get(f"{V1}/returns/{{return_id}}/returnrows")
    def list_return_rows(return_id: int, request: Request) -> Response:
        rows = shop.return_rows(return_id)
        if rows is None:
            return _not_found(f"Return {return_id}")
        return page(request, f"returns/{return_id}/returnrows", rows)

    # -- API: the shop ----------------------------------------------------------------------

    @app.get(f"{V1}/paymethods")
    def list_paymethods(request: Request) -> Response:
        return page(request, "paymethods", documents.paymethods())

    @app.get(f"{V1}/webshops")
    def list_webshops(request: Request) -> Response:
        return page(request, "webshops", [shop.webshop()])

    def _webshop(webshop_id: int) -> None:
        if webshop_id != shop.webshop_id:
            raise UnknownRecord(f"Webshop {webshop_id} not found")

    @app.get(f"{V1}/webshops/{{webshop_id}}")
    def get_webshop(webshop_id: int) -> Response:
        _webshop(webshop_id)
        return _json(shop.webshop())

    @app.get(f"{V1}/webshops/{{webshop_id}}/merchant")
    def get_merchant(webshop_id: int) -> Response:
        _webshop(webshop_id)
        return _json(shop.merchant())

    @app.get(f"{V1}/webshops/{{webshop_id}}/settings")
    def get_settings(webshop_id: int) -> Response:
        _webshop(webshop_id)
        return _json(shop.settings())

    # -- API: webhooks ----------------------------------------------------------------------

    @app.get(f"{V1}/webhooks")
    def list_webhooks(request: Request) -> Response:
        return page(request, "webhooks", shop.webhooks())

    @app.post(f"{V1}/webhooks")
    async def create_webhook(request: Request) -> Response:
        body = await _object_body(request)
        event = body.get("event")
        if event not in documents.WEBHOOK_EVENTS:
            raise BadParameter("event", f"{event!r} is not a webhook event")
        active = _flag(body, "is_active")
        document = shop.add_webhook(
            str(event), _address(body.get("address")), is_active=True if active is None else active
        )
        return _json(document, 201)

    @app.get(f"{V1}/webhooks/{{hook_id}}")
    def get_webhook(hook_id: int) -> Response:
        hook = shop.webhook(hook_id)
        return _not_found(f"Webhook {hook_id}") if hook is None else _json(hook)

    @app.patch(f"{V1}/webhooks/{{hook_id}}")
    async def patch_webhook(hook_id: int, request: Request) -> Response:
        body = await _object_body(request)
        extra = set(body) - {"address", "is_active"}
        if extra:
            raise BadParameter(sorted(extra)[0], "only address and is_active can be changed")
        address = _address(body["address"]) if "address" in body else None
        shop.update_webhook(hook_id, address=address, is_active=_flag(body, "is_active"))
        return Response(status_code=204)

    @app.delete(f"{V1}/webhooks/{{hook_id}}")
    def delete_webhook(hook_id: int) -> Response:
        shop.delete_webhook(hook_id)
        return Response(status_code=204)

    # -- API: apps --------------------------------------------------------------------------

    @app.get(f"{V1}/apps")
    def list_apps(request: Request) -> Response:
        return page(request, "apps", shop.apps_for(request.state.ccv_public))

    @app.get(f"{V1}/apps/{{app_id}}")
    def get_app(app_id: int, request: Request) -> Response:
        found = [a for a in shop.apps_for(request.state.ccv_public) if a["id"] == app_id]
        return _json(found[0]) if found else _not_found(f"App {app_id}")

    @app.patch(f"{V1}/apps/{{app_id}}")
    async def patch_app(app_id: int, request: Request) -> Response:
        body = await _object_body(request)
        installed = _flag(body, "is_installed")
        if installed is None:
            raise BadParameter("is_installed", "required (true or false)")
        if not shop.set_app_installed(request.state.ccv_public, app_id, installed):
            return _error(403, "403.10", f"These credentials do not belong to app {app_id}")
        return Response(status_code=204)

    # -- the merchant's backend -------------------------------------------------------------

    @app.get("/_sandbox")
    def overview() -> Response:
        orders = shop.orders()
        return _json(
            {
                "shop": shop.name,
                "api_root": shop.base_url,
                "orders": len(orders),
                "paid_and_completed": sum(
                    1 for o in orders if o.get("paid") and o.get("status") == 7
                ),
                "webhooks": shop.webhooks(),
                "deliveries": len(shop.deliveries),
                "faults_injected": shop.faults.injected,
            }
        )

    @app.post("/_sandbox/orders")
    async def merchant_create(request: Request) -> Response:
        body = await _object_body(request)
        status = body.get("status", 7)
        if status is not None and (not isinstance(status, int) or isinstance(status, bool)):
            raise BadParameter("status", "must be an order status number, or null")
        paid = _flag(body, "paid")
        order_id = await run_in_threadpool(
            lambda: shop.create_order(
                scenario=body.get("scenario"), status=status, paid=True if paid is None else paid
            )
        )
        return _json(shop.order(order_id), 201)

    @app.post("/_sandbox/orders/document")
    async def merchant_add_document(request: Request) -> Response:
        """Add an order as given (``{"order": ..., "orderrows": ...}``), absurd or not.

        The body is read byte-exactly: bytes that are not UTF-8 (a name in Latin-1) are kept and
        served as they came, so a test or a person can make the shop send invalid UTF-8.
        """
        raw = await request.body()
        try:
            document = loads_isolating(raw)
        except json.JSONDecodeError:
            raise BadParameter("body", "is not valid JSON") from None
        if not isinstance(document, dict) or not isinstance(document.get("order"), dict):
            raise BadParameter("body", 'must be an object with "order" and "orderrows"')
        rows = document.get("orderrows")
        if not isinstance(rows, dict | list):
            raise BadParameter("orderrows", "must be a collection or a list of rows")
        order_id = await run_in_threadpool(shop.add_order, document)
        return _json(shop.order(order_id), 201)

    @app.post("/_sandbox/orders/generate")
    async def merchant_generate(request: Request) -> Response:
        body = await _object_body(request)
        count = body.get("count", 10)
        if not isinstance(count, int) or not 0 <= count <= 100_000:
            raise BadParameter("count", "must be a number from 0 to 100000")
        ids = await run_in_threadpool(shop.generate, count)
        return _json({"created": ids}, 201)

    @app.post("/_sandbox/orders/{order_id}/status")
    async def merchant_status(order_id: int, request: Request) -> Response:
        body = await _object_body(request)
        status = body.get("status")
        if not isinstance(status, int):
            raise BadParameter("status", "must be an order status number (1-14)")
        try:
            await run_in_threadpool(shop.set_status, order_id, status)
        except ValueError as exc:
            raise BadParameter("status", str(exc)) from None
        return _json(shop.order(order_id))

    @app.post("/_sandbox/orders/{order_id}/paid")
    async def merchant_paid(order_id: int, request: Request) -> Response:
        body = await _object_body(request)
        paid = _flag(body, "paid")
        await run_in_threadpool(shop.set_paid, order_id, True if paid is None else paid)
        return _json(shop.order(order_id))

    # Credits: the merchant edits the order and CCV invoices the difference (a credit
    # invoice). ``refunded`` (default true): the money went back, the credit invoice is
    # "3" reimbursed; false leaves it "2" unpaid. Each answers 201 with the credit invoice.

    def _refunded(body: dict[str, Any]) -> bool:
        refunded = _flag(body, "refunded")
        return True if refunded is None else refunded

    @app.post("/_sandbox/orders/{order_id}/credit")
    async def merchant_credit(order_id: int, request: Request) -> Response:
        """Credit the whole order (a full refund)."""
        refunded = _refunded(await _object_body(request))
        invoice_id = await run_in_threadpool(lambda: shop.credit_order(order_id, refunded=refunded))
        return _json(shop.invoice(invoice_id), 201)

    @app.post("/_sandbox/orders/{order_id}/credit/rows")
    async def merchant_credit_rows(order_id: int, request: Request) -> Response:
        """Credit chosen rows: ``{"rows": [{"id", "count"}], "shipping": false}``."""
        body = await _object_body(request)
        counts, shipping, refunded = _counts(body), bool(_flag(body, "shipping")), _refunded(body)
        invoice_id = await run_in_threadpool(
            lambda: shop.credit_rows(order_id, counts, shipping=shipping, refunded=refunded)
        )
        return _json(shop.invoice(invoice_id), 201)

    @app.post("/_sandbox/orders/{order_id}/credit/shipping")
    async def merchant_credit_shipping(order_id: int, request: Request) -> Response:
        refunded = _refunded(await _object_body(request))
        invoice_id = await run_in_threadpool(
            lambda: shop.credit_shipping(order_id, refunded=refunded)
        )
        return _json(shop.invoice(invoice_id), 201)

    @app.post("/_sandbox/orders/{order_id}/cancel")
    async def merchant_cancel(order_id: int) -> Response:
        """Cancel the order: status 8, no credit invoice."""
        await run_in_threadpool(shop.cancel_order, order_id)
        return _json(shop.order(order_id))

    @app.post("/_sandbox/orders/{order_id}/returns")
    async def merchant_return(order_id: int, request: Request) -> Response:
        """The customer sends items back: ``{"rows": [{"id", "count"}], "reason": "…"}``."""
        body = await _object_body(request)
        counts = _counts(body)
        reason = str(body.get("reason") or "Retour")
        return_id = await run_in_threadpool(
            lambda: shop.create_return(order_id, counts, reason=reason)
        )
        return _json(shop.return_(return_id), 201)

    @app.post("/_sandbox/returns/{return_id}/status")
    async def merchant_return_status(return_id: int, request: Request) -> Response:
        status = (await _object_body(request)).get("status")
        if not isinstance(status, int | str) or isinstance(status, bool):
            raise BadParameter("status", "must be a return status (1-8)")
        try:
            await run_in_threadpool(shop.set_return_status, return_id, status)
        except ValueError as exc:
            raise BadParameter("status", str(exc)) from None
        return _json(shop.return_(return_id))

    @app.post("/_sandbox/returns/{return_id}/credit")
    async def merchant_credit_return(return_id: int, request: Request) -> Response:
        """Credit the return's rows (``"shipping": true`` adds the shipping); status 8."""
        body = await _object_body(request)
        shipping, refunded = bool(_flag(body, "shipping")), _refunded(body)
        invoice_id = await run_in_threadpool(
            lambda: shop.credit_return(return_id, shipping=shipping, refunded=refunded)
        )
        return _json(shop.invoice(invoice_id), 201)

    @app.delete("/_sandbox/returns/{return_id}")
    async def merchant_delete_return(return_id: int) -> Response:
        await run_in_threadpool(shop.delete_return, return_id)
        return Response(status_code=204)

    @app.get("/_sandbox/deliveries")
    def deliveries() -> Response:
        return _json([_delivery(d) for d in shop.deliveries])

    @app.post("/_sandbox/apps")
    async def register_app(request: Request) -> Response:
        body = await _object_body(request)
        try:
            app_id = shop.register_app(
                str(body.get("name") or "ccvbird"),
                app_secret=str(body.get("app_secret") or ""),
                handshake_uri=str(body.get("handshake_uri") or ""),
                install_uri=str(body.get("install_uri") or ""),
                uninstall_uri=str(body.get("uninstall_uri") or ""),
            )
        except ValueError as exc:
            name = str(exc).split(":", 1)[0]
            raise BadParameter(name, str(exc)) from None
        return _json({"id": app_id}, 201)

    @app.get("/_sandbox/apps/{app_id}/install", response_model=None)
    async def install(app_id: int, language: str = "nl") -> Response:
        """The merchant clicks *Install*: handshake, then the browser goes to the install page."""
        try:
            url = await run_in_threadpool(lambda: shop.install_app(app_id, language=language))
        except HandshakeRefused as exc:
            return _error(502, "502.10", str(exc))
        return RedirectResponse(url, status_code=302)

    @app.post("/_sandbox/apps/{app_id}/uninstall")
    async def uninstall(app_id: int) -> Response:
        try:
            status = await run_in_threadpool(shop.uninstall_app, app_id)
        except SandboxError as exc:
            return _error(409, "409.10", str(exc))
        return _json({"uninstall_status": status})

    @app.get("/_sandbox/apps/{app_id}/installed", response_class=HTMLResponse)
    def installed(app_id: int) -> HTMLResponse:
        app_record = shop.app(app_id)
        state = "installed" if app_record.installed else "not marked installed (yet)"
        return HTMLResponse(f"<h1>{app_record.name}</h1><p>The app is {state}.</p>")

    app.add_middleware(ApiGuard, shop=shop)
    return app
