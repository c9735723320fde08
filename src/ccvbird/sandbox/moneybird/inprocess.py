"""The sandbox in-process: an httpx transport that hands requests straight to the app.

No sockets, no threads of its own, no sleeping: a test builds a :class:`MoneybirdSandbox` with a
fake clock, wraps it in a :class:`SandboxTransport` and gives that to the client. Injected
``TIMEOUT`` and ``LOST_RESPONSE`` faults surface as :class:`httpx.ReadTimeout`, exactly what a
client sees when the network drops an answer (for ``LOST_RESPONSE`` the write has happened).
"""

from __future__ import annotations

import asyncio
import concurrent.futures

import httpx
from starlette.types import ASGIApp

from ccvbird.sandbox.moneybird.app import create_app
from ccvbird.sandbox.moneybird.faults import FAULT_HEADER, Fault
from ccvbird.sandbox.moneybird.state import MoneybirdSandbox

#: Base URL of the API for in-process clients (any host works; this one reads well in logs).
IN_PROCESS_BASE_URL = "http://moneybird.sandbox/api/v2"
IN_PROCESS_OAUTH_URL = "http://moneybird.sandbox/oauth"

_SILENT_FAULTS = {Fault.TIMEOUT.value, Fault.LOST_RESPONSE.value}


class SandboxTransport(httpx.BaseTransport):
    """Synchronous httpx transport serving requests from the sandbox app in this process."""

    def __init__(self, sandbox: MoneybirdSandbox, app: ASGIApp | None = None) -> None:
        self.sandbox = sandbox
        self._asgi = httpx.ASGITransport(app=app or create_app(sandbox))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        content = request.read()
        copy = httpx.Request(request.method, request.url, headers=request.headers, content=content)
        with self.sandbox.lock:
            status, headers, body = _run(self._call(copy))
        if headers.get(FAULT_HEADER) in _SILENT_FAULTS:
            raise httpx.ReadTimeout(
                f"sandbox fault {headers[FAULT_HEADER]}: no answer", request=request
            )
        return httpx.Response(status, headers=headers, content=body, request=request)

    async def _call(self, request: httpx.Request) -> tuple[int, httpx.Headers, bytes]:
        response = await self._asgi.handle_async_request(request)
        body = await response.aread()
        return response.status_code, response.headers, body


def _run(coroutine: object) -> tuple[int, httpx.Headers, bytes]:
    """Run the app's coroutine to completion, also when the caller already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)  # type: ignore[arg-type]
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()  # type: ignore[arg-type]


def sandbox_http_client(sandbox: MoneybirdSandbox, **kwargs: object) -> httpx.Client:
    """A plain httpx client talking to ``sandbox`` in-process (for poking at it in tests)."""
    return httpx.Client(transport=SandboxTransport(sandbox), base_url=IN_PROCESS_BASE_URL, **kwargs)  # type: ignore[arg-type]
