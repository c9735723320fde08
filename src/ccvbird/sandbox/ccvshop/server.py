"""The sandbox shop as a real server (what ``ccvbird sandbox`` starts).

Defaults: ``http://127.0.0.1:8701``, public key ``sandbox-public``, secret ``sandbox-secret``,
25 generated orders (seed 0) dated over the last 25 days, no faults. :func:`build_shop` makes
the shop from a :class:`SandboxConfig`; :func:`make_server` wraps it in a uvicorn server the
caller can run next to other servers (the Moneybird sandbox); :func:`serve` runs it until
interrupted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import uvicorn

from ccvbird.sandbox.ccvshop.api import create_app
from ccvbird.sandbox.ccvshop.faults import FaultPlan
from ccvbird.sandbox.ccvshop.limits import Limits
from ccvbird.sandbox.ccvshop.shop import (
    DEFAULT_PORT,
    DEFAULT_PUBLIC_KEY,
    DEFAULT_SECRET,
    SandboxShop,
)


@dataclass(frozen=True)
class SandboxConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    public_key: str = DEFAULT_PUBLIC_KEY
    secret: str = DEFAULT_SECRET
    orders_dir: Path | None = None
    generate: int = 25
    fault_rate: float = 0.0
    seed: int = 0
    #: CCV's per-minute limits; switch off for demos that hammer the shop.
    rate_limits: bool = True
    #: Whether the generated shop charges consumers abroad their own VAT rates (OSS).
    oss: bool = False
    #: The generated orders are dated over this many days up to now, so the default import
    #: start (last month) finds them; ``None``: the generator's own fixed timeline (January
    #: 2026). The same seed makes the same orders either way, on another timeline.
    history_days: int | None = 25

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def describe(self) -> str:
        """What a person needs to connect to the running sandbox (the secret is a demo value)."""
        lines = [
            f"CCV Shop sandbox on {self.base_url}",
            f"  API root:    {self.base_url}/api/rest/v1/",
            f"  public key:  {self.public_key}",
            f"  secret:      {self.secret}",
            f"  merchant:    {self.base_url}/_sandbox (orders, webhooks, App Store)",
        ]
        if self.fault_rate:
            lines.append(f"  faults:      {self.fault_rate:.0%} of API calls (seed {self.seed})")
        return "\n".join(lines)


def build_shop(config: SandboxConfig) -> SandboxShop:
    """The shop ``config`` describes: loaded orders first, then ``generate`` generated ones."""
    limits = Limits() if config.rate_limits else Limits(gets=10**9, writes=10**9, total=10**9)
    shop = SandboxShop(
        base_url=config.base_url,
        public_key=config.public_key,
        secret=config.secret,
        seed=config.seed,
        clock=time.time,
        limits=limits,
        faults=FaultPlan(rate=config.fault_rate, seed=config.seed),
        oss=config.oss,
    )
    if config.orders_dir is not None:
        shop.load_orders(config.orders_dir)
    over = timedelta(days=config.history_days) if config.history_days else None
    shop.generate(config.generate, over=over)
    return shop


def make_server(config: SandboxConfig, shop: SandboxShop | None = None) -> uvicorn.Server:
    """A uvicorn server for the shop (not started: call ``.run()`` or ``await .serve()``)."""
    app = create_app(shop or build_shop(config))
    return uvicorn.Server(
        uvicorn.Config(app, host=config.host, port=config.port, log_level="info", access_log=False)
    )


def serve(config: SandboxConfig) -> None:
    """Run the sandbox shop until interrupted."""
    make_server(config).run()
