"""Real servers on localhost for the browser tests: the CCV sandbox shop, the Moneybird sandbox,
and ccvbird's web app with a Huey worker — driven by the system's Chromium through Playwright.

Chromium comes from Debian's ``chromium`` package (``.ci/run`` installs it in CI); Playwright
never downloads a browser of its own. Outside CI the tests skip when Chromium is missing.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from pydantic import SecretStr

from ccvbird import bootstrap
from ccvbird.config import Settings
from ccvbird.entrypoints import worker
from ccvbird.entrypoints.web import create_web_app
from ccvbird.sandbox.ccvshop import SandboxConfig as CcvConfig
from ccvbird.sandbox.ccvshop import SandboxShop, build_shop, create_app
from ccvbird.sandbox.moneybird import MoneybirdSandbox, moneybird_server
from ccvbird.sandbox.moneybird import constants as mb

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
APP_SECRET = "browser-test-app-secret"
#: Where the journey's screenshots go, per language: artifacts/screenshots/<language>/, or the
#: folder in CCVBIRD_SCREENSHOTS (``CCVBIRD_SCREENSHOTS=docs/screenshots ./run-tests
#: tests/browser`` renews the ones docs/handleiding.md shows).
ARTIFACTS = Path(
    os.environ.get("CCVBIRD_SCREENSHOTS")
    or Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
).absolute()


def chromium_or_skip() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium package in CI")
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); the browser tests need it")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ReadyServer(uvicorn.Server):
    """A uvicorn server in a thread that says when it listens (no polling, no sleeping)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()

    def begin(self) -> ReadyServer:
        self.thread.start()
        if not self.ready.wait(30):
            raise RuntimeError(f"{self.config.host}:{self.config.port} did not start")
        return self

    def end(self) -> None:
        self.should_exit = True
        self.thread.join(30)


def serve(app: Any, port: int) -> ReadyServer:
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            access_log=False)  # fmt: skip
    return ReadyServer(config).begin()


@dataclass
class Stack:
    web_url: str
    ccv_url: str
    moneybird_url: str
    shop: SandboxShop
    moneybird: MoneybirdSandbox
    app: bootstrap.App
    app_id: int


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    chromium_or_skip()
    ccv_port, mb_port, web_port = free_port(), free_port(), free_port()
    web_url = f"http://127.0.0.1:{web_port}"
    ccv_config = CcvConfig(port=ccv_port, generate=8, seed=3, rate_limits=False)
    shop = build_shop(ccv_config)
    ccv = serve(create_app(shop), ccv_port)

    mb_server, moneybird = moneybird_server(host="127.0.0.1", port=mb_port, log_level="warning")
    mb_thread = ReadyServer(mb_server.config)
    mb_thread.begin()

    settings = Settings(
        data_dir=tmp_path / "data",
        public_url=web_url,
        ccv_app_secret=SecretStr(APP_SECRET),
        moneybird_client_id=mb.OAUTH_CLIENT_ID,
        moneybird_client_secret=SecretStr(mb.OAUTH_CLIENT_SECRET),
        moneybird_oauth_url=f"http://127.0.0.1:{mb_port}/oauth",
        moneybird_api_url=f"http://127.0.0.1:{mb_port}/api/v2",
        lookback_days=3650,
    )
    app = bootstrap.build_app(settings)
    huey = bootstrap.task_queue(settings)
    tasks = worker.register(app, huey)
    from huey.consumer import Consumer

    consumer = Consumer(huey, workers=2, worker_type="thread", periodic=False,
                        initial_delay=0.05, max_delay=0.2, check_worker_health=False)  # fmt: skip
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    consumer.start()
    for number, handler in handlers.items():
        signal.signal(number, handler)
    web = serve(create_web_app(app, tasks.queue()), web_port)
    app_id = shop.register_app(
        "ccvbird",
        app_secret=APP_SECRET,
        handshake_uri=f"{web_url}/ccv/handshake",
        install_uri=f"{web_url}/ccv/install",
        uninstall_uri=f"{web_url}/ccv/uninstall",
    )
    try:
        yield Stack(web_url, shop.base_url, f"http://127.0.0.1:{mb_port}", shop, moneybird,
                    app, app_id)  # fmt: skip
    finally:
        web.end()
        consumer.stop(graceful=True)
        mb_thread.end()
        ccv.end()
        shop.poster.close()  # type: ignore[attr-defined]  # the shop's webhook connections
        app.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield launched
        finally:
            launched.close()
