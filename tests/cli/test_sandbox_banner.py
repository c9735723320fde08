"""``ccvbird sandbox`` prints the exact shell lines that point ccvbird at it, and they work.

The command serves until interrupted, so it runs as a child process here: the test reads its
banner line by line until the data directory is connected, uses the printed ``export`` lines,
then interrupts it (as Ctrl+C would) and waits for it to stop.
"""

from __future__ import annotations

import os
import queue
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ccvbird import bootstrap
from tests.cli.conftest import MONEYBIRD_TOKEN, ccvbird, free_port

#: Seconds to wait for a banner line before the test gives up (a guard, not a timing claim).
PATIENCE = 120


@pytest.fixture
def banner(tmp_path: Path) -> Iterator[list[str]]:
    """The lines ``ccvbird sandbox --data-dir`` printed up to "Connected data directory"."""
    data_dir = tmp_path / "sandboxed"
    environment = {**os.environ, "COLUMNS": "300", "CCVBIRD_PROG": "ccvbird"}
    child = subprocess.Popen(
        [sys.executable, "-m", "ccvbird", "sandbox", "--generate", "3",
         "--ccv-port", str(free_port()), "--moneybird-port", str(free_port()),
         "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=environment, cwd=tmp_path,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    assert child.stdout is not None
    stdout = child.stdout
    reader = threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True)
    reader.start()
    seen: list[str] = []
    try:
        while not any("Connected data directory" in line for line in seen):
            seen.append(lines.get(timeout=PATIENCE).rstrip("\n"))
        yield seen
    finally:
        child.send_signal(signal.SIGINT)
        child.wait(PATIENCE)
        reader.join(PATIENCE)  # the pipe's end: the child has exited
        stdout.close()


def exported(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        words = shlex.split(line)
        if words[:1] == ["export"]:
            name, value = words[1].split("=", 1)
            found[name] = value
    return found


def test_the_printed_exports_point_ccvbird_at_both_sandboxes(banner: list[str]) -> None:
    variables = exported(banner)
    assert set(variables) == {
        "CCVBIRD_DATA_DIR",
        "CCVBIRD_MONEYBIRD_API_URL",
        "CCVBIRD_MONEYBIRD_OAUTH_URL",
        "CCVBIRD_MONEYBIRD_CLIENT_ID",
        "CCVBIRD_MONEYBIRD_CLIENT_SECRET",
        "CCVBIRD_PUBLIC_URL",
        "CCVBIRD_CCV_APP_SECRET",
    }, banner
    # The shop's App Store has ccvbird at that public address, with that secret: its merchant
    # page installs it with one click.
    shop_url = next(line for line in banner if line.startswith("CCV Shop sandbox on ")).split()[-1]
    page = httpx.get(f"{shop_url}/_sandbox/shop").text
    assert f"{variables['CCVBIRD_PUBLIC_URL']}/ccv/install" in page
    assert 'href="/_sandbox/apps/' in page and "Installeren" in page
    # The data directory the banner names is the one it connected: status reads it from the
    # environment alone.
    status = ccvbird("status", env={"CCVBIRD_DATA_DIR": variables["CCVBIRD_DATA_DIR"]})
    assert status.exit_code == 0, status.output
    assert "Koffie & Co (sandbox) (connection 1" in status.stdout
    # The Moneybird addresses are this sandbox's: its API answers, and its OAuth client is the
    # one the web app would use for "Connect Moneybird".
    settings = bootstrap.load_settings(
        moneybird_api_url=variables["CCVBIRD_MONEYBIRD_API_URL"],
        moneybird_oauth_url=variables["CCVBIRD_MONEYBIRD_OAUTH_URL"],
        moneybird_client_id=variables["CCVBIRD_MONEYBIRD_CLIENT_ID"],
    )
    answer = httpx.get(
        f"{settings.moneybird_api_url}/administrations",
        headers={"Authorization": f"Bearer {MONEYBIRD_TOKEN}"},
    )
    assert answer.status_code == 200
    assert (settings.moneybird_client_id, variables["CCVBIRD_MONEYBIRD_CLIENT_SECRET"]) == (
        bootstrap.sandbox_oauth_client()
    )
    assert any(line.startswith("Then: `ccvbird import --since") for line in banner), banner
