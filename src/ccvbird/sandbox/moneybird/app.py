"""The sandbox as a FastAPI application: routes plus what sits in front of Moneybird's API.

In front of every ``/api/v2`` request, in this order: the ``.json`` suffix is dropped (``.xml``
is refused), a fault may be injected (:mod:`.faults`), and the per-token budget is charged
(429 with ``RateLimit-*`` headers and an epoch ``Retry-After`` when it is spent). After the
request, due webhook pushes are delivered when the sandbox is configured to.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from ccvbird.sandbox.moneybird import api, oauth
from ccvbird.sandbox.moneybird.constants import ADMINISTRATION_ID
from ccvbird.sandbox.moneybird.faults import FAULT_HEADER, Fault
from ccvbird.sandbox.moneybird.problems import MoneybirdProblem, not_found, routing_problem
from ccvbird.sandbox.moneybird.state import MoneybirdSandbox

NGINX_429 = (
    "<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n<body>\r\n"
    "<center><h1>429 Too Many Requests</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
NGINX_502 = "<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>"
NGINX_504 = (
    "<html><head><title>504 Gateway Time-out</title></head><body>504 Gateway Time-out</body></html>"
)


class _FormatSuffix:
    """Route ``/x.json`` as ``/x``; refuse ``.xml`` (the sandbox only speaks JSON)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path.endswith(".xml") and path.startswith("/api/"):
                response = JSONResponse({"error": "The sandbox only serves .json"}, 406)
                await response(scope, receive, send)
                return
            if path.endswith(".json"):
                scope = dict(scope, path=path[: -len(".json")])
        await self.app(scope, receive, send)


def create_app(sandbox: MoneybirdSandbox, *, delivery_interval: float | None = None) -> ASGIApp:
    """The ASGI application serving ``sandbox``.

    With ``delivery_interval`` (the real-server mode) due webhook pushes are delivered from a
    background loop every that many seconds, off the event loop, so a receiver that calls the
    sandbox back while handling a push does not wait for itself.
    """

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        task = None
        if delivery_interval is not None:
            task = asyncio.create_task(_deliver_forever(sandbox, delivery_interval))
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app = FastAPI(
        lifespan=lifespan,
        title="Moneybird sandbox",
        description="A faithful fake of Moneybird's REST API v2 for ccvbird's tests and demos.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.sandbox = sandbox
    app.include_router(api.router)
    app.include_router(oauth.router)

    @app.exception_handler(MoneybirdProblem)
    async def _problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, MoneybirdProblem)
        return api.problem_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _routing(request: Request, exc: Exception) -> Response:
        """No route (404) or not this method (405): Moneybird's ``{error, symbolic}`` body,
        not FastAPI's ``{"detail": ...}``, so a client reads every refusal the same way."""
        assert isinstance(exc, StarletteHTTPException)
        return api.problem_response(routing_problem(exc.status_code, exc.headers))

    @app.patch("/_sandbox/{administration_id}/tax_rates/{rate_id}", include_in_schema=False)
    async def _change_tax_rate(request: Request, administration_id: str, rate_id: str) -> Response:
        """For demos and tests: ``{"active": false}`` or ``{"percentage": "21"}``, as a person
        changes a rate in Moneybird's settings (no token: this is not Moneybird's API)."""
        body = await api.json_body(request)
        changes: dict[str, Any] = {}
        if isinstance(body, dict) and "active" in body:
            changes["active"] = body["active"]
        if isinstance(body, dict) and "percentage" in body:
            raw = body["percentage"]
            changes["percentage"] = None if raw is None else Decimal(str(raw))
        if not sandbox.has_administration(administration_id):
            raise not_found("Administration not found", "administration_id")
        try:
            sandbox.change_tax_rate(rate_id, administration_id=administration_id, **changes)
        except KeyError:
            raise not_found() from None
        rates = sandbox.renderer(administration_id).tax_rates()
        return JSONResponse(next(r for r in rates if r["id"] == rate_id))

    @app.get("/", include_in_schema=False)
    async def _index() -> Response:
        cfg = sandbox.config
        return HTMLResponse(
            "<!doctype html><title>Moneybird sandbox</title><h1>Moneybird sandbox</h1>"
            f"<p>API: <code>/api/v2</code>, token <code>{cfg.token}</code>, administration "
            f"<code>{ADMINISTRATION_ID}</code>.</p><p>OAuth: <code>/oauth/authorize</code>, "
            f"client <code>{cfg.oauth_client_id}</code>, user <code>{cfg.user_email}</code>.</p>"
        )

    @app.middleware("http")
    async def _in_front(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        path = request.url.path
        if not path.startswith("/api/v2/"):
            response = await call_next(request)
            sandbox.requests.append((request.method, path, response.status_code))
            return response
        response = await _guarded(sandbox, request, call_next)
        sandbox.requests.append((request.method, path, response.status_code))
        if sandbox.config.auto_deliver_webhooks:
            sandbox.deliver_webhooks()
        return response

    return _FormatSuffix(app)


async def _guarded(
    sandbox: MoneybirdSandbox,
    request: Request,
    call_next: Callable[[Request], Awaitable[Response]],
) -> Response:
    fault = sandbox.faults.decide(request.method, request.url.path)
    if fault is Fault.RATE_LIMIT:
        reset = int(sandbox.clock()) + 1
        return _too_many(sandbox, sandbox.config.rate_limit, 0, reset, injected=True)
    if fault is Fault.SERVER_ERROR:
        return JSONResponse(
            {"error": "Internal server error"}, 500, headers={FAULT_HEADER: fault.value}
        )
    if fault is Fault.TIMEOUT:
        return HTMLResponse(NGINX_504, 504, headers={FAULT_HEADER: fault.value})
    token = api.bearer(request) or f"anonymous:{request.client.host if request.client else ''}"
    decision = sandbox.rate_limiter.hit(token)
    if not decision.allowed:
        sandbox.refused[token] += 1
        return _too_many(sandbox, decision.limit, decision.remaining, decision.reset)
    response = await call_next(request)
    response.headers["RateLimit-Limit"] = str(decision.limit)
    response.headers["RateLimit-Remaining"] = str(decision.remaining)
    response.headers["RateLimit-Reset"] = str(decision.reset)
    if fault is Fault.LOST_RESPONSE:
        # The work is done; the answer is lost on the way back.
        body = getattr(response, "body_iterator", None)
        if body is not None:
            async for _ in body:
                pass
        return HTMLResponse(NGINX_502, 502, headers={FAULT_HEADER: fault.value})
    return response


def _too_many(
    sandbox: MoneybirdSandbox, limit: int, remaining: int, reset: int, *, injected: bool = False
) -> Response:
    headers = {
        "RateLimit-Limit": str(limit),
        "RateLimit-Remaining": str(remaining),
        "RateLimit-Reset": str(reset),
        "Retry-After": str(reset),
    }
    if injected:
        headers[FAULT_HEADER] = Fault.RATE_LIMIT.value
    if sandbox.config.html_429:
        return HTMLResponse(NGINX_429, 429, headers=headers)
    return JSONResponse("Retry later", 429, headers=headers)


async def _deliver_forever(sandbox: MoneybirdSandbox, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        await run_in_threadpool(sandbox.deliver_webhooks)
