"""The sandbox as a real HTTP server (uvicorn), for ``ccvbird sandbox`` and demos.

``ccvbird sandbox`` calls :func:`moneybird_server` (to run it beside the CCV sandbox in one event
loop) or :func:`serve_moneybird` (blocking). The defaults are the documented demo values:
port 8702, token ``sandbox-token``, administration 470000000000000001, OAuth client
``sandbox-client`` / ``sandbox-client-secret``.
"""

from __future__ import annotations

import dataclasses

import uvicorn

from ccvbird.sandbox.moneybird.app import create_app
from ccvbird.sandbox.moneybird.constants import DEFAULT_PORT
from ccvbird.sandbox.moneybird.faults import FaultPlan
from ccvbird.sandbox.moneybird.state import MoneybirdSandbox, SandboxConfig
from ccvbird.sandbox.moneybird.webhooks import http_deliverer


def moneybird_server(
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    config: SandboxConfig | None = None,
    faults: FaultPlan | None = None,
    log_level: str = "info",
) -> tuple[uvicorn.Server, MoneybirdSandbox]:
    """A uvicorn server for a fresh sandbox, not started yet (``await server.serve()``).

    Webhook pushes go out over HTTP from a background loop once a second.
    """
    settings = dataclasses.replace(config or SandboxConfig(), auto_deliver_webhooks=False)
    sandbox = MoneybirdSandbox(settings, faults=faults, deliverer=http_deliverer())
    app = create_app(sandbox, delivery_interval=1.0)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level=log_level))
    return server, sandbox


def serve_moneybird(
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    config: SandboxConfig | None = None,
    faults: FaultPlan | None = None,
    log_level: str = "info",
) -> None:
    """Run the Moneybird sandbox until interrupted."""
    server, _ = moneybird_server(
        host=host, port=port, config=config, faults=faults, log_level=log_level
    )
    server.run()
