"""The composition root: the only module that picks and wires adapters.

Entrypoints ask bootstrap for what they need and hand it to the services; nothing else imports
an adapter by name, so swapping a real service for the sandbox is a change in one place.
"""

from __future__ import annotations

from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ccvbird.adapters.ccvshop.wire import decode_order_file
from ccvbird.adapters.moneybird.payload import sales_invoice_payload
from ccvbird.adapters.profile_toml import load_profile, parse_profile
from ccvbird.domain.invoice import InvoiceDraft
from ccvbird.domain.order import Order
from ccvbird.domain.profile import MappingProfile

if TYPE_CHECKING:
    import uvicorn

    from ccvbird.adapters.ccvshop.client import CcvShopClient
    from ccvbird.sandbox.ccvshop.server import SandboxConfig

EXAMPLE_ORDER = "order-mixed-basket.json"
EXAMPLE_PROFILE = "profile.toml"


def _example(name: str) -> bytes:
    return resources.files("ccvbird.examples").joinpath(name).read_bytes()


def read_order(path: Path | None) -> Order:
    """The order in ``path`` (``ccvbird preview`` format), or the bundled example order."""
    data = _example(EXAMPLE_ORDER) if path is None else path.read_bytes()
    return decode_order_file(data)


def read_profile(path: Path | None) -> MappingProfile:
    """The profile in ``path``, or the bundled example profile (the sandbox administration)."""
    if path is None:
        return parse_profile(_example(EXAMPLE_PROFILE).decode(), source="example profile")
    return load_profile(path)


def invoice_payload(draft: InvoiceDraft, *, contact_id: str | None = None) -> dict[str, Any]:
    return sales_invoice_payload(draft, contact_id=contact_id)


class SystemClock:
    """The wall clock, in the shop's time zone."""

    def __init__(self, timezone: str = "Europe/Amsterdam") -> None:
        self._zone = ZoneInfo(timezone)

    def now(self) -> datetime:
        return datetime.now(self._zone)

    def today(self) -> date:
        return self.now().date()


def moneybird_sandbox_server(
    *,
    host: str = "127.0.0.1",
    port: int = 8702,
    token: str = "sandbox-token",  # noqa: S107 - the documented demo token
    access_token_ttl: int | None = None,
    rate_limit: int = 150,
    rate_window: float = 300.0,
    fault_rates: dict[str, float] | None = None,
    fault_seed: int = 0,
    log_level: str = "info",
) -> Any:
    """The Moneybird sandbox as a uvicorn server, not started yet (for ``ccvbird sandbox``).

    Run it with ``server.run()`` or, beside the CCV sandbox, ``await server.serve()``.
    ``fault_rates`` maps ``rate_limit``, ``server_error``, ``timeout`` and ``lost_response`` to
    probabilities per request, reproducible from ``fault_seed``.
    """
    from ccvbird.sandbox.moneybird import Fault, FaultPlan, SandboxConfig, moneybird_server

    config = SandboxConfig(
        token=token,
        access_token_ttl=access_token_ttl,
        rate_limit=rate_limit,
        rate_window=rate_window,
        seed=fault_seed,
    )
    rates = {Fault(name): rate for name, rate in (fault_rates or {}).items()}
    faults = FaultPlan(seed=fault_seed, rates=rates)
    server, _ = moneybird_server(
        host=host, port=port, config=config, faults=faults, log_level=log_level
    )
    return server


def ccv_shop_client(api_root: str, public_key: str, secret: str) -> CcvShopClient:
    """A CCV Shop client for one shop (signed, paced to CCV's limits, with timeouts)."""
    from ccvbird.adapters.ccvshop.client import CcvCredentials, CcvShopClient

    return CcvShopClient(CcvCredentials(api_root, public_key, secret))


def ccv_sandbox_config(
    *,
    host: str = "127.0.0.1",
    port: int = 8701,
    public_key: str = "sandbox-public",
    secret: str = "sandbox-secret",  # noqa: S107 - the documented demo credential
    orders_dir: Path | None = None,
    generate: int = 25,
    fault_rate: float = 0.0,
    seed: int = 0,
) -> SandboxConfig:
    """Settings of ``ccvbird sandbox`` for the CCV shop (``--ccv-port``, ``--orders``,
    ``--generate``, ``--faults``, ``--seed``); ``.describe()`` says how to connect."""
    from ccvbird.sandbox.ccvshop.server import SandboxConfig

    return SandboxConfig(
        host=host, port=port, public_key=public_key, secret=secret, orders_dir=orders_dir,
        generate=generate, fault_rate=fault_rate, seed=seed,
    )  # fmt: skip


def serve_ccv_sandbox(config: SandboxConfig) -> None:
    """Run the CCV sandbox shop until interrupted (loads/generates its orders first)."""
    from ccvbird.sandbox.ccvshop.server import serve

    serve(config)


def ccv_sandbox_server(config: SandboxConfig) -> uvicorn.Server:
    """The CCV sandbox as an unstarted ``uvicorn.Server``, to run beside the Moneybird sandbox
    (``await server.serve()`` in one event loop, or ``server.run()`` in a thread)."""
    from ccvbird.sandbox.ccvshop.server import make_server

    return make_server(config)
