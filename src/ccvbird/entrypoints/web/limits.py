"""Limits on what a request may bring: the body's size, and ids that are ids.

Every route reads its body through :class:`BodyLimit`, so no handler is handed more than
``max_body_bytes`` (413 instead). A request the routes cannot read — a path id of a thousand
digits, a query parameter of the wrong type — is a bad request (400), never a server error.
"""

from __future__ import annotations

from fastapi import Path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The largest id a path may carry: the state database's integer columns hold 64 bits.
MAX_ID = 2**63 - 1
#: Order ids are stored in 40 characters (CCV's are numbers of up to 18 digits).
MAX_ORDER_ID_LENGTH = 40

ID_IN_PATH = Path(ge=1, le=MAX_ID)
ORDER_ID_IN_PATH = Path(min_length=1, max_length=MAX_ORDER_ID_LENGTH)


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    """Answer 413 to a request whose body is larger than ``max_bytes``.

    A declared ``Content-Length`` above the limit is refused before anything is read; a body
    without one (chunked) is read up to the limit and refused as soon as it passes it. The body
    is read once, here, and handed on, so the limit holds whatever the route does with it.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > self.max_bytes
            except ValueError:
                await _answer(send, 400, b'{"error": "the Content-Length header is not a number"}')
                return
            if too_large:
                await _answer(send, 413, self._message())
                return
        try:
            body = await self._read(receive)
        except BodyTooLarge:
            await _answer(send, 413, self._message())
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _read(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)  # the client went away; the route sees an empty body
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                raise BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _message(self) -> bytes:
        return b'{"error": "the request body is larger than %d bytes"}' % self.max_bytes


async def _answer(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
