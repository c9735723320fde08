"""``/healthz`` and ``/readyz``: for load balancers, Docker and Kubernetes probes.

``/healthz`` says the process is alive and touches nothing else (a slow database must not get
a healthy process restarted). ``/readyz`` asks the state database and the task queue, and
answers 503 naming the part that failed — only "database" and "queue", "ok" or "failed": no
error text, hosts or versions, since the endpoints need no sign-in.

The web app serves them; ``ccvbird worker --metrics-port N`` serves them from a worker
(:func:`health_server`, a small uvicorn app in a thread of the worker process).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

import uvicorn
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

#: Each part ``/readyz`` asks, by name: a callable that says whether it answers now.
Checks = Mapping[str, Callable[[], bool]]


def health_router(checks: Checks) -> APIRouter:
    router = APIRouter()

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


def health_app(checks: Checks) -> FastAPI:
    """An app of the two endpoints alone (a worker's ``--metrics-port``)."""
    web = FastAPI(title="ccvbird worker", docs_url=None, redoc_url=None, openapi_url=None)
    web.include_router(health_router(checks))
    return web


def health_server(checks: Checks, *, host: str, port: int) -> uvicorn.Server:
    """An unstarted uvicorn server for :func:`health_app` (access log off, as the web app's)."""
    config = uvicorn.Config(
        health_app(checks), host=host, port=port, access_log=False, log_level="warning"
    )
    return uvicorn.Server(config)


def serve_in_thread(server: uvicorn.Server) -> threading.Thread:
    """Run ``server`` in a daemon thread (uvicorn installs no signal handlers off the main
    thread, so the worker's own SIGTERM handling stays in charge); stop it with
    ``server.should_exit = True``."""
    thread = threading.Thread(target=server.run, name="ccvbird-health", daemon=True)
    thread.start()
    return thread
