"""A faithful fake CCV Shop for tests, demos and anyone trying ccvbird without a shop.

Public surface::

    SandboxShop(*, base_url, public_key="sandbox-public", secret="sandbox-secret", seed=0,
                clock, sleep, limits, faults, poster, max_clock_skew=300, default_page_size=25,
                max_page_size=100, name, status_names, oss=False)       # state + merchant actions
    create_app(shop) -> FastAPI                                          # the HTTP face
    InProcessTransport(shop) / in_process_client(shop) -> httpx.Client  # tests, no socket
    SandboxConfig(...); build_shop(config); make_server(config); serve(config)   # real server
    FaultPlan(rate, seed, kinds, slow_seconds, timeout_seconds); Limits(gets, writes, total)
    Poster, HttpPoster, RecordingPoster, Delivery                        # outbound calls
    ShopGenerator, generate_orders                                       # realistic orders
"""

from ccvbird.sandbox.ccvshop.api import create_app
from ccvbird.sandbox.ccvshop.faults import FAULT_KINDS, FaultPlan
from ccvbird.sandbox.ccvshop.generator import ShopGenerator, ShopSettings, generate_orders
from ccvbird.sandbox.ccvshop.inprocess import InProcessTransport, in_process_client
from ccvbird.sandbox.ccvshop.limits import Limits
from ccvbird.sandbox.ccvshop.loader import OrderFileError, read_order_documents
from ccvbird.sandbox.ccvshop.outbound import Delivery, HttpPoster, Poster, RecordingPoster
from ccvbird.sandbox.ccvshop.server import SandboxConfig, build_shop, make_server, serve
from ccvbird.sandbox.ccvshop.shop import (
    DEFAULT_PORT,
    DEFAULT_PUBLIC_KEY,
    DEFAULT_SECRET,
    HandshakeRefused,
    SandboxError,
    SandboxShop,
    UnknownRecord,
)

__all__ = [
    "DEFAULT_PORT",
    "DEFAULT_PUBLIC_KEY",
    "DEFAULT_SECRET",
    "FAULT_KINDS",
    "Delivery",
    "FaultPlan",
    "HandshakeRefused",
    "HttpPoster",
    "InProcessTransport",
    "Limits",
    "OrderFileError",
    "Poster",
    "RecordingPoster",
    "SandboxConfig",
    "SandboxError",
    "SandboxShop",
    "ShopGenerator",
    "ShopSettings",
    "UnknownRecord",
    "build_shop",
    "create_app",
    "generate_orders",
    "in_process_client",
    "make_server",
    "read_order_documents",
    "serve",
]
