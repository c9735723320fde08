"""The sandbox shop in the test's own process: an httpx transport, no socket, no server.

:class:`InProcessTransport` is a synchronous :class:`httpx.BaseTransport` that runs the shop's
ASGI app on an event loop in a helper (daemon) thread through httpx's own
:class:`httpx.ASGITransport`, which hands the app the raw path and query exactly as sent — what
the signature check needs. Sync clients and code that runs its own event loop can both use it.

A ``timeout`` fault arrives marked instead of held, and becomes :class:`httpx.ReadTimeout` here:
the request was processed, the answer is lost — without anyone waiting.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
from fastapi import FastAPI

from ccvbird.sandbox.ccvshop.api import create_app
from ccvbird.sandbox.ccvshop.guard import FAULT_HEADER
from ccvbird.sandbox.ccvshop.shop import SandboxShop


class InProcessTransport(httpx.BaseTransport):
    def __init__(self, shop: SandboxShop, app: FastAPI | None = None) -> None:
        shop.in_process = True
        self.shop = shop
        self.app = app or create_app(shop)
        self._asgi = httpx.ASGITransport(app=self.app)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="ccv-sandbox-in-process", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    async def _exchange(self, request: httpx.Request) -> tuple[int, list[tuple[str, str]], bytes]:
        response = await self._asgi.handle_async_request(request)
        content = await response.aread()
        return response.status_code, response.headers.multi_items(), content

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        future = asyncio.run_coroutine_threadsafe(self._exchange(request), self._running_loop())
        status, headers, content = future.result()
        if dict(headers).get(FAULT_HEADER) == "timeout":
            raise httpx.ReadTimeout(
                "the sandbox lost the answer (injected timeout)", request=request
            )
        return httpx.Response(status, headers=headers, content=content)

    def close(self) -> None:
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            loop.close()


def in_process_client(shop: SandboxShop, **options: Any) -> httpx.Client:
    """An :class:`httpx.Client` whose requests go to ``shop`` in-process (base URL preset)."""
    return httpx.Client(transport=InProcessTransport(shop), base_url=shop.base_url, **options)
