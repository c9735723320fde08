"""The ``ccvbird`` command line against both sandboxes, served over real HTTP.

Every test that needs the sandboxes gets fresh ones (a CCV shop with no orders, an empty
Moneybird administration) on free ports, run by uvicorn in threads of this process and shut down
after the test. Commands run through Typer's ``CliRunner`` on the real ``app``, each with its own
``--data-dir``.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from ccvbird.entrypoints.cli import app
from ccvbird.sandbox.ccvshop.server import SandboxConfig, build_shop, make_server
from ccvbird.sandbox.ccvshop.shop import SandboxShop
from ccvbird.sandbox.moneybird import MoneybirdSandbox, moneybird_server
from ccvbird.sandbox.moneybird.constants import ADMINISTRATION_ID
from tests.builders import order_document, row

CCV_PUBLIC = "sandbox-public"
CCV_SECRET = "sandbox-secret"
MONEYBIRD_TOKEN = "sandbox-token"
#: Wide enough that Rich does not wrap the lines the tests read.
WIDE = {"COLUMNS": "200"}

runner = CliRunner()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(server: Any) -> threading.Thread:
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.01)
    return thread


def flat(text: str) -> str:
    """``text`` with every run of whitespace as one space (Rich wraps long lines)."""
    return " ".join(text.split())


def ccvbird(*args: str | Path | int, env: dict[str, str | None] | None = None) -> Result:
    """Run one ``ccvbird`` command; an exception other than an exit fails the test with it.

    ``env``: variables to set for it (``None``: unset)."""
    result = runner.invoke(app, [str(a) for a in args], env={**WIDE, **(env or {})})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


@dataclass
class Sandboxes:
    """Both sandboxes, running; ``shop`` and ``moneybird`` are their state, to set up and read."""

    shop: SandboxShop
    moneybird: MoneybirdSandbox
    ccv_url: str
    moneybird_url: str
    _numbers: Iterator[int] = field(default_factory=lambda: iter(range(1001, 10**6)))

    def connect_options(self, **changes: str) -> list[str]:
        """The options of a non-interactive ``ccvbird connect`` to these sandboxes."""
        values = {
            "ccv-url": self.ccv_url,
            "ccv-public": CCV_PUBLIC,
            "ccv-secret": CCV_SECRET,
            "moneybird-url": self.moneybird_url,
            "moneybird-token": MONEYBIRD_TOKEN,
            "moneybird-administration": ADMINISTRATION_ID,
        }
        values.update({key.replace("_", "-"): value for key, value in changes.items()})
        return [part for key, value in values.items() for part in (f"--{key}", value)]

    def add_order(
        self,
        *,
        vat: int = 21,
        total: str = "121.00",
        paid: bool = True,
        status: int = 7,
        created: str = "2026-05-12T10:00:00Z",
    ) -> str:
        """A completed order of one product row; returns its order number."""
        number = str(next(self._numbers))
        document = order_document(
            [row("Koffiemolen", 1, total, vat)],
            paid=total,
            is_paid=paid,
            status=status,
            created=created,
            number=number,
        )
        self.shop.add_order(document)
        return number

    def invoice_references(self) -> list[str]:
        return sorted(str(i.reference) for i in self.moneybird.invoices())


@pytest.fixture
def sandboxes() -> Iterator[Sandboxes]:
    """A fresh CCV sandbox shop (no orders) and a fresh Moneybird sandbox, served on free ports."""
    ccv_config = SandboxConfig(port=free_port(), generate=0, rate_limits=False, seed=3)
    shop = build_shop(ccv_config)
    ccv = make_server(ccv_config, shop)
    ccv.config.log_level = "warning"
    port = free_port()
    moneybird, sandbox = moneybird_server(port=port, log_level="warning")
    threads = [_serve(ccv), _serve(moneybird)]
    try:
        yield Sandboxes(shop, sandbox, ccv_config.base_url, f"http://127.0.0.1:{port}/api/v2")
    finally:
        ccv.should_exit = moneybird.should_exit = True
        for thread in threads:
            thread.join(5)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def connected(sandboxes: Sandboxes, data_dir: Path) -> Sandboxes:
    """The sandboxes, with ``data_dir`` connected to them by ``ccvbird connect``."""
    result = ccvbird("connect", *sandboxes.connect_options(), "--data-dir", data_dir)
    assert result.exit_code == 0, result.output
    return sandboxes
