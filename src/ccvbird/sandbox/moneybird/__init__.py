"""A faithful fake Moneybird (REST API v2, OAuth2, webhooks) for tests, demos, ``ccvbird sandbox``.

* :class:`MoneybirdSandbox` — the state (administration "Voorbeeld B.V.", tokens, records);
* :class:`SandboxTransport` — in-process httpx transport with fault injection (:class:`FaultPlan`);
* :func:`moneybird_server` / :func:`serve_moneybird` — the real server via uvicorn (port 8702);
* :mod:`.constants` — the fixed ids and demo credentials.
"""

from ccvbird.sandbox.moneybird.app import create_app
from ccvbird.sandbox.moneybird.faults import Fault, FaultPlan
from ccvbird.sandbox.moneybird.inprocess import (
    IN_PROCESS_BASE_URL,
    IN_PROCESS_OAUTH_URL,
    SandboxTransport,
    sandbox_http_client,
)
from ccvbird.sandbox.moneybird.server import moneybird_server, serve_moneybird
from ccvbird.sandbox.moneybird.state import MoneybirdSandbox, SandboxConfig
from ccvbird.sandbox.moneybird.webhooks import Deliverer

__all__ = [
    "IN_PROCESS_BASE_URL",
    "IN_PROCESS_OAUTH_URL",
    "Deliverer",
    "Fault",
    "FaultPlan",
    "MoneybirdSandbox",
    "SandboxConfig",
    "SandboxTransport",
    "create_app",
    "moneybird_server",
    "sandbox_http_client",
    "serve_moneybird",
]
