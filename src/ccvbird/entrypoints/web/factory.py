"""``create_web_app``: the FastAPI application, its middleware and its error pages."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from functools import partial
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ccvbird import bootstrap
from ccvbird.bootstrap import App
from ccvbird.entrypoints import health
from ccvbird.entrypoints.web import i18n
from ccvbird.entrypoints.web.limits import BodyLimit
from ccvbird.entrypoints.web.pages import Pages
from ccvbird.entrypoints.web.routes import (
    api,
    appstore,
    auth,
    connect,
    dashboard,
    orders,
    profile,
    webhooks,
)
from ccvbird.entrypoints.web.security import (
    CsrfRefused,
    FirstStartRequired,
    NotFoundPage,
    SignInRequired,
)
from ccvbird.ports import Queue
from ccvbird.service.notify import Mailer
from ccvbird.wiring import WebBackend, web_backend
from ccvbird.wiring.jobs import send_due_notices

log = logging.getLogger("ccvbird.web")

STATIC = Path(__file__).parent / "static"
#: Routes answered in JSON (scripts, CCV, Moneybird), not with a page.
MACHINE_PATHS = ("/api/", "/webhooks/", "/ccv/handshake", "/ccv/uninstall")
SESSION_DAYS = 14


class RequestContext:
    """Sets the page language for the request and logs it — by route, never by URL.

    The log shows ``POST /webhooks/ccv/{token}/{event} 202``: the path template, not the path,
    so a webhook token, an OAuth code or an App Store hash never reaches a log line.
    """

    def __init__(self, app: ASGIApp, backend: WebBackend) -> None:
        self.app = app
        self.backend = backend

    def _language(self, scope: Scope) -> str:
        session = scope.get("session") or {}
        requested = session.get("lang")
        account_language = None
        token = session.get("sid")
        if requested is None and isinstance(token, str):
            account = self.backend.accounts.session_account(token)
            account_language = account.language if account else None
        return i18n.choose(requested, account_language)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = i18n.set_language(self._language(scope))
        status = 500
        started = time.perf_counter()

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "(no route)"
            elapsed = (time.perf_counter() - started) * 1000
            log.info("%s %s %s %.0fms", scope["method"], template, status, elapsed)
            i18n._language.reset(token)


def create_web_app(
    app: App,
    queue: Queue,
    *,
    mailer: Mailer | None = None,
    queue_answers: Callable[[], bool] | None = None,
    database_answers: Callable[[], bool] | None = None,
    metrics: health.MetricsRender | None = None,
) -> FastAPI:
    """The web app for ``app``; ``queue`` is where webhooks, retries and "sync now" put work.

    ``mailer`` overrides the SMTP settings (tests). E-mail notices are checked every
    ``notify_interval_seconds`` while the app runs, when mail is configured.
    ``/readyz`` asks ``database_answers`` (default: a ``SELECT 1`` on the state database) and
    ``queue_answers`` (the task queue's storage; without it ``/readyz`` names no queue).
    ``metrics``: what ``/metrics`` answers (none without it); see docs/operations.md.
    """
    backend = web_backend(app, mailer=mailer)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        task = None
        if backend.mailer is not None:
            task = asyncio.create_task(_notify_forever(backend))
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    web = FastAPI(
        title="ccvbird",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    web.state.backend = backend
    web.state.queue = queue
    web.state.pages = Pages()
    pages: Pages = web.state.pages

    for module in (auth, appstore, connect, profile, dashboard, orders, webhooks, api):
        web.include_router(module.router)
    web.mount("/static", StaticFiles(directory=STATIC), name="static")

    @web.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        if request.url.path.startswith("/api/"):
            return Response('{"error": "sign in first"}', 401, media_type="application/json")
        return RedirectResponse(f"/login?next={quote(exc.next_path)}", status_code=303)

    @web.exception_handler(FirstStartRequired)
    async def _first_start(request: Request, exc: FirstStartRequired) -> Response:
        if request.url.path.startswith("/api/"):
            return Response('{"error": "sign in first"}', 401, media_type="application/json")
        return RedirectResponse("/first-start", status_code=303)

    @web.exception_handler(NotFoundPage)
    async def _not_found(request: Request, exc: NotFoundPage) -> Response:
        if request.url.path.startswith("/api/"):
            return Response('{"error": "not found"}', 404, media_type="application/json")
        return pages.render(
            request,
            "message.html",
            status=404,
            title=i18n._("Not found"),
            message=i18n._("There is nothing here, or it is not yours to see."),
        )

    @web.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> Response:
        """A path or query the routes cannot read (an id of a thousand digits): 400, not 500."""
        fields = ", ".join(
            sorted({".".join(str(p) for p in e.get("loc", ())[1:]) for e in exc.errors()})
        )[:200]
        if request.url.path.startswith(MACHINE_PATHS):
            return JSONResponse({"error": f"bad request: {fields}"}, status_code=400)
        return pages.render(
            request,
            "message.html",
            status=400,
            title=i18n._("Bad request"),
            message=i18n._("This address is not valid here (%(fields)s).", fields=fields),
        )

    @web.exception_handler(CsrfRefused)
    async def _csrf(request: Request, exc: CsrfRefused) -> Response:
        return pages.render(
            request,
            "message.html",
            status=403,
            title=i18n._("Form refused"),
            message=i18n._(
                "The form was not sent from this page (its security token is missing or "
                "old). Go back, reload the page and try again."
            ),
        )

    checks: dict[str, Callable[[], bool]] = {
        "database": database_answers or partial(bootstrap.database_answers, app)
    }
    if queue_answers is not None:
        checks["queue"] = queue_answers
    token = app.settings.metrics_token
    web.include_router(
        health.health_router(
            checks, metrics, metrics_token=token.get_secret_value() if token else None
        )
    )

    web.add_middleware(BodyLimit, max_bytes=app.settings.max_body_bytes)
    web.add_middleware(RequestContext, backend=backend)
    web.add_middleware(
        SessionMiddleware,
        secret_key=backend.session_secret,
        session_cookie="ccvbird_session",
        max_age=SESSION_DAYS * 24 * 3600,
        same_site="lax",
        https_only=app.settings.public_url.startswith("https://"),
    )
    return web


async def _notify_forever(backend: WebBackend) -> None:
    while True:
        await asyncio.sleep(backend.settings.notify_interval_seconds)
        try:
            await run_in_threadpool(send_due_notices, backend)
        except Exception:
            log.exception("checking for e-mail notices failed; the next check tries again")
