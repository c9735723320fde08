"""Both sandboxes for bench/many_shops.py, as real servers in one process of their own.

CCV: shops 1..N under http://127.0.0.1:<ccv-port>/shops/<n> (``sandbox/ccvshop/mall.py``);
shop 1 starts with ``--history`` orders spread over the last year (the big import).
Moneybird: administrations 1..N, each with its own token (``sandbox/moneybird/tenants.py``).
``GET /_bench/summary`` on the Moneybird port: per administration the references of its sales
invoices and how many are paid, and the 429 answers per token.

``--serve ccv`` or ``--serve moneybird`` runs one of the two (bench/many_shops.py starts one
process for each, so neither takes CPU from the other). ``--latency-ms`` holds every API
answer back that long without using CPU, as a real server across a network answers: a booking
then waits on the APIs, as it does in production, instead of on the CPU this machine shares
between the sandboxes and the workers.

Run: .venv/bin/python bench/_sandbox_server.py --shops 100 --history 2000
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import timedelta
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from ccvbird.sandbox.ccvshop.limits import Limits
from ccvbird.sandbox.ccvshop.mall import ShopMall, mall_public_key, mall_secret
from ccvbird.sandbox.ccvshop.shop import SandboxShop
from ccvbird.sandbox.moneybird import MoneybirdSandbox, SandboxConfig, create_app
from ccvbird.sandbox.moneybird.tenants import issue_tenant_tokens, with_tenants

UNLIMITED = 10**9


def summary(sandbox: MoneybirdSandbox) -> dict[str, Any]:
    administrations: dict[str, Any] = {}
    with sandbox.lock:
        for administration_id in sandbox.administration_ids:
            invoices = sandbox.invoices(administration_id)
            if not invoices:
                continue
            administrations[administration_id] = {
                "references": [i.reference for i in invoices],
                "paid": sum(1 for i in invoices if i.state == "paid"),
            }
        refused = dict(sandbox.refused)
    return {"administrations": administrations, "refused": refused}


class Delayed:
    """Every API answer ``seconds`` late (an awaited sleep: no CPU, other requests go on); the
    bench's own calls (``/_sandbox``, ``/_bench``) are not the APIs and answer at once."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and self.seconds > 0 and "/_" not in path:
            await asyncio.sleep(self.seconds)
        await self.app(scope, receive, send)


class WithSummary:
    def __init__(self, app: ASGIApp, sandbox: MoneybirdSandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/_bench/summary":
            body = json.dumps(summary(self.sandbox)).encode()
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shops", type=int, default=1000)
    parser.add_argument("--history", type=int, default=20_000)
    parser.add_argument("--ccv-port", type=int, default=8801)
    parser.add_argument("--moneybird-port", type=int, default=8802)
    parser.add_argument("--moneybird-requests", type=int, default=UNLIMITED)
    parser.add_argument("--serve", choices=("both", "ccv", "moneybird"), default="both")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="each API answer's delay")
    args = parser.parse_args()
    delay = args.latency_ms / 1000

    def make_shop(number: int, base_url: str) -> SandboxShop:
        shop = SandboxShop(
            base_url=base_url,
            public_key=mall_public_key(number),
            secret=mall_secret(number),
            seed=number,
            name=f"Shop {number} (sandbox)",
            limits=Limits(gets=UNLIMITED, writes=UNLIMITED, total=UNLIMITED),
        )
        if number == 1 and args.history:
            shop.generate(args.history, over=timedelta(days=365))
        return shop

    apps: list[tuple[ASGIApp, int, str]] = []
    if args.serve in ("both", "ccv"):
        mall = ShopMall(f"http://127.0.0.1:{args.ccv_port}", args.shops, make_shop)
        mall.shop(1)  # the big shop's history is generated before the bench starts
        apps.append((Delayed(mall, delay), args.ccv_port, "off"))
    if args.serve in ("both", "moneybird"):
        config = with_tenants(
            SandboxConfig(rate_limit=args.moneybird_requests, auto_deliver_webhooks=False),
            args.shops,
        )
        sandbox = MoneybirdSandbox(config)
        issue_tenant_tokens(sandbox, args.shops)
        moneybird = WithSummary(create_app(sandbox), sandbox)
        apps.append((Delayed(moneybird, delay), args.moneybird_port, "on"))
    servers = []
    for app, port, lifespan in apps:
        server_config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
            lifespan=lifespan,
        )  # fmt: skip
        servers.append(uvicorn.Server(server_config))
    print(f"ready: {len(servers)} servers", flush=True)

    async def serve() -> None:
        await asyncio.gather(*(server.serve() for server in servers))

    asyncio.run(serve())


if __name__ == "__main__":
    main()
