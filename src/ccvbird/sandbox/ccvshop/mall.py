"""Many sandbox shops behind one server: shop ``n`` lives under ``/shops/n``.

A provider's ccvbird serves many shops; a benchmark or a test of that needs many shops without
a process each. :class:`ShopMall` is an ASGI app that routes ``/shops/{n}/…`` to shop ``n``'s own
app (its API under ``/shops/{n}/api/rest/v1``, its merchant backend under
``/shops/{n}/_sandbox``), making the shop the first time it is asked for. Each shop has its own
API key (:func:`mall_public_key`, :func:`mall_secret`), orders, limits and webhooks.

The path the shop's app routes on has the prefix taken off; the raw path keeps it, because the
client signs the whole path it requested and the guard checks the signature against it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from ccvbird.sandbox.ccvshop.api import create_app
from ccvbird.sandbox.ccvshop.shop import SandboxShop

PREFIX = "/shops/"


def mall_public_key(number: int) -> str:
    return f"shop-{number}-public"


def mall_secret(number: int) -> str:
    """Shop ``number``'s API secret (a demo value)."""
    return f"shop-{number}-secret"


class ShopMall:
    """Shops 1..``count`` under ``base_url``/shops/n, made on first use by ``make_shop``.

    ``make_shop(number, base_url)`` builds shop ``number`` (its base URL carries the prefix, so
    its links point back into the mall); the default is a plain sandbox shop with the mall's
    key and secret for that number.
    """

    def __init__(
        self,
        base_url: str,
        count: int,
        make_shop: Callable[[int, str], SandboxShop] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.count = count
        self._make_shop = make_shop or _plain_shop
        self._shops: dict[int, tuple[SandboxShop, FastAPI]] = {}
        self._lock = threading.Lock()

    def shop_url(self, number: int) -> str:
        return f"{self.base_url}{PREFIX}{number}"

    def shop(self, number: int) -> SandboxShop:
        return self._entry(number)[0]

    def made(self) -> list[SandboxShop]:
        """The shops asked for so far."""
        with self._lock:
            return [shop for shop, _ in self._shops.values()]

    def _entry(self, number: int) -> tuple[SandboxShop, FastAPI]:
        if not 1 <= number <= self.count:
            raise KeyError(number)
        with self._lock:
            entry = self._shops.get(number)
            if entry is None:
                shop = self._make_shop(number, self.shop_url(number))
                entry = self._shops[number] = (shop, create_app(shop))
            return entry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            message = await receive()
            while message["type"] != "lifespan.shutdown":
                await send({"type": message["type"] + ".complete"})
                message = await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        path: str = scope.get("path", "")
        number_text, _, rest = path[len(PREFIX) :].partition("/")
        if not path.startswith(PREFIX) or not number_text.isdigit():
            await _not_found(send)
            return
        try:
            _, app = self._entry(int(number_text))
        except KeyError:
            await _not_found(send)
            return
        inner = dict(scope)
        inner["path"] = "/" + rest
        inner.setdefault("raw_path", path.encode())
        await app(inner, receive, send)


def _plain_shop(number: int, base_url: str) -> SandboxShop:
    return SandboxShop(
        base_url=base_url,
        public_key=mall_public_key(number),
        secret=mall_secret(number),
        seed=number,
        name=f"Shop {number} (sandbox)",
    )


async def _not_found(send: Send) -> None:
    body = b'{"message": "no such shop in this sandbox"}'
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 404, "headers": headers})
    await send({"type": "http.response.body", "body": body})
