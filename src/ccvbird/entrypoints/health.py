"""``/healthz`` and ``/readyz``: for load balancers, Docker and Kubernetes probes; and
``/metrics`` for Prometheus (docs/operations.md).

``/healthz`` says the process is alive and touches nothing else (a slow database must not get
a healthy process restarted). ``/readyz`` asks the state database and the task queue, and
answers 503 naming the part that failed — only "database" and "queue", "ok" or "failed": no
error text, hosts or versions, since the endpoints need no sign-in.

``/metrics`` needs no sign-in either: its labels are connection ids, states, outcomes and
reason codes — no names, addresses or texts; with ``CCVBIRD_METRICS_TOKEN`` set it asks for
that token (the web app's address is public).

The web app serves them; ``ccvbird worker --metrics-port N`` serves them from a worker
(:func:`health_server`, a small uvicorn app in a thread of the worker process).
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Callable, Mapping
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from uvicorn.config import LOGGING_CONFIG

#: Each part ``/readyz`` asks, by name: a callable that says whether it answers now.
Checks = Mapping[str, Callable[[], bool]]


#: What ``/metrics`` answers: (body, content type), read fresh at every scrape.
MetricsRender = Callable[[], tuple[bytes, str]]


def health_router(
    checks: Checks, metrics: MetricsRender | None = None, *, metrics_token: str | None = None
) -> APIRouter:
    """``metrics_token``: when given, ``/metrics`` answers only a request that carries it as
    ``Authorization: Bearer <token>`` (Prometheus' ``authorization`` setting), 401 otherwise."""
    router = APIRouter()

    if metrics is not None:

        @router.get("/metrics", include_in_schema=False)
        async def _metrics(request: Request) -> Response:
            if metrics_token and not _bearer_is(request, metrics_token):
                return JSONResponse({"error": "a metrics token is needed"}, status_code=401)
            # Read from the database and the queue: off the event loop, as the checks are.
            body, content_type = await run_in_threadpool(metrics)
            return Response(body, media_type=content_type)

    @router.get("/healthz", include_in_schema=False)
    async def _healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @router.get("/readyz", include_in_schema=False)
    async def _readyz() -> JSONResponse:
        # The checks do blocking I/O: off the event loop, so a hung database stalls no page.
        results = {name: await run_in_threadpool(check) for name, check in checks.items()}
        ready = all(results.values())
        body: dict[str, object] = {
            "status": "ok" if ready else "failed",
            **{name: "ok" if answered else "failed" for name, answered in results.items()},
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    return router


def _bearer_is(request: Request, token: str) -> bool:
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip(), token)


def health_app(
    checks: Checks, metrics: MetricsRender | None = None, *, metrics_token: str | None = None
) -> FastAPI:
    """An app of these endpoints alone (a worker's ``--metrics-port``)."""
    web = FastAPI(title="ccvbird worker", docs_url=None, redoc_url=None, openapi_url=None)
    web.include_router(health_router(checks, metrics, metrics_token=metrics_token))
    return web


def health_server(
    checks: Checks,
    *,
    host: str,
    port: int,
    metrics: MetricsRender | None = None,
    metrics_token: str | None = None,
    log_config: dict[str, Any] | None = LOGGING_CONFIG,
) -> uvicorn.Server:
    """An unstarted uvicorn server for :func:`health_app` (access log off, as the web app's)."""
    config = uvicorn.Config(
        health_app(checks, metrics, metrics_token=metrics_token), host=host, port=port,
        access_log=False, log_level="warning", log_config=log_config,
    )  # fmt: skip
    return uvicorn.Server(config)


def serve_in_thread(server: uvicorn.Server) -> threading.Thread:
    """Run ``server`` in a daemon thread (uvicorn installs no signal handlers off the main
    thread, so the worker's own SIGTERM handling stays in charge); stop it with
    ``server.should_exit = True``."""
    thread = threading.Thread(target=server.run, name="ccvbird-health", daemon=True)
    thread.start()
    return thread
