"""Kill the ccvbird process between any two Moneybird calls, run it again: every eligible order
still ends with exactly one invoice, one payment and its one contact.

The sandboxes run as real servers in this test's process (so their state survives the kill);
ccvbird runs in child processes that die with ``os._exit`` — no cleanup, no commit, like SIGKILL.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from ccvbird import bootstrap
from ccvbird.sandbox.ccvshop.server import SandboxConfig as CcvConfig
from ccvbird.sandbox.ccvshop.server import build_shop, make_server
from ccvbird.sandbox.moneybird import moneybird_server

CHILD = Path(__file__).with_name("crash_child.py")
ROOT = Path(__file__).resolve().parents[2]
SINCE = "2026-01-01"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Servers:
    ccv_url: str
    moneybird_url: str
    shop: object
    moneybird: object


def serve(server: object) -> threading.Thread:
    thread = threading.Thread(target=server.run, daemon=True)  # type: ignore[attr-defined]
    thread.start()
    while not server.started:  # type: ignore[attr-defined]
        thread.join(0.01)
    return thread


@contextmanager
def servers() -> Iterator[Servers]:
    """A fresh CCV sandbox shop (two paid orders) and a fresh Moneybird, on free ports."""
    ccv_config = CcvConfig(port=free_port(), generate=0, rate_limits=False, seed=9)
    shop = build_shop(ccv_config)
    shop.create_order(status=7, paid=True)
    shop.create_order(status=7, paid=True)
    ccv = make_server(ccv_config, shop)
    ccv.config.log_level = "warning"
    port = free_port()
    moneybird, sandbox = moneybird_server(port=port, log_level="warning")
    threads = [serve(ccv), serve(moneybird)]
    try:
        yield Servers(ccv_config.base_url, f"http://127.0.0.1:{port}/api/v2", shop, sandbox)
    finally:
        ccv.should_exit = moneybird.should_exit = True
        for thread in threads:
            thread.join(5)


def run_child(data_dir: Path, kill_at: int, mode: str) -> int:
    result = subprocess.run(
        [sys.executable, str(CHILD), str(data_dir), SINCE, str(kill_at), mode],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    if result.returncode not in (0, 137):
        raise AssertionError(result.stderr[-2000:])
    return result.returncode


@pytest.mark.parametrize("mode", ["before", "after"])
def test_a_killed_process_at_any_call_books_once_when_run_again(tmp_path: Path, mode: str) -> None:
    kill_at, kills = 1, 0
    while True:
        with servers() as world:
            data_dir = tmp_path / f"{mode}-{kill_at}"
            app = bootstrap.build_app(bootstrap.load_settings(data_dir=data_dir))
            bootstrap.connect(
                app, name="shop", ccv_url=world.ccv_url, ccv_public="sandbox-public",
                ccv_secret="sandbox-secret", moneybird_url=world.moneybird_url,
                moneybird_token="sandbox-token", administration_id="470000000000000001",
            )  # fmt: skip
            app.close()
            killed = run_child(data_dir, kill_at, mode) == 137
            assert run_child(data_dir, 0, mode) == 0  # the recovery run
            sandbox = world.moneybird
            invoices = sandbox.invoices()  # type: ignore[attr-defined]
            rendered = [sandbox.renderer().sales_invoice(i) for i in invoices]  # type: ignore[attr-defined]
            assert len({i.reference for i in invoices}) == len(invoices) == 2, (mode, kill_at)
            assert all(r["state"] == "paid" and len(r["payments"]) == 1 for r in rendered), (
                mode,
                kill_at,
            )
            emails = [c.text("send_invoices_to_email") for c in sandbox.books().contacts.values()]  # type: ignore[attr-defined]
            assert len(emails) == len(set(emails)) == 2, (mode, kill_at)
        if not killed:
            break  # the child made fewer than kill_at calls: every boundary has been tried
        kills += 1
        kill_at += 1
    assert kills >= 9  # two new customers: directory read + 2 × (contact, invoice, send, payment)
