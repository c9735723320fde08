"""What stands in front of the sandbox's API, as in front of a real shop's.

:class:`ApiGuard` is a plain ASGI middleware for every path under ``/api/rest/v1``:

1. reads the request exactly as it arrived — raw path, raw query string, body bytes — and checks
   ``x-public``/``x-date``/``x-hash`` against them; a missing, unknown, stale or wrong signature is
   answered 401 with a CCV error body;
2. counts the request against the per-minute limits (429 with ``429.10``/``429.11``);
3. injects the fault the shop's :class:`~.faults.FaultPlan` draws;
4. routes ``/orders/`` and ``/orders`` alike (CCV's links carry the slash, its SDK does not);
5. signs the answer with its own ``x-date``/``x-hash`` (reference §1.2).

Codes the reference does not give (a bad signature, a malformed parameter) are the sandbox's
choice: ``401.10`` and ``400.10``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ccvbird.adapters.ccvshop.wire import dumps
from ccvbird.sandbox.ccvshop.documents import error_body
from ccvbird.sandbox.ccvshop.shop import SandboxShop
from ccvbird.sandbox.ccvshop.signing import expected_hash, hashes_match, parse_x_date

API_PATH = "/api/rest/v1"
AUTH_CODE = "401.10"
#: Marks, in-process only, an answer the client must never receive (a timeout).
FAULT_HEADER = "x-sandbox-fault"

_FAULT_ANSWERS = {
    "429.10": (429, "Rate limit for this resource and method exceeded (sandbox fault)"),
    "429.11": (429, "Total API rate limit exceeded (sandbox fault)"),
    "500": (500, "Internal server error (sandbox fault)"),
    "503": (503, "Service temporarily unavailable (sandbox fault)"),
}


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _normalised(path: str) -> str:
    stripped = path.rstrip("/")
    return stripped or "/"


class ApiGuard:
    def __init__(self, app: ASGIApp, shop: SandboxShop) -> None:
        self.app = app
        self.shop = shop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == API_PATH or path.startswith(API_PATH + "/")):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        method: str = scope["method"]
        raw_path: bytes = scope.get("raw_path") or path.encode()
        query: bytes = scope.get("query_string", b"")
        uri = raw_path + (b"?" + query if query else b"")
        headers = {
            key.decode("latin-1").lower(): value.decode("latin-1")
            for key, value in scope.get("headers", [])
        }
        public = headers.get("x-public", "")

        refusal = self._authenticate(method, uri, body, headers)
        if refusal is not None:
            await self._answer(send, 401, error_body(401, AUTH_CODE, refusal), method, uri, public)
            return
        over = self.shop.limiter.admit(method, path)
        if over is not None:
            what = "this resource and method" if over == "429.10" else "the shop in total"
            message = f"Too many requests: the per-minute limit for {what} is reached"
            await self._answer(send, 429, error_body(429, over, message), method, uri, public)
            return
        fault = self.shop.faults.draw()
        if fault in _FAULT_ANSWERS:
            status, message = _FAULT_ANSWERS[fault]
            code = fault if status == 429 else f"{status}"
            await self._answer(send, status, error_body(status, code, message), method, uri, public)
            return
        if fault == "slow":
            await anyio.to_thread.run_sync(self.shop.sleep, self.shop.faults.slow_seconds)

        status, response_headers, content = await self._call_app(scope, body, public)
        if fault == "timeout":
            if self.shop.in_process:
                response_headers.append((FAULT_HEADER.encode(), b"timeout"))
            else:
                await anyio.sleep(self.shop.faults.timeout_seconds)
        await self._send(send, status, response_headers, content, method, uri, public)

    def _authenticate(
        self, method: str, uri: bytes, body: bytes, headers: dict[str, str]
    ) -> str | None:
        """Why the request is refused, or ``None`` when its signature is right."""
        for name in ("x-public", "x-date", "x-hash"):
            if not headers.get(name):
                return f"Missing header {name}"
        public, date, offered = headers["x-public"], headers["x-date"], headers["x-hash"]
        secret = self.shop.secret_for(public)
        if secret is None:
            return "Unknown or revoked x-public key"
        moment = parse_x_date(date)
        if moment is None:
            return f"x-date {date!r} is not an ISO-8601 date-time with a time zone"
        now = datetime.fromtimestamp(self.shop.clock(), UTC)
        skew = abs((now - moment).total_seconds())
        if skew > self.shop.max_clock_skew:
            return (
                f"x-date {date} is {skew:.0f} s away from the server's time "
                f"(at most {self.shop.max_clock_skew:.0f} s allowed)"
            )
        if not hashes_match(expected_hash(secret, public, method, uri, body, date), offered):
            return "x-hash does not match the request (public|method|uri|body|x-date)"
        return None

    async def _call_app(
        self, scope: Scope, body: bytes, public: str
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        path = _normalised(scope["path"])
        inner = dict(scope)
        inner["path"] = path
        inner["raw_path"] = path.encode()
        inner["state"] = {**scope.get("state", {}), "ccv_public": public}
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "http.disconnect"}

        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(inner, replay, capture)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        return int(start.get("status", 500)), headers, b"".join(chunks)

    async def _answer(
        self, send: Send, status: int, body: dict[str, Any], method: str, uri: bytes, public: str
    ) -> None:
        headers = [(b"content-type", b"application/json")]
        await self._send(send, status, headers, dumps(body).encode(), method, uri, public)

    async def _send(
        self,
        send: Send,
        status: int,
        headers: list[tuple[bytes, bytes]],
        content: bytes,
        method: str,
        uri: bytes,
        public: str,
    ) -> None:
        secret = self.shop.secret_for(public) if public else None
        if secret is not None:
            date = self.shop.now_text()
            signed = expected_hash(secret, public, method, uri, content, date)
            headers = [*headers, (b"x-date", date.encode()), (b"x-hash", signed.encode())]
        headers = [*headers, (b"content-length", str(len(content)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content, "more_body": False})
